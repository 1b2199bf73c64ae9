/**
 * The quantized graph: the exact integer program both the TypeScript executor and the generated
 * circuit run. Every tensor is signed fixed point: real = q / 2^scale, with q range-checked to
 * `bits` (q in [-2^(bits-1), 2^(bits-1))). Rescales round half up: q = floor((acc + 2^(k-1)) / 2^k).
 */
import type { GraphPort, Head } from "../onnx/ir";
import type { SigmoidSegments } from "./sigmoidPL";

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
  /**
   * Set when shift = 0 and the inputs' proven bounds already keep every output within `bits`: the
   * output is then a plain linear combination, with no range check of its own (public weights only).
   */
  unchecked?: boolean;
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
export interface QSigmoid extends SigmoidSegments {
  kind: "sigmoid";
  out: string;
  input: string;
  bits: number;
  from: string[];
}

/** A general elementwise table (PiecewiseLinear.circom): the same arithmetic as QSigmoid, for any function. */
export interface QPwl extends SigmoidSegments {
  kind: "pwl";
  fn: string;
  out: string;
  input: string;
  bits: number;
  from: string[];
}

/** out[i] = round(coef[i] · Σ_k a[ia[i][k]] · b[ib[i][k]] / 2^shift), range-checked to `bits`. */
export interface QMul {
  kind: "mul";
  out: string;
  a: string;
  b: string;
  ia: Int32Array[];
  ib: Int32Array[];
  coef: bigint[];
  shift: number;
  bits: number;
  from: string[];
}

/** out[i] = DivRound(a[ia[i]], b[ib[i]], k): round(a·2^k / b), ties up; a zero divisor has no witness. */
export interface QDiv {
  kind: "div";
  out: string;
  a: string;
  b: string;
  ia: Int32Array;
  ib: Int32Array;
  k: number;
  bitsA: number;
  bitsB: number;
  bits: number;
  from: string[];
}

/** out = round(sqrt(x · 2^e)); a negative x has no witness. */
export interface QSqrt {
  kind: "sqrt";
  out: string;
  input: string;
  e: number;
  bitsIn: number;
  bits: number;
  from: string[];
}

/** out = [x op 0] in {0, 1}; op codes as CompareZero.circom: 0 gt, 1 ge, 2 eq, 3 ne. */
export interface QCompare {
  kind: "compare";
  out: string;
  input: string;
  op: number;
  bitsIn: number;
  bits: number;
  from: string[];
}

/** out[i] = index of the first (or, with `last`, the last) largest x within windows[i]. */
export interface QArgIndex {
  kind: "argindex";
  out: string;
  input: string;
  windows: Int32Array[];
  last: boolean;
  bitsIn: number;
  bits: number;
  from: string[];
}

/** out = x / 2^shift rounded to an integer; mode codes as RoundToInt.circom: 0 half-even, 1 floor, 2 ceil, 3 trunc. */
export interface QRound {
  kind: "round";
  out: string;
  input: string;
  mode: number;
  shift: number;
  bitsIn: number;
  bits: number;
  from: string[];
}

/** out[i] = x[idx[i]]: wiring only, no constraint. */
export interface QSelect {
  kind: "select";
  out: string;
  input: string;
  idx: Int32Array;
  bits: number;
  from: string[];
}

export type QNode = QAffine | QRelu | QLeakyRelu | QMaxPool | QSigmoid | QPwl | QMul | QDiv | QSqrt | QCompare | QArgIndex | QRound | QSelect;

/** The tensors a quantized node reads. */
export function qnodeInputs(n: QNode): string[] {
  switch (n.kind) {
    case "affine": return n.inputs;
    case "mul": case "div": return n.a === n.b ? [n.a] : [n.a, n.b];
    default: return [n.input];
  }
}

export interface QuantOptions {
  /** Signed bits of every activation tensor (range checks cost this many constraints per value). */
  bits: number;
  /** Signed bits of the largest weight of each node; more bits = finer weights, longer rescales. */
  weightBits: number;
  /** Bits of headroom above the largest calibrated magnitude, so unseen inputs still fit. */
  headroomBits: number;
}

export const DEFAULT_QUANT: QuantOptions = { bits: 16, weightBits: 12, headroomBits: 1 };

/**
 * Weights bound to a commitment made elsewhere: a published repository commit's training-layout
 * vector θ (src/repos/publishGraph.ts). The batch circuit takes θ as private input, proves
 * PackedHash(θ, bits) equals its public weightsHash, and feeds the model's private weights from it:
 * weight j (weightLayout order) is θ[weightIndex[j]], bias j is θ[biasIndex[j]] · 2^biasShift[j]
 * (a training bias is at the weight scale, an affine bias at the accumulator's).
 */
export interface CommittedWeights {
  params: number;
  bits: number;
  weightIndex: number[];
  biasIndex: number[];
  biasShift: number[];
  /** Indices in `nodes` of the affine nodes whose weights are θ's (absent: all of them); the others keep constants. */
  nodes?: number[];
}

export interface QGraph {
  options: QuantOptions;
  /** Set for a model published from a repository commit: its weights are the commit's. */
  committed?: CommittedWeights;
  tensors: Record<string, QTensor>;
  input: QTensor;
  /** The model's inputs within `input` and outputs within `output` (absent in builds before several were supported: one each). */
  inputs?: GraphPort[];
  outputs?: GraphPort[];
  nodes: QNode[];
  output: string;
  head: Head;
  /** The circuit proves argmax(output) when the output has more than one element. */
  argmax: boolean;
}
