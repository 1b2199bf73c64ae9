/**
 * The integer SGD executor: bit for bit the arithmetic of the training circuit
 * (src/training/circuit.ts), so the circuit's witness equals what this computes. Every value the
 * circuit range-checks is checked here first, and a weight leaving its bits is reported with a
 * clear error before any proving starts.
 *
 * One step on rows X[0..n-1] (features at scale sx, labels 0/1 or targets at scale sp):
 *   logistic: acc_i = Σ_l w_l x_il + b·2^sx          (scale sw + sx)
 *             z_i = clamp(roundShift(acc_i, sw + sx - sz), bz)
 *             p_i = SigmoidPL(z_i) (scale sp), err_i = p_i - y_i·2^sp
 *   linear:   p_i = roundShift(acc_i, sw + sx - sp) (must fit bp), err_i = p_i - y_i
 *   mlp:      a_ij = roundShift(Σ_l W1_jl x_il + b1_j·2^sx, sw + sx - sh), m_ij = [a_ij >= 0],
 *             hid_ij = m_ij·a_ij, acc_i = Σ_j w2_j hid_ij + b2·2^sh, then as logistic
 *             (z at scale sz from sw + sh).
 *   update:   for a parameter whose input is in_i (x_il, the constant 2^sx for a bias, hid_ij, …),
 *             w' = w - roundShift(mult · Σ_i err_i·in_i, shift), with (mult, shift) from plan():
 *             mult / 2^shift = lr/n · 2^(sw - gradient scale), lr ≈ lrNum / 2^lrShift.
 *   mlp first layer: in_i = m_ij · w2_j · x_il (w2 before the step): exact backprop, no
 *             intermediate rounding.
 * correct = #{i : [z_i >= 0] = y_i} and sse = Σ err_i² are summed over all K steps (each row scored
 * by the weights its own step starts from), so correct / samples is the commit's training accuracy
 * over its n·K rows, whatever K.
 *
 * The general layered models (softmax regression, an mlp with `hidden` and a logistic, linear or
 * softmax head) step in ./network.ts, with the same update rule and errors; there correct counts
 * rows whose argmax class (softmax) or sign (logistic) before their step equals the label.
 */
import { FlavumError, InputError, RangeOverflowError } from "../errors";
import { fitsSigned, roundShift } from "../quant/fixed";
import { clampSigned, sigmoidInt, sigmoidTable } from "./sigmoid";
import { dataShape, describeShape, headOf, isGeneral, mlpOffsets, paramNames, plan, TrainingPlan, TrainingSpec, UpdateRule, updateNormBound } from "./spec";
import { stepNet } from "./network";
import { trunkFeatures } from "./trunk";

export interface StepResult {
  weights: bigint[];
  /** Rows whose predicted class (z >= 0, or the argmax of a softmax head) equals the label (0 for linear). */
  correct: number;
  /** Σ err_i² at scale 2·sp (over every output of a softmax head). */
  sse: bigint;
  /** Predictions (probabilities at scale sp, linear predictions at scale sp, or a softmax head's argmax class). */
  predictions: bigint[];
  /** Softmax heads: each row's k probabilities at scale sp. */
  probabilities?: bigint[][];
}

/** A commit: `correct`, `sse` and `predictions` (in row order) cover all n·K rows. */
export interface CommitResult extends StepResult {
  /** Weights after each step (the last equals `weights`). */
  steps: bigint[][];
}

export function checkWeights(spec: TrainingSpec, w: readonly bigint[], what = "weights"): void {
  const p = plan(spec);
  if (w.length !== p.params)
    throw new InputError(`${what}: expected ${p.params} parameters for a ${spec.kind} model (${describeShape(spec)}), got ${w.length}`);
  w.forEach((v, j) => {
    if (typeof v !== "bigint") throw new InputError(`${what}[${j}] must be a bigint (fixed point at scale 2^-${spec.sw}), got ${typeof v}`);
    if (!fitsSigned(v, spec.bw))
      throw new RangeOverflowError(`${what}: ${paramNames(spec)[j]} = ${v} does not fit ${spec.bw} signed bits`);
  });
}

export function checkData(spec: TrainingSpec, X: readonly (readonly bigint[])[], y: readonly bigint[], rows: number): void {
  if (X.length !== rows || y.length !== rows)
    throw new InputError(`data: expected ${rows} rows (n=${spec.n} × K=${spec.K} steps), got ${X.length} feature rows and ${y.length} labels`);
  // With a frozen trunk the rows are its raw inputs (./trunk.ts), else the features.
  const { width, bits } = dataShape(spec);
  X.forEach((r, i) => {
    if (r.length !== width)
      throw new InputError(spec.trunk ? `data: row ${i} has ${r.length} values, the model's input (its frozen trunk's) takes ${width}` : `data: row ${i} has ${r.length} features, the model expects d=${spec.d}`);
    r.forEach((v, l) => {
      if (!fitsSigned(v, bits))
        throw new RangeOverflowError(
          spec.trunk
            ? `data: value ${l} of row ${i} = ${v} does not fit the trunk's ${bits} signed input bits (quantize with quantizeData)`
            : `data: feature ${l} of row ${i} = ${v} does not fit bx=${spec.bx} signed bits (quantize with quantizeData)`,
        );
    });
  });
  const head = headOf(spec);
  y.forEach((v, i) => {
    if (head === "softmax") {
      if (typeof v !== "bigint" || v < 0n || v >= BigInt(spec.k!)) throw new InputError(`data: label ${i} = ${v} is not a class index in 0 … ${spec.k! - 1}`);
    } else if (head === "linear" ? !fitsSigned(v, spec.bp) : v !== 0n && v !== 1n)
      throw new InputError(`data: label ${i} = ${v} is not ${head === "linear" ? `a ${spec.bp}-bit target` : "0 or 1"}`);
  });
}

function update(p: TrainingPlan, w: bigint, grad: bigint, rule: UpdateRule, name: string, step: number): bigint {
  const next = w - roundShift(rule.mult * grad, rule.shift);
  if (!fitsSigned(next, p.spec.bw)) {
    const lim = 2 ** (p.spec.bw - 1 - p.spec.sw);
    throw new RangeOverflowError(
      `training step ${step}: ${name} would become ${Number(next) / 2 ** p.spec.sw}, outside the weight range ` +
        `[-${lim}, ${lim}) (bw=${p.spec.bw}, sw=${p.spec.sw}); no proof can exist. Lower the learning rate or raise bw`,
    );
  }
  return next;
}

/** z (or the linear prediction) from the output accumulator; the clamp/range check the circuit does. */
function output(p: TrainingPlan, acc: bigint, row: number, step: number): { p: bigint; pos: boolean } {
  const s = p.spec;
  const q = roundShift(acc, p.zShift);
  if (s.kind === "linear") {
    if (!fitsSigned(q, s.bp)) {
      const lim = 2 ** (s.bp - 1 - s.sp);
      throw new RangeOverflowError(`training step ${step}: the prediction for row ${row} is ${Number(q) / 2 ** s.sp}, outside [-${lim}, ${lim}) (bp=${s.bp}, sp=${s.sp}); raise bp`);
    }
    return { p: q, pos: q >= 0n };
  }
  if (!fitsSigned(q, p.zBits)) throw new FlavumError(`internal: output accumulator of row ${row} exceeds its worst-case bound`);
  return { p: sigmoidInt(sigmoidTable(s), clampSigned(q, s.bz)), pos: q >= 0n };
}

function stepGlm(p: TrainingPlan, w: readonly bigint[], X: readonly (readonly bigint[])[], y: readonly bigint[], step: number): StepResult {
  const s = p.spec;
  const d = s.d;
  const sx = BigInt(s.sx);
  const err: bigint[] = [];
  const predictions: bigint[] = [];
  let correct = 0;
  let sse = 0n;
  X.forEach((x, i) => {
    let acc = w[d] << sx;
    for (let l = 0; l < d; l++) acc += w[l] * x[l];
    const o = output(p, acc, i, step);
    const e = o.p - (s.kind === "linear" ? y[i] : y[i] << BigInt(s.sp));
    if (BigInt(o.pos) === y[i]) correct++;
    sse += e * e;
    err.push(e);
    predictions.push(o.p);
  });
  const names = paramNames(s);
  const next = w.map((wl, l) => {
    let g = 0n;
    for (let i = 0; i < X.length; i++) g += l < d ? err[i] * X[i][l] : err[i] << sx;
    return update(p, wl, g, p.outUpdate, names[l], step);
  });
  return { weights: next, correct, sse, predictions };
}

function stepMlp(p: TrainingPlan, w: readonly bigint[], X: readonly (readonly bigint[])[], y: readonly bigint[], step: number): StepResult {
  const s = p.spec;
  const { d } = s;
  const h = s.h!;
  const o = mlpOffsets(s);
  const sx = BigInt(s.sx);
  const sh = BigInt(s.sh);
  const err: bigint[] = [];
  const hid: bigint[][] = [];
  const mask: bigint[][] = [];
  const predictions: bigint[] = [];
  let correct = 0;
  let sse = 0n;
  X.forEach((x, i) => {
    const hi: bigint[] = [];
    const mi: bigint[] = [];
    for (let j = 0; j < h; j++) {
      let a = w[o.b1 + j] << sx;
      for (let l = 0; l < d; l++) a += w[o.W1 + j * d + l] * x[l];
      const q = roundShift(a, p.hShift);
      if (!fitsSigned(q, p.hBits)) throw new FlavumError(`internal: hidden accumulator exceeds its worst-case bound`);
      mi.push(q >= 0n ? 1n : 0n);
      hi.push(q >= 0n ? q : 0n);
    }
    let acc = w[o.b2] << sh;
    for (let j = 0; j < h; j++) acc += w[o.w2 + j] * hi[j];
    const out = output(p, acc, i, step);
    const e = out.p - (y[i] << BigInt(s.sp));
    if (BigInt(out.pos) === y[i]) correct++;
    sse += e * e;
    err.push(e);
    hid.push(hi);
    mask.push(mi);
    predictions.push(out.p);
  });
  const names = paramNames(s);
  const next = [...w];
  const n = X.length;
  for (let j = 0; j < h; j++) {
    const w2 = w[o.w2 + j];
    // dh_ij = err_i · m_ij · w2_j (scale sp + sw).
    const dh = err.map((e, i) => e * mask[i][j] * w2);
    for (let l = 0; l < d; l++) {
      let g = 0n;
      for (let i = 0; i < n; i++) g += dh[i] * X[i][l];
      const k = o.W1 + j * d + l;
      next[k] = update(p, w[k], g, p.hiddenUpdate, names[k], step);
    }
    let gb = 0n;
    for (let i = 0; i < n; i++) gb += dh[i] << sx;
    next[o.b1 + j] = update(p, w[o.b1 + j], gb, p.hiddenUpdate, names[o.b1 + j], step);
    let g2 = 0n;
    for (let i = 0; i < n; i++) g2 += err[i] * hid[i][j];
    next[o.w2 + j] = update(p, w2, g2, p.outUpdate, names[o.w2 + j], step);
  }
  let gb2 = 0n;
  for (let i = 0; i < n; i++) gb2 += err[i] << sh;
  next[o.b2] = update(p, w[o.b2], gb2, p.outUpdate, names[o.b2], step);
  return { weights: next, correct, sse, predictions };
}

/** One SGD step on exactly n rows. */
export function trainStep(spec: TrainingSpec, weights: readonly bigint[], X: readonly (readonly bigint[])[], y: readonly bigint[], step = 0): StepResult {
  const p = plan(spec);
  checkWeights(spec, weights, "parent weights");
  checkData(spec, X, y, spec.n);
  // A frozen trunk's integer outputs are the features (as the circuit's trunk instances compute them).
  const F = spec.trunk ? trunkFeatures(spec, X) : X;
  if (isGeneral(spec)) return stepNet(p, weights, F, y, step, update);
  return spec.kind === "mlp" ? stepMlp(p, weights, F, y, step) : stepGlm(p, weights, F, y, step);
}

/** Σ (to_j − from_j)², in weight units squared: what the circuit's update bound checks. */
export function updateSquares(from: readonly bigint[], to: readonly bigint[]): bigint {
  let sum = 0n;
  from.forEach((v, j) => (sum += (to[j] - v) * (to[j] - v)));
  return sum;
}

/** ||to − from||₂ in real units. */
export function updateNorm(spec: TrainingSpec, from: readonly bigint[], to: readonly bigint[]): number {
  return Math.sqrt(Number(updateSquares(from, to))) / 2 ** spec.sw;
}

/**
 * The repository's bound on one proof's update (spec.maxUpdateNorm), as the circuit checks it: a larger
 * update has no witness, so it is refused here, before any proving.
 */
export function checkUpdateNorm(spec: TrainingSpec, from: readonly bigint[], to: readonly bigint[]): void {
  const nb = updateNormBound(spec);
  if (!nb) return;
  const sum = updateSquares(from, to);
  if (sum > nb.bound) {
    const norm = updateNorm(spec, from, to);
    throw new FlavumError(
      `this update's L2 norm ${norm.toFixed(4)} exceeds the repository's bound maxUpdateNorm = ${spec.maxUpdateNorm} ` +
        `(per proof of ${spec.K} step(s) on ${spec.n * spec.K} rows): the training proof cannot be made; train on data of the repository's distribution`,
      "UPDATE_TOO_LARGE",
    );
  }
}

/** K steps on n·K rows: one training commit; `correct`, `sse` and `predictions` over all n·K rows. */
export function trainCommit(spec: TrainingSpec, weights: readonly bigint[], X: readonly (readonly bigint[])[], y: readonly bigint[]): CommitResult {
  checkWeights(spec, weights, "parent weights");
  checkData(spec, X, y, spec.n * spec.K);
  const steps: bigint[][] = [];
  let w = [...weights];
  let correct = 0;
  let sse = 0n;
  const predictions: bigint[] = [];
  const probabilities: bigint[][] = [];
  for (let k = 0; k < spec.K; k++) {
    const rows = X.slice(k * spec.n, (k + 1) * spec.n);
    const r = trainStep(spec, w, rows, y.slice(k * spec.n, (k + 1) * spec.n), k);
    correct += r.correct;
    sse += r.sse;
    predictions.push(...r.predictions);
    if (r.probabilities) probabilities.push(...r.probabilities);
    w = r.weights;
    steps.push(w);
  }
  checkUpdateNorm(spec, weights, w);
  return { weights: w, correct, sse, predictions, steps, ...(headOf(spec) === "softmax" ? { probabilities } : {}) };
}
