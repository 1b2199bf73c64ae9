/**
 * The provenance of a published model, re-verified from the chain alone: model → its commit →
 * parents → … → the repository's initial commit. The registry's weightsHash must be the commit's;
 * then every step of the weights' history is checked again with the repository's own verifiers,
 * on the proofs as they were sent (decoded from the original transactions' calldata):
 *   Train:  each proof of its chain, on [w_{i-1}, w_i, d_i, correct | samples << 32, binding(author)],
 *           w_{-1} the parent's weights, the last w the commit's, and the chain's dataHash and sample
 *           sum the commit's;
 *   Merge:  the merge proof on [w, h_1..h_k, n_1..n_k] with its k-commit verifier, each merged
 *           commit's own chain (they are the contributors), then the target head it started from;
 *   Revert: its weights are the restored commit's, whose history follows;
 *   Initial: the repository's initial commit, where the walk ends.
 * A commit sent through another contract (not a direct call) has no calldata to decode: reported as
 * a failed check, never skipped silently.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Contract, Interface, TransactionResponse } from "ethers";
import { CommitKind } from "../chain/deployRepos";
import { FlavumError } from "../errors";
import type { AuditCheck } from "./modelAudit";
import { ObjectStore } from "../repos/objectStore";
import { publishedGraph } from "../repos/publishGraph";
import type { TrainingSpec } from "../training/spec";
import { generateBatchCircuit } from "../codegen/batch";
import { hasher, log2Exact, zeroRoots } from "../rollup/merkle";
import { sourceHash } from "../zk/keys";
import { modelNameFromUri } from "../rollup/rebuild";
import { shortId } from "../repos/commitIds";

export interface ProvenanceStep {
  commitId: string;
  contentId: string;
  kind: string;
  author: string;
  samples: number;
  weightsHash: string;
  verified: boolean;
  detail: string;
}

export interface ProvenanceReport {
  ok: boolean;
  modelId: string;
  repository: string;
  repoId: string;
  commitId: string;
  chain: ProvenanceStep[];
  checks: AuditCheck[];
}

const MAX_STEPS = 512;
/** A decoded ethers Result as plain arrays: a frozen Result cannot be passed back into a call. */
const plain = (v: unknown): any => (Array.isArray(v) ? [...v].map(plain) : v);
const hex = (v: bigint) => "0x" + v.toString(16).padStart(64, "0");

type Commit = { id: bigint; repoId: bigint; author: string; kind: number; parents: bigint[]; weightsHash: bigint; dataHash: bigint; samples: bigint; revertOf: bigint; contentId: string };

export async function auditProvenance(
  hre: HardhatRuntimeEnvironment, registryAddress: string, modelId: bigint, o: { objects?: ObjectStore } = {},
): Promise<ProvenanceReport> {
  const { ethers } = hre;
  const registry = await ethers.getContractAt("ModelRegistry", registryAddress);
  const p = await registry.provenanceOf(modelId);
  if (p.repository === ethers.ZeroAddress) throw new FlavumError(`model ${modelId} was not published from a repository (registered with model:register)`, "BAD_INPUT");
  const repo = await ethers.getContractAt("ModelRepository", p.repository);
  const iface = repo.interface as unknown as Interface;
  const checks: AuditCheck[] = [];
  const chain: ProvenanceStep[] = [];
  const check = (name: string, expected: string, actual: string, note?: string) => {
    checks.push({ name, expected, actual, ok: expected === actual, ...(note ? { note } : {}) });
    return expected === actual;
  };
  const commitOf = async (id: bigint): Promise<Commit> => {
    const c = await repo.commit(id);
    return { id, repoId: c.repoId, author: c.author, kind: Number(c.kind), parents: [...c.parents], weightsHash: BigInt(c.weightsHash), dataHash: BigInt(c.dataHash), samples: c.samples, revertOf: c.revertOf, contentId: c.contentId };
  };
  const info = await repo.repository(p.repoId);
  const commitment = await registry.commitmentOf(modelId);
  const top = await commitOf(p.commitId);
  check("registered weightsHash = the commit's", hex(top.weightsHash), commitment.weightsHash.toLowerCase());
  check("commit belongs to the repository", p.repoId.toString(), top.repoId.toString());
  await checkProgram(registry, modelId, info.architectureHash, top.weightsHash, commitment.circuitHash, o.objects ?? new ObjectStore(), check);

  /** The transaction that created `commitId`, decoded: the event `name` names it. */
  const creatingCall = async (eventName: "CommitPushed" | "Merged", commitId: bigint) => {
    const logs = await repo.queryFilter((repo.filters as any)[eventName](p.repoId, commitId));
    if (!logs.length) throw new FlavumError(`no ${eventName} event for commit ${commitId}`, "BAD_INPUT");
    const tx = (await ethers.provider.getTransaction(logs[0].transactionHash)) as TransactionResponse;
    const parsed = tx.to?.toLowerCase() === p.repository.toLowerCase() ? iface.parseTransaction({ data: tx.data }) : null;
    return { parsed, txHash: tx.hash };
  };
  const trainVerifier = new Contract(info.trainVerifier, ["function verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[5]) view returns (bool)"], ethers.provider);

  /** Re-verifies a training commit's chain; returns a one-line account of it. */
  const verifyTrain = async (c: Commit): Promise<{ ok: boolean; detail: string }> => {
    const { parsed, txHash } = await creatingCall("CommitPushed", c.id);
    if (!parsed || parsed.name !== "pushCommit") return { ok: false, detail: `pushed in ${txHash} through another contract: its proofs cannot be decoded from calldata` };
    const links = parsed.args.chain as { newWeightsHash: string; dataHash: string; samples: bigint; correct: bigint; proof: { a: bigint[]; b: bigint[][]; c: bigint[] } }[];
    const parent = await commitOf(c.parents[0]);
    const binding = (await repo.trainingBinding(p.repoId, c.author)) as bigint;
    let w = parent.weightsHash;
    let samples = 0n;
    let ok = true;
    for (const l of links) {
      const pub = [w, BigInt(l.newWeightsHash), BigInt(l.dataHash), BigInt(l.correct) | (BigInt(l.samples) << 32n), binding];
      ok &&= (await trainVerifier.verifyProof(plain(l.proof.a), plain(l.proof.b), plain(l.proof.c), pub)) as boolean;
      w = BigInt(l.newWeightsHash);
      samples += BigInt(l.samples);
    }
    const dataHash = BigInt(await repo.chainDataHash(links.map((l) => String(l.dataHash))));
    ok &&= w === c.weightsHash && dataHash === c.dataHash && samples === c.samples;
    return { ok, detail: `${links.length} training proof(s) re-verified from ${shortId(parent.contentId)}; ${samples} samples` };
  };

  let at: Commit | undefined = top;
  let steps = 0;
  while (at) {
    if (++steps > MAX_STEPS) throw new FlavumError(`the history of model ${modelId} is longer than ${MAX_STEPS} commits`, "BAD_INPUT");
    const c: Commit = at;
    const step = (kind: string, verified: boolean, detail: string, who = c) =>
      chain.push({ commitId: who.id.toString(), contentId: who.contentId, kind, author: who.author, samples: Number(who.samples), weightsHash: hex(who.weightsHash), verified, detail });
    if (c.kind === CommitKind.Train) {
      const r = await verifyTrain(c);
      step("train", r.ok, r.detail);
      check(`commit ${c.id} (train) re-verified`, "true", String(r.ok), r.detail);
      at = await commitOf(c.parents[0]);
    } else if (c.kind === CommitKind.Merge) {
      const merged = await Promise.all(c.parents.slice(1).map(commitOf));
      const { parsed, txHash } = await creatingCall("Merged", c.id);
      let ok = false;
      let detail = `merged in ${txHash} through another contract: its proof cannot be decoded from calldata`;
      if (parsed?.name === "merge") {
        const k = merged.length;
        const verifier = new Contract(info.mergeVerifiers[k - 2], [`function verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[${2 * k + 1}]) view returns (bool)`], ethers.provider);
        const pub = [c.weightsHash, ...merged.map((m) => m.weightsHash), ...merged.map((m) => m.samples)];
        const proof = parsed.args.proof as { a: bigint[]; b: bigint[][]; c: bigint[] };
        ok = (await verifier.verifyProof(plain(proof.a), plain(proof.b), plain(proof.c), pub)) as boolean;
        detail = `merge of ${k} commits re-verified with the ${k}-commit verifier`;
      }
      step("merge", ok, detail);
      check(`commit ${c.id} (merge) re-verified`, "true", String(ok), detail);
      for (const m of merged) {
        const r = await verifyTrain(m);
        step("train (merged)", r.ok, r.detail, m);
        check(`commit ${m.id} (merged into ${c.id}) re-verified`, "true", String(r.ok), r.detail);
      }
      at = await commitOf(c.parents[0]);
    } else if (c.kind === CommitKind.Revert) {
      const to = await commitOf(c.revertOf);
      const ok = to.weightsHash === c.weightsHash;
      step("revert", ok, `restores the weights of commit ${to.id}`);
      check(`commit ${c.id} (revert) keeps commit ${to.id}'s weights`, hex(to.weightsHash), hex(c.weightsHash));
      at = to;
    } else {
      const ok = c.id === BigInt(info.initialCommit);
      step("initial", ok, `the repository's initial commit`);
      check("the walk ends at the repository's initial commit", info.initialCommit.toString(), c.id.toString());
      at = undefined;
    }
  }
  return {
    ok: checks.every((x) => x.ok), modelId: modelId.toString(), repository: p.repository, repoId: p.repoId.toString(), commitId: p.commitId.toString(), chain, checks,
  };
}

/**
 * The served program: the batch circuits regenerated from the repository's spec and the commit's
 * weights (this machine's objects; `repo:pull --peer` fetches them) must hash to the registered
 * circuit hash — what the weights binding alone cannot show (a circuit could take the commit's
 * weights and compute something else with them). The key and verifier behind that circuit hash are
 * model:audit's usual chain.
 */
async function checkProgram(
  registry: Contract, modelId: bigint, architectureHash: string, weightsHash: bigint, circuitHash: string, objects: ObjectStore,
  check: (name: string, expected: string, actual: string, note?: string) => boolean,
): Promise<void> {
  const name = "the served circuit is the commit's model";
  const uri = (await registry.tokenURI(modelId)) as string;
  const model = modelNameFromUri(uri);
  let spec: TrainingSpec;
  let weights: bigint[];
  try {
    spec = objects.getJson<TrainingSpec>(architectureHash.replace(/^0x/, ""));
    weights = objects.getJson<{ weights: string[] }>(objects.resolve(weightsHash)).weights.map(BigInt);
  } catch (e) {
    check(name, "the commit's spec and weights", "not on this machine", `${(e as Error).message}; pull them (repo:pull --peer) and audit again`);
    return;
  }
  if (!model) {
    check(name, "a flavum://models/<name> URI", uri);
    return;
  }
  const q = publishedGraph(spec, weights);
  const h = await hasher();
  const sizes = ((await registry.batchSizesOf(modelId)) as bigint[]).map(Number);
  const hashes = sizes.map((B) => "0x" + sourceHash(generateBatchCircuit(q, model, B, zeroRoots(h)[log2Exact(B)]).source));
  check(name, circuitHash.toLowerCase(), hashes.find((x) => x === circuitHash.toLowerCase()) ?? hashes.join(", "), `batch circuits of sizes ${sizes.join(", ")} regenerated from the commit`);
}


/** Whether model `modelId` was published from a repository commit. */
export async function isPublished(hre: HardhatRuntimeEnvironment, registryAddress: string, modelId: bigint): Promise<boolean> {
  const registry = await hre.ethers.getContractAt("ModelRegistry", registryAddress);
  return (await registry.provenanceOf(modelId)).repository !== hre.ethers.ZeroAddress;
}

export function formatProvenance(r: ProvenanceReport): string {
  const lines = [
    `model ${r.modelId}: published from repository ${r.repoId} at ${r.repository}, commit ${r.commitId}`,
    ...r.chain.map((s) => `  ${s.verified ? "ok  " : "FAIL"} ${s.kind.padEnd(14)} commit ${s.commitId.padStart(4)} ${s.contentId.slice(0, 10)}  by ${s.author}  ${s.detail}`),
    ...r.checks.filter((c) => !c.ok).map((c) => `  FAIL ${c.name}: expected ${c.expected}, found ${c.actual}`),
    r.ok ? `provenance verified: ${r.chain.length} commits, every step re-verified` : `provenance NOT verified`,
  ];
  return lines.join("\n");
}
