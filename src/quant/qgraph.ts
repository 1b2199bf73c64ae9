/**
 * The quantized graph: the exact integer program both the TypeScript executor and the generated
 * circuit run. Every tensor is signed fixed point: real = q / 2^scale, with q range-checked to
 * `bits` (q in [-2^(bits-1), 2^(bits-1))). Rescales round half up: q = floor((acc + 2^(k-1)) / 2^k).
 */
import type { Head } from "../onnx/ir";

export interface QTensor {
  name: string;
  shape: number[];
  size: number;
  scale: number;
  bits: number;
}

export interface QRow {
  idx: Int32Array;
  w: bigint[];
}

/**
 * acc[i] = bias[i] + sum_t rows[t][i] · x_t (at scale accScale); out = act(round(acc / 2^shift)).
 * The rescaled value (before act) is range-checked to `bits`; with act relu the sign bit of that
 * same decomposition selects the output, so ReLU costs one extra constraint.
 */
export interface QAffine {
  kind: "affine";
  out: string;
  inputs: string[];
  rows: QRow[][];
  bias: bigint[];
  accScale: number;
  shift: number;
  bits: number;
  act: "none" | "relu";
  from: string[];
}

/** Standalone ReLU on a tensor already bounded to `bits`. */
export interface QRelu {
  kind: "relu";
  out: string;
  input: string;
  bits: number;
  from: string[];
}

/** y = x for x >= 0, round(alphaNum * x / 2^alphaShift) otherwise. */
export interface QLeakyRelu {
  kind: "leakyrelu";
  out: string;
  input: string;
  bits: number;
  alphaNum: bigint;
  alphaShift: number;
  from: string[];
}

export interface QMaxPool {
  kind: "maxpool";
  out: string;
  input: string;
  bits: number;
  windows: Int32Array[];
  from: string[];
}

/**
 * Piecewise-linear sigmoid over the input's whole calibrated range: the top `segBits` bits of
 * u = x + 2^(bitsIn-1) choose a segment, the low `lowBits` bits t interpolate:
 * out = round((A[seg] * 2^lowBits + D[seg] * t) / 2^(lowBits + guard)).
 */
export interface QSigmoid {
  kind: "sigmoid";
  out: string;
  input: string;
  bitsIn: number;
  segBits: number;
  lowBits: number;
  guard: number;
  A: bigint[];
  D: bigint[];
  bits: number;
  from: string[];
}

export type QNode = QAffine | QRelu | QLeakyRelu | QMaxPool | QSigmoid;

export interface QuantOptions {
  /** Signed bits of every activation tensor (range checks cost this many constraints per value). */
  bits: number;
  /** Signed bits of the largest weight of each node; more bits = finer weights, longer rescales. */
  weightBits: number;
  /** Bits of headroom above the largest calibrated magnitude, so unseen inputs still fit. */
  headroomBits: number;
}

export const DEFAULT_QUANT: QuantOptions = { bits: 16, weightBits: 12, headroomBits: 1 };

export interface QGraph {
  options: QuantOptions;
  tensors: Record<string, QTensor>;
  input: QTensor;
  nodes: QNode[];
  output: string;
  head: Head;
  /** The circuit proves argmax(output) when the output has more than one element. */
  argmax: boolean;
}
