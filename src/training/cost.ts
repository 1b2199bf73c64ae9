/**
 * What a training commit's circuit costs, from the spec alone (nothing compiled): the constraint
 * count of generateTrainingCircuit's output after circom's --O2 simplification, added up from the
 * cost of every template it instantiates (each template's header states its cost; the test
 * test/circuits/training.multiclass.test.ts compares the estimate with compiled circuits), plus the
 * powers of tau it needs. `repo:create` can print it before building anything.
 */
import { sigmoidTable } from "./sigmoid";
import { trunkGraph, trunkRowCost } from "./trunk";
import { dataShape, headOf, isGeneral, labelBits, paramCount, plan, TrainingSpec, updateNormBound } from "./spec";

/** Constraints of circomlib's Poseidon(t inputs) under --O2, t = 1 … 16 (measured). */
const POSEIDON = [0, 213, 240, 261, 297, 321, 354, 381, 402, 417, 459, 465, 504, 543, 537, 573, 609];
/** Public signals of a training proof (the statement's five). */
const PUBLIC = 5;

export interface TrainingCost {
  /** The whole circuit: K steps, the commitments, the between-step range checks. */
  constraints: number;
  /** One SGD step on n rows (forward, backward, updates). */
  perStep: number;
  /** Hashes of the data, parent and new weights, the label checks and the between-step range checks. */
  fixed: number;
  /** The update-norm bound's check (0 without maxUpdateNorm). */
  bound: number;
  /** Where one step's constraints go (forward products, activations, head, backward products, deltas, updates). */
  step: Record<string, number>;
  /** The smallest powers-of-tau power that can set the circuit up (2^power > constraints + public signals). */
  power: number;
  params: number;
}

/** PackedHash(n, bits) under --O2: n range checks and the Poseidon chain (its first hash starts from the constant n). */
export const packedHashCost = (n: number, bits: number) => {
  const per = Math.floor(250 / bits);
  const packed = Math.ceil(n / per);
  const full = Math.floor(packed / 15);
  const rest = packed - full * 15;
  // The chain starts from the constant n: its first Poseidon saves 3 constraints.
  return n * bits + full * POSEIDON[16] + (rest > 0 ? POSEIDON[rest + 1] : 0) - 3;
};
const rescale = (bits: number, shift: number) => bits + shift;
const rescaleClamp = (bits: number, shift: number, out: number) => bits + shift + (bits === out ? 0 : 4);
const piecewiseLinear = (bitsIn: number, seg: number, guard: number, bitsOut: number) =>
  bitsIn === seg ? bitsIn + 2 ** seg - 2 : bitsIn + 2 ** seg - 2 + 1 + bitsOut + (bitsIn - seg) + guard;
const roundDiv = (qBits: number, dBits: number) => 2 * (dBits + 1) + qBits + 1;

function softmaxRow(s: TrainingSpec, sumBits: number): number {
  const k = s.k!;
  const lo = s.be! - s.expSeg!;
  const sat = s.bz > s.be! ? 1 : 0;
  const exp = 2 ** s.expSeg! - 2 + (2 ** lo - 2) + 1 + sat;
  return k * (2 + s.bz) + (k - 1) + 2 * sat * k + k * exp + k * roundDiv(s.bp, sumBits);
}

export function trainingCost(spec: TrainingSpec): TrainingCost {
  const s = spec;
  const p = plan(s);
  const { n, K, d } = s;
  const R = n * K;
  const P = paramCount(s);
  const head = headOf(s);
  const step: Record<string, number> = {};
  const add = (key: string, v: number) => (step[key] = (step[key] ?? 0) + v);

  if (isGeneral(s)) {
    const layers = p.net!.layers;
    layers.forEach((l, i) => {
      const top = i === layers.length - 1;
      const prods = n * l.fanOut * l.fanIn;
      add("forward products", prods);
      add("gradient products", prods);
      add("updates", (l.fanIn + 1) * l.fanOut * l.update.shift);
      if (!top) add("hidden activations", n * l.fanOut * (rescale(l.bits, l.shift) + 1));
      else if (head === "logistic") add("head", n * (rescaleClamp(l.bits, l.shift, s.bz) + piecewiseLinear(s.bz, s.segBits, sigmoidTable(s).guard, s.bp)));
      else if (head === "linear") add("head", n * rescale(s.bp, l.shift));
      else add("head", n * (s.k! * rescaleClamp(l.bits, l.shift, s.bz) + softmaxRow(s, p.net!.sumBits) + 2));
      if (i > 0) {
        const b = layers[i - 1];
        add("backprop products", prods);
        add("hidden deltas", n * l.fanIn * (rescale(b.bpBits, b.bpShift) + 1));
      }
    });
    add("metric", head === "softmax" ? 0 : n);
  } else if (s.kind === "mlp") {
    const h = s.h!;
    const sig = rescaleClamp(p.zBits, p.zShift, s.bz) + piecewiseLinear(s.bz, s.segBits, sigmoidTable(s).guard, s.bp);
    add("forward products", n * h * d + n * h);
    add("hidden activations", n * h * (rescale(p.hBits, p.hShift) + 1));
    add("head", n * sig);
    add("backprop products", 3 * n * h);
    add("gradient products", n * h * d);
    add("updates", (h * d + h) * (s.bw + 1 + p.hiddenUpdate.shift) + (h + 1) * (s.bw + 1 + p.outUpdate.shift));
    add("metric", n);
  } else {
    add("forward products", n * d);
    add("head", n * (s.kind === "linear" ? rescale(s.bp, p.zShift) : rescaleClamp(p.zBits, p.zShift, s.bz) + piecewiseLinear(s.bz, s.segBits, sigmoidTable(s).guard, s.bp)));
    add("gradient products", n * d);
    add("updates", (d + 1) * (s.bw + 1 + p.outUpdate.shift));
    add("metric", n);
  }
  // A frozen trunk runs once per row of the step (./trunk.ts).
  if (s.trunk) add("trunk inference", n * trunkRowCost(trunkGraph(s)));
  const perStep = Object.values(step).reduce((a, b) => a + b, 0);
  const labels = head === "logistic" ? R : head === "softmax" ? R * s.k! : 0;
  // bindingSq; a linear head's `metrics === samples·2^32` binds a public input to a constant: one more.
  const fixed =
    1 + (head === "linear" ? 1 : 0) + packedHashCost(R * dataShape(s).width, dataShape(s).bits) + packedHashCost(R, labelBits(s)) + 2 * POSEIDON[2] + 2 * packedHashCost(P, s.bw) + labels + (K - 1) * P * s.bw;
  // The update bound: one square per parameter and the range check of bound - Σ Δ².
  const nb = updateNormBound(s);
  const bound = nb ? P + nb.bits : 0;
  const constraints = fixed + bound + K * perStep;
  let power = 1;
  while (2 ** power <= constraints + PUBLIC) power++;
  return { constraints, perStep, fixed, bound, step, power, params: P };
}

/** One line for `repo:create`: what a step and the whole commit circuit cost, and the powers of tau. */
export function trainingCostSummary(spec: TrainingSpec): string {
  const c = trainingCost(spec);
  const fmt = (v: number) => v.toLocaleString("en-US");
  const parts = Object.entries(c.step)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(", ");
  return (
    `one SGD step on ${spec.n} rows: ~${fmt(c.perStep)} constraints (${parts}); ` +
    `the commit circuit (${spec.K} step(s), commitments ${fmt(c.fixed)}): ~${fmt(c.constraints)} constraints, powers of tau 2^${c.power}`
  );
}
