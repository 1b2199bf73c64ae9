/**
 * Model-repository figures (issue 4): for logistic regression, the MLP 30→8→1 and linear
 * regression on the breast-cancer fixture, one training commit (16 samples, one SGD step) and a
 * FedAvg merge of 4 commits — constraints, witness + prove time, and the gasUsed of the real
 * ModelRepository transactions (pushCommit with the generated training verifier, merge with the
 * generated 4-commit merge verifier) on the in-process Hardhat network; plus federated training
 * (4 contributors, fixed-point SGD commits + FedAvg, executor only) against the same model
 * trained centrally in float; plus training commits as chains of proofs (every row of a file
 * counts): for the logistic repository (n·K = 16), commits of 16, 64 and 256 rows — proofs,
 * proving time and the pushCommit gas of the whole chain, all measured.
 *
 * Circuits whose keys are not built yet are compiled once under build/bench/repos/ for their size
 * first: only those that fit the available powers of tau (≤ 2^maxPower) are set up, so a setup
 * never falls back to a download or a local development ceremony.
 */
import crypto from "crypto";
import fs from "fs";
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import {
  TrainingSpec, ModelKind, trainingSpec, paramCount, quantizeData, weightsFromFloat, weightsToFloat, initialWeights,
  trainCommit, fedAvg, evaluate, trainFloat, commitWeights, trainingCircuitInput, mergeCircuitInput,
  generateTrainingCircuit, generateMergeCircuit, trainingBinding, newDataSalt, decodeTrainingStatement,
} from "../src/training";
import { buildMergeCircuit, buildTrainingCircuit, BuiltCircuit, specId } from "../src/repos/circuits";
import { planChain, proveChain, linkCalldata } from "../src/repos/trainingChain";
import { trainableFromOnnx } from "../src/repos/fromOnnx";
import { deployRepositories } from "../src/chain/deployRepos";
import { EvmRepoLedger, GrothCalldata } from "../src/chain/evmRepos";
import { KEY_FILES, powerFor, prove, ProveResult, Progress, solidityCalldata, sourceHash, verify } from "../src/zk";
import { cacheRoot, repoRoot } from "../src/zk/paths";
import { benchDir, BenchOptions, errorMessage, median, progress, scoped } from "./common";
import { compileCached } from "./circuitCache";
import { deployProjectVerifier, measureVerifyGas, VerifyGas } from "./gas";
import { ptauFile } from "./rollup";

/** Commits merged by the benchmarked FedAvg (the contract's largest proven merge). */
const MERGE_K = 4;
const CONTRIBUTORS = 4;
/** Targets from issue 4, on a 2-core machine. */
const TRAIN_TARGET_S = 10;
const MERGE_TARGET_S = 10;

export interface ReposCircuitRow {
  kind: ModelKind;
  circuit: "train" | `merge${number}`;
  /** Model parameters (weights and biases). */
  params: number;
  constraints?: number;
  /** Powers of tau the circuit needs (2^power). */
  power?: number;
  /** Were the keys reused from an earlier build? Else: compile + setup time. */
  reused?: boolean;
  setupMs?: number;
  /** Medians over `proofs` proofs. */
  proofs?: number;
  witnessMs?: number;
  proveMs?: number;
  /** witness + prove, median. */
  totalMs?: number;
  /** gasUsed of the real transaction: pushCommit (train) or merge (merge4); median over the pushes. */
  gas?: number;
  gasOf?: "pushCommit" | "merge";
  /** The generated verifier's verifyProof sent as a transaction. */
  verifyGas?: VerifyGas;
  note?: string;
  error?: string;
}

export interface FederatedRow {
  kind: ModelKind;
  contributors: number;
  rounds: number;
  /** Rows per commit (n · K) and training-split rows per contributor. */
  rowsPerCommit: number;
  rowsPerContributor: number;
  federatedAccuracy: number;
  centralEpochs: number;
  centralAccuracy: number;
  /** (federated − central) in percentage points. */
  diffPoints: number;
  testRows: number;
  met: boolean;
}

export interface ReposTarget {
  kind: ModelKind;
  what: "train" | "merge";
  seconds?: number;
  limit: number;
  met?: boolean;
  note?: string;
}

/** One training commit as a chain of proofs over `rows` rows (logistic, n·K rows a proof), pushed for real. */
export interface ChainRow {
  kind: ModelKind;
  rows: number;
  epochs: number;
  /** Rows per proof (n·K). */
  chunkRows: number;
  proofs: number;
  /** Σ (witness + prove) over the chain. */
  proveMs?: number;
  /** gasUsed of the one pushCommit transaction verifying the whole chain. */
  gas?: number;
  error?: string;
}

export interface ReposSummary {
  maxPower: number;
  ptau?: string;
  rows: ReposCircuitRow[];
  federated: FederatedRow[];
  chains: ChainRow[];
  targets: ReposTarget[];
  notes: string[];
  totalMs: number;
}

interface Cancer {
  features: number[][];
  labels: number[];
  split: { train: number[]; test: number[] };
}

interface KindSetup {
  kind: ModelKind;
  spec: TrainingSpec;
  /** Real starting weights in the training layout. */
  init: number[];
  from: string;
  merge: boolean;
}

const fixture = (...p: string[]) => path.join(repoRoot(), "fixtures", ...p);

/** The benchmarked specs: 30 features, mini-batches of 16, one step per commit (as `repo:create --batch 16 --steps 1`). */
function kinds(): KindSetup[] {
  const fromOnnx = (kind: "logistic" | "mlp", file: string): KindSetup => {
    const m = trainableFromOnnx(fixture("models", file));
    if (m.kind !== kind) throw new Error(`${file}: expected a ${kind} model, got ${m.kind}`);
    const spec = trainingSpec({ kind: m.kind, d: m.d, h: m.h, n: 16, K: 1, lr: 0.5 });
    return { kind, spec, init: m.weights, from: file, merge: true };
  };
  const linear = trainingSpec({ kind: "linear", d: 30, n: 16, K: 1, lr: 0.05 });
  return [
    fromOnnx("logistic", "logreg_cancer_untrained.onnx"),
    fromOnnx("mlp", "mlp_cancer_untrained.onnx"),
    // No linear fixture: zero initial weights, the 0/1 labels as regression targets.
    { kind: "linear", spec: linear, init: initialWeights(linear), from: "zeros", merge: false },
  ];
}

// ------------------------------------------------------------------------------ circuit sizes

interface Planned {
  constraints: number;
  power: number;
  setUp: boolean;
}

/** Constraints and ptau power of a repository circuit: from its built keys, else compiled once under build/bench/repos/. */
async function size(spec: TrainingSpec, which: "train" | "merge", log: Progress): Promise<Planned> {
  const gen = which === "train" ? generateTrainingCircuit(spec) : generateMergeCircuit(spec, MERGE_K);
  const base = which === "train" ? "train" : `merge${MERGE_K}`;
  const hash = sourceHash(gen.source);
  const built = path.join(cacheRoot(), "training", specId(spec), base);
  try {
    const keys = JSON.parse(fs.readFileSync(path.join(built, KEY_FILES.info), "utf8"));
    if (keys.hash === hash && fs.existsSync(path.join(built, KEY_FILES.zkey)))
      return { constraints: keys.constraints, power: powerFor(keys.constraints, gen.publicSignals.length), setUp: true };
  } catch {
    /* not built yet */
  }
  const c = await compileCached(gen.source, path.join(benchDir("repos"), `${specId(spec)}-${base}`), base, log);
  return { constraints: c.info.constraints, power: powerFor(c.info.constraints, gen.publicSignals.length), setUp: false };
}

// ---------------------------------------------------------------------------------- measuring

const ZERO = "0x0000000000000000000000000000000000000000";
const asGroth = (cd: { a: [bigint, bigint]; b: [[bigint, bigint], [bigint, bigint]]; c: [bigint, bigint] }): GrothCalldata => ({ a: cd.a, b: cd.b, c: cd.c });
const objectUri = (o: unknown) =>
  `flavum://objects/${crypto.createHash("sha256").update(JSON.stringify(o, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).digest("hex")}`;

async function gasUsed(hre: HardhatRuntimeEnvironment, txHash: string): Promise<number> {
  const r = await hre.ethers.provider.getTransactionReceipt(txHash);
  if (!r) throw new Error(`no receipt for ${txHash}`);
  return Number(r.gasUsed);
}

function timings(row: ReposCircuitRow, results: ProveResult[]): void {
  row.proofs = results.length;
  row.witnessMs = Math.round(median(results.map((r) => r.witnessMs)));
  row.proveMs = Math.round(median(results.map((r) => r.proveMs)));
  row.totalMs = Math.round(median(results.map((r) => r.witnessMs + r.proveMs)));
}

/**
 * On a fresh repository with the generated verifiers: `contributors` training commits from the
 * initial weights, each on its own 16 training rows (proved, verified, pushed on its own branch),
 * then, when the merge circuit is built, a proven FedAvg of the first MERGE_K into main.
 */
async function measureKind(
  hre: HardhatRuntimeEnvironment, ledger: EvmRepoLedger, k: KindSetup, train: BuiltCircuit, merge: BuiltCircuit | undefined,
  trainRow: ReposCircuitRow, mergeRow: ReposCircuitRow | undefined, data: Cancer, opts: BenchOptions, log: Progress,
): Promise<void> {
  const { spec } = k;
  const trainVerifier = await deployProjectVerifier(hre, train.contract);
  const mergeVerifier = merge ? await deployProjectVerifier(hre, merge.contract) : undefined;
  const mergeVerifiers = Array(7).fill(ZERO);
  if (mergeVerifier) mergeVerifiers[MERGE_K - 2] = await mergeVerifier.getAddress();
  const w0 = weightsFromFloat(spec, k.init);
  const repo = await ledger.createRepository(
    `bench-${k.kind}-${specId(spec)}`, await commitWeights(spec, w0), `0x${crypto.createHash("sha256").update(JSON.stringify(spec)).digest("hex")}`,
    await trainVerifier.getAddress(), mergeVerifiers, objectUri(spec),
  );

  // Contributor c trains on rows c·16 … c·16+15 of the training split. Every commit is pushed by the
  // ledger's account, so every proof is bound to it (and to this repository, chain and contract).
  const binding = trainingBinding(await ledger.trainingContext(repo.repoId));
  const rows = spec.n * spec.K;
  const commits = Math.max(opts.proofs, merge ? MERGE_K : 1);
  const proofs: ProveResult[] = [];
  const pushGas: number[] = [];
  const pushed: { id: bigint; weights: bigint[] }[] = [];
  for (let c = 0; c < commits; c++) {
    const ix = data.split.train.slice(c * rows, (c + 1) * rows);
    const q = quantizeData(spec, ix.map((i) => data.features[i]), ix.map((i) => data.labels[i]));
    const { input, result } = await trainingCircuitInput(spec, w0, q.X, q.y, { binding, salt: newDataSalt() });
    const res = await prove(train.wasm, train.zkey, input, { progress: log });
    if (!(await verify(train.vkey, res.publicSignals, res.proof))) throw new Error("a training proof does not verify locally");
    proofs.push(res);
    log(`training commit ${c + 1}/${commits}: witness ${Math.round(res.witnessMs)} ms + prove ${Math.round(res.proveMs)} ms`);
    const cd = solidityCalldata(res.proof, res.publicSignals);
    if (c === 0) {
      trainRow.verifyGas = await measureVerifyGas(trainVerifier, cd);
      if (!trainRow.verifyGas.accepted) throw new Error(`${train.contract} rejected a valid proof`);
    }
    const branch = `bench-c${c}`;
    await ledger.createBranch(repo.repoId, branch, repo.initialCommit);
    const st = decodeTrainingStatement(res.publicSignals);
    const p = await ledger.pushCommit(
      repo.repoId, branch, repo.initialCommit,
      [{ newWeightsHash: st.newWeightsHash, dataHash: st.dataHash, samples: st.samples, correct: st.correct, proof: asGroth(cd) }],
      objectUri(input),
    );
    pushGas.push(await gasUsed(hre, p.txHash));
    pushed.push({ id: p.commitId, weights: result.weights });
  }
  timings(trainRow, proofs.slice(0, opts.proofs));
  trainRow.gas = Math.round(median(pushGas));
  trainRow.gasOf = "pushCommit";
  log(`training commit: ${(trainRow.totalMs! / 1000).toFixed(1)} s (median), pushCommit ${trainRow.gas} gas`);

  if (!merge || !mergeRow || !mergeVerifier) return;
  const parts = pushed.slice(0, MERGE_K);
  const { input, weights } = await mergeCircuitInput(spec, parts.map((p) => p.weights), parts.map(() => rows));
  const mproofs: ProveResult[] = [];
  for (let i = 0; i < opts.proofs; i++) {
    const res = await prove(merge.wasm, merge.zkey, input, { progress: log });
    mproofs.push(res);
    log(`merge proof ${i + 1}/${opts.proofs}: witness ${Math.round(res.witnessMs)} ms + prove ${Math.round(res.proveMs)} ms`);
  }
  const last = mproofs[mproofs.length - 1];
  if (!(await verify(merge.vkey, last.publicSignals, last.proof))) throw new Error("the merge proof does not verify locally");
  timings(mergeRow, mproofs);
  const cd = solidityCalldata(last.proof, last.publicSignals);
  mergeRow.verifyGas = await measureVerifyGas(mergeVerifier, cd);
  if (!mergeRow.verifyGas.accepted) throw new Error(`${merge.contract} rejected a valid proof`);
  const m = await ledger.merge(repo.repoId, "main", parts.map((p) => p.id), await commitWeights(spec, weights), asGroth(cd));
  mergeRow.gas = await gasUsed(hre, m.txHash);
  mergeRow.gasOf = "merge";
  log(`merge of ${MERGE_K}: ${(mergeRow.totalMs! / 1000).toFixed(1)} s (median), merge ${mergeRow.gas} gas`);
}

// ------------------------------------------------------------------------- chains of proofs

/** Rows per commit of the chain figures (BENCH_REPOS_CHAIN_ROWS overrides, comma-separated). */
export const CHAIN_ROWS = [16, 64, 256];

/**
 * On a fresh repository with the generated training verifier: for each row count, one commit of
 * that many consecutive training rows (disjoint from the other commits'), one epoch, proven with
 * the workflow's own chain prover (src/repos/trainingChain.ts) and pushed on its own branch from
 * the initial commit — the whole chain verified in one pushCommit. Nothing is extrapolated.
 */
export async function measureChains(
  hre: HardhatRuntimeEnvironment, ledger: EvmRepoLedger, k: KindSetup, train: BuiltCircuit, data: Cancer, rowCounts: number[], log: Progress,
): Promise<ChainRow[]> {
  const { spec } = k;
  const trainVerifier = await deployProjectVerifier(hre, train.contract);
  const w0 = weightsFromFloat(spec, k.init);
  const repo = await ledger.createRepository(
    `bench-chains-${k.kind}-${specId(spec)}`, await commitWeights(spec, w0), `0x${crypto.createHash("sha256").update(JSON.stringify(spec)).digest("hex")}`,
    await trainVerifier.getAddress(), [ZERO, ZERO, ZERO], objectUri(spec),
  );
  const binding = trainingBinding(await ledger.trainingContext(repo.repoId));
  const max = await ledger.maxChainLength();
  const out: ChainRow[] = [];
  let offset = 0;
  for (const rows of rowCounts) {
    const row: ChainRow = { kind: k.kind, rows, epochs: 1, chunkRows: spec.n * spec.K, proofs: rows / (spec.n * spec.K) };
    out.push(row);
    try {
      if (offset + rows > data.split.train.length) throw new Error(`the training split has ${data.split.train.length} rows, ${offset + rows} needed`);
      const ix = data.split.train.slice(offset, offset + rows);
      offset += rows;
      const plan = planChain(`${rows} training rows`, rows, spec, 1, max);
      const q = quantizeData(spec, ix.map((i) => data.features[i]), ix.map((i) => data.labels[i]));
      const t0 = performance.now();
      const chain = await proveChain({ spec, circuit: train, parent: w0, X: q.X, y: q.y, plan, binding, salt: newDataSalt(), progress: () => {} });
      row.proveMs = Math.round(chain.proveMs);
      log(`chain of ${rows} rows: ${plan.proofs} proofs in ${(row.proveMs / 1000).toFixed(1)} s (wall ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      const branch = `bench-chain-${rows}`;
      await ledger.createBranch(repo.repoId, branch, repo.initialCommit);
      const p = await ledger.pushCommit(repo.repoId, branch, repo.initialCommit, chain.links.map(linkCalldata), objectUri(chain.dataHash));
      row.gas = Number(p.gasUsed);
      log(`chain of ${rows} rows: pushCommit ${row.gas} gas (${Math.round(row.gas / plan.proofs)} a proof)`);
    } catch (e) {
      row.error = errorMessage(e);
      log(`chain of ${rows} rows: failed: ${row.error}`);
    }
  }
  return out;
}

// ------------------------------------------------------------------ federated vs central accuracy

/**
 * The training split dealt round-robin to 4 contributors; each round every contributor makes one
 * fixed-point commit (the benchmarked spec: one step of 16 rows, its next local mini-batch) from
 * the current main weights, and the 4 commits are FedAvg-merged — exactly what the proven circuits
 * compute, run with the executor. Central: float mini-batch SGD (same spec, lr, batch size and
 * starting weights) over the whole training split for as many sample-gradients as the federation
 * used (rounds · 4 · 16 rows ≈ epochs · training rows).
 */
function federated(k: KindSetup, data: Cancer, rounds: number): FederatedRow {
  const { spec } = k;
  const rows = spec.n * spec.K;
  const feats = (ix: number[]) => ix.map((i) => data.features[i]);
  const labels = (ix: number[]) => ix.map((i) => data.labels[i]);
  const parts = Array.from({ length: CONTRIBUTORS }, (_, c) => data.split.train.filter((_, j) => j % CONTRIBUTORS === c));
  const batches = parts.map((p) => {
    const out = [];
    for (let i = 0; i + rows <= p.length; i += rows) out.push(quantizeData(spec, feats(p.slice(i, i + rows)), labels(p.slice(i, i + rows))));
    return out;
  });
  let w = weightsFromFloat(spec, k.init);
  for (let r = 0; r < rounds; r++) {
    const commits = batches.map((b) => trainCommit(spec, w, b[r % b.length].X, b[r % b.length].y).weights);
    w = fedAvg(commits, commits.map(() => rows), spec);
  }
  const test = data.split.test;
  const fed = evaluate(spec, weightsToFloat(spec, w), feats(test), labels(test)).accuracy!;
  const epochs = Math.max(1, Math.round((rounds * CONTRIBUTORS * rows) / data.split.train.length));
  const central = trainFloat(spec, k.init, feats(data.split.train), labels(data.split.train), { epochs, lr: spec.lr, batch: spec.n });
  const cen = evaluate(spec, central, feats(test), labels(test)).accuracy!;
  const diffPoints = (fed - cen) * 100;
  return {
    kind: k.kind, contributors: CONTRIBUTORS, rounds, rowsPerCommit: rows, rowsPerContributor: Math.min(...parts.map((p) => p.length)),
    federatedAccuracy: fed, centralEpochs: epochs, centralAccuracy: cen, diffPoints, testRows: test.length, met: Math.abs(diffPoints) <= 2,
  };
}

// ------------------------------------------------------------------------------------- driver

export async function benchRepos(hre: HardhatRuntimeEnvironment, opts: BenchOptions): Promise<ReposSummary> {
  const start = performance.now();
  const summary: ReposSummary = { maxPower: opts.maxPower, rows: [], federated: [], chains: [], targets: [], notes: [], totalMs: 0 };
  const data = JSON.parse(fs.readFileSync(fixture("data", "breast_cancer.json"), "utf8")) as Cancer;
  const setups = kinds();
  const ptau = ptauFile(opts.maxPower);
  summary.ptau = ptau?.file;

  // Federated vs central first: cheap (executor only) and independent of the proving setup.
  const rounds = Number(process.env.BENCH_REPOS_ROUNDS ?? 36);
  for (const k of setups.filter((s) => s.kind !== "linear")) {
    try {
      const f = federated(k, data, rounds);
      summary.federated.push(f);
      progress(`repos ${k.kind}: federated ${(100 * f.federatedAccuracy).toFixed(2)}% vs central float ${(100 * f.centralAccuracy).toFixed(2)}%`);
    } catch (e) {
      summary.notes.push(`${k.kind}: federated accuracy not measured: ${errorMessage(e)}`);
    }
  }

  // Sizes, then keys for the circuits that fit, then one Hardhat compile for their verifiers.
  type Job = { k: KindSetup; train?: BuiltCircuit; merge?: BuiltCircuit; trainRow: ReposCircuitRow; mergeRow?: ReposCircuitRow };
  const jobs: Job[] = [];
  for (const k of setups) {
    const log = scoped(`repos ${k.kind}`);
    const job: Job = { k, trainRow: { kind: k.kind, circuit: "train", params: paramCount(k.spec) } };
    if (k.merge) job.mergeRow = { kind: k.kind, circuit: `merge${MERGE_K}`, params: paramCount(k.spec) };
    jobs.push(job);
    for (const which of ["train", "merge"] as const) {
      const row = which === "train" ? job.trainRow : job.mergeRow;
      if (!row) continue;
      try {
        const s = await size(k.spec, which, log);
        row.constraints = s.constraints;
        row.power = s.power;
        if (s.power > opts.maxPower) {
          row.note = `needs 2^${s.power} > 2^${opts.maxPower}: not set up`;
          continue;
        }
        if (!s.setUp && (!ptau || ptau.power < s.power)) {
          row.note = `needs 2^${s.power}; no prepared powers of tau that large in FLAVUM_PTAU / FLAVUM_PTAU_DIR: not set up`;
          continue;
        }
        const t0 = performance.now();
        log(`${row.circuit}: ${s.constraints} constraints (2^${s.power})${s.setUp ? ", keys cached" : ": compiling and setting up"}`);
        const built = which === "train" ? await buildTrainingCircuit(k.spec, log) : await buildMergeCircuit(k.spec, MERGE_K, log);
        row.reused = built.keys.reused;
        if (!built.keys.reused) row.setupMs = Math.round(performance.now() - t0);
        if (which === "train") job.train = built;
        else job.merge = built;
      } catch (e) {
        row.error = errorMessage(e);
        log(`${row.circuit}: failed: ${row.error}`);
      }
    }
    summary.rows.push(job.trainRow, ...(job.mergeRow ? [job.mergeRow] : []));
  }

  if (jobs.some((j) => j.train)) {
    progress("repos: compiling the generated training and merge verifiers");
    await hre.run("compile", { quiet: true });
    const { address } = await deployRepositories(hre);
    const ledger = await EvmRepoLedger.connect(hre, address, 0);
    for (const j of jobs) {
      if (!j.train) continue;
      const log = scoped(`repos ${j.k.kind}`);
      try {
        await measureKind(hre, ledger, j.k, j.train, j.merge, j.trainRow, j.mergeRow, data, opts, log);
      } catch (e) {
        const error = errorMessage(e);
        log(`failed: ${error}`);
        if (j.trainRow.totalMs === undefined) j.trainRow.error = error;
        else if (j.mergeRow) j.mergeRow.error = error;
      }
    }
    const logistic = jobs.find((j) => j.k.kind === "logistic" && j.train);
    if (logistic) {
      const rowCounts = process.env.BENCH_REPOS_CHAIN_ROWS ? process.env.BENCH_REPOS_CHAIN_ROWS.split(",").map(Number) : CHAIN_ROWS;
      summary.chains = await measureChains(hre, ledger, logistic.k, logistic.train!, data, rowCounts, scoped("repos chains"));
    }
  }

  for (const r of summary.rows) {
    const what = r.circuit === "train" ? "train" : "merge";
    const limit = what === "train" ? TRAIN_TARGET_S : MERGE_TARGET_S;
    const seconds = r.totalMs === undefined ? undefined : r.totalMs / 1000;
    summary.targets.push({
      kind: r.kind, what, limit, seconds, met: seconds === undefined ? undefined : seconds <= limit,
      note: seconds === undefined ? r.error ?? r.note ?? "not measured" : undefined,
    });
  }

  const spec = (k: ModelKind) => setups.find((s) => s.kind === k)!;
  summary.notes.push(
    `specs: 30 features, mini-batch n = 16, K = 1 step per commit; logistic and mlp (h = ${spec("mlp").spec.h}) start from ` +
      `${spec("logistic").from} / ${spec("mlp").from}, lr 0.5; linear from zeros, lr ${spec("linear").spec.lr}, the 0/1 labels as targets`,
    `one fresh ModelRepository on the in-process Hardhat network, one repository per model with its generated verifiers; ` +
      `train = ${Math.max(opts.proofs, MERGE_K)} commits of 16 different training rows each from the initial weights, each proved, ` +
      `verified and pushed on its own branch; times = median of the first ${opts.proofs} (witness + Groth16 prove); ` +
      `gas = median gasUsed of the pushCommit transactions (proof check with 5 public inputs, one-use training record, commit record, URI, token mint)`,
    `merge${MERGE_K} = a proven FedAvg of ${MERGE_K} of those pushed commits into main: median of ${opts.proofs} proofs, ` +
      `gas = gasUsed of the merge transaction; verify gas = the generated verifier's verifyProof as a transaction (execution in brackets)`,
    `federated: the training split (${data.split.train.length} rows) dealt round-robin to ${CONTRIBUTORS} contributors, ${rounds} rounds ` +
      `(BENCH_REPOS_ROUNDS) of one fixed-point commit each + FedAvg (executor, no proofs); central: float SGD, same spec, ` +
      `start, lr and batch, for the same number of sample-gradients; accuracy on the ${data.split.test.length}-row test split ` +
      `(one row = ${(100 / data.split.test.length).toFixed(2)} points)`,
    `chains: one logistic repository (n·K = 16), one commit per row count of that many consecutive training rows (disjoint), ` +
      `one epoch, proven link by link with the workflow's chain prover (prove s = Σ witness + prove) and pushed as one pushCommit ` +
      `(gas = its gasUsed: every proof's pairing check, every link's one-use record, the commit record, its id, the token)`,
    `ptau: ${ptau ? `${path.basename(ptau.file)} (2^${ptau.power})` : "none found"}; circuits needing more than 2^${opts.maxPower} are not set up`,
  );
  summary.totalMs = Math.round(performance.now() - start);
  progress(`repos: done in ${(summary.totalMs / 1000).toFixed(0)} s`);
  return summary;
}
