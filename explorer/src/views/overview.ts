/**
 * The landing view: which chain and contracts this node serves, how much is waiting, and the
 * latest batches and requests.
 */
import { fields, h, link } from "../dom";
import { code } from "../format";
import { batchesTable } from "./batches";
import { requestsTable } from "./requests";
import type { View } from "./view";

export const overviewView: View = async (_p, ctx) => {
  const [status, batches, requests] = await Promise.all([ctx.api.status(), ctx.api.batches(5), ctx.api.requests(5)]);
  return {
    title: "Overview",
    body: h("section", {},
      h("h1", { tabindex: -1 }, "Flavum node"),
      fields([
        ["Network", `${status.network} (chain ${status.chainId})`],
        ["Rollup", code(status.rollup, true)],
        ["Model registry", code(status.registry, true)],
        ["Data-point state", status.state && code(status.state, true)],
        ["Model repositories", status.repositories && code(status.repositories, true)],
        ["Trace data", status.traceStore],
        ["Mode", status.readOnly ? "read-only: serves proofs, takes no requests" : `sequencing; a batch that is not full goes out after ${(status.batchTimeoutMs ?? 0) / 1000} s`],
        ["Waiting", `${status.pending} pending request(s), ${status.inflight} batch(es) in flight`, "status-waiting"],
        ["Models", link("#/models", `${status.models} served`)],
      ]),
      h("h2", {}, "Latest batches"),
      batchesTable(batches, "Latest batches"),
      h("p", {}, link("#/batches", "All batches")),
      h("h2", {}, "Latest requests"),
      requestsTable(requests, "Latest requests"),
      h("p", {}, link("#/requests", "All requests")),
    ),
  };
};
