/**
 * Float models with the training layout (src/training/spec.ts): evaluation (accuracy, loss) and a
 * plain float mini-batch SGD, the yardstick the fixed-point executor is compared with. General
 * models (softmax regression, an mlp with `hidden`) use the same rules: ReLU derivative 1 at a >= 0,
 * softmax cross-entropy's gradient p - onehot(y).
 */
import { InputError } from "../errors";
import { softmaxFloat } from "./softmax";
import { headOf, isGeneral, layerOffsets, mlpOffsets, paramCount, TrainingSpec } from "./spec";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Every layer's pre-activations for one row (the last is the head's logits / linear output). */
function forwardLayers(spec: TrainingSpec, w: readonly number[], x: readonly number[]): { pre: number[][]; inputs: number[][] } {
  const layers = layerOffsets(spec);
  const pre: number[][] = [];
  const inputs: number[][] = [];
  let a: number[] = [...x];
  layers.forEach((L, l) => {
    inputs.push(a);
    const z: number[] = [];
    for (let u = 0; u < L.fanOut; u++) {
      let v = w[L.b + u];
      for (let j = 0; j < L.fanIn; j++) v += w[L.W + u * L.fanIn + j] * a[j];
      z.push(v);
    }
    pre.push(z);
    if (l < layers.length - 1) a = z.map((v) => Math.max(v, 0));
  });
  return { pre, inputs };
}

/** The model's outputs for one row: [probability] (logistic head), [prediction] (linear) or k class probabilities (softmax). */
export function forwardFloat(spec: TrainingSpec, w: readonly number[], x: readonly number[]): number[] {
  if (!isGeneral(spec)) return [predictFloat(spec, w, x)];
  const { pre } = forwardLayers(spec, w, x);
  const out = pre[pre.length - 1];
  const head = headOf(spec);
  return head === "softmax" ? softmaxFloat(out) : head === "logistic" ? [sigmoid(out[0])] : [out[0]];
}

const argmax = (v: readonly number[]) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

/**
 * Float forward pass of one row: the probability (logistic, mlp) or the prediction (linear); for a
 * softmax head, the predicted class (the first index of the largest probability; forwardFloat gives them all).
 */
export function predictFloat(spec: TrainingSpec, w: readonly number[], x: readonly number[]): number {
  if (isGeneral(spec)) {
    const out = forwardFloat(spec, w, x);
    return headOf(spec) === "softmax" ? argmax(out) : out[0];
  }
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
  /** Fraction of rows classified right (logistic, mlp, softmax; undefined for linear). */
  accuracy?: number;
  /** Mean binary cross-entropy (logistic, mlp), categorical cross-entropy (softmax) or mean squared error (linear). */
  loss: number;
}

export function evaluate(spec: TrainingSpec, weights: readonly number[], features: readonly (readonly number[])[], labels: readonly number[]): Evaluation {
  if (weights.length !== paramCount(spec)) throw new InputError(`evaluate: expected ${paramCount(spec)} weights, got ${weights.length}`);
  if (features.length !== labels.length || features.length === 0) throw new InputError(`evaluate: ${features.length} rows but ${labels.length} labels`);
  // A frozen trunk's head reads its features: raw rows go through evaluateTrunk (./trunk.ts) first.
  if (spec.trunk && features.some((r) => r.length !== spec.d))
    throw new InputError(`evaluate: a model with a frozen trunk takes the trunk's ${spec.d} features per row here; evaluate raw rows of ${spec.trunk.d0} values with evaluateTrunk`);
  if (isGeneral(spec)) return evaluateGeneral(spec, weights, features, labels);
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

function evaluateGeneral(spec: TrainingSpec, weights: readonly number[], features: readonly (readonly number[])[], labels: readonly number[]): Evaluation {
  const head = headOf(spec);
  let hits = 0;
  let loss = 0;
  features.forEach((x, i) => {
    const out = forwardFloat(spec, weights, x);
    const y = labels[i];
    if (head === "linear") loss += (out[0] - y) ** 2;
    else if (head === "logistic") {
      if ((out[0] >= 0.5 ? 1 : 0) === y) hits++;
      const c = Math.min(Math.max(out[0], 1e-12), 1 - 1e-12);
      loss -= y * Math.log(c) + (1 - y) * Math.log(1 - c);
    } else {
      if (argmax(out) === y) hits++;
      loss -= Math.log(Math.max(out[y] ?? 0, 1e-12));
    }
  });
  const m = features.length;
  return head === "linear" ? { loss: loss / m } : { accuracy: hits / m, loss: loss / m };
}

/** Float gradient step of a general model: backprop through the ReLUs, err = p - onehot(y) (or p - y). */
function sgdStepGeneral(spec: TrainingSpec, w: readonly number[], X: readonly (readonly number[])[], y: readonly number[], lr: number): number[] {
  const layers = layerOffsets(spec);
  const head = headOf(spec);
  const g = new Array<number>(w.length).fill(0);
  X.forEach((x, i) => {
    const { pre, inputs } = forwardLayers(spec, w, x);
    const out = pre[pre.length - 1];
    let delta: number[] =
      head === "softmax" ? softmaxFloat(out).map((p, c) => p - (c === y[i] ? 1 : 0)) : head === "logistic" ? [sigmoid(out[0]) - y[i]] : [out[0] - y[i]];
    for (let l = layers.length - 1; l >= 0; l--) {
      const L = layers[l];
      const a = inputs[l];
      for (let u = 0; u < L.fanOut; u++) {
        for (let j = 0; j < L.fanIn; j++) g[L.W + u * L.fanIn + j] += delta[u] * a[j];
        g[L.b + u] += delta[u];
      }
      if (l > 0) {
        const below = pre[l - 1];
        delta = Array.from({ length: L.fanIn }, (_, j) => {
          if (below[j] < 0) return 0;
          let v = 0;
          for (let u = 0; u < L.fanOut; u++) v += delta[u] * w[L.W + u * L.fanIn + j];
          return v;
        });
      }
    }
  });
  const n = X.length;
  return w.map((v, k) => v - (lr / n) * g[k]);
}

/**
 * One float mini-batch SGD step with the executor's rule (err = p - y, gradient mean over the
 * batch, ReLU derivative 1 at a >= 0), for comparisons with the fixed-point executor.
 */
export function sgdStepFloat(spec: TrainingSpec, w: readonly number[], X: readonly (readonly number[])[], y: readonly number[], lr = spec.lr): number[] {
  if (isGeneral(spec)) return sgdStepGeneral(spec, w, X, y, lr);
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
