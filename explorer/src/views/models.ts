/**
 * Models the node serves: the on-chain commitment (weights, architecture, circuit, verifying key,
 * proof system), the verifiers fixed at registration with their code hashes, the batch sizes, the
 * input/output layout, the model's trace tree, and what the node checked of its own build (audit).
 */
import { badge, fields, h, link, table } from "../dom";
import { code } from "../format";
import type { Model, Verifier } from "../types";
import type { View } from "./view";

const COMMITMENT_LABELS: Record<string, string> = {
  weightsHash: "Weights hash", architectureHash: "Architecture hash", circuitHash: "Circuit hash", vkHash: "Verifying-key hash", proofSystem: "Proof system",
};

const bare = (v: string | null | undefined) => (v ?? "").toLowerCase().replace(/^0x/, "");

/** Whether the keys this node proves with are the registered ones (the one audit fact the API gives). */
function vkAgreement(m: Model): HTMLElement | string {
  const served = m.audit.servedVkHash;
  if (!served) return "the node does not say which verifying key it serves";
  return bare(served) === bare(m.commitment.vkHash)
    ? h("span", {}, badge("match", "ok"), " the node proves with the registered verifying key ", code(served))
    : h("span", {}, badge("mismatch", "bad"), " the node's verifying key ", code(served), " is not the registered one");
}

function modelCard(m: Model, heading: "h1" | "h2"): HTMLElement {
  const title = heading === "h1" ? h("h1", { tabindex: -1 }, m.name) : h("h2", {}, link(`#/models/${m.modelId}`, m.name));
  return h("article", { class: "card", "data-testid": "model-card", "data-model-id": m.modelId },
    title,
    fields([
      ["Model id", m.modelId],
      ["Batch size served", String(m.batchSize)],
      ["Batch sizes registered", m.verifiers.map((v) => v.batchSize).join(", ")],
      ["Input", `${m.shape.inputShape.join("×")} values, ${m.shape.inputBits}-bit, scale 2^-${m.shape.inputScale}`],
      ["Output", `${m.shape.outputShape.join("×")} (${m.shape.outputCount} in the word, ${m.shape.outputBits}-bit, scale 2^-${m.shape.outputScale})${m.shape.hasLabel ? ", with a label" : ""}`],
    ]),
    h("h3", {}, "Commitment"),
    fields(Object.entries(m.commitment).map(([k, v]) => [COMMITMENT_LABELS[k] ?? k, code(v, true)])),
    h("h3", {}, "Verifiers"),
    table<Verifier>(`Verifiers of ${m.name}`, [
      { head: "Batch size", cell: (v) => String(v.batchSize), numeric: true },
      { head: "Address", cell: (v) => code(v.address, true) },
      { head: "Code hash", cell: (v) => code(v.codeHash, true) },
    ], m.verifiers),
    h("h3", {}, "Trace tree"),
    fields([["Root", code(m.trace.root, true)], ["Next leaf", m.trace.nextLeaf], ["Batches", m.trace.batches]]),
    h("h3", {}, "Audit"),
    fields([
      ["Served verifying key", vkAgreement(m)],
      ["Circuit hash of the node's build", code(m.audit.circuitHash, true)],
      ["Audit it yourself", h("code", {}, m.audit.command)],
    ]),
  );
}

export const modelsView: View = async (_p, ctx) => {
  const models = await ctx.api.models();
  return {
    title: "Models",
    body: h("section", {},
      h("h1", { tabindex: -1 }, "Models"),
      models.length ? models.map((m) => modelCard(m, "h2")) : h("p", { class: "empty" }, "This node serves no model yet (model:register adds one)."),
    ),
  };
};

export const modelView: View = async ({ id }, ctx) => {
  const m = await ctx.api.model(id);
  return { title: m.name, body: h("section", {}, h("p", { class: "crumbs" }, link("#/models", "Models"), " / "), modelCard(m, "h1")) };
};
