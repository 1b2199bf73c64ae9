/**
 * Training inside the rollup: a repository's commits settled a round at a time through
 * RepositoryRollup (contracts/repos/RepositoryRollup.sol) instead of one `pushCommit` each.
 *
 * - A contributor trains from the rollup's head with every proof bound to the rollup
 *   (`trainForRollup`, `repo:train --via rollup`) and sends the commit to the repository's sequencer
 *   (`pushToRollup`, `repo:push --via rollup`): a proposal file, written atomically into the
 *   sequencer's inbox (a directory; on one machine the default, across machines a shared folder).
 * - The sequencer, a maintainer, settles what its inbox holds (`settleRollupRound`, `repo:settle`):
 *   every proposal is checked alone against the chain by simulating a round of just that proposal,
 *   so a bad one is set aside with its reason and never blocks the others; the good ones are merged
 *   with the repository's proven aggregation and settled in one transaction.
 * - After each round the head's weights are written to the inbox's `heads/` (and the local object
 *   store): contributors train from them, checked against the commitment on chain.
 *
 * Crash safety: proposals move to `settled/` only after their round is on chain; a proposal whose
 * training the chain already settled (a crash between the two) is moved there on the next run.
 */
import fs from "fs";
import path from "path";
import { FlavumError, InputError } from "../errors";
import { commitWeights, aggregationOf, trainingBinding, type TrainingSpec } from "../training";
import { prove, solidityCalldata } from "../zk";
import { cacheRoot } from "../zk/paths";
import { verifyingKeyCalldata, keyInVerifierCode } from "../zk/batchVerifyingKey";
import { readJsonFile } from "../jsonFile";
import { writeFileAtomically } from "../atomicFile";
import { RepoRole } from "../chain/deployRepos";
import { EvmRepoRollupLedger, NO_PROOF, type RoundCommitCalldata } from "../chain/evmRepoRollup";
import { shortId, trainCommitId } from "./commitIds";
import { chainDataHash, linkCalldata, type StoredLink } from "./trainingChain";
import { buildMergeCircuit, buildTrainingCircuit, mergeInput } from "./circuits";
import { loadWeights, mergeSizes, proveTraining, repoInfo, storeWeights, type RepoContext, type TrainOptions } from "./workflow";

export interface RollupRepoContext extends RepoContext {
  rollup: EvmRepoRollupLedger;
  /** The sequencer's inbox: pending/, settled/, rejected/ and heads/ below it, per repository. */
  inboxRoot: string;
}

/** Where proposals go on this machine unless told otherwise. */
export function defaultInboxRoot(network: string): string {
  return path.join(cacheRoot(), "repos", network, "rollup-inbox");
}

/** A commit on its way to the sequencer: everything the round needs, nothing secret. */
export interface RollupProposal {
  version: 1;
  repo: string;
  repoId: string;
  chainId: string;
  /** The RepositoryRollup its proofs are bound to. */
  rollup: string;
  author: string;
  /** The head weights it trained from, and the rollup round that head belongs to. */
  head: string;
  round: number;
  commit: string;
  weightsHash: string;
  /** The trained weights (public, as an L1 commit's are): the sequencer merges them. */
  weights: string[];
  samples: number;
  correct: number;
  links: StoredLink[];
  createdAt: string;
}

/** What `trainForRollup` keeps in the local index: a proposal not yet sent. */
interface RollupCommitRecord extends Omit<RollupProposal, "version" | "createdAt"> {
  via: "rollup";
  spec: string;
  createdAt: string;
}

const big = (v: string | bigint | number) => BigInt(v);
const dirs = (ctx: RollupRepoContext, repo: string) => {
  const root = path.join(ctx.inboxRoot, repo);
  return { root, pending: path.join(root, "pending"), settled: path.join(root, "settled"), rejected: path.join(root, "rejected"), heads: path.join(root, "heads") };
};

let arrivals = 0;
/**
 * A proposal's file name: its arrival time first, so the sequencer takes proposals first come,
 * first served (name order), the commit id last. The counter orders one process's proposals within
 * a millisecond.
 */
function arrivalName(commit: string): string {
  return `${String(Date.now()).padStart(15, "0")}-${String(arrivals++).padStart(6, "0")}-${commit}.json`;
}

function moveInto(dir: string, file: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const to = path.join(dir, path.basename(file));
  fs.renameSync(file, to);
  return to;
}

async function openRollupOf(ctx: RollupRepoContext, repo: string, repoId: bigint) {
  const info = await ctx.rollup.rollupOf(repoId);
  if (!info.open) throw new FlavumError(`repository ${repo} has no open rollup: its owner opens it with \`npx hardhat repo:rollup-open --repo ${repo}\``, "NOT_OPEN");
  return info;
}

/** Writes the head's weights where contributors look for them, keyed by their commitment. */
function publishHead(ctx: RollupRepoContext, repo: string, specObj: string, hash: bigint, weights: readonly bigint[]): void {
  writeFileAtomically(path.join(dirs(ctx, repo).heads, `${hash}.json`), JSON.stringify({ spec: specObj, weights: weights.map(String) }));
}

/**
 * The rollup head's weights: from the local object store, or from the inbox's heads/ (checked
 * against the commitment, then kept locally).
 */
async function headWeights(ctx: RollupRepoContext, repo: string, spec: TrainingSpec, specObj: string, head: bigint): Promise<bigint[]> {
  if (ctx.objects.opens(head)) return loadWeights(ctx, head);
  const file = path.join(dirs(ctx, repo).heads, `${head}.json`);
  if (!fs.existsSync(file)) throw new FlavumError(`the weights of repository ${repo}'s rollup head ${head} are neither in the local store nor in ${path.dirname(file)}: ask its sequencer for them`, "MISSING_WEIGHTS");
  const weights = (readJsonFile(file, "rollup head weights") as { weights: string[] }).weights.map(big);
  const { hash } = await storeWeights(ctx, spec, specObj, weights);
  if (hash !== head) throw new FlavumError(`${file} holds weights committing to ${hash}, not to the rollup head ${head}: refusing them`, "CORRUPT_OBJECT");
  return weights;
}

// ------------------------------------------------------------------------------------------ open

/**
 * Opens repository `repo`'s rollup (its owner): fixes the training circuit's verifying key, after
 * checking that every constant of that key is in the code of the repository's L1 training verifier
 * (so the rollup accepts the proofs L1 would, and no others).
 */
export async function openRollup(ctx: RollupRepoContext, repo: string) {
  const { repoId, spec, specObj, info } = await repoInfo(ctx, repo);
  const role = await ctx.ledger.roleOf(repoId, ctx.ledger.account);
  if (role < RepoRole.Owner) throw new FlavumError(`no permission: ${ctx.ledger.account} needs the owner role in repository ${repo} to open its rollup`, "NO_PERMISSION");
  const circuit = await buildTrainingCircuit(spec, ctx.progress);
  const vk = verifyingKeyCalldata(JSON.parse(fs.readFileSync(circuit.vkey, "utf8")));
  const code = await ctx.hre.ethers.provider.getCode(info.trainVerifier);
  const missing = keyInVerifierCode(vk, code);
  if (missing.length)
    throw new FlavumError(`the training key built here is not the key of repository ${repo}'s training verifier ${info.trainVerifier} (${missing.length} constants missing, first ${missing[0]}): rebuild from the repository's spec`, "KEY_MISMATCH");
  const r = await ctx.rollup.open(repoId, vk);
  const state = await ctx.rollup.rollupOf(repoId);
  if (ctx.objects.opens(state.head)) publishHead(ctx, repo, specObj, state.head, loadWeights(ctx, state.head));
  return { repoId, head: state.head, baseCommit: state.baseCommit, keyHash: state.keyHash, txHash: r.txHash, gasUsed: r.gasUsed };
}

// ------------------------------------------------------------------------------- train and push

/** Trains from the rollup head, every proof bound to the rollup; the commit is kept here until sent. */
export async function trainForRollup(ctx: RollupRepoContext, repo: string, dataFile: string, o: TrainOptions = {}) {
  if (o.branch !== undefined && o.branch !== "main") throw new InputError(`--branch ${o.branch}: rollup commits train from the rollup's head, which has no branches`);
  const { repoId, spec, specObj } = await repoInfo(ctx, repo);
  const state = await openRollupOf(ctx, repo, repoId);
  const author = ctx.rollup.account;
  const binding = trainingBinding(await ctx.rollup.trainingContext(repoId, author));
  const onChain = await ctx.rollup.trainingBinding(repoId, author);
  if (onChain !== binding) throw new FlavumError(`internal: the training binding computed here (${binding}) differs from RepositoryRollup's (${onChain})`, "BINDING_MISMATCH");
  const parent = await headWeights(ctx, repo, spec, specObj, state.head);
  const t = await proveTraining(ctx, repo, spec, dataFile, o, { weights: parent, label: `the rollup head (round ${state.round})` }, binding);
  const { chain, plan } = t;
  await storeWeights(ctx, spec, specObj, chain.weights);
  const id = trainCommitId(repoId, state.head, chain.dataHash);
  const record: RollupCommitRecord = {
    via: "rollup", repo, repoId: repoId.toString(), chainId: (await ctx.rollup.trainingContext(repoId)).chainId.toString(), rollup: await ctx.rollup.address,
    author, head: state.head.toString(), round: state.round, commit: id, spec: specObj, weightsHash: chain.weightsHash.toString(),
    weights: chain.weights.map(String), samples: chain.samples, correct: chain.correct, links: chain.links, createdAt: new Date().toISOString(),
  };
  ctx.index.add(id, repo, t.salt, ctx.objects.putJson(record));
  return { id, head: state.head.toString(), round: state.round, rows: plan.rows, proofs: plan.proofs, samples: chain.samples, correct: chain.correct, proveMs: chain.proveMs, clamped: t.clamped };
}

/** Whether a commit trained here was made for the rollup (`repo:push` then needs `--via rollup`). */
export function isRollupRecord(rec: unknown): boolean {
  return (rec as { via?: string } | undefined)?.via === "rollup";
}

/** Sends a commit trained for the rollup to the sequencer's inbox. */
export async function pushToRollup(ctx: RollupRepoContext, repo: string, commit: string) {
  const entry = ctx.index.find(commit);
  if (entry.repo !== repo) throw new InputError(`commit ${shortId(entry.id)} belongs to repository ${entry.repo}, not ${repo}`);
  const rec = ctx.objects.getJson<RollupCommitRecord>(entry.record);
  const name = shortId(entry.id);
  if (!isRollupRecord(rec)) throw new FlavumError(`commit ${name} was proven for ModelRepository on L1: push it without --via rollup (or train again with --via rollup)`, "WRONG_BINDING");
  const repoId = big(rec.repoId);
  if (rec.rollup.toLowerCase() !== (await ctx.rollup.address).toLowerCase())
    throw new FlavumError(`commit ${name} was proven for the RepositoryRollup at ${rec.rollup}, not this network's: train it again here`, "WRONG_BINDING");
  const state = await openRollupOf(ctx, repo, repoId);
  if (state.head !== big(rec.head))
    throw new FlavumError(`stale parent: commit ${name} trained from the rollup head of round ${rec.round}, and round ${state.round} moved the head: train again from the new head`, "STALE_PARENT");
  const first = rec.links[0];
  const used = await ctx.rollup.trainingUse(repoId, big(rec.head), big(first.dataHash));
  if (used !== 0) throw new FlavumError(`commit ${name} was already settled, in round ${used}`, "TRAINING_REUSED");
  const { createdAt: _c, via: _v, spec: _s, ...rest } = rec;
  const proposal: RollupProposal = { version: 1, ...rest, createdAt: new Date().toISOString() };
  const file = path.join(dirs(ctx, repo).pending, arrivalName(entry.id));
  writeFileAtomically(file, JSON.stringify(proposal));
  return { commit: entry.id, file, head: rec.head, round: rec.round, proofs: rec.links.length, samples: rec.samples };
}

// -------------------------------------------------------------------------------------- settle

export interface SettleOptions {
  /** Which of the round's commits to merge: "all" (default), "none", or the first k. */
  merge?: "all" | "none" | number;
  /** At most this many commits in the round (default: the contract's limit). */
  max?: number;
}

interface Candidate {
  file: string;
  p: RollupProposal;
  weights: bigint[];
}

/** The contract's view of a set of proposals: its commits, proofs and flat inputs. */
function roundCalldata(cs: readonly Candidate[]) {
  const commits: RoundCommitCalldata[] = cs.map((c) => ({ author: c.p.author, links: c.p.links.length }));
  const links = cs.flatMap((c) => c.p.links);
  if (links.some((l) => !Array.isArray(l.publicSignals) || l.publicSignals.length !== 5)) throw new InputError("a proposal's proof does not carry its 5 public signals");
  return { commits, proofs: links.map((l) => linkCalldata(l).proof), inputs: links.flatMap((l) => l.publicSignals.map(big)) };
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Reads and shape-checks one proposal file; what is wrong with it is thrown as an InputError. */
async function readProposal(ctx: RollupRepoContext, file: string, spec: TrainingSpec, expect: { repoId: bigint; chainId: string; rollup: string }): Promise<Candidate> {
  const p = readJsonFile(file, "rollup proposal") as RollupProposal;
  if (p?.version !== 1 || !Array.isArray(p.links) || !p.links.length || !Array.isArray(p.weights) || typeof p.author !== "string")
    throw new InputError(`not a rollup proposal (version 1 with author, links and weights)`);
  if (big(p.repoId) !== expect.repoId || p.chainId !== expect.chainId || p.rollup.toLowerCase() !== expect.rollup.toLowerCase())
    throw new InputError(`made for repository ${p.repoId} of RepositoryRollup ${p.rollup} on chain ${p.chainId}, not this one`);
  const weights = p.weights.map(big);
  const last = p.links[p.links.length - 1];
  if ((await commitWeights(spec, weights)) !== big(last.newWeightsHash)) throw new InputError(`its weights do not open its commitment ${last.newWeightsHash}`);
  const id = trainCommitId(expect.repoId, big(p.head), chainDataHash(p.links.map((l) => l.dataHash)));
  if (id !== p.commit) throw new InputError(`its commit id ${p.commit} is not its content's (${id})`);
  return { file, p, weights };
}

/**
 * Settles one round from the inbox: checks every pending proposal alone against the chain (a
 * simulated round of just it), sets aside the ones that fail with their reason, proves the merge of
 * the good ones and settles them in one transaction.
 */
export async function settleRollupRound(ctx: RollupRepoContext, repo: string, o: SettleOptions = {}) {
  const { repoId, spec, specObj, info } = await repoInfo(ctx, repo);
  const state = await openRollupOf(ctx, repo, repoId);
  const role = await ctx.ledger.roleOf(repoId, ctx.rollup.account);
  if (role < RepoRole.Maintainer) throw new FlavumError(`no permission: ${ctx.rollup.account} needs the maintainer role in repository ${repo} to settle its rounds`, "NO_PERMISSION");
  const limits = await ctx.rollup.limits();
  const max = o.max ?? limits.commits;
  if (!Number.isInteger(max) || max < 1 || max > limits.commits) throw new InputError(`--max ${o.max}: a round settles 1 to ${limits.commits} commits`);
  const d = dirs(ctx, repo);
  const files = fs.existsSync(d.pending) ? fs.readdirSync(d.pending).filter((f) => f.endsWith(".json")).sort() : [];
  const expect = { repoId, chainId: (await ctx.rollup.trainingContext(repoId)).chainId.toString(), rollup: await ctx.rollup.address };
  const settled = new Set((await ctx.rollup.settledCommits(repoId)).map((c) => c.contentId));

  const rejected: { file: string; reason: string }[] = [];
  const already: string[] = [];
  const reject = (file: string, reason: string) => {
    const to = moveInto(d.rejected, file);
    writeFileAtomically(`${to}.reason.txt`, reason + "\n");
    rejected.push({ file: path.basename(file), reason });
    ctx.progress(`set aside ${path.basename(file)}: ${reason}`);
  };
  const chosen: Candidate[] = [];
  let proofs = 0;
  const seenUses = new Set<string>();
  for (const f of files) {
    const file = path.join(d.pending, f);
    let c: Candidate;
    try {
      c = await readProposal(ctx, file, spec, expect);
    } catch (e) {
      reject(file, errorText(e));
      continue;
    }
    if (settled.has(c.p.commit)) {
      moveInto(d.settled, file);
      already.push(c.p.commit);
      continue;
    }
    if (chosen.length >= max || proofs + c.p.links.length > limits.proofs) continue; // waits for the next round
    const use = `${c.p.head}/${c.p.links[0].dataHash}`;
    if (seenUses.has(use)) {
      reject(file, `it repeats the training of another proposal in this round`);
      continue;
    }
    try {
      const one = roundCalldata([c]);
      await ctx.rollup.simulateRound(repoId, one.commits, one.proofs, one.inputs);
    } catch (e) {
      // The contract refused it: set it aside. Anything else (the node went away) stops the run, moving nothing.
      if (!(e instanceof FlavumError) && (e as { code?: string })?.code !== "CALL_EXCEPTION") throw e;
      reject(file, errorText(e));
      continue;
    }
    seenUses.add(use);
    chosen.push(c);
    proofs += c.p.links.length;
  }
  if (!chosen.length) return { repo, round: state.round, settled: 0, merged: [] as string[], head: state.head.toString(), rejected, already, pending: countPending(d.pending) };

  const k = o.merge === "none" ? 0 : o.merge === undefined || o.merge === "all" ? chosen.length : o.merge;
  if (!Number.isInteger(k) || k < 0 || k > Math.min(chosen.length, 8))
    throw new InputError(`--merge ${o.merge}: this round has ${chosen.length} commit(s) and merges at most ${Math.min(chosen.length, 8)} of them`);
  const sizes = mergeSizes(info.mergeVerifiers);
  if (k >= 2 && !sizes.includes(k))
    throw new FlavumError(`repository ${repo} has no merge verifier for ${k} commits (it merges 1${sizes.length ? `, ${sizes.join(", ")}` : ""}): settle with --merge <k> or --max <k>`, "NO_VERIFIER");
  const mergedSet = chosen.slice(0, k);
  let merge = { commits: mergedSet.map((_, i) => i), weightsHash: 0n, proof: NO_PROOF };
  let headWeightsAfter: bigint[] | undefined;
  if (k === 1) {
    merge.weightsHash = big(mergedSet[0].p.weightsHash);
    headWeightsAfter = mergedSet[0].weights;
  } else if (k >= 2) {
    const circuit = await buildMergeCircuit(spec, k, ctx.progress);
    const { input, weights } = await mergeInput(spec, mergedSet.map((c) => c.weights), mergedSet.map((c) => c.p.samples));
    ctx.progress(`proving the ${aggregationOf(spec)} merge of ${k} rollup commits (${mergedSet.map((c) => c.p.samples).join(" + ")} samples)`);
    const res = await prove(circuit.wasm, circuit.zkey, input, { progress: ctx.progress });
    const cd = solidityCalldata(res.proof, res.publicSignals);
    merge = { ...merge, weightsHash: await commitWeights(spec, weights), proof: { a: cd.a, b: cd.b, c: cd.c } };
    headWeightsAfter = weights;
  }
  const round = roundCalldata(chosen);
  ctx.progress(`settling round ${state.round + 1} of ${repo}: ${chosen.length} commit(s), ${proofs} proof(s), merging ${k}`);
  const r = await ctx.rollup.settleRound(repoId, round.commits, round.proofs, round.inputs, merge);
  for (const c of chosen) moveInto(path.join(d.settled, `round-${r.round}`), c.file);
  if (headWeightsAfter) {
    await storeWeights(ctx, spec, specObj, headWeightsAfter);
    publishHead(ctx, repo, specObj, r.head, headWeightsAfter);
  }
  const perCommit = r.gasUsed / BigInt(chosen.length);
  return {
    repo, round: r.round, settled: chosen.length, proofs, merged: mergedSet.map((c) => c.p.commit), head: r.head.toString(), root: r.root,
    txHash: r.txHash, gasUsed: r.gasUsed.toString(), gasPerCommit: perCommit.toString(),
    commits: r.commits.map((c) => ({ commit: c.contentId, author: c.author, samples: c.samples, correct: c.correct, proofs: c.links })),
    rejected, already, pending: countPending(d.pending),
  };
}

function countPending(dir: string): number {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")).length : 0;
}

// -------------------------------------------------------------------------------------- status

/** The rollup's state, its pending proposals and what each contributor's merged commits count. */
export async function rollupStatus(ctx: RollupRepoContext, repo: string) {
  const { repoId } = await repoInfo(ctx, repo);
  const state = await ctx.rollup.rollupOf(repoId);
  const commits = state.open ? await ctx.rollup.settledCommits(repoId) : [];
  const authors = [...new Set(commits.map((c) => c.author))];
  const contributors = [];
  for (const account of authors) {
    contributors.push({ account, commits: commits.filter((c) => c.author === account).length, samples: Number(await ctx.rollup.samplesOf(repoId, account)) });
  }
  const base = state.open ? (await ctx.ledger.commit(state.baseCommit)).contentId : null;
  return {
    repo, repoId: repoId.toString(), open: state.open, baseCommit: base, head: state.head.toString(), round: state.round, root: state.root,
    keyHash: state.keyHash, commits: commits.length, pending: countPending(dirs(ctx, repo).pending), contributors,
  };
}
