/**
 * "GitHub for ML models": the repository workflow over the ModelRepository contract. Weights and
 * training specs live in the local content-addressed store, bound to their on-chain commitments;
 * training data never leaves this machine — only its commitments and proofs do. A training commit
 * trains on every row of the file, a chain of proofs (./trainingChain.ts); every commit has one id,
 * its content id (./commitIds.ts), which every function here takes and returns.
 */
import fs from "fs";
import { readJsonFile } from "../jsonFile";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { FlavumError, InputError } from "../errors";
import {
  TrainingSpec, trainingSpec, quantizeData, weightsFromFloat, weightsToFloat, commitWeights,
  evaluate, paramNames, featuresOutsideRange, trainingBinding, newDataSalt,
  Aggregation, aggregationOf, describeShape, trainingCostSummary, dataShape, describeTrunk, evaluateTrunk, frozenTrunkModel, trunkTrainingSpec,
} from "../training";
import { applyAdjustmentPolicy } from "../quant/adjustments";
import { prove, solidityCalldata, Progress, silent } from "../zk";
import { EvmLedger } from "../chain/evm";
import { EvmRepoLedger, ChainCommit, GrothCalldata, explain } from "../chain/evmRepos";
import { ambiguous, matchesPrefix, mergeCommitId, parseCommitRef, shortId, trainCommitId } from "./commitIds";
import { chainDataHash, linkCalldata, planChain, proveChain, StoredLink } from "./trainingChain";
import { CommitKind, CommitStatus, MAX_MERGE, MERGE_COUNTS, RepoRole, mergeVerifierSlots } from "../chain/deployRepos";
import { ObjectStore } from "./objectStore";
import { LocalIndex } from "./localIndex";
import { trainableFromOnnx, trainableShape } from "./fromOnnx";
import { writeTrainedOnnx } from "./toOnnx";
import { buildMergeCircuit, buildRepoCircuits, buildTrainingCircuit, mergeInput } from "./circuits";
import { assertSetupAllowed } from "../zk/setupPolicy";
import { commitObjectBlocks, commitUri } from "./ipfsObjects";

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
 * What `repo:train` produces and `repo:push` sends: the chain of proofs, parent → links[0] → … →
 * links[P-1], and what the contract will record (weightsHash = the last link's, dataHash =
 * chainDataHash of the links', samples and correct their sums). Every proof is bound to `author`
 * (and to the repository, chain and contract: `binding`); the data salt is not here but in the
 * local index. Records written before chains (one proof: `proof`, `publicSignals`, no `links`) are
 * read as a chain of one.
 */
interface LocalCommitRecord {
  repo: string;
  repoId: string;
  branch: string;
  /** The parent's token number, and its commit id. */
  parent: string;
  parentId?: string;
  parentWeightsHash?: string;
  spec: string;
  weights: string;
  weightsHash: string;
  dataHash: string;
  samples: number;
  correct: number;
  /** Distinct rows of the data file, epochs over them, rows per proof (n·K). */
  rows?: number;
  epochs?: number;
  chunkRows?: number;
  binding: string;
  links?: StoredLink[];
  proof?: GrothCalldata;
  publicSignals?: string[];
  author: string;
  createdAt: string;
}

/** A record's chain and the dataHash the contract will record for it. */
function chainOf(rec: LocalCommitRecord): { links: StoredLink[]; dataHash: bigint } {
  // Computed from the links, as the contract will: the record's own dataHash is for reading only.
  if (rec.links?.length) return { links: rec.links, dataHash: chainDataHash(rec.links.map((l) => l.dataHash)) };
  if (!rec.proof) throw new FlavumError(`commit record of ${rec.repo} has no proof`, "CORRUPT_OBJECT");
  const s = (v: unknown) => String(v);
  const link: StoredLink = {
    newWeightsHash: rec.weightsHash, dataHash: rec.dataHash, samples: rec.samples, correct: rec.correct,
    proof: { a: rec.proof.a.map(s), b: rec.proof.b.map((r) => r.map(s)), c: rec.proof.c.map(s) }, publicSignals: rec.publicSignals ?? [],
  };
  return { links: [link], dataHash: chainDataHash([rec.dataHash]) };
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

/** A commit resolved from what a user gave: its token number and its on-chain record (with its id). */
interface Resolved {
  token: bigint;
  commit: ChainCommit;
}

/**
 * A commit of repository `repoId` from a commit id, a prefix of one (8+ hex digits) or a token
 * number. A commit trained here but not pushed yet is named as such.
 */
export async function resolveCommit(ctx: RepoContext, repo: string, repoId: bigint, ref: string | bigint): Promise<Resolved> {
  const r = parseCommitRef(ref);
  const unknown = () => {
    const local = r.kind === "token" ? undefined : ctx.index.lookup(r.kind === "id" ? r.id : r.hex);
    if (local?.status === "trained")
      return new FlavumError(`commit ${shortId(local.id)} was trained here but is not on chain yet: push it first (repo:push --commit ${shortId(local.id)})`, "NOT_PUSHED");
    return new FlavumError(`unknown commit ${String(ref)} in repository ${repo}`, "UNKNOWN_COMMIT");
  };
  let token: bigint;
  if (r.kind === "token") token = r.token;
  else if (r.kind === "id") token = await ctx.ledger.commitIdOf(r.id);
  else {
    const matches: ChainCommit[] = [];
    for (const id of await ctx.ledger.commitsOf(repoId)) {
      const c = await ctx.ledger.commit(id);
      if (matchesPrefix(c.contentId, r.hex)) matches.push(c);
    }
    if (matches.length > 1) throw ambiguous(String(ref), matches.map((c) => c.contentId));
    token = matches[0]?.id ?? 0n;
  }
  if (token === 0n) throw unknown();
  let commit: ChainCommit;
  try {
    commit = await ctx.ledger.commit(token);
  } catch (e) {
    if (/^unknown commit /.test((e as Error).message)) throw unknown();
    throw e;
  }
  if (commit.repoId !== repoId) throw unknown();
  return { token, commit };
}

export async function repoInfo(ctx: RepoContext, repo: string) {
  const repoId = await ctx.ledger.repoIdByName(repo);
  const r = await ctx.ledger.repository(repoId);
  const specObj = r.architectureHash.replace(/^0x/, "");
  const spec = ctx.objects.getJson<TrainingSpec>(specObj);
  return { repoId, spec, specObj, info: r };
}

export function loadWeights(ctx: RepoContext, weightsHash: bigint): bigint[] {
  return ctx.objects.getJson<WeightsObject>(ctx.objects.resolve(weightsHash)).weights.map(big);
}

export async function storeWeights(ctx: RepoContext, spec: TrainingSpec, specObj: string, weights: bigint[]): Promise<{ hash: bigint; object: string }> {
  const hash = await commitWeights(spec, weights);
  const object = ctx.objects.putJson({ spec: specObj, weights: weights.map(String) } satisfies WeightsObject);
  ctx.objects.bind(hash, object);
  return { hash, object };
}

/**
 * The URI a commit with these weights records: ipfs://<manifest CID> of its spec (the repository's
 * exact spec text) and weights, computed offline — peers pull them from whoever serves the
 * repository (repo:serve, src/repos/ipfsSync.ts), verified against the chain.
 */
export async function objectsUri(ctx: RepoContext, specObj: string, spec: TrainingSpec, weights: readonly bigint[]): Promise<string> {
  const specText = ctx.objects.get(specObj).toString("utf8");
  return commitUri((await commitObjectBlocks({ spec, weights: [...weights], specText })).published.cid);
}

// ---------------------------------------------------------------------------------------- create

export interface CreateOptions {
  batch?: number;
  steps?: number;
  lr?: number;
  /** Merge rule (default fedavg) and, for "trimmed", the values dropped at each end. */
  aggregation?: Aggregation;
  trim?: number;
  /** The training proof's bound on ||Δw||₂ per proof (real units). */
  maxUpdateNorm?: number;
  /** Merge sizes to build verifiers for (default 2, 3, 4). */
  mergeSizes?: readonly number[];
  /** Train only the dense head after this node of a CNN: the trunk up to it stays frozen, its inference proven in every step. */
  trainFrom?: string;
  /** Raw input rows (a JSON array of rows, or {"features"}) to quantize the frozen trunk with. */
  calibration?: string;
  /** Accept development / one-party keys on networks other than hardhat and localhost. */
  insecureDevSetup?: boolean;
}

/**
 * The merge sizes a repository supports, checked against its rule: a trimmed mean of k needs 2·trim < k.
 * None at all is allowed: the repository then only fast-forwards single commits.
 */
export function checkMergeSizes(spec: TrainingSpec, sizes: readonly number[]): number[] {
  const out = [...new Set(sizes)].sort((a, b) => a - b);
  for (const k of out) {
    if (!Number.isInteger(k) || k < 2 || k > MAX_MERGE) throw new InputError(`--merge-sizes: ${k} is not a merge size (integers 2 … ${MAX_MERGE}; one commit is a fast-forward)`);
    if (aggregationOf(spec) === "trimmed" && 2 * spec.trim! >= k)
      throw new InputError(`--merge-sizes: a trimmed mean dropping ${spec.trim} value(s) at each end needs more than ${2 * spec.trim!} commits, got ${k}`);
  }
  return out;
}

/** The calibration rows of a frozen trunk: a JSON array of raw rows, or a data file's {"features"}. */
function calibrationRows(file: string | undefined): number[][] {
  if (!file) throw new InputError(`--train-from needs --calibration <file>: raw input rows (a JSON array of rows, or {"features": [...]}) to quantize the frozen trunk with`);
  const v = readJsonFile(file, "calibration file") as unknown;
  const rows = Array.isArray(v) ? v : (v as { features?: unknown })?.features;
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every((r) => Array.isArray(r) && r.every((x) => typeof x === "number" && Number.isFinite(x))))
    throw new InputError(`calibration file ${file}: expected a non-empty JSON array of rows of numbers, or {"features": [[...], ...]}`);
  return rows as number[][];
}

export async function createRepo(ctx: RepoContext, name: string, onnx: string, o: CreateOptions = {}) {
  const rules = { n: o.batch, K: o.steps, lr: o.lr, aggregation: o.aggregation, trim: o.trim, maxUpdateNorm: o.maxUpdateNorm };
  let spec: TrainingSpec;
  let initial: number[];
  if (o.trainFrom !== undefined) {
    const m = frozenTrunkModel(onnx, o.trainFrom, calibrationRows(o.calibration));
    spec = trunkTrainingSpec(m, rules);
    initial = m.head.weights;
    // The float trunk (evaluation, ONNX export) is rebuilt from the file, found by the sha256 the spec names.
    if (ctx.objects.put(fs.readFileSync(onnx)) !== spec.trunk!.onnxSha256) throw new FlavumError(`internal: ${onnx} changed while it was read`, "CORRUPT_OBJECT");
  } else {
    if (o.calibration !== undefined) throw new InputError(`--calibration is for a frozen trunk: give --train-from <node> too`);
    const model = trainableFromOnnx(onnx);
    spec = trainingSpec({ ...trainableShape(model), ...rules });
    initial = model.weights;
  }
  const sizes = checkMergeSizes(spec, o.mergeSizes ?? MERGE_COUNTS);
  const specObj = ctx.objects.putJson(spec);
  ctx.progress(
    `repository ${name}: ${spec.trunk ? `${describeTrunk(spec.trunk)}, then ` : ""}${spec.kind} model ${describeShape(spec)}, mini-batches of ${spec.n}, ${spec.K} step(s) per proof, lr ${spec.lr}, ` +
      (sizes.length ? `merges by ${aggregationOf(spec)}${spec.trim ? ` (trim ${spec.trim})` : ""} of ${sizes.join("/")} commits` : "no proven merges (single commits fast-forward)") +
      (spec.maxUpdateNorm !== undefined ? `, update norm <= ${spec.maxUpdateNorm} per proof` : ""),
  );
  ctx.progress(trainingCostSummary(spec));
  const { train, merges } = await buildRepoCircuits(spec, sizes, ctx.progress);
  for (const c of [train, ...merges])
    await assertSetupAllowed({ network: ctx.hre.network.name, keys: c.keys, dir: c.dir, insecureDevSetup: o.insecureDevSetup, what: `the ${c.kind === "train" ? "training" : `merge-of-${c.k}`} circuit of repository ${name}`, progress: ctx.progress });
  await ctx.hre.run("compile", { quiet: true });
  const evm = new EvmLedger(ctx.hre, ctx.signerIndex);
  const deploy = async (c: { contract: string; keys: { hash: string; vkHash?: string } }) =>
    (await evm.existing(`verifier:${c.contract}`, c.keys.vkHash ?? c.keys.hash))?.address ??
    (await evm.deploy(c.contract, [], `verifier:${c.contract}`, c.keys.vkHash ?? c.keys.hash)).record.address;
  const trainVerifier = await deploy(train);
  const byK = new Map<number, string>();
  for (const m of merges) byK.set(m.k!, await deploy(m));
  const weights = weightsFromFloat(spec, initial);
  const { hash } = await storeWeights(ctx, spec, specObj, weights);
  const r = await ctx.ledger.createRepository(name, hash, "0x" + specObj, trainVerifier, mergeVerifierSlots(byK), await objectsUri(ctx, specObj, spec, weights));
  return { ...r, commit: r.initialId, spec, constraints: { train: train.keys.constraints, merge: merges.map((m) => m.keys.constraints) }, mergeSizes: sizes };
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

/** A branch head's weights (float) and, with `onnxOut`, the head written as an ONNX model (./toOnnx.ts). */
export async function pull(ctx: RepoContext, repo: string, branch = "main", onnxOut?: string) {
  const { repoId, spec } = await repoInfo(ctx, repo);
  const head = await ctx.ledger.head(repoId, branch);
  const c = await ctx.ledger.commit(head);
  const weights = weightsToFloat(spec, loadWeights(ctx, c.weightsHash));
  // A trunk repository's model is its frozen trunk (from the original file) with the trained head grafted on.
  if (onnxOut) writeTrainedOnnx(onnxOut, spec, weights, spec.trunk ? { base: { onnx: ctx.objects.verifiedPath(spec.trunk.onnxSha256), upTo: spec.trunk.upTo } } : {});
  return { repoId, branch, head: c.contentId, spec, weights, names: paramNames(spec) };
}

export interface TrainOptions {
  branch?: string;
  steps?: number;
  lr?: number;
  /** Passes over the file's rows (default 1): the commit chains epochs · rows / (n·K) proofs. */
  epochs?: number;
  /** Refuse data with features outside the training range instead of clamping them with a warning. */
  strict?: boolean;
}

/**
 * Trains on every row of `dataFile` for `epochs` epochs from the branch head, as a chain of proofs
 * (./trainingChain.ts), and records the commit locally under its commit id (returned as `id`).
 */
export async function train(ctx: RepoContext, repo: string, dataFile: string, o: TrainOptions = {}) {
  const { repoId, spec, specObj } = await repoInfo(ctx, repo);
  const branch = o.branch ?? "main";
  const parent = await ctx.ledger.head(repoId, branch);
  const parentCommit = await ctx.ledger.commit(parent);
  const author = ctx.ledger.account;
  const binding = trainingBinding(await ctx.ledger.trainingContext(repoId, author));
  // The contract derives the binding itself: disagreeing here means the proof could never be pushed.
  const onChain = await ctx.ledger.trainingBinding(repoId, author);
  if (onChain !== binding) throw new FlavumError(`internal: the training binding computed here (${binding}) differs from ModelRepository's (${onChain})`, "BINDING_MISMATCH");
  const parentWeights = loadWeights(ctx, parentCommit.weightsHash);
  const t = await proveTraining(ctx, repo, spec, dataFile, o, { weights: parentWeights, label: `commit ${shortId(parentCommit.contentId)} (${branch})` }, binding);
  const { chain, plan } = t;
  const { object } = await storeWeights(ctx, spec, specObj, chain.weights);
  const id = trainCommitId(repoId, parentCommit.weightsHash, chain.dataHash);
  const record: LocalCommitRecord = {
    repo, repoId: repoId.toString(), branch, parent: parent.toString(), parentId: parentCommit.contentId, parentWeightsHash: parentCommit.weightsHash.toString(),
    spec: specObj, weights: object, weightsHash: chain.weightsHash.toString(), dataHash: chain.dataHash.toString(),
    samples: chain.samples, correct: chain.correct, rows: plan.rows, epochs: plan.epochs, chunkRows: plan.chunkRows,
    binding: binding.toString(), links: chain.links, author, createdAt: new Date().toISOString(),
  };
  ctx.index.add(id, repo, t.salt, ctx.objects.putJson(record));
  return {
    id, parent: parentCommit.contentId, rows: plan.rows, epochs: plan.epochs, proofs: plan.proofs, samples: chain.samples,
    correct: chain.correct, proveMs: chain.proveMs, clamped: t.clamped,
  };
}

/**
 * Trains on every row of `dataFile` for `o.epochs` epochs from `parent`'s weights as a chain of
 * proofs, every proof bound to `binding` (whoever, wherever it is to count). Checks the options
 * against the repository's fixed circuit and the data against its shape before any proof.
 */
export async function proveTraining(
  ctx: RepoContext, repo: string, spec: TrainingSpec, dataFile: string, o: TrainOptions,
  parent: { weights: bigint[]; label: string }, binding: bigint,
) {
  if (o.steps !== undefined && o.steps !== spec.K)
    throw new InputError(`--steps ${o.steps}: repository ${repo} proves ${spec.K} step(s) per proof (its circuit is fixed at creation)`);
  if (o.lr !== undefined && o.lr !== spec.lr)
    throw new InputError(`--lr ${o.lr}: repository ${repo} trains with lr ${spec.lr} (its circuit is fixed at creation)`);
  const epochs = o.epochs ?? 1;
  const data = readDataFile(dataFile);
  if (data.features.length !== data.labels.length)
    throw new InputError(`data shape mismatch: ${dataFile} has ${data.features.length} feature rows but ${data.labels.length} labels`);
  const plan = planChain(dataFile, data.features.length, spec, epochs, await ctx.ledger.maxChainLength());
  const q = quantizeData(spec, data.features, data.labels);
  applyAdjustmentPolicy(q.adjustments, `data file ${dataFile}`, { strict: o.strict, progress: ctx.progress });
  const salt = newDataSalt();
  const circuit = await buildTrainingCircuit(spec, ctx.progress);
  ctx.progress(
    `training from ${parent.label} on ${plan.rows} private rows, ${plan.epochs} epoch(s): ` +
      `${plan.proofs} proof(s) of ${spec.K} step(s) on ${plan.chunkRows} rows each`,
  );
  const chain = await proveChain({ spec, circuit, parent: parent.weights, X: q.X, y: q.y, plan, binding, salt, progress: ctx.progress });
  return { chain, plan, salt, clamped: q.clamped };
}

// ------------------------------------------------------------------------------------------ push

/**
 * Sends a local commit (by its id or a prefix of it): the contract verifies every proof of its
 * chain in one transaction and records it under the same id.
 */
export async function push(ctx: RepoContext, repo: string, commit: string) {
  const entry = ctx.index.find(commit);
  if (entry.repo !== repo) throw new InputError(`commit ${shortId(entry.id)} belongs to repository ${entry.repo}, not ${repo}`);
  const rec = ctx.objects.getJson<LocalCommitRecord>(entry.record);
  if ((rec as { via?: string }).via === "rollup")
    throw new FlavumError(`commit ${shortId(entry.id)} was proven for the repository's rollup, not for ModelRepository: push it with --via rollup`, "WRONG_BINDING");
  const repoId = big(rec.repoId);
  const { links, dataHash } = chainOf(rec);
  const parentCommit = await ctx.ledger.commit(big(rec.parent));
  const parentWeights = parentCommit.weightsHash;
  const id = trainCommitId(repoId, parentWeights, dataHash);
  const name = shortId(id);
  // The chain is the judge of "pushed" (the index may predate a redeployment or a reset development chain).
  const existing = await ctx.ledger.commitIdOf(id);
  if (existing !== 0n) {
    ctx.index.markPushed(entry.id, existing);
    return { commit: id, commitId: existing, already: true, branch: "", proofs: links.length };
  }
  // Said here rather than left to the contract's "does not verify": the fix is to push from the
  // author's account, or to train again where the commit is to go.
  if (rec.author.toLowerCase() !== ctx.ledger.account.toLowerCase())
    throw new FlavumError(`commit ${name} was proven for ${rec.author} and counts only when that account pushes it (this is ${ctx.ledger.account}): push it --from that account`, "WRONG_AUTHOR");
  if (rec.binding !== undefined && big(rec.binding) !== (await ctx.ledger.trainingBinding(repoId, rec.author)))
    throw new FlavumError(`commit ${name} was proven for another chain or ModelRepository contract than ${ctx.hre.network.name}'s: train it again here`, "WRONG_BINDING");
  const max = await ctx.ledger.maxChainLength();
  if (links.length > max) throw new FlavumError(explain("FlavumInvalidChainLength", [links.length, max]), "CHAIN_TOO_LONG");
  // Every link's (parent weights, data) pair must be unused: checked here link by link, so a replay is
  // named before the transaction (the contract checks the same before any pairing).
  let from = parentWeights;
  for (const [i, l] of links.entries()) {
    const usedBy = await ctx.ledger.trainingUse(repoId, from, big(l.dataHash));
    if (usedBy !== 0n) {
      const by = shortId((await ctx.ledger.commit(usedBy)).contentId);
      throw new FlavumError(explain("FlavumTrainingReused", [repoId, from, l.dataHash, by]) + (links.length > 1 ? ` (proof ${i + 1} of ${links.length})` : ""), "TRAINING_REUSED");
    }
    from = big(l.newWeightsHash);
  }
  // A contributor writes to a branch of their own, created at the commit they trained from.
  const branch = `${rec.author.slice(2, 10).toLowerCase()}-${rec.parent}`;
  if (!(await ctx.ledger.hasBranch(repoId, branch))) await ctx.ledger.createBranch(repoId, branch, big(rec.parent));
  // The commit's URI names its spec and weights on IPFS, so collaborators elsewhere can pull them.
  const spec = ctx.objects.getJson<TrainingSpec>(rec.spec);
  const weights = ctx.objects.getJson<WeightsObject>(rec.weights).weights.map(big);
  const r = await ctx.ledger.pushCommit(repoId, branch, big(rec.parent), links.map(linkCalldata), await objectsUri(ctx, rec.spec, spec, weights));
  if (r.contentId !== id) throw new FlavumError(`internal: ModelRepository recorded commit id ${r.contentId}, this machine computed ${id}`, "ID_MISMATCH");
  ctx.index.markPushed(entry.id, r.commitId);
  return { commit: id, commitId: r.commitId, txHash: r.txHash, gasUsed: r.gasUsed, branch, proofs: links.length, already: false };
}

// ------------------------------------------------------------------------------ merge and review

/** The merge sizes k ≥ 2 a repository has verifiers for (`mergeVerifiers[k - 2]`, the zero address: none). */
export function mergeSizes(mergeVerifiers: readonly string[]): number[] {
  return mergeVerifiers.map((v, i) => (/^0x0{40}$/.test(v) ? 0 : i + 2)).filter((k) => k > 0);
}

/**
 * Everything ModelRepository.merge will check, checked from chain state before the FedAvg is proven
 * (minutes for a large model) — a merge the contract would refuse fails in a second, with the message
 * the contract's revert would have produced. The chain may still move between this check and the
 * transaction; the contract stays the judge.
 */
async function mergePreflight(ctx: RepoContext, repo: string, repoId: bigint, mergeVerifiers: string[], refs: readonly (string | bigint)[], target: string): Promise<ChainCommit[]> {
  const role = await ctx.ledger.roleOf(repoId, ctx.ledger.account);
  if (role < RepoRole.Maintainer) throw new FlavumError(explain("FlavumMissingRole", [repoId, ctx.ledger.account, RepoRole.Maintainer]), "NO_PERMISSION");
  const head = await ctx.ledger.head(repoId, target);
  const commits: ChainCommit[] = [];
  for (const ref of refs) {
    const { commit: c } = await resolveCommit(ctx, repo, repoId, ref);
    if (commits.some((o) => o.id === c.id)) throw new InputError(`commit ${shortId(c.contentId)} is listed twice in --commits: a merge takes distinct commits`);
    commits.push(c);
  }
  const sizes = mergeSizes(mergeVerifiers);
  if (refs.length > 1 && !sizes.includes(refs.length)) {
    throw new FlavumError(`repository ${repo} has no merge verifier for ${refs.length} commits (it merges 1${sizes.length ? `, ${sizes.join(", ")}` : ""})`, "NO_VERIFIER");
  }
  const name = (c: ChainCommit) => shortId(c.contentId);
  const headId = (await ctx.ledger.commit(head)).contentId;
  for (const [i, c] of commits.entries()) {
    if (c.status !== CommitStatus.Proposed) throw new FlavumError(explain("FlavumWrongCommitStatus", [name(c), c.status]), "WRONG_STATUS");
    const parent = c.parents[0] ?? 0n;
    if (parent !== head) {
      const from = parent === 0n ? "none" : shortId((await ctx.ledger.commit(parent)).contentId);
      throw new FlavumError(explain("FlavumStaleParent", [repoId, shortId(headId), from]), "STALE_PARENT");
    }
    for (let j = 0; j < i; j++) {
      if (commits[j].weightsHash === c.weightsHash) throw new FlavumError(explain("FlavumMergeDuplicateWeights", [name(commits[j]), name(c)]), "DUPLICATE_WEIGHTS");
      if (commits[j].dataHash === c.dataHash) throw new FlavumError(explain("FlavumMergeDuplicateData", [name(commits[j]), name(c)]), "DUPLICATE_DATA");
    }
  }
  return commits;
}

/**
 * Merges 1–8 commits (ids, prefixes or token numbers) into `target`: the repository's proven
 * aggregation (FedAvg, median or trimmed mean) for 2–8, a fast-forward for one. Returns the new head's commit id (the merge commit's, or the fast-forwarded one's).
 */
export async function merge(ctx: RepoContext, repo: string, refs: readonly (string | bigint)[], target = "main") {
  if (refs.length < 1 || refs.length > MAX_MERGE)
    throw new InputError(`--commits takes 1 to ${MAX_MERGE} commit ids, got ${refs.length}`);
  const { repoId, spec, specObj, info } = await repoInfo(ctx, repo);
  const commits = await mergePreflight(ctx, repo, repoId, info.mergeVerifiers, refs, target);
  const ids = commits.map((c) => c.id);
  if (ids.length === 1) {
    const r = await ctx.ledger.merge(repoId, target, ids, commits[0].weightsHash, { a: [0n, 0n], b: [[0n, 0n], [0n, 0n]], c: [0n, 0n] });
    return { ...r, commit: commits[0].contentId };
  }
  const weights = commits.map((c) => loadWeights(ctx, c.weightsHash));
  const circuit = await buildMergeCircuit(spec, ids.length, ctx.progress);
  const { input, weights: merged } = await mergeInput(spec, weights, commits.map((c) => c.samples));
  ctx.progress(`proving the ${aggregationOf(spec)} merge of ${ids.length} commits (${commits.map((c) => c.samples).join(" + ")} samples)`);
  const res = await prove(circuit.wasm, circuit.zkey, input, { progress: ctx.progress });
  const { hash } = await storeWeights(ctx, spec, specObj, merged);
  const cd = solidityCalldata(res.proof, res.publicSignals);
  const expected = mergeCommitId(repoId, hash, commits.map((c) => c.contentId));
  const r = await ctx.ledger.merge(repoId, target, ids, hash, { a: cd.a, b: cd.b, c: cd.c });
  if (r.contentId !== expected) throw new FlavumError(`internal: ModelRepository recorded merge commit id ${r.contentId}, this machine computed ${expected}`, "ID_MISMATCH");
  return { ...r, commit: expected };
}

export async function reject(ctx: RepoContext, repo: string, ref: string | bigint, reason: string) {
  const { repoId } = await repoInfo(ctx, repo);
  const { token, commit } = await resolveCommit(ctx, repo, repoId, ref);
  const txHash = await ctx.ledger.reject(repoId, token, reason);
  return { commit: commit.contentId, txHash };
}

/** A new commit on `branch` with the weights of commit `to`; returns its id. */
export async function revert(ctx: RepoContext, repo: string, to: string | bigint, branch = "main") {
  const { repoId } = await repoInfo(ctx, repo);
  const { token, commit } = await resolveCommit(ctx, repo, repoId, to);
  const r = await ctx.ledger.revertTo(repoId, branch, token);
  return { ...r, commit: r.contentId, to: commit.contentId };
}

// ----------------------------------------------------------------------------- log, diff and eval

const KIND = ["none", "initial", "train", "merge", "revert"];
const STATUS = ["none", "proposed", "merged", "rejected", "accepted"];

export interface LogEntry {
  /** The commit id (the one every command prints and takes). */
  id: string;
  /** Its ERC-721 token number (ownerOf, tokenURI); also accepted as input. */
  token: string;
  kind: string;
  status: string;
  /** Parents' commit ids. */
  parents: string[];
  author: string;
  branch: string;
  metrics: { samples: number; correct: number; trainAccuracy: number | null };
  /** Training proofs chained in the commit (training commits), 0 otherwise. */
  proofs: number;
  weightsHash: string;
  dataHash: string | null;
  revertOf: string | null;
  verified: boolean;
}

export async function log(ctx: RepoContext, repo: string): Promise<{ repo: string; repoId: string; branches: { name: string; head: string }[]; commits: LogEntry[]; unpushed: string[] }> {
  const { repoId, spec } = await repoInfo(ctx, repo);
  // correct counts all rows of a commit's proofs (samples), so the ratio is an accuracy; linear models have none.
  const accuracy = (c: ChainCommit) => (c.kind === CommitKind.Train && c.samples && spec.kind !== "linear" ? c.correct / c.samples : null);
  const chain: ChainCommit[] = [];
  for (const id of await ctx.ledger.commitsOf(repoId)) chain.push(await ctx.ledger.commit(id));
  const idOf = new Map(chain.map((c) => [c.id, c.contentId]));
  const named = (token: bigint) => idOf.get(token) ?? token.toString();
  const hex = (v: bigint) => "0x" + v.toString(16).padStart(64, "0");
  const commits: LogEntry[] = chain.map((c) => ({
    id: c.contentId, token: c.id.toString(), kind: KIND[c.kind], status: STATUS[c.status], parents: c.parents.map(named), author: c.author, branch: c.branch,
    metrics: { samples: c.samples, correct: c.correct, trainAccuracy: accuracy(c) }, proofs: c.proofs,
    weightsHash: hex(c.weightsHash), dataHash: c.kind === CommitKind.Train ? hex(c.dataHash) : null,
    revertOf: c.revertOf ? named(c.revertOf) : null,
    // On the ledger means verified: ModelRepository accepts a training or merge commit only with valid proofs.
    verified: c.status !== CommitStatus.None,
  }));
  const branches = (await ctx.ledger.branches(repoId)).map((b) => ({ name: b.name, head: named(b.head) }));
  return { repo, repoId: repoId.toString(), branches, commits, unpushed: ctx.index.unpushed(repo).map((c) => c.id) };
}

/**
 * Per-layer change between two commits' weights: L2 norm and largest absolute change. Commits by id
 * or token number; a prefix of an id needs the repository.
 */
export async function diff(ctx: RepoContext, a: string | bigint, b: string | bigint, repo?: string) {
  const find = async (ref: string | bigint): Promise<ChainCommit> => {
    const r = parseCommitRef(ref);
    if (repo) return (await resolveCommit(ctx, repo, await ctx.ledger.repoIdByName(repo), ref)).commit;
    if (r.kind === "prefix") throw new InputError(`commit ${String(ref)}: a shortened commit id needs --repo (or give the whole id)`);
    const token = r.kind === "token" ? r.token : await ctx.ledger.commitIdOf(r.id);
    if (token === 0n) throw new FlavumError(`unknown commit ${String(ref)}`, "UNKNOWN_COMMIT");
    return ctx.ledger.commit(token);
  };
  const [ca, cb] = [await find(a), await find(b)];
  if (ca.repoId !== cb.repoId) throw new InputError(`commits ${shortId(ca.contentId)} and ${shortId(cb.contentId)} belong to different repositories`);
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
export async function evalCommit(ctx: RepoContext, repo: string, ref: string | bigint, dataFile: string, o: { strict?: boolean } = {}) {
  const { repoId, spec } = await repoInfo(ctx, repo);
  const { commit: c } = await resolveCommit(ctx, repo, repoId, ref);
  const data = readDataFile(dataFile);
  const width = dataShape(spec).width;
  if (data.features.some((r) => r.length !== width))
    throw new InputError(`data shape mismatch: ${dataFile} rows must have ${width} ${spec.trunk ? "raw input values (the frozen trunk's input)" : "features"}`);
  applyAdjustmentPolicy(featuresOutsideRange(spec, data.features), `data file ${dataFile}`, { strict: o.strict, progress: ctx.progress });
  const w = weightsToFloat(spec, loadWeights(ctx, c.weightsHash));
  const e = spec.trunk
    ? evaluateTrunk(spec, w, ctx.objects.get(spec.trunk.onnxSha256), data.features, data.labels)
    : evaluate(spec, w, data.features, data.labels);
  return { commit: c.contentId, accuracy: e.accuracy ?? null, loss: e.loss, rows: data.features.length };
}

export function defaultContext(ctx: Omit<RepoContext, "progress"> & { progress?: Progress }): RepoContext {
  return { ...ctx, progress: ctx.progress ?? silent };
}
