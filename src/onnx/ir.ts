/**
 * The float graph an ONNX model lowers to. Every tensor is a flat row-major buffer for ONE sample:
 * shapes are the ONNX shapes with symbolic (batch) dimensions fixed to 1. All linear ONNX ops (Gemm, MatMul, Conv, Pad, AveragePool,
 * GlobalAveragePool, BatchNormalization, Add/Sub/Mul with a constant, and Add/Sub of two tensors)
 * become `affine` nodes, so that quantization and circuit generation only know five node kinds.
 * Shape-only ops (Flatten, Reshape, Identity, Dropout) disappear: they alias their input.
 */

/** One output row of a sparse linear map: y[i] = sum_k w[k] * x[idx[k]] (+ bias[i]). */
export interface SparseRow {
  idx: Int32Array;
  w: Float64Array;
}

/**
 * y[i] = bias[i] + sum over inputs t of (row t,i) · x_t.
 * `rows[t][i]` is the row for input tensor `inputs[t]` and output i.
 */
export interface AffineNode {
  kind: "affine";
  out: string;
  inputs: string[];
  shape: number[];
  rows: SparseRow[][];
  bias: Float64Array;
  /** ONNX node names folded into this node, for error messages and summaries. */
  from: string[];
}

export interface ReluNode {
  kind: "relu";
  out: string;
  input: string;
  shape: number[];
  from: string[];
}

export interface LeakyReluNode {
  kind: "leakyrelu";
  out: string;
  input: string;
  shape: number[];
  alpha: number;
  from: string[];
}

export interface SigmoidNode {
  kind: "sigmoid";
  out: string;
  input: string;
  shape: number[];
  from: string[];
}

/** y[i] = max over windows[i] of x[j]; windows never contain padding (MaxPool pads with -inf). */
export interface MaxPoolNode {
  kind: "maxpool";
  out: string;
  input: string;
  shape: number[];
  windows: Int32Array[];
  from: string[];
}

/**
 * y[i] = f(x[i]) for a named elementwise function (src/onnx/pwlFunctions.ts). Quantized as a
 * piecewise-linear table over the input's whole range (circuits/lib/PiecewiseLinear.circom).
 */
export interface PwlNode {
  kind: "pwl";
  out: string;
  input: string;
  shape: number[];
  fn: string;
  params: number[];
  from: string[];
}

/**
 * y[i] = coef[i] · Σ_k a[ia[i][k]] · b[ib[i][k]]: products of two activations (Mul, MatMul of two
 * activations, squares, And, Where). `a` may equal `b`.
 */
export interface MulNode {
  kind: "mul";
  out: string;
  a: string;
  b: string;
  shape: number[];
  ia: Int32Array[];
  ib: Int32Array[];
  coef: Float64Array;
  from: string[];
}

/** y[i] = a[ia[i]] / b[ib[i]]; a zero divisor has no witness. */
export interface DivNode {
  kind: "div";
  out: string;
  a: string;
  b: string;
  shape: number[];
  ia: Int32Array;
  ib: Int32Array;
  from: string[];
}

/** y = sqrt(x) for x >= 0 (a negative x has no witness), proven to the nearest output step. */
export interface SqrtNode {
  kind: "sqrt";
  out: string;
  input: string;
  shape: number[];
  from: string[];
}

/** y = 1 when `x op 0`, else 0 (Less, Greater, Equal, ... after an affine difference). */
export interface CompareNode {
  kind: "compare";
  op: "gt" | "ge" | "eq" | "ne";
  out: string;
  input: string;
  shape: number[];
  from: string[];
}

/** y[i] = the position of the largest x within windows[i] (first on ties, or last with `last`). */
export interface ArgIndexNode {
  kind: "argindex";
  out: string;
  input: string;
  shape: number[];
  windows: Int32Array[];
  last: boolean;
  from: string[];
}

/** y = x rounded to an integer: half to even (ONNX Round), floor, ceil, or toward zero (Cast to int). */
export interface RoundNode {
  kind: "round";
  mode: "even" | "floor" | "ceil" | "trunc";
  out: string;
  input: string;
  shape: number[];
  from: string[];
}

/**
 * y[i] = x[idx[i]]: a pure rewiring that costs no constraint (a model input sliced out of the
 * concatenated inputs, a gather between non-affine nodes).
 */
export interface SelectNode {
  kind: "select";
  out: string;
  input: string;
  shape: number[];
  idx: Int32Array;
  from: string[];
}

export type FloatNode =
  | AffineNode | ReluNode | LeakyReluNode | SigmoidNode | MaxPoolNode
  | PwlNode | MulNode | DivNode | SqrtNode | CompareNode | ArgIndexNode | RoundNode | SelectNode;

/** The tensors a node reads. */
export function nodeInputs(n: FloatNode): string[] {
  switch (n.kind) {
    case "affine": return n.inputs;
    case "mul": case "div": return n.a === n.b ? [n.a] : [n.a, n.b];
    default: return [n.input];
  }
}

/**
 * What the model does after its last arithmetic node. Softmax and ArgMax are only accepted as the
 * final op: Softmax is monotone, so the circuit proves the logits and their argmax, and Softmax is
 * applied to the proven logits when the output is shown.
 */
export type Head = "none" | "softmax" | "argmax";

/** Element type of a model input or output as the ONNX graph declares it. */
export type ElemKind = "float" | "int" | "bool";

/** One ONNX graph input or output: where its values sit in the flat input or output vector. */
export interface GraphPort {
  name: string;
  shape: number[];
  offset: number;
  elem: ElemKind;
}

export interface FloatGraph {
  /**
   * The tensor the circuit takes: the model's input, or, for a model with several, all of them
   * concatenated in the model's input order (`inputs` says where each one sits).
   */
  input: { name: string; shape: number[] };
  inputs: GraphPort[];
  /** The model's outputs in order, concatenated in `output` (one entry for a one-output model). */
  outputs: GraphPort[];
  /** Topologically ordered. */
  nodes: FloatNode[];
  /** Tensor holding the pre-head output (logits). */
  output: string;
  outputShape: number[];
  head: Head;
  /** Histogram of the ONNX op types the model uses. */
  ops: Record<string, number>;
  /** Name of the ONNX graph's first output, for onnxruntime. */
  onnxOutput: string;
}

export const SUPPORTED_OPS = [
  "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Flatten", "Reshape",
  "Identity", "Dropout", "Constant", "Pad", "Conv", "AveragePool", "MaxPool", "GlobalAveragePool",
  "BatchNormalization", "Cast", "Softmax", "ArgMax", "Concat", "Slice", "Split", "Transpose", "Squeeze", "Unsqueeze",
  "Gather", "GatherElements", "Tile", "Expand", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "Resize",
  "Upsample", "ConvTranspose",
] as const;

export function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
