/**
 * Recent requests, newest first: signed requests from the API and on-chain ones the node picked up,
 * each with its status and a link to the inference.
 */
import { badge, h, table } from "../dom";
import { code, when } from "../format";
import type { RequestSummary } from "../types";
import type { View } from "./view";

export function requestsTable(rows: RequestSummary[], caption = "Requests"): HTMLElement {
  return table<RequestSummary>(caption, [
    { head: "Request", cell: (r) => h("a", { href: `#/requests/${r.requestId}`, "data-testid": "request-link", "data-request-id": r.requestId }, code(r.requestId)) },
    { head: "Model", cell: (r) => h("a", { href: `#/models/${r.modelId}` }, r.modelId) },
    { head: "Status", cell: (r) => badge(r.status) },
    { head: "Received", cell: (r) => when(r.createdAt) },
    { head: "Reason", cell: (r) => r.reason ?? "" },
  ], rows, { "data-testid": "requests-table" });
}

export const requestsView: View = async (_p, ctx) => {
  const rows = await ctx.api.requests(100);
  return {
    title: "Requests",
    body: h("section", {}, h("h1", { tabindex: -1 }, "Requests"), requestsTable(rows)),
  };
};
