/**
 * What a training commit computes: the model kind, its shapes, the batch shape and every fixed-point
 * scale and bit width. `trainingSpec()` fills defaults and validates; `plan()` derives the shifts,
 * the quantized learning rate and the widths of every range check, which the executor and the
 * circuit generator both read, so the two cannot disagree.
 *
 * Fixed point: a value v at scale s is the integer round(v * 2^s); "bits b" means the integer is
 * signed in [-2^(b-1), 2^(b-1)).
 *
 * Weight layout (one flat vector, every entry at scale sw, bits bw):
 *   logistic / linear: [w_0 .. w_{d-1}, b]
 *   mlp (d → h → 1):   [W1 (h rows of d, row-major), b1 (h), w2 (h), b2]
 */
import { FlavumError } from "../errors";

export type ModelKind = "logistic" | "linear" | "mlp";

export interface TrainingSpec {
  kind: ModelKind;
  /** Feature count. */
  d: number;
  /** Hidden width (mlp only). */
  h?: number;
  /** Mini-batch size: a power of two, so the 1/n of the gradient mean folds into a shift. */
  n: number;
  /** SGD steps per commit; step k uses rows k·n … k·n+n-1. */
  K: number;
  /** Learning rate (real); quantized to lrNum / 2^lrShift with LR_BITS significant bits. */
  lr: number;
  /** Feature scale and bits (quantizeData clamps features into the range). */
  sx: number;
  bx: number;
  /** Weight scale and bits: every parameter, before and after every step, must fit. */
  sw: number;
  bw: number;
  /** Prediction scale and bits: the sigmoid output (logistic, mlp) or the prediction and target (linear). */
  sp: number;
  bp: number;
  /** Sigmoid input scale and bits: z is clamped to [-2^(bz-1), 2^(bz-1)) / 2^sz before the table. */
  sz: number;
  bz: number;
  /** The sigmoid table has 2^segBits linear segments over the clamped input range. */
  segBits: number;
  /** Hidden activation scale (mlp only). */
  sh: number;
}

/** Significant bits of the quantized learning rate. */
export const LR_BITS = 8;
/** Extra fractional bits of the sigmoid table (as SigmoidPL's `guard`). */
export const SIGMOID_GUARD = 4;

const DEFAULTS: Omit<TrainingSpec, "kind" | "d" | "n" | "K" | "lr"> = {
  sx: 4, bx: 8, // features in [-8, 8) at 1/16: standardized data
  sw: 12, bw: 18, // weights in [-32, 32) at 1/4096
  sp: 12, bp: 14, // probabilities at 1/4096
  sz: 6, bz: 10, // sigmoid input clamped to [-8, 8): sigmoid(8) = 0.99966
  segBits: 6, // segments 1/4 wide: piecewise-linear error < 8e-4
  sh: 8, // hidden activations at 1/256
};
const LINEAR_DEFAULTS = { sp: 8, bp: 16 }; // targets and predictions in [-128, 128) at 1/256

export function trainingSpec(s: Partial<TrainingSpec> & Pick<TrainingSpec, "kind" | "d">): TrainingSpec {
  const spec: TrainingSpec = {
    n: 16, K: 1, lr: 0.5,
    ...DEFAULTS,
    ...(s.kind === "linear" ? LINEAR_DEFAULTS : {}),
    ...(s.kind === "mlp" ? { h: 8 } : {}),
    ...(Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Partial<TrainingSpec>),
  } as TrainingSpec;
  validateSpec(spec);
  return spec;
}

const isInt = (v: unknown, min: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= min;

export function validateSpec(s: TrainingSpec): void {
  const bad = (what: string) => {
    throw new FlavumError(`training spec: ${what}`, "BAD_SPEC");
  };
  if (!["logistic", "linear", "mlp"].includes(s.kind)) bad(`kind must be logistic, linear or mlp, got ${s.kind}`);
  if (!isInt(s.d, 1)) bad(`d (feature count) must be a positive integer, got ${s.d}`);
  if (s.kind === "mlp" && !isInt(s.h, 1)) bad(`h (hidden width) must be a positive integer for an mlp, got ${s.h}`);
  if (!isInt(s.n, 1) || (s.n & (s.n - 1)) !== 0) bad(`n (batch size) must be a power of two, got ${s.n}`);
  if (!isInt(s.K, 1)) bad(`K (steps per commit) must be a positive integer, got ${s.K}`);
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) bad(`lr must be a positive number, got ${s.lr}`);
  for (const k of ["sx", "sw", "sp", "sz", "sh"] as const) if (!isInt(s[k], 0)) bad(`${k} must be an integer >= 0, got ${s[k]}`);
  for (const k of ["bx", "bw", "bp", "bz"] as const) if (!isInt(s[k], 2) || s[k] > 64) bad(`${k} must be an integer in [2, 64], got ${s[k]}`);
  if (!isInt(s.segBits, 1) || s.segBits >= s.bz) bad(`segBits must be in [1, bz), got ${s.segBits}`);
  if (s.kind !== "linear" && s.bp < s.sp + 2) bad(`bp must be >= sp + 2 to hold a probability of 1, got bp=${s.bp}, sp=${s.sp}`);
  const zIn = s.kind === "mlp" ? s.sw + s.sh : s.sw + s.sx;
  const target = s.kind === "linear" ? s.sp : s.sz;
  if (zIn < target) bad(`the output accumulator (scale ${zIn}) cannot be rescaled up to scale ${target}`);
  if (s.kind === "mlp" && s.sw + s.sx < s.sh) bad(`the hidden accumulator (scale ${s.sw + s.sx}) cannot be rescaled up to sh=${s.sh}`);
}

/** Number of parameters in the weight layout. */
export function paramCount(s: TrainingSpec): number {
  return s.kind === "mlp" ? s.h! * s.d + 2 * s.h! + 1 : s.d + 1;
}

/** Human-readable name of each parameter, for errors and diffs. */
export function paramNames(s: TrainingSpec): string[] {
  if (s.kind !== "mlp") return [...Array.from({ length: s.d }, (_, j) => `w[${j}]`), "b"];
  const h = s.h!;
  const names: string[] = [];
  for (let j = 0; j < h; j++) for (let l = 0; l < s.d; l++) names.push(`W1[${j}][${l}]`);
  for (let j = 0; j < h; j++) names.push(`b1[${j}]`);
  for (let j = 0; j < h; j++) names.push(`w2[${j}]`);
  names.push("b2");
  return names;
}

/** Offsets of the MLP's parameter groups in the flat layout. */
export function mlpOffsets(s: TrainingSpec): { W1: number; b1: number; w2: number; b2: number } {
  const h = s.h!;
  return { W1: 0, b1: h * s.d, w2: h * s.d + h, b2: h * s.d + 2 * h };
}

/** Bits of the label commitment: labels 0/1 fit 2 signed bits; linear targets use bp. */
export function labelBits(s: TrainingSpec): number {
  return s.kind === "linear" ? s.bp : 2;
}

/** Smallest b with v in [-2^(b-1), 2^(b-1)) for every |v| <= maxAbs. */
export function signedBitsFor(maxAbs: bigint): number {
  return maxAbs.toString(2).length + 1;
}

export interface UpdateRule {
  /** delta = roundShift(mult * gradientSum, shift), where gradientSum = Σ_i err_i · input_i. */
  mult: bigint;
  shift: number;
}

export interface TrainingPlan {
  spec: TrainingSpec;
  params: number;
  log2n: number;
  /** lr ≈ lrNum / 2^lrShift. */
  lrNum: bigint;
  lrShift: number;
  /** Output pre-activation: z (or the linear prediction) = roundShift(acc, zShift) in zBits (worst case). */
  zShift: number;
  zBits: number;
  /** mlp hidden: a = roundShift(acc1, hShift) in hBits (worst case), then ReLU. */
  hShift: number;
  hBits: number;
  /** Update rules: for the output layer's weights / bias (input scale sx, or sh for the mlp), and for the mlp's first layer. */
  outUpdate: UpdateRule;
  hiddenUpdate: UpdateRule;
}

function updateRule(lrNum: bigint, lrShift: number, log2n: number, gradScale: number, sw: number): UpdateRule {
  // delta (scale sw) = lr/n · grad (scale gradScale) = lrNum · grad / 2^(lrShift + log2n + gradScale - sw).
  const shift = lrShift + log2n + gradScale - sw;
  return shift >= 0 ? { mult: lrNum, shift } : { mult: lrNum << BigInt(-shift), shift: 0 };
}

export function quantizeLr(lr: number): { lrNum: bigint; lrShift: number } {
  const lrShift = LR_BITS - 1 - Math.floor(Math.log2(lr));
  const lrNum = BigInt(Math.round(lr * 2 ** lrShift));
  return { lrNum, lrShift };
}

export function plan(spec: TrainingSpec): TrainingPlan {
  validateSpec(spec);
  const s = spec;
  const log2n = Math.log2(s.n);
  const { lrNum, lrShift } = quantizeLr(s.lr);
  const wMax = 1n << BigInt(s.bw - 1);
  const xMax = 1n << BigInt(s.bx - 1);
  // Worst-case |roundShift(acc, shift)| for |acc| <= accMax.
  const qMax = (accMax: bigint, shift: number) => (accMax >> BigInt(shift)) + 1n;

  let zShift: number;
  let zBits: number;
  let hShift = 0;
  let hBits = 0;
  let outUpdate: UpdateRule;
  let hiddenUpdate: UpdateRule = { mult: 0n, shift: 0 };
  if (s.kind === "mlp") {
    const h = BigInt(s.h!);
    hShift = s.sw + s.sx - s.sh;
    const hMax = qMax(BigInt(s.d) * wMax * xMax + (wMax << BigInt(s.sx)), hShift);
    hBits = signedBitsFor(hMax);
    zShift = s.sw + s.sh - s.sz;
    zBits = signedBitsFor(qMax(h * wMax * hMax + (wMax << BigInt(s.sh)), zShift));
    outUpdate = updateRule(lrNum, lrShift, log2n, s.sp + s.sh, s.sw);
    // dW1[j][l] = Σ_i err_i · relu'_ij · w2_j · x_il: scale sp + sw + sx.
    hiddenUpdate = updateRule(lrNum, lrShift, log2n, s.sp + s.sw + s.sx, s.sw);
  } else {
    zShift = s.sw + s.sx - (s.kind === "linear" ? s.sp : s.sz);
    zBits = s.kind === "linear" ? s.bp : signedBitsFor(qMax(BigInt(s.d) * wMax * xMax + (wMax << BigInt(s.sx)), zShift));
    outUpdate = updateRule(lrNum, lrShift, log2n, s.sp + s.sx, s.sw);
  }
  if (zBits < s.bz && s.kind !== "linear") zBits = s.bz;
  return { spec, params: paramCount(s), log2n, lrNum, lrShift, zShift, zBits, hShift, hBits, outUpdate, hiddenUpdate };
}
