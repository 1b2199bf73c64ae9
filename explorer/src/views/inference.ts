/**
 * One inference: what was asked (model, signer, input commitment), what came out (the outputs read
 * from the proven output word, the label), where it is (batch, leaf, roots, the inclusion path,
 * the transaction), and the button that asks the chain itself whether all of that holds.
 */
import { badge, fields, h, link } from "../dom";
import { batchName, code, short, splitBatchId } from "../format";
import { decodeOutputWord } from "../outputWord";
import type { InferenceRequest, Model } from "../types";
import { checkPanel } from "./checkPanel";
import type { View } from "./view";

function outputs(r: InferenceRequest, model: Model | undefined): HTMLElement | string | undefined {
  if (r.outputWord === undefined) return r.output?.join(", ");
  if (!model) return `${r.output?.join(", ") ?? "—"} (as the node says; the model's layout is unavailable)`;
  const decoded = decodeOutputWord(r.outputWord, model.shape).outputs;
  const agrees = r.output?.length === decoded.length && r.output.every((v, i) => Math.abs(v - decoded[i]) < 1e-9);
  return h("span", {},
    decoded.map((v) => String(v)).join(", "),
    h("span", { class: "note" }, agrees ? " (read from the output word)" : ` (read from the output word; the node's output field says ${r.output?.join(", ") ?? "nothing"})`),
  );
}

function inclusionPath(path: string[] | undefined, index: number | undefined): HTMLElement | undefined {
  if (!path) return undefined;
  return h("ol", { class: "path", "data-testid": "inclusion-path" },
    path.map((p, k) => h("li", {}, h("span", { class: "note" }, `level ${k}, ${index !== undefined && (index >> k) & 1 ? "left" : "right"}: `), code(p, true))),
  );
}

export const inferenceView: View = async ({ id }, ctx) => {
  const r = await ctx.api.request(id);
  const model = await ctx.api.model(r.modelId).catch(() => undefined);
  const batch = r.batch && r.status === "settled" ? splitBatchId(r.batch) : undefined;
  return {
    title: `Request ${short(r.requestId, 6)}`,
    body: h("section", { "data-testid": "inference-view" },
      h("p", { class: "crumbs" }, link("#/requests", "Requests"), " / ", batch && [link(`#/batches/${r.batch}`, batchName(batch.modelId, batch.batchNumber)), " / "]),
      h("h1", { tabindex: -1 }, "Inference"),
      fields([
        ["Request id", code(r.requestId, true), "request-id"],
        ["Status", badge(r.status), "request-status"],
        ["Why", r.reason],
        ["Model", link(`#/models/${r.modelId}`, model ? `${model.name} (model ${r.modelId})` : `model ${r.modelId}`)],
        ["Signed by", r.signer && code(r.signer, true)],
        ["Nonce", r.nonce],
        ["Input commitment", r.inputHash && code(r.inputHash, true), "input-hash"],
        ["Output", outputs(r, model), "output"],
        ["Label", r.label === undefined ? undefined : String(r.label), "label"],
        ["Output word", r.outputWord && code(r.outputWord, true)],
      ]),
      checkPanel(r, () => ctx.chainTarget()),
      h("h2", {}, "Where it is"),
      fields([
        ["Batch", batch ? link(`#/batches/${r.batch}`, `${batchName(batch.modelId, batch.batchNumber)} (id ${r.batch})`) : r.batch && `local batch ${r.batch} (not settled)`],
        ["Leaf in the batch", r.index === undefined ? undefined : String(r.index)],
        ["Batch root", r.batchRoot && code(r.batchRoot, true)],
        ["Model trace root after the batch", r.stateRoot && code(r.stateRoot, true)],
        ["Inclusion path", inclusionPath(r.path ?? r.proof?.path, r.index)],
        ["Transaction", r.txHash && code(r.txHash, true), "tx-hash"],
        ["The node's own check", r.status === "settled" ? (r.verified ? "the node says the rollup confirms it" : "the node says the rollup does not confirm it") : undefined],
      ]),
    ),
  };
};
