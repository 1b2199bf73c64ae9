/**
 * Real numbers ↔ the training circuit's fixed point: data (features clamped into bx bits, labels),
 * weights (scale sw, bits bw) and deterministic initial weights.
 */
import { InputError, RangeOverflowError } from "../errors";
import { dequantize, fitsSigned, quantizeValue } from "../quant/fixed";
import type { ValueAdjustment } from "../quant/adjustments";
import { dataShape, headOf, isGeneral, layerOffsets, mlpOffsets, paramCount, paramNames, TrainingSpec } from "./spec";

export interface QuantizedData {
  X: bigint[][];
  y: bigint[];
  /** How many feature values were clamped into [-2^(bx-1), 2^(bx-1)) / 2^sx. */
  clamped: number;
  /** Each clamped value: row, feature, given and clamped value, the range. */
  adjustments: ValueAdjustment[];
}

/** The real interval training features (with a frozen trunk: its raw inputs) are clamped into, in words. */
export function featureRange(spec: TrainingSpec): { lo: number; hi: number; allowed: string } {
  const { bits, scale } = dataShape(spec);
  const h = 1n << BigInt(bits - 1);
  const lo = dequantize(-h, scale);
  const hi = dequantize(h - 1n, scale);
  return { lo, hi, allowed: `training ${spec.trunk ? "inputs" : "features"} lie in [${lo}, ${hi}] at scale 2^-${scale}` };
}

/**
 * Feature values outside the training range, reported as given: evaluation runs the float model on
 * them unchanged, but no commit was trained on such values (training clamps them).
 */
export function featuresOutsideRange(spec: TrainingSpec, features: readonly (readonly number[])[]): ValueAdjustment[] {
  const { bits, scale } = dataShape(spec);
  const h = 1n << BigInt(bits - 1);
  const { allowed } = featureRange(spec);
  const out: ValueAdjustment[] = [];
  features.forEach((row, i) =>
    row.forEach((v, l) => {
      const q = quantizeValue(v, scale);
      if (Number.isFinite(v) && (q < -h || q >= h)) out.push({ sample: i, feature: l, given: v, became: v, kind: "outside", allowed, unit: "row" });
    }),
  );
  return out;
}

/**
 * Features → round(x·2^sx), clamped into bx signed bits (the committed data is the clamped data,
 * so clamping is a preprocessing step, not an unproven change). Labels: 0/1 for logistic and mlp,
 * round(y·2^sp) for linear (must fit bp, or this throws), a class index 0 … k-1 for a softmax head.
 */
export function quantizeData(spec: TrainingSpec, features: readonly (readonly number[])[], labels: readonly number[]): QuantizedData {
  if (features.length !== labels.length)
    throw new InputError(`data shape mismatch: ${features.length} feature rows but ${labels.length} labels`);
  // With a frozen trunk the committed rows are its raw inputs, at its input scale and bits.
  const { width, bits, scale } = dataShape(spec);
  const h = 1n << BigInt(bits - 1);
  const { allowed } = featureRange(spec);
  const adjustments: ValueAdjustment[] = [];
  const X = features.map((row, i) => {
    if (row.length !== width)
      throw new InputError(`data shape mismatch: row ${i} has ${row.length} ${spec.trunk ? `values, the model's input takes ${width}` : `features, the model expects d=${spec.d}`}`);
    return row.map((v, l) => {
      if (!Number.isFinite(v)) throw new InputError(`data: feature ${l} of row ${i} is not a finite number (${v})`);
      const q = quantizeValue(v, scale);
      const c = q < -h ? -h : q >= h ? h - 1n : q;
      if (c !== q) adjustments.push({ sample: i, feature: l, given: v, became: dequantize(c, scale), kind: "clamped", allowed, unit: "row" });
      return c;
    });
  });
  const head = headOf(spec);
  const y = labels.map((v, i) => {
    if (head === "softmax") {
      if (!Number.isInteger(v) || v < 0 || v >= spec.k!)
        throw new InputError(`data: label ${i} = ${v} must be a class index 0 … ${spec.k! - 1} for a ${spec.k}-class model`);
      return BigInt(v);
    }
    if (head === "linear") {
      const q = quantizeValue(v, spec.sp);
      if (!Number.isFinite(v) || !fitsSigned(q, spec.bp))
        throw new RangeOverflowError(`data: target ${i} = ${v} does not fit bp=${spec.bp} bits at scale 2^-${spec.sp}`);
      return q;
    }
    if (v !== 0 && v !== 1) throw new InputError(`data: label ${i} = ${v} must be 0 or 1 for a ${spec.kind} model`);
    return BigInt(v);
  });
  return { X, y, clamped: adjustments.length, adjustments };
}

export function weightsFromFloat(spec: TrainingSpec, w: readonly number[]): bigint[] {
  const n = paramCount(spec);
  if (w.length !== n) throw new InputError(`weights: expected ${n} parameters for a ${spec.kind} model, got ${w.length}`);
  const names = paramNames(spec);
  return w.map((v, j) => {
    const q = quantizeValue(v, spec.sw);
    if (!Number.isFinite(v) || !fitsSigned(q, spec.bw)) {
      const lim = 2 ** (spec.bw - 1 - spec.sw);
      throw new RangeOverflowError(`weights: ${names[j]} = ${v} is outside [-${lim}, ${lim}) (bw=${spec.bw}, sw=${spec.sw})`);
    }
    return q;
  });
}

export function weightsToFloat(spec: TrainingSpec, w: readonly bigint[]): number[] {
  return w.map((v) => Number(v) / 2 ** spec.sw);
}

/**
 * Deterministic initial weights (real): zeros for logistic, linear and softmax regression; for the
 * mlp a seeded uniform ±sqrt(6/(fan_in+fan_out)) first layer and ±sqrt(6/(h+1)) second layer, zero
 * biases; for a general mlp, every layer ±sqrt(6/(fan_in+fan_out)), in layer order, zero biases.
 */
export function initialWeights(spec: TrainingSpec, seed = 1): number[] {
  const w = new Array<number>(paramCount(spec)).fill(0);
  if (spec.kind !== "mlp") return w;
  let state = seed >>> 0 || 1;
  const rand = () => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  if (isGeneral(spec)) {
    for (const L of layerOffsets(spec)) {
      const a = Math.sqrt(6 / (L.fanIn + L.fanOut));
      for (let k = 0; k < L.fanIn * L.fanOut; k++) w[L.W + k] = (2 * rand() - 1) * a;
    }
    return w;
  }
  const h = spec.h!;
  const o = mlpOffsets(spec);
  const a1 = Math.sqrt(6 / (spec.d + h));
  const a2 = Math.sqrt(6 / (h + 1));
  for (let k = 0; k < h * spec.d; k++) w[o.W1 + k] = (2 * rand() - 1) * a1;
  for (let j = 0; j < h; j++) w[o.w2 + j] = (2 * rand() - 1) * a2;
  return w;
}
