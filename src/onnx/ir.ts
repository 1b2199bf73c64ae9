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

export type FloatNode = AffineNode | ReluNode | LeakyReluNode | SigmoidNode | MaxPoolNode;

/**
 * What the model does after its last arithmetic node. Softmax and ArgMax are only accepted as the
 * final op: Softmax is monotone, so the circuit proves the logits and their argmax, and Softmax is
 * applied to the proven logits when the output is shown.
 */
export type Head = "none" | "softmax" | "argmax";

export interface FloatGraph {
  /** Name of the model's (single) input tensor and its shape (batch dimension fixed to 1). */
  input: { name: string; shape: number[] };
  /** Topologically ordered. */
  nodes: FloatNode[];
  /** Tensor holding the pre-head output (logits). */
  output: string;
  outputShape: number[];
  head: Head;
  /** Histogram of the ONNX op types the model uses. */
  ops: Record<string, number>;
  /** Name of the ONNX graph's output, for onnxruntime. */
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
