/**
 * An ONNX model → the trainable model a repository starts from, with its float weights in the
 * training layout (src/training/spec.ts):
 *   Gemm → Sigmoid                                   logistic regression
 *   Gemm (one output)                                linear regression
 *   Gemm → Relu → Gemm → Sigmoid                     today's one-hidden-layer MLP (kind mlp, h)
 *   Gemm (k >= 2 outputs) [→ Softmax]                softmax regression (kind softmax, k)
 *   Gemm → Relu → … → Gemm, then Sigmoid (one output), nothing (one output: linear head) or
 *   [Softmax] (k >= 2 outputs: softmax head)         a general MLP (kind mlp, hidden, head)
 * A multi-class model is trained with softmax cross-entropy whether or not its export ends in the
 * Softmax (PyTorch classifiers usually export the logits). Linear preprocessing the importer folds
 * into a dense layer (a Mul or Add by a constant, as `x * (1/16)`) is accepted; anything else — a
 * convolution, pooling, normalization, another activation, several inputs, an ArgMax output — is
 * refused with the op named.
 */
import { importOnnx } from "../onnx/lower";
import type { AffineNode, FloatGraph } from "../onnx/ir";
import { FlavumError } from "../errors";
import type { HeadKind, ModelKind, TrainingSpec } from "../training";

export interface TrainableModel {
  kind: ModelKind;
  d: number;
  /** Today's one-hidden-layer MLP (Gemm → Relu → Gemm → Sigmoid). */
  h?: number;
  /** A general MLP's hidden widths (and its head). */
  hidden?: number[];
  head?: HeadKind;
  /** Classes of a softmax head. */
  k?: number;
  weights: number[];
}

/** The architecture fields of a training spec for this model: `trainingSpec({ ...trainableShape(m), n, K, lr })`. */
export function trainableShape(m: TrainableModel): Pick<TrainingSpec, "kind" | "d" | "h" | "hidden" | "head" | "k"> {
  return { kind: m.kind, d: m.d, h: m.h, hidden: m.hidden, head: m.head, k: m.k };
}

/** ONNX ops a trainable model may use: dense layers (and constant linear preprocessing they absorb), ReLU, a final Sigmoid or Softmax. */
const TRAINABLE_OPS = new Set([
  "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Constant", "Flatten", "Reshape", "Identity", "Dropout", "Squeeze", "Unsqueeze",
  "Relu", "Sigmoid", "Softmax",
]);

const SHAPES =
  "repositories train logistic regression (Gemm → Sigmoid), linear regression (Gemm), softmax regression " +
  "(Gemm with k >= 2 outputs, optionally → Softmax) and MLPs (Gemm → Relu → … → Gemm, then Sigmoid, nothing, " +
  "or for k >= 2 outputs an optional Softmax)";

/** Dense weights of a one-input affine node: rows[i] as a full vector over `inputs` features. */
function dense(node: AffineNode, inputs: number): number[][] {
  if (node.inputs.length !== 1) throw new FlavumError(`affine node ${node.from.join("+")} has several inputs; not a trainable layer`, "UNSUPPORTED_MODEL");
  return node.rows[0].map((r) => {
    const row = new Array<number>(inputs).fill(0);
    r.idx.forEach((j, k) => (row[j] = r.w[k]));
    return row;
  });
}

export function trainableFromGraph(g: FloatGraph): TrainableModel {
  const d = g.input.shape.reduce((a, b) => a * b, 1);
  const kinds = g.nodes.map((n) => n.kind).join(",");
  const out = g.outputShape.reduce((a, b) => a * b, 1);
  const refuse = (why: string) =>
    new FlavumError(`cannot train this model: ${SHAPES}; this one ${why} (it lowers to [${kinds}] with output shape [${g.outputShape.join(", ")}])`, "UNSUPPORTED_MODEL");

  if (g.head === "argmax") throw refuse(`ends in ArgMax, which has no gradient: export the logits (or a Softmax) instead`);
  const foreign = Object.keys(g.ops).filter((op) => !TRAINABLE_OPS.has(op));
  if (foreign.length > 0) throw refuse(`uses ${foreign.join(", ")}, which ${foreign.length > 1 ? "are" : "is"} not part of a dense layer stack`);
  if (g.inputs.length > 1) throw refuse(`has ${g.inputs.length} inputs`);
  if (!/^affine(,relu,affine)*(,sigmoid)?$/.test(kinds)) throw refuse(`is not a chain of dense layers with ReLU between them`);

  // The chain must be one path: each node reads the previous one's output.
  let prev = g.input.name;
  for (const node of g.nodes) {
    const ins = node.kind === "affine" ? node.inputs : [(node as { input: string }).input];
    if (ins.length !== 1 || ins[0] !== prev) throw refuse(`has a node (${node.kind} → ${node.out}) that does not read the previous layer's output`);
    prev = node.out;
  }
  if (prev !== g.output) throw refuse(`does not end in its last layer`);

  const sigmoid = kinds.endsWith(",sigmoid");
  const affines = g.nodes.filter((n): n is AffineNode => n.kind === "affine");
  const weights: number[] = [];
  const widths = [d];
  for (const a of affines) {
    const W = dense(a, widths[widths.length - 1]);
    widths.push(W.length);
    weights.push(...W.flat(), ...a.bias);
  }
  const hidden = widths.slice(1, -1);
  if (widths[widths.length - 1] !== out) throw refuse(`has ${widths[widths.length - 1]} outputs in its last layer but an output of ${out} values`);

  if (out === 1) {
    if (g.head === "softmax") throw refuse(`applies Softmax to a single output (always 1)`);
    if (hidden.length === 0) return { kind: sigmoid ? "logistic" : "linear", d, weights };
    if (sigmoid && hidden.length === 1) return { kind: "mlp", d, h: hidden[0], weights };
    return { kind: "mlp", d, hidden, head: sigmoid ? "logistic" : "linear", weights };
  }
  if (sigmoid) throw refuse(`applies Sigmoid to ${out} outputs (multi-label); a multi-class model ends in its logits or a Softmax`);
  if (hidden.length === 0) return { kind: "softmax", d, k: out, weights };
  return { kind: "mlp", d, hidden, head: "softmax", k: out, weights };
}

export function trainableFromOnnx(file: string): TrainableModel {
  return trainableFromGraph(importOnnx(file));
}
