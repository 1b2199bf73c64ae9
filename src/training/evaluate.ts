/**
 * Float models with the training layout (src/training/spec.ts): evaluation (accuracy, loss) and a
 * plain float mini-batch SGD, the yardstick the fixed-point executor is compared with.
 */
import { InputError } from "../errors";
import { mlpOffsets, paramCount, TrainingSpec } from "./spec";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Float forward pass of one row: the probability (logistic, mlp) or the prediction (linear). */
export function predictFloat(spec: TrainingSpec, w: readonly number[], x: readonly number[]): number {
  const { d } = spec;
  if (spec.kind !== "mlp") {
    let z = w[d];
    for (let l = 0; l < d; l++) z += w[l] * x[l];
    return spec.kind === "linear" ? z : sigmoid(z);
  }
  const h = spec.h!;
  const o = mlpOffsets(spec);
  let z = w[o.b2];
  for (let j = 0; j < h; j++) {
    let a = w[o.b1 + j];
    for (let l = 0; l < d; l++) a += w[o.W1 + j * d + l] * x[l];
    z += w[o.w2 + j] * Math.max(a, 0);
  }
  return sigmoid(z);
}

export interface Evaluation {
  /** Fraction of rows classified right (logistic, mlp; undefined for linear). */
  accuracy?: number;
  /** Mean binary cross-entropy (logistic, mlp) or mean squared error (linear). */
  loss: number;
}

export function evaluate(spec: TrainingSpec, weights: readonly number[], features: readonly (readonly number[])[], labels: readonly number[]): Evaluation {
  if (weights.length !== paramCount(spec)) throw new InputError(`evaluate: expected ${paramCount(spec)} weights, got ${weights.length}`);
  if (features.length !== labels.length || features.length === 0) throw new InputError(`evaluate: ${features.length} rows but ${labels.length} labels`);
  let hits = 0;
  let loss = 0;
  features.forEach((x, i) => {
    const p = predictFloat(spec, weights, x);
    const y = labels[i];
    if (spec.kind === "linear") {
      loss += (p - y) ** 2;
    } else {
      if ((p >= 0.5 ? 1 : 0) === y) hits++;
      const c = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
      loss -= y * Math.log(c) + (1 - y) * Math.log(1 - c);
    }
  });
  const m = features.length;
  return spec.kind === "linear" ? { loss: loss / m } : { accuracy: hits / m, loss: loss / m };
}

/**
 * One float mini-batch SGD step with the executor's rule (err = p - y, gradient mean over the
 * batch, ReLU derivative 1 at a >= 0), for comparisons with the fixed-point executor.
 */
export function sgdStepFloat(spec: TrainingSpec, w: readonly number[], X: readonly (readonly number[])[], y: readonly number[], lr = spec.lr): number[] {
  const { d } = spec;
  const n = X.length;
  const next = [...w];
  if (spec.kind !== "mlp") {
    const g = new Array<number>(d + 1).fill(0);
    X.forEach((x, i) => {
      const e = predictFloat(spec, w, x) - y[i];
      for (let l = 0; l < d; l++) g[l] += e * x[l];
      g[d] += e;
    });
    return next.map((v, l) => v - (lr / n) * g[l]);
  }
  const h = spec.h!;
  const o = mlpOffsets(spec);
  const g = new Array<number>(w.length).fill(0);
  X.forEach((x, i) => {
    const a: number[] = [];
    let z = w[o.b2];
    for (let j = 0; j < h; j++) {
      let s = w[o.b1 + j];
      for (let l = 0; l < d; l++) s += w[o.W1 + j * d + l] * x[l];
      a.push(s);
      z += w[o.w2 + j] * Math.max(s, 0);
    }
    const e = sigmoid(z) - y[i];
    for (let j = 0; j < h; j++) {
      g[o.w2 + j] += e * Math.max(a[j], 0);
      const dh = a[j] >= 0 ? e * w[o.w2 + j] : 0;
      for (let l = 0; l < d; l++) g[o.W1 + j * d + l] += dh * x[l];
      g[o.b1 + j] += dh;
    }
    g[o.b2] += e;
  });
  return next.map((v, k) => v - (lr / n) * g[k]);
}

/** Float SGD over the rows in order, `epochs` passes of batches of spec.n (a short last batch is kept). */
export function trainFloat(
  spec: TrainingSpec, w0: readonly number[], features: readonly (readonly number[])[], labels: readonly number[],
  opts: { epochs?: number; lr?: number; batch?: number } = {},
): number[] {
  const batch = opts.batch ?? spec.n;
  let w = [...w0];
  for (let e = 0; e < (opts.epochs ?? 1); e++)
    for (let i = 0; i < features.length; i += batch)
      w = sgdStepFloat(spec, w, features.slice(i, i + batch), labels.slice(i, i + batch), opts.lr ?? spec.lr);
  return w;
}
