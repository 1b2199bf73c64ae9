/**
 * A repository commit as a servable model: the quantized graph of the commit's forward pass, with
 * the commit's own integers as its weights and the training arithmetic's shifts and widths, so the
 * served model computes exactly what the training executor's forward pass computes (logits at the
 * training's z scale, hidden activations at sh). Its weights are not constants of the circuit:
 * `committed` tells the batch circuit to take the commit's training-layout vector θ as private
 * input and prove PackedHash(θ, bw) equals the registry's weightsHash, the commit's (see
 * src/codegen/batch.ts). That is what lets the registry check, not trust, that a published model
 * serves a commit's weights.
 *
 * The one difference from training: a softmax head's label is the first argmax of the logits as
 * computed, where training clamps them into bz bits first (the two agree unless logits saturate),
 * and a logistic head serves its logit, labelled by z >= 0, the rule training counts `correct` by.
 *
 * A frozen-trunk repository (a CNN head) is served as its trunk, weights constant as the spec fixes
 * them, then the committed head on the trunk's integer outputs (the features training used):
 * `committed.nodes` names the head's affine nodes, the only ones whose weights are θ's.
 */
import type { QGraph, QNode, QTensor } from "../quant/qgraph";
import { qgraphFromJson } from "../model/qgraphJson";
import { trunkGraph } from "../training/trunk";
import { checkWeights } from "../training/executor";
import { headOf, isGeneral, layerOffsets, plan, TrainingSpec } from "../training/spec";

export function publishedGraph(spec: TrainingSpec, weights: readonly bigint[]): QGraph {
  checkWeights(spec, weights);
  const p = plan(spec);
  const offsets = layerOffsets(spec);
  const head = headOf(spec);
  const top = offsets.length - 1;
  // Every layer's rescale and worst-case width, as the training circuit proves them.
  const layerShape = (l: number): { shift: number; bits: number } => {
    if (isGeneral(spec)) return { shift: p.net!.layers[l].shift, bits: p.net!.layers[l].bits };
    return l < top ? { shift: p.hShift, bits: p.hBits } : { shift: p.zShift, bits: p.zBits };
  };

  // A frozen trunk runs first, its weights constants (the spec fixes them); the head reads its outputs.
  const trunk = spec.trunk ? qgraphFromJson(trunkGraphJson(spec)) : undefined;
  const tensors: Record<string, QTensor> = { ...(trunk?.tensors ?? {}) };
  const input: QTensor = trunk?.input ?? { name: "x", shape: [spec.d], size: spec.d, scale: spec.sx, bits: spec.bx };
  tensors[input.name] = input;
  const nodes: QNode[] = [...(trunk?.nodes ?? [])];
  const headStart = nodes.length;
  const weightIndex: number[] = [];
  const biasIndex: number[] = [];
  const biasShift: number[] = [];
  let prev = trunk ? trunk.tensors[trunk.output] : input;
  offsets.forEach((o, l) => {
    const { shift, bits } = layerShape(l);
    const last = l === top;
    const scale = last ? (head === "linear" ? spec.sp : spec.sz) : spec.sh;
    const name = uniqueName(tensors, last ? "z" : `h${l + 1}`);
    const out: QTensor = { name, shape: [o.fanOut], size: o.fanOut, scale, bits };
    tensors[name] = out;
    const idx = Int32Array.from({ length: o.fanIn }, (_, j) => j);
    const rows = Array.from({ length: o.fanOut }, (_, u) => ({ idx, w: weights.slice(o.W + u * o.fanIn, o.W + (u + 1) * o.fanIn) }));
    const inScale = prev.scale;
    for (let u = 0; u < o.fanOut; u++) {
      for (let j = 0; j < o.fanIn; j++) weightIndex.push(o.W + u * o.fanIn + j);
      biasIndex.push(o.b + u);
      biasShift.push(inScale);
    }
    nodes.push({
      kind: "affine", out: name, inputs: [prev.name], rows: [rows],
      bias: Array.from({ length: o.fanOut }, (_, u) => weights[o.b + u] << BigInt(inScale)),
      accScale: spec.sw + inScale, shift, bits, act: last ? "none" : "relu", from: [`layer ${l + 1}`],
    });
    prev = out;
  });
  const k = prev.size;
  return {
    options: { bits: Math.max(...Object.values(tensors).map((t) => t.bits)), weightBits: spec.bw, headroomBits: 0 },
    committed: { params: weights.length, bits: spec.bw, weightIndex, biasIndex, biasShift, ...(trunk ? { nodes: offsets.map((_, l) => headStart + l) } : {}) },
    tensors, input, ...(trunk?.inputs ? { inputs: trunk.inputs } : {}), nodes, output: prev.name,
    head: k > 1 ? "argmax" : "none",
    argmax: k > 1,
  };
}

/** The trunk graph's JSON, checked against the spec (parsed afresh: the cached graph is shared). */
function trunkGraphJson(spec: TrainingSpec): string {
  trunkGraph(spec);
  return spec.trunk!.qgraph;
}

function uniqueName(tensors: Record<string, QTensor>, base: string): string {
  let name = `head_${base}`;
  for (let i = 2; tensors[name]; i++) name = `head_${base}_${i}`;
  return name;
}
