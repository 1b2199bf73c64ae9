/**
 * The order in which a model's quantized parameters become private circuit inputs and are
 * committed: affine nodes in graph order; within a node, outputs in order; within an output, each
 * input tensor's sparse entries in order. Codegen and witness building both follow this one walk.
 */
import type { QGraph, QAffine } from "../quant/qgraph";
import { fitsSigned } from "../quant/fixed";
import { FlavumError } from "../errors";

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

/**
 * Whether a private-weights circuit takes this node's weights as inputs: every affine node, except
 * in a published commit's graph that lists its own (`committed.nodes`) — a frozen trunk in front of
 * the committed head keeps its weights as constants.
 */
export function isPrivateAffine(q: QGraph, node: QAffine): boolean {
  const own = q.committed?.nodes;
  return own === undefined || own.includes(q.nodes.indexOf(node));
}

export function weightLayout(q: QGraph): WeightLayout {
  const weights: bigint[] = [];
  const biases: bigint[] = [];
  for (const node of affineNodes(q).filter((n) => isPrivateAffine(q, n))) {
    node.bias.forEach((b, i) => {
      for (const rows of node.rows) weights.push(...rows[i].w);
      biases.push(b);
    });
  }
  return { weights, biases, weightBits: bitsFor(weights), biasBits: bitsFor(biases) };
}

/**
 * A published model's training-layout vector θ, read back through its CommittedWeights map: what
 * its batch witness feeds and PackedHash commits to (src/repos/publishGraph.ts builds the map).
 */
export function committedTheta(q: QGraph): bigint[] {
  const c = q.committed;
  if (!c) throw new FlavumError(`model has no committed weights: it was not published from a repository commit`);
  const { weights, biases } = weightLayout(q);
  const theta: (bigint | undefined)[] = Array(c.params).fill(undefined);
  weights.forEach((v, j) => (theta[c.weightIndex[j]] = v));
  biases.forEach((v, j) => {
    // A bias is θ · 2^shift exactly: anything else is not a published commit's graph.
    if (v % (1n << BigInt(c.biasShift[j])) !== 0n) throw new FlavumError(`bias ${j} (${v}) is not a multiple of 2^${c.biasShift[j]}: the committed weight map does not match the graph`);
    theta[c.biasIndex[j]] = v >> BigInt(c.biasShift[j]);
  });
  if (theta.some((v) => v === undefined)) throw new FlavumError(`the committed weight map does not cover all ${c.params} parameters`);
  return theta as bigint[];
}
