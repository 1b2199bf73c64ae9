/**
 * The order in which a model's quantized parameters become private circuit inputs and are
 * committed: affine nodes in graph order; within a node, outputs in order; within an output, each
 * input tensor's sparse entries in order. Codegen and witness building both follow this one walk.
 */
import type { QGraph, QAffine } from "../quant/qgraph";
import { fitsSigned } from "../quant/fixed";

export interface WeightLayout {
  weights: bigint[];
  biases: bigint[];
  weightBits: number;
  biasBits: number;
}

export function bitsFor(values: readonly bigint[]): number {
  let bits = 2;
  for (const v of values) while (!fitsSigned(v, bits)) bits++;
  return bits;
}

export function affineNodes(q: QGraph): QAffine[] {
  return q.nodes.filter((n): n is QAffine => n.kind === "affine");
}

export function weightLayout(q: QGraph): WeightLayout {
  const weights: bigint[] = [];
  const biases: bigint[] = [];
  for (const node of affineNodes(q)) {
    node.bias.forEach((b, i) => {
      for (const rows of node.rows) weights.push(...rows[i].w);
      biases.push(b);
    });
  }
  return { weights, biases, weightBits: bitsFor(weights), biasBits: bitsFor(biases) };
}
