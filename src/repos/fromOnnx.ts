/**
 * An ONNX model → the trainable model a repository starts from: logistic regression (Gemm +
 * Sigmoid), linear regression (Gemm) or an MLP with one hidden ReLU layer (Gemm, Relu, Gemm,
 * Sigmoid), and its float weights in the training layout (src/training/spec.ts).
 */
import { importOnnx } from "../onnx/lower";
import type { AffineNode, FloatGraph } from "../onnx/ir";
import { FlavumError } from "../errors";
import type { ModelKind } from "../training";

export interface TrainableModel {
  kind: ModelKind;
  d: number;
  h?: number;
  weights: number[];
}

/** Dense weights of a one-input affine node: rows[i] as a full vector over `inputs` features. */
function dense(node: AffineNode, inputs: number): number[][] {
  if (node.inputs.length !== 1) throw new FlavumError(`affine node ${node.from.join("+")} has several inputs; not a trainable layer`);
  return node.rows[0].map((r) => {
    const row = new Array<number>(inputs).fill(0);
    r.idx.forEach((j, k) => (row[j] = r.w[k]));
    return row;
  });
}

export function trainableFromGraph(g: FloatGraph): TrainableModel {
  const d = g.input.shape.reduce((a, b) => a * b, 1);
  const kinds = g.nodes.map((n) => n.kind).join(",");
  const unsupported = () =>
    new FlavumError(
      `cannot train this model: repositories train logistic regression (Gemm → Sigmoid), linear regression (Gemm) ` +
        `or a one-hidden-layer MLP (Gemm → Relu → Gemm → Sigmoid) with one output; this one lowers to [${kinds}] ` +
        `with output shape [${g.outputShape.join(", ")}]`,
      "UNSUPPORTED_MODEL",
    );
  const out = g.outputShape.reduce((a, b) => a * b, 1);
  if (out !== 1 || g.head !== "none") throw unsupported();
  if (kinds === "affine,sigmoid" || kinds === "affine") {
    const a = g.nodes[0] as AffineNode;
    const [row] = dense(a, d);
    return { kind: kinds === "affine" ? "linear" : "logistic", d, weights: [...row, a.bias[0]] };
  }
  if (kinds === "affine,relu,affine,sigmoid") {
    const [l1, , l2] = g.nodes as AffineNode[];
    const W1 = dense(l1, d);
    const h = W1.length;
    const [w2] = dense(l2, h);
    return { kind: "mlp", d, h, weights: [...W1.flat(), ...l1.bias, ...w2, l2.bias[0]] };
  }
  throw unsupported();
}

export function trainableFromOnnx(file: string): TrainableModel {
  return trainableFromGraph(importOnnx(file));
}
