/**
 * The integer SGD step of the general layered models (softmax regression; an mlp with `hidden`
 * and a logistic, linear or softmax head): bit for bit the arithmetic of their training circuit
 * (src/training/networkCircuit.ts), with the shifts, bounds and update rules of plan().net (see
 * LayerPlan in ./spec.ts for the formulas). One step on rows X (features at scale sx):
 *   forward:  every dense layer accumulates, rounds to sh and applies ReLU (hidden), or rounds to
 *             the head's scale: logistic z → clamp → SigmoidPL, err = p - y·2^sp; linear
 *             prediction in bp bits, err = p - y; softmax z_c → clamp → softmaxInt (./softmax.ts),
 *             err_c = p_c - [c = y]·2^sp
 *   backward: the head's deltas are err; each layer's gradients Σ_i delta·input update its weights
 *             and biases (W -= roundShift(mult·g, shift)); the layer below receives
 *             m · roundShift(Σ_u delta_u·W_uj, bpShift) (pre-step weights, ReLU derivative m = [q >= 0]).
 *   correct:  logistic [z >= 0] = y; softmax argmax = y (first index among equal clamped logits);
 *             0 for linear.
 */
import { FlavumError, RangeOverflowError } from "../errors";
import { fitsSigned, roundShift } from "../quant/fixed";
import { clampSigned, sigmoidInt, sigmoidTable } from "./sigmoid";
import { softmaxInt, softmaxTable } from "./softmax";
import { paramNames, TrainingPlan } from "./spec";
import type { StepResult } from "./executor";

export type UpdateFn = (p: TrainingPlan, w: bigint, grad: bigint, rule: { mult: bigint; shift: number }, name: string, step: number) => bigint;

export function stepNet(
  p: TrainingPlan, w: readonly bigint[], X: readonly (readonly bigint[])[], y: readonly bigint[], step: number, update: UpdateFn,
): StepResult {
  const s = p.spec;
  const net = p.net!;
  const layers = net.layers;
  const top = layers.length - 1;
  const n = X.length;
  // inputs[l][i]: the inputs of layer l for row i; masks[l][i]: ReLU derivatives of hidden layer l.
  const inputs: bigint[][][] = layers.map(() => []);
  const masks: bigint[][][] = layers.map(() => []);
  const err: bigint[][] = [];
  const predictions: bigint[] = [];
  const probabilities: bigint[][] = [];
  let correct = 0;
  let sse = 0n;
  X.forEach((x, i) => {
    let a: readonly bigint[] = x;
    let out: bigint[] = [];
    layers.forEach((L, l) => {
      inputs[l].push([...a]);
      const sIn = BigInt(L.inScale);
      const q: bigint[] = [];
      for (let u = 0; u < L.fanOut; u++) {
        let acc = w[L.offB + u] << sIn;
        for (let j = 0; j < L.fanIn; j++) acc += w[L.offW + u * L.fanIn + j] * a[j];
        const v = roundShift(acc, L.shift);
        if (l === top && net.head === "linear") {
          if (!fitsSigned(v, s.bp)) {
            const lim = 2 ** (s.bp - 1 - s.sp);
            throw new RangeOverflowError(`training step ${step}: the prediction for row ${i} is ${Number(v) / 2 ** s.sp}, outside [-${lim}, ${lim}) (bp=${s.bp}, sp=${s.sp}); raise bp`);
          }
        } else if (!fitsSigned(v, L.bits)) throw new FlavumError(`internal: layer ${l + 1} accumulator of row ${i} exceeds its worst-case bound`);
        q.push(v);
      }
      if (l < top) {
        masks[l].push(q.map((v) => (v >= 0n ? 1n : 0n)));
        a = q.map((v) => (v >= 0n ? v : 0n));
      } else out = q;
    });
    let e: bigint[];
    if (net.head === "logistic") {
      const pr = sigmoidInt(sigmoidTable(s), clampSigned(out[0], s.bz));
      e = [pr - (y[i] << BigInt(s.sp))];
      if (BigInt(out[0] >= 0n) === y[i]) correct++;
      predictions.push(pr);
    } else if (net.head === "linear") {
      e = [out[0] - y[i]];
      predictions.push(out[0]);
    } else {
      const r = softmaxInt(softmaxTable(s), out.map((v) => clampSigned(v, s.bz)));
      const one = 1n << BigInt(s.sp);
      e = r.p.map((v, c) => v - (BigInt(c) === y[i] ? one : 0n));
      if (BigInt(r.arg) === y[i]) correct++;
      predictions.push(BigInt(r.arg));
      probabilities.push(r.p);
    }
    e.forEach((v) => (sse += v * v));
    err.push(e);
  });

  const names = paramNames(s);
  const next = [...w];
  let delta = err;
  for (let l = top; l >= 0; l--) {
    const L = layers[l];
    const sIn = BigInt(L.inScale);
    // The layer below's deltas, from this layer's weights before the step.
    let below: bigint[][] | undefined;
    if (l > 0) {
      const B = layers[l - 1];
      below = delta.map((d, i) =>
        Array.from({ length: L.fanIn }, (_, j) => {
          let g = 0n;
          for (let u = 0; u < L.fanOut; u++) g += d[u] * w[L.offW + u * L.fanIn + j];
          const t = roundShift(g, B.bpShift);
          if (!fitsSigned(t, B.bpBits)) throw new FlavumError(`internal: layer ${l} delta of row ${i} exceeds its worst-case bound`);
          return masks[l - 1][i][j] * t;
        }),
      );
    }
    for (let u = 0; u < L.fanOut; u++) {
      for (let j = 0; j < L.fanIn; j++) {
        let g = 0n;
        for (let i = 0; i < n; i++) g += delta[i][u] * inputs[l][i][j];
        const k = L.offW + u * L.fanIn + j;
        next[k] = update(p, w[k], g, L.update, names[k], step);
      }
      let gb = 0n;
      for (let i = 0; i < n; i++) gb += delta[i][u] << sIn;
      const k = L.offB + u;
      next[k] = update(p, w[k], gb, L.update, names[k], step);
    }
    if (below) delta = below;
  }
  return { weights: next, correct, sse, predictions, ...(net.head === "softmax" ? { probabilities } : {}) };
}
