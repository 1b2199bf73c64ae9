/**
 * Repositories for real models (issue 12), on scikit-learn's digits (fixtures/data/digits.json, 64
 * pixels scaled to [0, 1], 10 classes, the fixtures' 1257 / 540 split):
 *
 * - per architecture (softmax regression 64→10 and the MLP 64→16→10 with a softmax head, both
 *   started from their PyTorch-exported untrained fixtures): constraints of one training step (the
 *   exact estimate, equal to the compiled count) and of each merge rule at k = 3 and 5, and the
 *   proving seconds of one real proof for those that fit the available powers of tau;
 * - federated vs central: 3 and 5 contributors, each round every contributor trains one epoch of its
 *   shard (chunks of n rows, the chain of proofs a commit is) from main, then a FedAvg merge; central
 *   is float mini-batch SGD over the whole training split for as many epochs as there were rounds;
 * - a poisoned contributor, one of five, two attacks a proof cannot stop (the data is private):
 *   "flip" trains on labels shifted by one class for 8 epochs a round, so its proven sample count is
 *   8× an honest one's; "amplify" also shifts the labels but scales its pixels to the edge of the
 *   feature range (×7.9), one epoch, so each step moves the weights ~8× further. Held-out accuracy
 *   after the rounds for FedAvg, the median, the trimmed mean and FedAvg with the update-norm bound
 *   (a commit with a proof beyond the bound cannot be made, so it never reaches the merge);
 * - the update-norm bound: set 10% above the largest honest proof's update in a clean run (as an
 *   owner would from a pilot round), the proofs of each attack it refuses.
 *
 * Accuracies come from the fixed-point executor and the TypeScript merge references, which the
 * circuit tests prove bit-equal to the circuits (test/circuits/training*.test.ts): they are the
 * accuracies the proven commits have, without proving hundreds of steps here.
 */
import fs from "fs";
import path from "path";
import {
  TrainingSpec, trainingSpec, quantizeData, weightsFromFloat, weightsToFloat, trainCommit, fedAvg, evaluate, trainFloat,
  trainingCost, trainingCircuitInput, newDataSalt, Aggregation, paramCount, fedAvgMergeCost, updateNorm,
} from "../src/training";
import { coordinateMedian, robustMergeCost, trimmedMean } from "../src/training/robustMerge";
import { mergeInput, buildMergeCircuit, buildTrainingCircuit } from "../src/repos/circuits";
import { trainableFromOnnx, trainableShape } from "../src/repos/fromOnnx";
import { prove, ProveResult } from "../src/zk";
import { repoRoot } from "../src/zk/paths";
import { FIELD_P } from "../src/quant/fixed";
import { BenchOptions, errorMessage, progress, scoped } from "./common";
import { ptauFile } from "./rollup";

export interface ArchitectureRow {
  architecture: string;
  params: number;
  /** One training proof (n rows, one step). */
  trainConstraints: number;
  trainPower: number;
  trainProveMs?: number;
  merges: { rule: string; k: number; constraints: number; power: number; proveMs?: number; note?: string }[];
  note?: string;
}

export interface FederatedDigitsRow {
  architecture: string;
  contributors: number;
  rounds: number;
  rowsPerContributor: number;
  federatedAccuracy: number;
  centralAccuracy: number;
  diffPoints: number;
  met: boolean;
}

export interface PoisonRow {
  architecture: string;
  attack: Attack;
  rule: string;
  /** Held-out accuracy after the rounds with one poisoned contributor of five, and without it. */
  poisonedAccuracy: number;
  cleanAccuracy: number;
}

export interface BoundRow {
  architecture: string;
  attack: Attack;
  bound: number;
  honestProofs: number;
  honestRefused: number;
  poisonedProofs: number;
  poisonedRefused: number;
  honestMaxNorm: number;
  poisonedMedianNorm: number;
}

export interface FederatedSummary {
  architectures: ArchitectureRow[];
  federated: FederatedDigitsRow[];
  poisoned: PoisonRow[];
  bound: BoundRow[];
  notes: string[];
  totalMs: number;
}

interface Digits {
  features: number[][];
  labels: number[];
  split: { train: number[]; test: number[] };
}

const fixture = (...p: string[]) => path.join(repoRoot(), "fixtures", ...p);
const ROUNDS = Number(process.env.BENCH_FED_ROUNDS ?? 20);
const POISON_EPOCHS = 8;
/** Pixels scaled to [0, 1] times this stay inside the training's feature range [-8, 8). */
const AMPLIFY = 7.9;
export type Attack = "flip" | "amplify";

interface Arch {
  name: string;
  spec: TrainingSpec;
  init: number[];
}

function architectures(): Arch[] {
  const from = (file: string, name: string, o: Partial<TrainingSpec>): Arch => {
    const m = trainableFromOnnx(fixture("models", file));
    return { name, spec: trainingSpec({ ...trainableShape(m), K: 1, ...o }), init: m.weights };
  };
  const env = (k: string) => (process.env[k] ? JSON.parse(process.env[k]!) : {});
  return [
    from("softmax_digits_untrained.onnx", "softmax 64→10", { n: 16, lr: 1, ...env("BENCH_FED_SOFTMAX") }),
    // Batches of 8: a step of 16 rows needs 2^18 powers of tau (171,722 constraints); 8 rows fit 2^17.
    from("mlp_digits_untrained.onnx", "mlp 64→16→10", { n: 8, lr: 0.25, ...env("BENCH_FED_MLP") }),
  ];
}

/** Pixels 0..16 → [0, 1]: exact at the training's 1/16 feature scale. */
const scaled = (d: Digits, ix: number[]) => ix.map((i) => d.features[i].map((v) => v / 16));
const labelsOf = (d: Digits, ix: number[]) => ix.map((i) => d.labels[i]);

/** Contributor c's rows: the training split dealt round-robin, cut to whole chunks of n rows (a commit refuses a remainder). */
function shards(d: Digits, contributors: number, n: number): number[][] {
  return Array.from({ length: contributors }, (_, c) => {
    const rows = d.split.train.filter((_, j) => j % contributors === c);
    return rows.slice(0, rows.length - (rows.length % n));
  });
}

type Merge = (ws: bigint[][], counts: number[]) => bigint[];
const RULES: Record<string, Merge> = {
  fedavg: (ws, counts) => fedAvg(ws, counts),
  median: (ws) => coordinateMedian(ws),
  "trimmed (t=1)": (ws) => trimmedMean(ws, 1),
};

/** One contributor's commit: `epochs` passes over its rows in chunks of n (one proof each), optionally poisoned. */
function commit(a: Arch, w: bigint[], d: Digits, rows: number[], epochs: number, poison: Attack | undefined, norms?: number[]) {
  const s = a.spec;
  const labels = labelsOf(d, rows).map((y) => (poison ? (y + 1) % 10 : y));
  const features = scaled(d, rows).map((r) => (poison === "amplify" ? r.map((v) => v * AMPLIFY) : r));
  const q = quantizeData(s, features, labels);
  let cur = w;
  for (let e = 0; e < epochs; e++)
    for (let i = 0; i < rows.length; i += s.n) {
      const next = trainCommit(s, cur, q.X.slice(i, i + s.n), q.y.slice(i, i + s.n)).weights;
      if (norms) norms.push(updateNorm(s, cur, next));
      cur = next;
    }
  return { weights: cur, samples: rows.length * epochs };
}

function accuracy(a: Arch, w: bigint[], d: Digits): number {
  return evaluate(a.spec, weightsToFloat(a.spec, w), scaled(d, d.split.test), labelsOf(d, d.split.test)).accuracy!;
}

interface RunOptions {
  /** Contributor 0 attacks. */
  attack?: Attack;
  /** Per-proof update norms, honest and poisoned, collected here. */
  norms?: { honest: number[]; poisoned: number[] };
  /** A commit with a proof beyond this norm cannot be made: it is left out of the round's merge. */
  bound?: number;
}

function federatedRun(a: Arch, d: Digits, contributors: number, rounds: number, rule: Merge, o: RunOptions = {}) {
  const parts = shards(d, contributors, a.spec.n);
  let w = weightsFromFloat(a.spec, a.init);
  for (let r = 0; r < rounds; r++) {
    const commits = parts.map((rows, c) => {
      const bad = c === 0 ? o.attack : undefined;
      const norms: number[] = [];
      const made = commit(a, w, d, rows, bad === "flip" ? POISON_EPOCHS : 1, bad, norms);
      o.norms?.[bad ? "poisoned" : "honest"].push(...norms);
      return { ...made, refused: o.bound !== undefined && norms.some((v) => v > o.bound!) };
    });
    const kept = commits.filter((c) => !c.refused);
    if (kept.length) w = rule(kept.map((c) => c.weights), kept.map((c) => c.samples));
  }
  return { weights: w, rowsPerContributor: Math.min(...parts.map((p) => p.length)) };
}

/** witness + prove milliseconds of one proof. */
async function proveOnce(wasm: string, zkey: string, input: object): Promise<number> {
  const r: ProveResult = await prove(wasm, zkey, input as Record<string, unknown>, {});
  return r.witnessMs + r.proveMs;
}

async function measureArchitecture(a: Arch, d: Digits, opts: BenchOptions, notes: string[]): Promise<ArchitectureRow> {
  const log = scoped(`federated ${a.name}`);
  const cost = trainingCost(a.spec);
  const row: ArchitectureRow = { architecture: a.name, params: paramCount(a.spec), trainConstraints: cost.constraints, trainPower: cost.power, merges: [] };
  const ptau = ptauFile(opts.maxPower);
  const fits = (power: number) => power <= opts.maxPower && !!ptau && ptau.power >= power;
  const parts = shards(d, 5, a.spec.n);
  const w0 = weightsFromFloat(a.spec, a.init);
  if (fits(cost.power)) {
    try {
      log(`training step: ${cost.constraints} constraints (2^${cost.power}), building and proving`);
      const circuit = await buildTrainingCircuit(a.spec, log);
      const rows = parts[0].slice(0, a.spec.n);
      const q = quantizeData(a.spec, scaled(d, rows), labelsOf(d, rows));
      const { input } = await trainingCircuitInput(a.spec, w0, q.X, q.y, { binding: FIELD_P - 1n, salt: newDataSalt() });
      row.trainProveMs = Math.round(await proveOnce(circuit.wasm, circuit.zkey, input));
      log(`training step proven in ${(row.trainProveMs / 1000).toFixed(1)} s`);
    } catch (e) {
      row.note = `training step not proven: ${errorMessage(e)}`;
    }
  } else row.note = `training step needs 2^${cost.power}: not proven`;
  const commits = parts.map((rows) => commit(a, w0, d, rows, 1, undefined));
  for (const k of [3, 5])
    for (const rule of ["fedavg", "median", "trimmed"] as Aggregation[]) {
      if (rule === "trimmed" && k < 5) continue;
      const spec = trainingSpec({ ...a.spec, ...(rule === "fedavg" ? {} : { aggregation: rule }), ...(rule === "trimmed" ? { trim: 1 } : {}) });
      const trim = rule === "median" ? Math.floor((k - 1) / 2) : 1;
      const constraints = rule === "fedavg" ? fedAvgMergeCost(a.spec, k) : robustMergeCost(spec, k, trim).constraints;
      let power = 1;
      while (2 ** power <= constraints + 2 * k + 1) power++;
      const m: ArchitectureRow["merges"][number] = { rule: rule === "trimmed" ? "trimmed (t=1)" : rule, k, constraints, power };
      row.merges.push(m);
      // One merge size per rule is proven (k = 3; the trimmed mean at 5): the others only differ in size.
      if (!(k === 3 || rule === "trimmed")) continue;
      if (!fits(power)) {
        m.note = `needs 2^${power}: not proven`;
        continue;
      }
      try {
        log(`${m.rule} merge of ${k}: ${constraints} constraints (2^${power}), building and proving`);
        const circuit = await buildMergeCircuit(spec, k, log);
        const { input } = await mergeInput(spec, commits.slice(0, k).map((c) => c.weights), commits.slice(0, k).map((c) => c.samples));
        m.proveMs = Math.round(await proveOnce(circuit.wasm, circuit.zkey, input));
        log(`${m.rule} merge of ${k} proven in ${(m.proveMs / 1000).toFixed(1)} s`);
      } catch (e) {
        m.note = `not proven: ${errorMessage(e)}`;
      }
    }
  if (row.note) notes.push(`${a.name}: ${row.note}`);
  return row;
}

export async function benchFederated(opts: BenchOptions): Promise<FederatedSummary> {
  const start = performance.now();
  const d = JSON.parse(fs.readFileSync(fixture("data", "digits.json"), "utf8")) as Digits;
  const summary: FederatedSummary = { architectures: [], federated: [], poisoned: [], bound: [], notes: [], totalMs: 0 };
  for (const a of architectures()) {
    const log = scoped(`federated ${a.name}`);
    for (const contributors of [3, 5]) {
      const fed = federatedRun(a, d, contributors, ROUNDS, RULES.fedavg);
      const federatedAccuracy = accuracy(a, fed.weights, d);
      const central = trainFloat(a.spec, a.init, scaled(d, d.split.train), labelsOf(d, d.split.train), { epochs: ROUNDS, lr: a.spec.lr, batch: a.spec.n });
      const centralAccuracy = evaluate(a.spec, central, scaled(d, d.split.test), labelsOf(d, d.split.test)).accuracy!;
      const diffPoints = (federatedAccuracy - centralAccuracy) * 100;
      summary.federated.push({ architecture: a.name, contributors, rounds: ROUNDS, rowsPerContributor: fed.rowsPerContributor, federatedAccuracy, centralAccuracy, diffPoints, met: Math.abs(diffPoints) <= 2 });
      log(`${contributors} contributors, ${ROUNDS} rounds: federated ${(100 * federatedAccuracy).toFixed(2)}% vs central float ${(100 * centralAccuracy).toFixed(2)}%`);
    }
    // The bound an owner would set from a clean pilot run: 10% above its largest proof update.
    const pilot = { honest: [] as number[], poisoned: [] as number[] };
    federatedRun(a, d, 5, ROUNDS, RULES.fedavg, { norms: pilot });
    const honestMaxNorm = Math.max(...pilot.honest);
    const bound = honestMaxNorm * 1.1;
    const clean: Record<string, number> = {};
    for (const [rule, merge] of Object.entries(RULES)) clean[rule] = accuracy(a, federatedRun(a, d, 5, ROUNDS, merge).weights, d);
    clean["fedavg + bound"] = accuracy(a, federatedRun(a, d, 5, ROUNDS, RULES.fedavg, { bound }).weights, d);
    for (const attack of ["flip", "amplify"] as Attack[]) {
      for (const [rule, merge] of [...Object.entries(RULES), ["fedavg + bound", RULES.fedavg] as const]) {
        const withBound = rule === "fedavg + bound";
        const norms = rule === "fedavg" ? { honest: [] as number[], poisoned: [] as number[] } : undefined;
        const poisonedAccuracy = accuracy(a, federatedRun(a, d, 5, ROUNDS, merge, { attack, norms, bound: withBound ? bound : undefined }).weights, d);
        summary.poisoned.push({ architecture: a.name, attack, rule, poisonedAccuracy, cleanAccuracy: clean[rule] });
        log(`${attack}: ${rule}, one poisoned contributor of 5: ${(100 * poisonedAccuracy).toFixed(2)}% (clean ${(100 * clean[rule]).toFixed(2)}%)`);
        if (norms) {
          const sorted = [...norms.poisoned].sort((x, y) => x - y);
          summary.bound.push({
            architecture: a.name, attack, bound, honestProofs: norms.honest.length, honestRefused: norms.honest.filter((v) => v > bound).length,
            poisonedProofs: norms.poisoned.length, poisonedRefused: norms.poisoned.filter((v) => v > bound).length,
            honestMaxNorm, poisonedMedianNorm: sorted[Math.floor(sorted.length / 2)],
          });
        }
      }
    }
    summary.architectures.push(await measureArchitecture(a, d, opts, summary.notes));
  }
  summary.notes.push(
    "accuracies from the fixed-point executor and the merge references, bit-equal to the circuits (tested); central = float mini-batch SGD, same lr, batch and start",
    `poisoned: contributor 0 of 5; flip = labels shifted by one class, ${POISON_EPOCHS} epochs a round (its proven sample count ${POISON_EPOCHS}× an honest one's); ` +
      `amplify = shifted labels on pixels × ${AMPLIFY} (the edge of the feature range), one epoch`,
  );
  summary.totalMs = Math.round(performance.now() - start);
  progress(`federated: done in ${(summary.totalMs / 1000).toFixed(0)} s`);
  return summary;
}
