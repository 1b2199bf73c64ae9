/**
 * What a training commit computes: the model kind, its shapes, the batch shape and every fixed-point
 * scale and bit width. `trainingSpec()` fills defaults and validates; `plan()` derives the shifts,
 * the quantized learning rate and the widths of every range check, which the executor and the
 * circuit generator both read, so the two cannot disagree.
 *
 * Fixed point: a value v at scale s is the integer round(v * 2^s); "bits b" means the integer is
 * signed in [-2^(b-1), 2^(b-1)).
 *
 * Weight layout (one flat vector, every entry at scale sw, bits bw), dense layers in order, each as
 * its weight matrix (one row of fan-in weights per output unit, row-major) then its biases:
 *   logistic / linear: [w_0 .. w_{d-1}, b]
 *   mlp (d → h → 1):   [W1 (h rows of d, row-major), b1 (h), w2 (h), b2]
 *   softmax (d → k):   [W (k rows of d), b (k)]
 *   mlp with `hidden` (d → h1 → … → hL → out, out = 1 or k): [W1, b1, W2, b2, …, W(L+1), b(L+1)]
 *
 * Kinds: today's three (logistic, linear, and the d→h→1 mlp with a sigmoid output, which keeps `h`)
 * and the general layered models: `softmax` (softmax regression, k >= 2 classes) and an `mlp` with
 * `hidden: number[]` (any stack of dense + ReLU layers) and a `head` (logistic, linear or softmax).
 * An mlp given as `hidden: [h]` with a logistic head is today's mlp: trainingSpec() turns it into
 * `h`, so it is the same spec, the same circuit and the same verifier.
 */
import { FlavumError } from "../errors";

export type ModelKind = "logistic" | "linear" | "mlp" | "softmax";
/** What the last layer computes: a sigmoid probability, a linear prediction, or softmax probabilities over k classes. */
export type HeadKind = "logistic" | "linear" | "softmax";

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
  /**
   * General mlp only: the hidden widths h1 … hL (L >= 1). Absent for today's d→h→1 mlp, which uses `h`
   * (trainingSpec() turns `hidden: [h]` with a logistic head into it).
   */
  hidden?: number[];
  /** General mlp only: the output layer (default logistic; softmax needs `k`). */
  head?: HeadKind;
  /** Classes of a softmax head (kind softmax, or an mlp with head softmax): k >= 2; labels are 0 … k-1. */
  k?: number;
  /**
   * Softmax heads: logits z (scale sz) are clamped into bz bits, the gap e = max(z) - z to [0, 2^be)
   * (exp(-e) = 0 beyond: the table's range is [0, 2^(be-sz)) in real units) …
   */
  be?: number;
  /** … whose top expSeg bits index the segment table H and the low be - expSeg bits the in-segment table T … */
  expSeg?: number;
  /** … both at scale 2^se, so exp(-e) = H[e_hi]·T[e_lo] at scale 2^(2·se) (see softmax.ts). */
  se?: number;
  /** General mlp only: scale of the deltas backpropagated into hidden layers. */
  sd?: number;
  /**
   * A bound on each proof's update, ||w_new - w_parent||_2 <= maxUpdateNorm in real units, enforced by
   * the training circuit (absent: no bound). A chain of P proofs moves the weights at most P times it.
   */
  maxUpdateNorm?: number;
  /**
   * How merges aggregate (absent: "fedavg", sample-weighted): "median" (coordinate-wise) or "trimmed"
   * (coordinate-wise mean after dropping `trim` values at each end). Only the merge circuits read it.
   */
  aggregation?: Aggregation;
  /** Trimmed mean only: values dropped at each end of every coordinate (2·trim < the merge's k). */
  trim?: number;
  /**
   * A frozen trunk (src/training/trunk.ts): public-weight layers (convolutions, pooling, …) the
   * committed raw rows pass through, inside the training circuit, before the trained dense layers.
   * The features are the trunk's integer outputs: d = trunk.features, sx / bx = its output scale
   * and bits. Absent: the rows are the features.
   */
  trunk?: TrunkSpec;
}

/**
 * What makes a frozen trunk's circuit reproducible: its quantized graph (public weights), the raw
 * input it takes and the features it gives; plus, to rebuild the float trunk for evaluation and
 * export, the ONNX file's sha256 and the node it was cut at.
 */
export interface TrunkSpec {
  /** sha256 (hex) of the ONNX file the trunk was cut from. */
  onnxSha256: string;
  /** The node (its name, or its output's name) the trunk ends at: the rest of the model is the trained head. */
  upTo: string;
  /** Raw values per row (the ONNX input's size), committed at scale 2^inputScale in inputBits signed bits. */
  d0: number;
  inputScale: number;
  inputBits: number;
  /** Features per row (= the spec's d), at scale 2^outScale in outBits signed bits (= the spec's sx, bx). */
  features: number;
  outScale: number;
  outBits: number;
  /** The quantized trunk graph as src/model/qgraphJson.ts writes it. */
  qgraph: string;
}

export type Aggregation = "fedavg" | "median" | "trimmed";

/** The fields only merges read: the training circuit (and its verifier) is the same whatever they are. */
const MERGE_ONLY = ["aggregation", "trim"] as const;

/** The spec without its merge-only fields: what the training circuit, its id and its verifier depend on. */
export function trainingPart(s: TrainingSpec): TrainingSpec {
  const out = { ...s };
  for (const k of MERGE_ONLY) delete out[k];
  return out;
}

/**
 * The update bound in weight units squared: floor(maxUpdateNorm · 2^sw)², so the bound is the real one
 * rounded down to a whole weight step; `bits` is the width of the circuit's check of bound - Σ Δ²
 * (Σ Δ² < P·2^(2·bw): two bw-bit weights differ by less than 2^bw).
 */
export function updateNormBound(s: TrainingSpec): { bound: bigint; bits: number } | undefined {
  if (s.maxUpdateNorm === undefined) return undefined;
  const steps = BigInt(Math.floor(s.maxUpdateNorm * 2 ** s.sw));
  const bound = steps * steps;
  const sumMax = BigInt(paramCount(s)) << BigInt(2 * s.bw);
  const top = bound > sumMax ? bound : sumMax;
  return { bound, bits: top.toString(2).length + 1 };
}

/** The merge rule of a spec (default sample-weighted FedAvg). */
export function aggregationOf(s: Pick<TrainingSpec, "aggregation">): Aggregation {
  return s.aggregation ?? "fedavg";
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
/**
 * Softmax heads: logits clamped to [-32, 32) at 1/64; gaps to the largest logit cut off at 16
 * (exp(-16) = 1.1e-7, below half a unit of the tables); 32 segments of 1/2 times 32 steps of 1/64;
 * table entries at 2^-16. Measured error: test/unit/training.multiclass.test.ts.
 */
const SOFTMAX_DEFAULTS = { bz: 12, be: 10, expSeg: 5, se: 16 };
/** Backpropagated deltas of a general mlp at 2^-16 (4 bits finer than the output error's 2^-12). */
const DELTA_SCALE = 16;

/** The output layer a spec trains. */
export function headOf(s: Pick<TrainingSpec, "kind" | "head">): HeadKind {
  if (s.kind === "logistic" || s.kind === "linear" || s.kind === "softmax") return s.kind;
  return s.head ?? "logistic";
}

/** A layered model of the general executor and circuit: softmax regression, or an mlp given by `hidden`. */
export function isGeneral(s: Pick<TrainingSpec, "kind" | "hidden">): boolean {
  return s.kind === "softmax" || (s.kind === "mlp" && s.hidden !== undefined);
}

const bad = (what: string): never => {
  throw new FlavumError(`training spec: ${what}`, "BAD_SPEC");
};

/**
 * Drops undefined entries (in order) and turns an mlp `hidden: [h]` with a logistic head into
 * today's `h`, so both spellings give one spec (the same JSON, circuit and verifier).
 */
function canonicalInput(s: Partial<TrainingSpec>): Partial<TrainingSpec> {
  const out = Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as Partial<TrainingSpec>;
  if (out.kind !== "mlp") return out;
  if (out.hidden !== undefined && out.h !== undefined) {
    if (!(Array.isArray(out.hidden) && out.hidden.length === 1 && out.hidden[0] === out.h))
      bad(`give an mlp's hidden widths as h (one hidden layer) or hidden (a list), not both (h=${out.h}, hidden=${JSON.stringify(out.hidden)})`);
  }
  const legacy = (out.head ?? "logistic") === "logistic" && out.k === undefined;
  if (legacy && Array.isArray(out.hidden) && out.hidden.length === 1) {
    // Rebuilt key by key, `h` where `hidden` stood, so the key order is that of `{..., h, ...}`.
    const r: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(out)) {
      if (key === "hidden") r.h = out.hidden[0];
      else if (key !== "head" && key !== "h") r[key] = v;
    }
    return r as Partial<TrainingSpec>;
  }
  if (legacy && out.hidden === undefined && out.head !== undefined) {
    const { head: _head, ...rest } = out;
    return rest;
  }
  return out;
}

export function trainingSpec(s: Partial<TrainingSpec> & Pick<TrainingSpec, "kind" | "d">): TrainingSpec {
  const input = canonicalInput(s);
  const head = headOf({ kind: input.kind!, head: input.head });
  const general = isGeneral({ kind: input.kind!, hidden: input.hidden });
  const spec: TrainingSpec = {
    n: 16, K: 1, lr: 0.5,
    ...DEFAULTS,
    ...(head === "linear" ? LINEAR_DEFAULTS : {}),
    ...(input.kind === "mlp" && !general ? { h: 8 } : {}),
    ...(head === "softmax" ? SOFTMAX_DEFAULTS : {}),
    ...(input.kind === "mlp" && general ? { head, sd: DELTA_SCALE } : {}),
    // A trunk's features are its integer outputs: their scale and bits, no second rounding.
    ...(input.trunk ? { sx: input.trunk.outScale, bx: input.trunk.outBits } : {}),
    ...input,
  } as TrainingSpec;
  validateSpec(spec);
  return spec;
}

const isInt = (v: unknown, min: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= min;

export function validateSpec(s: TrainingSpec): void {
  if (!["logistic", "linear", "mlp", "softmax"].includes(s.kind)) bad(`kind must be logistic, linear, mlp or softmax, got ${s.kind}`);
  validateRepositoryRules(s);
  if (s.trunk !== undefined) validateTrunk(s);
  if (isGeneral(s)) return validateGeneral(s);
  for (const key of ["hidden", "head", "k", "be", "expSeg", "se", "sd"] as const)
    if (s[key] !== undefined)
      bad(`${key} is not a field of a ${s.kind} model${s.kind === "mlp" ? " with one hidden width h (give hidden: [...] and a head for a general mlp)" : ""}`);
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

/** The update bound and the aggregation rule, valid for every kind. */
function validateRepositoryRules(s: TrainingSpec): void {
  if (s.maxUpdateNorm !== undefined && !(typeof s.maxUpdateNorm === "number" && s.maxUpdateNorm > 0 && Number.isFinite(s.maxUpdateNorm)))
    bad(`maxUpdateNorm must be a positive number (the largest L2 norm of one proof's weight change), got ${s.maxUpdateNorm}`);
  if (s.aggregation !== undefined && !["fedavg", "median", "trimmed"].includes(s.aggregation))
    bad(`aggregation must be fedavg, median or trimmed, got ${s.aggregation}`);
  if (s.aggregation === "trimmed") {
    if (!isInt(s.trim, 1)) bad(`a trimmed mean needs trim, the values dropped at each end of a coordinate: an integer >= 1, got ${s.trim}`);
  } else if (s.trim !== undefined) bad(`trim is for aggregation "trimmed" (this spec aggregates by ${s.aggregation ?? "fedavg"})`);
}

function validateGeneral(s: TrainingSpec): void {
  const head = headOf(s);
  if (!isInt(s.d, 1)) bad(`d (feature count) must be a positive integer, got ${s.d}`);
  if (s.kind === "mlp") {
    if (s.h !== undefined) bad(`an mlp with hidden widths takes no h (got h=${s.h})`);
    if (!Array.isArray(s.hidden) || s.hidden.length === 0 || !s.hidden.every((v) => isInt(v, 1)))
      bad(`hidden must be a non-empty list of positive integer widths, got ${JSON.stringify(s.hidden)}`);
    if (!["logistic", "linear", "softmax"].includes(s.head as string)) bad(`head must be logistic, linear or softmax, got ${s.head}`);
    if (!isInt(s.sd, 0)) bad(`sd (delta scale) must be an integer >= 0, got ${s.sd}`);
  } else {
    for (const key of ["h", "hidden", "head", "sd"] as const) if (s[key] !== undefined) bad(`${key} is not a field of a softmax regression (kind softmax is d → k; use kind mlp for hidden layers)`);
  }
  if (head === "softmax") {
    if (!isInt(s.k, 2)) bad(`k (class count) must be an integer >= 2 for a softmax head, got ${s.k}`);
  } else if (s.k !== undefined) bad(`k (class count) is for softmax heads; a ${head} head has one output`);
  if (!isInt(s.n, 1) || (s.n & (s.n - 1)) !== 0) bad(`n (batch size) must be a power of two, got ${s.n}`);
  if (!isInt(s.K, 1)) bad(`K (steps per commit) must be a positive integer, got ${s.K}`);
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) bad(`lr must be a positive number, got ${s.lr}`);
  for (const k of ["sx", "sw", "sp", "sz", "sh"] as const) if (!isInt(s[k], 0)) bad(`${k} must be an integer >= 0, got ${s[k]}`);
  for (const k of ["bx", "bw", "bp", "bz"] as const) if (!isInt(s[k], 2) || s[k] > 64) bad(`${k} must be an integer in [2, 64], got ${s[k]}`);
  if (head !== "linear" && s.bp < s.sp + 2) bad(`bp must be >= sp + 2 to hold a probability of 1, got bp=${s.bp}, sp=${s.sp}`);
  if (head === "logistic" && (!isInt(s.segBits, 1) || s.segBits >= s.bz)) bad(`segBits must be in [1, bz), got ${s.segBits}`);
  if (head === "softmax") {
    for (const k of ["be", "expSeg", "se"] as const) if (!isInt(s[k], 1)) bad(`${k} must be a positive integer for a softmax head, got ${s[k]}`);
    if (s.be! < 2 || s.be! > s.bz) bad(`be (bits of the exp table's input) must be in [2, bz=${s.bz}], got ${s.be}`);
    if (s.expSeg! >= s.be!) bad(`expSeg must be in [1, be=${s.be}), got ${s.expSeg}`);
    if (s.be! - s.expSeg! > 12 || s.expSeg! > 12) bad(`the exp tables have 2^expSeg and 2^(be - expSeg) entries; keep both exponents <= 12 (expSeg=${s.expSeg}, be=${s.be})`);
    if (s.se! > 60) bad(`se (exp table scale) must be <= 60, got ${s.se}`);
  }
  const hidden = s.kind === "mlp" ? s.hidden! : [];
  const target = head === "linear" ? s.sp : s.sz;
  const zIn = s.sw + (hidden.length > 0 ? s.sh : s.sx);
  if (zIn < target) bad(`the output accumulator (scale ${zIn}) cannot be rescaled up to scale ${target}`);
  if (hidden.length > 0 && s.sw + s.sx < s.sh) bad(`the hidden accumulator (scale ${s.sw + s.sx}) cannot be rescaled up to sh=${s.sh}`);
  if (hidden.length > 0 && s.sd! > s.sp + s.sw) bad(`sd (delta scale ${s.sd}) must be <= sp + sw = ${s.sp + s.sw}: deltas are rounded down from the output error times a weight`);
  // The worst-case bounds of every layer must fit the field (refused here, before any use).
  const { lrNum, lrShift } = quantizeLr(s.lr);
  netPlan(s, lrNum, lrShift, Math.log2(s.n));
}

/** Widths of the dense layers' inputs and outputs: [d, …hidden, outputs]. */
export function layerWidths(s: TrainingSpec): number[] {
  if (s.kind === "softmax") return [s.d, s.k!];
  if (s.kind === "mlp") return s.hidden ? [s.d, ...s.hidden, headOf(s) === "softmax" ? s.k! : 1] : [s.d, s.h!, 1];
  return [s.d, 1];
}

/** Outputs of the last layer: k for a softmax head, else 1. */
export function outputCount(s: TrainingSpec): number {
  return headOf(s) === "softmax" ? s.k! : 1;
}

/** Where each dense layer's weight matrix (fanOut rows of fanIn) and biases start in the flat layout. */
export function layerOffsets(s: TrainingSpec): { W: number; b: number; fanIn: number; fanOut: number }[] {
  const widths = layerWidths(s);
  const out: { W: number; b: number; fanIn: number; fanOut: number }[] = [];
  let at = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const [fanIn, fanOut] = [widths[l], widths[l + 1]];
    out.push({ W: at, b: at + fanIn * fanOut, fanIn, fanOut });
    at += fanIn * fanOut + fanOut;
  }
  return out;
}

/** The architecture in words: "d=30, h=8", "64 → 32 → 10 (softmax over 10 classes)". */
export function describeShape(s: TrainingSpec): string {
  if (!isGeneral(s)) return `d=${s.d}${s.h ? `, h=${s.h}` : ""}`;
  return `${layerWidths(s).join(" → ")} (${headOf(s)}${headOf(s) === "softmax" ? ` over ${s.k} classes` : ""})`;
}

/** Number of parameters in the weight layout. */
export function paramCount(s: TrainingSpec): number {
  if (isGeneral(s)) return layerOffsets(s).reduce((a, l) => a + l.fanIn * l.fanOut + l.fanOut, 0);
  return s.kind === "mlp" ? s.h! * s.d + 2 * s.h! + 1 : s.d + 1;
}

/** Human-readable name of each parameter, for errors and diffs. */
export function paramNames(s: TrainingSpec): string[] {
  if (isGeneral(s)) {
    const layers = layerOffsets(s);
    const names: string[] = [];
    layers.forEach((l, i) => {
      const tag = layers.length === 1 ? "" : String(i + 1);
      for (let u = 0; u < l.fanOut; u++) for (let j = 0; j < l.fanIn; j++) names.push(`W${tag}[${u}][${j}]`);
      for (let u = 0; u < l.fanOut; u++) names.push(`b${tag}[${u}]`);
    });
    return names;
  }
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

/**
 * The trunk's fields (their consistency with its graph is checked where the graph is read,
 * src/training/trunk.ts): the features it gives are the spec's d, sx and bx.
 */
function validateTrunk(s: TrainingSpec): void {
  const t = s.trunk as Partial<TrunkSpec> | null;
  if (t === null || typeof t !== "object") return bad(`trunk must be an object (a frozen trunk, src/training/trunk.ts), got ${JSON.stringify(t)}`);
  if (typeof t.onnxSha256 !== "string" || !/^[0-9a-f]{64}$/.test(t.onnxSha256)) bad(`trunk.onnxSha256 must be a sha256 in hex, got ${JSON.stringify(t.onnxSha256)}`);
  if (typeof t.upTo !== "string" || t.upTo === "") bad(`trunk.upTo must name the node the trunk ends at, got ${JSON.stringify(t.upTo)}`);
  if (typeof t.qgraph !== "string" || t.qgraph === "") bad(`trunk.qgraph must be the quantized trunk graph (JSON text)`);
  if (!isInt(t.d0, 1)) bad(`trunk.d0 (raw values per row) must be a positive integer, got ${t.d0}`);
  if (!isInt(t.features, 1)) bad(`trunk.features must be a positive integer, got ${t.features}`);
  if (!Number.isInteger(t.inputScale)) bad(`trunk.inputScale must be an integer, got ${t.inputScale}`);
  for (const k of ["inputBits", "outBits"] as const) if (!isInt(t[k], 2) || t[k]! > 64) bad(`trunk.${k} must be an integer in [2, 64], got ${t[k]}`);
  if (!isInt(t.outScale, 0)) bad(`trunk.outScale must be an integer >= 0, got ${t.outScale}`);
  if (t.features !== s.d) bad(`d must be the trunk's feature count ${t.features}, got ${s.d}`);
  if (t.outScale !== s.sx || t.outBits !== s.bx)
    bad(`sx and bx must be the trunk's output scale and bits (${t.outScale}, ${t.outBits}): its integer outputs are the features; got sx=${s.sx}, bx=${s.bx}`);
}

/**
 * The rows a commit hashes and its circuit takes as private input x: the features (d per row at
 * scale sx in bx bits) or, with a trunk, the raw rows the trunk reads (d0 at its input scale and bits).
 */
export function dataShape(s: TrainingSpec): { width: number; scale: number; bits: number } {
  if (s.trunk) return { width: s.trunk.d0, scale: s.trunk.inputScale, bits: s.trunk.inputBits };
  return { width: s.d, scale: s.sx, bits: s.bx };
}

/** Bits of the label commitment: labels 0/1 fit 2 signed bits; linear targets use bp; class indices 0 … k-1 the bits of k - 1. */
export function labelBits(s: TrainingSpec): number {
  const head = headOf(s);
  if (head === "softmax") return signedBitsFor(BigInt(s.k! - 1));
  return head === "linear" ? s.bp : 2;
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
  /** General models (softmax regression, mlp with `hidden`): every layer's shifts, bounds and rules. */
  net?: NetPlan;
}

/**
 * One dense layer of a general model, forward and backward, for a row whose inputs in_j (scale
 * inScale, |in_j| <= inMax) are the features (layer 0) or the previous layer's ReLU outputs:
 *   acc_u = Σ_j W_uj·in_j + b_u·2^inScale                          (scale sw + inScale)
 *   hidden: q_u = roundShift(acc_u, shift) in `bits` (worst case), m_u = [q_u >= 0], out_u = m_u·q_u (scale sh)
 *   head:   z_u = roundShift(acc_u, shift): clamped into bz bits before the sigmoid table or the
 *           softmax (logistic, softmax; `bits` is the worst-case width before the clamp), or the
 *           linear prediction in bp bits (a RangeOverflowError beyond)
 * Backward, with delta_u the error at this layer's outputs (scale deltaScale, |delta| <= deltaMax):
 *   W_uj -= roundShift(mult·Σ_i delta_iu·in_ij, shift'), b_u likewise with in = 2^inScale (`update`)
 *   the layer below's delta: delta'_j = m_j · roundShift(Σ_u delta_u·W_uj, bpShift) (W before the
 *   step), in the layer below's bpBits, at scale sd.
 */
export interface LayerPlan {
  fanIn: number;
  fanOut: number;
  /** Offsets of W (fanOut rows of fanIn) and b in the flat layout. */
  offW: number;
  offB: number;
  inScale: number;
  inMax: bigint;
  shift: number;
  bits: number;
  /** |rescaled output| bound (before the clamp or the ReLU). */
  outMax: bigint;
  deltaScale: number;
  deltaMax: bigint;
  update: UpdateRule;
  /** Hidden layers: how the delta arriving from the layer above is rounded (0 / 0 for the head). */
  bpShift: number;
  bpBits: number;
}

export interface NetPlan {
  head: HeadKind;
  /** Layers in order; the last is the head. */
  layers: LayerPlan[];
  /** Softmax heads: bits of the probability division's denominator Σ exp (RoundDiv's dBits). */
  sumBits: number;
}

/** Largest magnitude of any intermediate the general circuit forms: below it no equation can wrap around the field. */
export const NET_MAX_BITS = 240;

function netPlan(s: TrainingSpec, lrNum: bigint, lrShift: number, log2n: number): NetPlan {
  const head = headOf(s);
  const wMax = 1n << BigInt(s.bw - 1);
  const qMax = (accMax: bigint, shift: number) => (accMax >> BigInt(shift)) + 1n;
  const offsets = layerOffsets(s);
  const layers: LayerPlan[] = [];
  let inScale = s.sx;
  let inMax = 1n << BigInt(s.bx - 1);
  offsets.forEach((o, l) => {
    const accMax = BigInt(o.fanIn) * wMax * inMax + (wMax << BigInt(inScale));
    const last = l === offsets.length - 1;
    const target = !last ? s.sh : head === "linear" ? s.sp : s.sz;
    const shift = s.sw + inScale - target;
    let outMax = qMax(accMax, shift);
    let bits = signedBitsFor(outMax);
    if (last && head === "linear") {
      bits = s.bp;
      outMax = 1n << BigInt(s.bp - 1);
    } else if (last && bits < s.bz) bits = s.bz;
    layers.push({
      fanIn: o.fanIn, fanOut: o.fanOut, offW: o.W, offB: o.b, inScale, inMax, shift, bits, outMax,
      deltaScale: 0, deltaMax: 0n, update: { mult: 0n, shift: 0 }, bpShift: 0, bpBits: 0,
    });
    inScale = s.sh;
    inMax = outMax;
  });
  // Backward: the output error (p - y at scale sp: |err| <= 2^sp for probabilities, < 2^bp for a
  // linear prediction and target), then each hidden layer's rounded delta.
  for (let l = layers.length - 1; l >= 0; l--) {
    const L = layers[l];
    if (l === layers.length - 1) {
      L.deltaScale = s.sp;
      L.deltaMax = head === "linear" ? 1n << BigInt(s.bp) : 1n << BigInt(s.sp);
    } else {
      const above = layers[l + 1];
      L.deltaScale = s.sd!;
      L.bpShift = above.deltaScale + s.sw - s.sd!;
      const tMax = qMax(BigInt(above.fanOut) * above.deltaMax * wMax, L.bpShift);
      L.bpBits = signedBitsFor(tMax);
      L.deltaMax = tMax;
    }
    // roundShift(2m·g, s) = roundShift(m·g, s - 1): common factors of two leave the rule's result
    // unchanged and save a remainder bit each (7 for lr = 0.5, whose lrNum is 2^7).
    const rule = updateRule(lrNum, lrShift, log2n, L.deltaScale + L.inScale, s.sw);
    while (rule.shift > 0 && rule.mult % 2n === 0n) {
      rule.mult /= 2n;
      rule.shift--;
    }
    L.update = rule;
    const inBound = L.inMax > 1n << BigInt(L.inScale) ? L.inMax : 1n << BigInt(L.inScale);
    const grad = L.update.mult * BigInt(s.n) * L.deltaMax * inBound;
    const widest = Math.max(signedBitsFor(grad) + 1, L.bits + L.shift, L.bpBits + L.bpShift, signedBitsFor(BigInt(L.fanIn + 1) * wMax * inBound) + 1);
    if (widest > NET_MAX_BITS)
      bad(
        `layer ${l + 1} of ${layers.length} (${L.fanIn} → ${L.fanOut}) needs ${widest}-bit intermediates in the worst case, ` +
          `above the ${NET_MAX_BITS} bits a field element safely holds; use fewer or narrower layers, or lower bw`,
      );
  }
  const sumBits = head === "softmax" ? 2 * s.se! + BigInt(s.k!).toString(2).length : 0;
  // RoundDiv's preconditions: qBits + dBits + 2 <= 252 and |2·exp·2^sp + Σ exp| < 2^252.
  if (head === "softmax" && (s.bp + sumBits + 2 > 250 || 2 * s.se! + s.sp + sumBits + 2 > 250))
    bad(`se=${s.se} (exp table scale) is too large for the probability division`);
  return { head, layers, sumBits };
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
  if (isGeneral(s)) {
    const net = netPlan(s, lrNum, lrShift, log2n);
    const top = net.layers[net.layers.length - 1];
    const first = net.layers[0];
    const deep = net.layers.length > 1;
    return {
      spec, params: paramCount(s), log2n, lrNum, lrShift, zShift: top.shift, zBits: top.bits,
      hShift: deep ? first.shift : 0, hBits: deep ? first.bits : 0,
      outUpdate: top.update, hiddenUpdate: deep ? first.update : { mult: 0n, shift: 0 }, net,
    };
  }
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
