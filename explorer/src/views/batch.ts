/**
 * One settled batch: its place in the model's trace tree (first leaf, old and new root), the batch
 * root the proof commits to, where its trace data lives, its transaction and gas, and its entries,
 * each a link to the inference.
 */
import { badge, fields, h, link, table } from "../dom";
import { batchName, code, gas, ms } from "../format";
import { decodeOutputWord } from "../outputWord";
import type { BatchEntry } from "../types";
import type { View } from "./view";

export const batchView: View = async ({ id }, ctx) => {
  const b = await ctx.api.batch(id);
  const model = await ctx.api.model(b.modelId).catch(() => undefined);
  const name = batchName(b.modelId, b.batchNumber);
  return {
    title: name,
    body: h("section", {},
      h("p", { class: "crumbs" }, link("#/batches", "Batches"), " / "),
      h("h1", { tabindex: -1 }, name),
      fields([
        ["Rollup batch id", code(b.batchId, true), "batch-id"],
        ["Model", link(`#/models/${b.modelId}`, `model ${b.modelId}`)],
        ["Status", badge(b.status), "batch-status"],
        ["Entries", `${b.count} of ${b.batchSize} slots (the rest is padding)`],
        ["Trace data", b.traceStore ?? ctx.status.traceStore, "trace-store"],
        ["First leaf", b.firstLeaf],
        ["Old root", code(b.oldRoot, true)],
        ["New root", code(b.newRoot, true)],
        ["Batch root", code(b.batchRoot, true)],
        ["Transaction", code(b.txHash, true), "batch-tx"],
        ["Gas", gas(b.gasUsed), "batch-gas"],
        ["Proving time", b.proveMs ? ms(b.proveMs) : null],
      ]),
      h("h2", {}, "Entries"),
      table<BatchEntry>("Entries of this batch", [
        { head: "Leaf", cell: (e) => String(e.index), numeric: true },
        { head: "Request", cell: (e) => h("a", { href: `#/requests/${e.requestId}`, "data-testid": "entry-link" }, code(e.requestId)) },
        { head: "Input commitment", cell: (e) => code(e.inputHash) },
        { head: "Output word", cell: (e) => code(e.outputWord) },
        ...(model ? [{ head: "Output (from the word)", cell: (e: BatchEntry) => decodeOutputWord(e.outputWord, model.shape).outputs.join(", "), numeric: true }] : []),
        // A model without a label head leaves the word's label byte 0: showing it would mislead.
        ...(!model || model.shape.hasLabel ? [{ head: "Label", cell: (e: BatchEntry) => String(e.label), numeric: true }] : []),
      ], b.entries ?? [], { "data-testid": "entries-table" }),
    ),
  };
};
