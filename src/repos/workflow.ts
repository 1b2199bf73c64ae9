/**
 * "GitHub for ML models": the repository workflow over the ModelRepository contract. Weights and
 * training specs live in the local content-addressed store, bound to their on-chain commitments;
 * training data never leaves this machine — only its commitment and a proof do.
 */
import { readJsonFile } from "../jsonFile";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { FlavumError, InputError } from "../errors";
import {
  TrainingSpec, trainingSpec, quantizeData, weightsFromFloat, weightsToFloat, commitWeights, trainingCircuitInput,
  mergeCircuitInput, evaluate, paramNames, ModelKind, featuresOutsideRange, trainingBinding, newDataSalt,
} from "../training";
import { applyAdjustmentPolicy } from "../quant/adjustments";
import { prove, verify, solidityCalldata, Progress, silent } from "../zk";
import { EvmLedger } from "../chain/evm";
import { EvmRepoLedger, ChainCommit, GrothCalldata, explain } from "../chain/evmRepos";
import { CommitKind, CommitStatus, MERGE_COUNTS, RepoRole } from "../chain/deployRepos";
import { ObjectStore } from "./objectStore";
import { LocalIndex } from "./localIndex";
import { trainableFromOnnx } from "./fromOnnx";
import { buildMergeCircuit, buildRepoCircuits, buildTrainingCircuit } from "./circuits";
import { assertSetupAllowed } from "../zk/setupPolicy";

export interface RepoContext {
  hre: HardhatRuntimeEnvironment;
  ledger: EvmRepoLedger;
  objects: ObjectStore;
  index: LocalIndex;
  signerIndex: number;
  progress: Progress;
}

interface WeightsObject {
  spec: string;
  weights: string[];
}

/**
 * What `repo:train` produces and `repo:push` sends. The proof is bound to `author` (and to the
 * repository, chain and contract: `binding`); the data salt is not here but in the local index.
 */
interface LocalCommitRecord {
  repo: string;
  repoId: string;
  branch: string;
  parent: string;
  spec: string;
  weights: string;
  weightsHash: string;
  dataHash: string;
  samples: number;
  correct: number;
  binding: string;
  proof: GrothCalldata;
  publicSignals: string[];
  author: string;
  createdAt: string;
}

export interface DataFile {
  features: number[][];
  labels: number[];
}

export function readDataFile(file: string): DataFile {
  const o = readJsonFile(file, "data file") as Partial<DataFile>;
  if (!o || !Array.isArray(o.features) || !Array.isArray(o.labels))
    throw new InputError(`data file ${file}: expected {"features": [[...], ...], "labels": [...]}`);
  return { features: o.features, labels: o.labels };
}

const big = (v: string | bigint) => BigInt(v);

async function repoInfo(ctx: RepoContext, repo: string) {
  const repoId = await ctx.ledger.repoIdByName(repo);
  const r = await ctx.ledger.repository(repoId);
  const specObj = r.architectureHash.replace(/^0x/, "");
  const spec = ctx.objects.getJson<TrainingSpec>(specObj);
  return { repoId, spec, specObj, info: r };
}

function loadWeights(ctx: RepoContext, weightsHash: bigint): bigint[] {
  return ctx.objects.getJson<WeightsObject>(ctx.objects.resolve(weightsHash)).weights.map(big);
}

async function storeWeights(ctx: RepoContext, spec: TrainingSpec, specObj: string, weights: bigint[]): Promise<{ hash: bigint; object: string }> {
  const hash = await commitWeights(spec, weights);
  const object = ctx.objects.putJson({ spec: specObj, weights: weights.map(String) } satisfies WeightsObject);
  ctx.objects.bind(hash, object);
  return { hash, object };
}

// ---------------------------------------------------------------------------------------- create

export interface CreateOptions {
  batch?: number;
  steps?: number;
  lr?: number;
  hidden?: number;
  /** Accept development / one-party keys on networks other than hardhat and localhost. */
  insecureDevSetup?: boolean;
}

export async function createRepo(ctx: RepoContext, name: string, onnx: string, o: CreateOptions = {}) {
  const model = trainableFromOnnx(onnx);
  const spec = trainingSpec({ kind: model.kind as ModelKind, d: model.d, h: model.h, n: o.batch, K: o.steps, lr: o.lr });
  const specObj = ctx.objects.putJson(spec);
  ctx.progress(`repository ${name}: ${spec.kind} model, ${spec.d} features, mini-batches of ${spec.n}, ${spec.K} step(s) per commit, lr ${spec.lr}`);
  const { train, merges } = await buildRepoCircuits(spec, ctx.progress);
  for (const c of [train, ...merges])
    await assertSetupAllowed({ network: ctx.hre.network.name, keys: c.keys, dir: c.dir, insecureDevSetup: o.insecureDevSetup, what: `the ${c.kind === "train" ? "training" : `merge-of-${c.k}`} circuit of repository ${name}`, progress: ctx.progress });
  await ctx.hre.run("compile", { quiet: true });
  const evm = new EvmLedger(ctx.hre, ctx.signerIndex);
  const deploy = async (c: { contract: string; keys: { hash: string; vkHash?: string } }) =>
    (await evm.existing(`verifier:${c.contract}`, c.keys.vkHash ?? c.keys.hash))?.address ??
    (await evm.deploy(c.contract, [], `verifier:${c.contract}`, c.keys.vkHash ?? c.keys.hash)).record.address;
  const trainVerifier = await deploy(train);
  const mergeVerifiers = [];
  for (const m of merges) mergeVerifiers.push(await deploy(m));
  const weights = weightsFromFloat(spec, model.weights);
  const { hash } = await storeWeights(ctx, spec, specObj, weights);
  const r = await ctx.ledger.createRepository(name, hash, "0x" + specObj, trainVerifier, mergeVerifiers, `flavum://objects/${specObj}`);
  return { ...r, spec, constraints: { train: train.keys.constraints, merge: merges.map((m) => m.keys.constraints) } };
}

export async function invite(ctx: RepoContext, repo: string, account: string, role: string) {
  const roles: Record<string, RepoRole> = { owner: RepoRole.Owner, maintainer: RepoRole.Maintainer, contributor: RepoRole.Contributor };
  const r = roles[role];
  if (!r) throw new InputError(`--role must be owner, maintainer or contributor, got "${role}"`);
  if (!/^0x[0-9a-fA-F]{40}$/.test(account)) throw new InputError(`--account must be an address (0x + 40 hex digits), got "${account}"`);
  const { repoId } = await repoInfo(ctx, repo);
  return ctx.ledger.invite(repoId, account, r);
}

// ------------------------------------------------------------------------------- pull and train

export async function pull(ctx: RepoContext, repo: string, branch = "main") {
  const { repoId, spec } = await repoInfo(ctx, repo);
  const head = await ctx.ledger.head(repoId, branch);
  const c = await ctx.ledger.commit(head);
  const weights = loadWeights(ctx, c.weightsHash);
  return { repoId, branch, head, spec, weights: weightsToFloat(spec, weights), names: paramNames(spec) };
}

export interface TrainOptions {
  branch?: string;
  steps?: number;
  lr?: number;
  /** Refuse data with features outside the training range instead of clamping them with a warning. */
  strict?: boolean;
}

export async function train(ctx: RepoContext, repo: string, dataFile: string, o: TrainOptions = {}) {
  const { repoId, spec, specObj } = await repoInfo(ctx, repo);
  if (o.steps !== undefined && o.steps !== spec.K)
    throw new InputError(`--steps ${o.steps}: repository ${repo} proves ${spec.K} step(s) per commit (its circuit is fixed at creation)`);
  if (o.lr !== undefined && o.lr !== spec.lr)
    throw new InputError(`--lr ${o.lr}: repository ${repo} trains with lr ${spec.lr} (its circuit is fixed at creation)`);
  const data = readDataFile(dataFile);
  const rows = spec.n * spec.K;
  if (data.features.length < rows)
    throw new InputError(`data shape mismatch: a commit trains on ${rows} rows (${spec.K} step(s) of ${spec.n}), ${dataFile} has ${data.features.length}`);
  const q = quantizeData(spec, data.features.slice(0, rows), data.labels.slice(0, rows));
  applyAdjustmentPolicy(q.adjustments, `data file ${dataFile}`, { strict: o.strict, progress: ctx.progress });
  const branch = o.branch ?? "main";
  const parent = await ctx.ledger.head(repoId, branch);
  const parentCommit = await ctx.ledger.commit(parent);
  const parentWeights = loadWeights(ctx, parentCommit.weightsHash);
  const author = ctx.ledger.account;
  const binding = trainingBinding(await ctx.ledger.trainingContext(repoId, author));
  // The contract derives the binding itself: disagreeing here means the proof could never be pushed.
  const onChain = await ctx.ledger.trainingBinding(repoId, author);
  if (onChain !== binding) throw new FlavumError(`internal: the training binding computed here (${binding}) differs from ModelRepository's (${onChain})`, "BINDING_MISMATCH");
  const salt = newDataSalt();
  const circuit = await buildTrainingCircuit(spec, ctx.progress);
  const { input, result } = await trainingCircuitInput(spec, parentWeights, q.X, q.y, { binding, salt });
  ctx.progress(`training ${spec.K} step(s) on ${rows} private rows from commit ${parent} (${branch}) and proving it`);
  const res = await prove(circuit.wasm, circuit.zkey, input, { progress: ctx.progress });
  if (!(await verify(circuit.vkey, res.publicSignals, res.proof))) throw new Error("the training proof does not verify locally");
  const { hash, object } = await storeWeights(ctx, spec, specObj, result.weights);
  const cd = solidityCalldata(res.proof, res.publicSignals);
  const record: LocalCommitRecord = {
    repo, repoId: repoId.toString(), branch, parent: parent.toString(), spec: specObj, weights: object,
    weightsHash: hash.toString(), dataHash: input.dataHash, samples: rows, correct: result.correct ?? 0, binding: input.binding,
    proof: { a: cd.a, b: cd.b, c: cd.c }, publicSignals: res.publicSignals, author, createdAt: new Date().toISOString(),
  };
  const id = ctx.objects.putJson(record);
  ctx.index.add(id, repo, salt);
  return { id, parent, correct: record.correct, samples: rows, proveMs: res.witnessMs + res.proveMs, clamped: q.clamped };
}

// ------------------------------------------------------------------------------------------ push

export async function push(ctx: RepoContext, repo: string, commit: string) {
  const entry = ctx.index.find(commit);
  if (entry.repo !== repo) throw new InputError(`commit ${commit} belongs to repository ${entry.repo}, not ${repo}`);
  if (entry.status === "pushed") return { commitId: big(entry.onchainId!), already: true, branch: "" };
  const rec = ctx.objects.getJson<LocalCommitRecord>(entry.id);
  const repoId = big(rec.repoId);
  // Said here rather than left to the contract's "does not verify": the fix is to push from the
  // author's account, or to train again where the commit is to go.
  if (rec.author.toLowerCase() !== ctx.ledger.account.toLowerCase())
    throw new FlavumError(`commit ${entry.id.slice(0, 12)} was proven for ${rec.author} and counts only when that account pushes it (this is ${ctx.ledger.account}): push it --from that account`, "WRONG_AUTHOR");
  if (rec.binding !== undefined && big(rec.binding) !== (await ctx.ledger.trainingBinding(repoId, rec.author)))
    throw new FlavumError(`commit ${entry.id.slice(0, 12)} was proven for another chain or ModelRepository contract than ${ctx.hre.network.name}'s: train it again here`, "WRONG_BINDING");
  const parentWeights = (await ctx.ledger.commit(big(rec.parent))).weightsHash;
  const usedBy = await ctx.ledger.trainingUse(repoId, parentWeights, big(rec.dataHash));
  if (usedBy !== 0n) throw new FlavumError(explain("FlavumTrainingReused", [repoId, parentWeights, rec.dataHash, usedBy]), "TRAINING_REUSED");
  // A contributor writes to a branch of their own, created at the commit they trained from.
  const branch = `${rec.author.slice(2, 10).toLowerCase()}-${rec.parent}`;
  if (!(await ctx.ledger.hasBranch(repoId, branch))) await ctx.ledger.createBranch(repoId, branch, big(rec.parent));
  const proof = {
    a: rec.proof.a.map(big) as [bigint, bigint],
    b: rec.proof.b.map((r) => r.map(big)) as [[bigint, bigint], [bigint, bigint]],
    c: rec.proof.c.map(big) as [bigint, bigint],
  };
  const { commitId, txHash } = await ctx.ledger.pushCommit(
    repoId, branch, big(rec.parent), big(rec.weightsHash), big(rec.dataHash), rec.samples, rec.correct,
    `flavum://objects/${entry.id}`, proof,
  );
  ctx.index.markPushed(entry.id, commitId);
  return { commitId, txHash, branch, already: false };
}

// ------------------------------------------------------------------------------ merge and review

/**
 * Everything ModelRepository.merge will check, checked from chain state before the FedAvg is proven
 * (minutes for a large model) — a merge the contract would refuse fails in a second, with the message
 * the contract's revert would have produced. The chain may still move between this check and the
 * transaction; the contract stays the judge.
 */
async function mergePreflight(ctx: RepoContext, repo: string, repoId: bigint, mergeVerifiers: string[], ids: bigint[], target: string): Promise<ChainCommit[]> {
  const seen = new Set<bigint>();
  for (const id of ids) {
    if (seen.has(id)) throw new InputError(`commit ${id} is listed twice in --commits: a merge takes distinct commits`);
    seen.add(id);
  }
  const role = await ctx.ledger.roleOf(repoId, ctx.ledger.account);
  if (role < RepoRole.Maintainer) throw new FlavumError(explain("FlavumMissingRole", [repoId, ctx.ledger.account, RepoRole.Maintainer]), "NO_PERMISSION");
  const head = await ctx.ledger.head(repoId, target);
  const verifier = ids.length > 1 ? mergeVerifiers[ids.length - 2] : undefined;
  if (ids.length > 1 && (!verifier || /^0x0{40}$/.test(verifier)))
    throw new FlavumError(`repository ${repo} has no merge verifier for ${ids.length} commits (it merges ${MERGE_COUNTS.join(", ")})`, "NO_VERIFIER");
  const commits = await Promise.all(ids.map((id) => ctx.ledger.commit(id)));
  commits.forEach((c, i) => {
    if (c.repoId !== repoId) throw new FlavumError(`unknown commit ${ids[i]} in repository ${repo}`, "UNKNOWN_COMMIT");
    if (c.status !== CommitStatus.Proposed) throw new FlavumError(explain("FlavumWrongCommitStatus", [ids[i], c.status]), "WRONG_STATUS");
    const parent = c.parents[0] ?? 0n;
    if (parent !== head) throw new FlavumError(explain("FlavumStaleParent", [repoId, head, parent]), "STALE_PARENT");
    for (let j = 0; j < i; j++) {
      if (commits[j].weightsHash === c.weightsHash) throw new FlavumError(explain("FlavumMergeDuplicateWeights", [ids[j], ids[i]]), "DUPLICATE_WEIGHTS");
      if (commits[j].dataHash === c.dataHash) throw new FlavumError(explain("FlavumMergeDuplicateData", [ids[j], ids[i]]), "DUPLICATE_DATA");
    }
  });
  return commits;
}

export async function merge(ctx: RepoContext, repo: string, ids: bigint[], target = "main") {
  if (ids.length < 1 || ids.length > Math.max(...MERGE_COUNTS))
    throw new InputError(`--commits takes 1 to ${Math.max(...MERGE_COUNTS)} commit ids, got ${ids.length}`);
  const { repoId, spec, specObj, info } = await repoInfo(ctx, repo);
  const commits = await mergePreflight(ctx, repo, repoId, info.mergeVerifiers, ids, target);
  if (ids.length === 1) return ctx.ledger.merge(repoId, target, ids, commits[0].weightsHash, { a: [0n, 0n], b: [[0n, 0n], [0n, 0n]], c: [0n, 0n] });
  const weights = commits.map((c) => loadWeights(ctx, c.weightsHash));
  const circuit = await buildMergeCircuit(spec, ids.length, ctx.progress);
  const { input, weights: merged } = await mergeCircuitInput(spec, weights, commits.map((c) => c.samples));
  ctx.progress(`proving the FedAvg of ${ids.length} commits (${commits.map((c) => c.samples).join(" + ")} samples)`);
  const res = await prove(circuit.wasm, circuit.zkey, input, { progress: ctx.progress });
  const { hash } = await storeWeights(ctx, spec, specObj, merged);
  const cd = solidityCalldata(res.proof, res.publicSignals);
  return ctx.ledger.merge(repoId, target, ids, hash, { a: cd.a, b: cd.b, c: cd.c });
}

export async function reject(ctx: RepoContext, repo: string, id: bigint, reason: string) {
  const { repoId } = await repoInfo(ctx, repo);
  return ctx.ledger.reject(repoId, id, reason);
}

export async function revert(ctx: RepoContext, repo: string, to: bigint, branch = "main") {
  const { repoId } = await repoInfo(ctx, repo);
  return ctx.ledger.revertTo(repoId, branch, to);
}

// ----------------------------------------------------------------------------- log, diff and eval

const KIND = ["none", "initial", "train", "merge", "revert"];
const STATUS = ["none", "proposed", "merged", "rejected", "accepted"];

export interface LogEntry {
  id: string;
  kind: string;
  status: string;
  parents: string[];
  author: string;
  branch: string;
  metrics: { samples: number; correct: number; trainAccuracy: number | null };
  weightsHash: string;
  revertOf: string | null;
  verified: boolean;
}

export async function log(ctx: RepoContext, repo: string): Promise<{ repo: string; repoId: string; branches: { name: string; head: string }[]; commits: LogEntry[]; unpushed: string[] }> {
  const { repoId, spec } = await repoInfo(ctx, repo);
  // correct counts all n·K rows of a commit (samples), so the ratio is an accuracy; linear models have none.
  const accuracy = (c: ChainCommit) => (c.kind === CommitKind.Train && c.samples && spec.kind !== "linear" ? c.correct / c.samples : null);
  const ids = await ctx.ledger.commitsOf(repoId);
  const commits: LogEntry[] = [];
  for (const id of ids) {
    const c: ChainCommit = await ctx.ledger.commit(id);
    commits.push({
      id: id.toString(), kind: KIND[c.kind], status: STATUS[c.status], parents: c.parents.map(String), author: c.author, branch: c.branch,
      metrics: { samples: c.samples, correct: c.correct, trainAccuracy: accuracy(c) },
      weightsHash: "0x" + c.weightsHash.toString(16).padStart(64, "0"),
      revertOf: c.revertOf ? c.revertOf.toString() : null,
      // On the ledger means verified: ModelRepository accepts a training or merge commit only with a valid proof.
      verified: c.status !== CommitStatus.None,
    });
  }
  const branches = (await ctx.ledger.branches(repoId)).map((b) => ({ name: b.name, head: b.head.toString() }));
  return { repo, repoId: repoId.toString(), branches, commits, unpushed: ctx.index.unpushed(repo).map((c) => c.id) };
}

/** Per-layer change between two commits' weights: L2 norm and largest absolute change. */
export async function diff(ctx: RepoContext, a: bigint, b: bigint) {
  const [ca, cb] = await Promise.all([ctx.ledger.commit(a), ctx.ledger.commit(b)]);
  if (ca.repoId !== cb.repoId) throw new InputError(`commits ${a} and ${b} belong to different repositories`);
  const { spec } = await repoInfo(ctx, (await ctx.ledger.repository(ca.repoId)).name);
  const wa = weightsToFloat(spec, loadWeights(ctx, ca.weightsHash));
  const wb = weightsToFloat(spec, loadWeights(ctx, cb.weightsHash));
  const names = paramNames(spec);
  const layers = new Map<string, number[]>();
  names.forEach((n, j) => {
    const layer = n.replace(/\[.*$/, "");
    layers.set(layer, [...(layers.get(layer) ?? []), wb[j] - wa[j]]);
  });
  return [...layers].map(([layer, d]) => ({
    layer, params: d.length, l2: Math.sqrt(d.reduce((s, x) => s + x * x, 0)), maxAbs: Math.max(...d.map(Math.abs)),
  }));
}

/**
 * Evaluation runs the float model on the rows as given; features outside the training range are
 * reported (no commit was trained on such values) or, with `strict`, refused.
 */
export async function evalCommit(ctx: RepoContext, repo: string, id: bigint, dataFile: string, o: { strict?: boolean } = {}) {
  const { repoId, spec } = await repoInfo(ctx, repo);
  const c = await ctx.ledger.commit(id);
  if (c.repoId !== repoId) throw new FlavumError(`unknown commit ${id} in repository ${repo}`, "UNKNOWN_COMMIT");
  const data = readDataFile(dataFile);
  if (data.features.some((r) => r.length !== spec.d))
    throw new InputError(`data shape mismatch: ${dataFile} rows must have ${spec.d} features`);
  applyAdjustmentPolicy(featuresOutsideRange(spec, data.features), `data file ${dataFile}`, { strict: o.strict, progress: ctx.progress });
  return { commit: id.toString(), rows: data.features.length, ...evaluate(spec, weightsToFloat(spec, loadWeights(ctx, c.weightsHash)), data.features, data.labels) };
}

export function defaultContext(ctx: Omit<RepoContext, "progress"> & { progress?: Progress }): RepoContext {
  return { ...ctx, progress: ctx.progress ?? silent };
}
