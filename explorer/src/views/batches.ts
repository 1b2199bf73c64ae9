/**
 * The batches list: every batch the node planned, newest first, with its roots, gas, status and a
 * link to the settled ones (only a settled batch has a rollup batch id to look up).
 */
import { badge, h, link, table } from "../dom";
import { batchName, code, gas, ms } from "../format";
import type { Batch } from "../types";
import type { View } from "./view";

export function batchesTable(batches: Batch[], caption = "Batches"): HTMLElement {
  return table<Batch>(caption, [
    { head: "Batch", cell: (b) => (b.batchId ? link(`#/batches/${b.batchId}`, batchName(b.modelId, b.batchNumber)) : batchName(b.modelId, b.batchNumber)) },
    { head: "Status", cell: (b) => badge(b.status) },
    { head: "Entries", cell: (b) => `${b.count} / ${b.batchSize}`, numeric: true },
    { head: "Old root", cell: (b) => code(b.oldRoot) },
    { head: "New root", cell: (b) => code(b.newRoot) },
    { head: "Batch root", cell: (b) => code(b.batchRoot) },
    { head: "Gas", cell: (b) => gas(b.gasUsed), numeric: true },
    { head: "Proving", cell: (b) => (b.proveMs ? ms(b.proveMs) : "—"), numeric: true },
    { head: "Transaction", cell: (b) => code(b.txHash) },
  ], batches, { "data-testid": "batches-table" });
}

export const batchesView: View = async (_p, ctx) => {
  const batches = await ctx.api.batches(100);
  return {
    title: "Batches",
    body: h("section", {},
      h("h1", { tabindex: -1 }, "Batches"),
      h("p", { class: "lede" }, `Trace data is posted as ${ctx.status.traceStore}. A batch is planned, proven, submitted, then settled; only settled batches are on chain.`),
      batchesTable(batches),
    ),
  };
};
