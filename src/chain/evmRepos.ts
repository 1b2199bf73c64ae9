/**
 * ModelRepository on an EVM chain (ethers v6 through Hardhat's runtime). Reverts come back as the
 * contract's custom errors, translated into messages that say what was wrong, naming commits by
 * their commit ids (src/repos/commitIds.ts) rather than their token numbers.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Contract, LogDescription } from "ethers";
import { FlavumError } from "../errors";
import { EvmLedger } from "./evm";
import { readDeployments } from "./deployments";
import { RepoRole } from "./deployRepos";
import type { TrainingContext } from "../training/statement";
import { shortId } from "../repos/commitIds";

/** Entries per call of the paginated views (the contract returns at most 256). */
const PAGE = 256;

export interface ChainCommit {
  id: bigint;
  repoId: bigint;
  author: string;
  kind: number;
  status: number;
  branch: string;
  parents: bigint[];
  weightsHash: bigint;
  dataHash: bigint;
  samples: number;
  correct: number;
  revertOf: bigint;
  /** Training proofs chained in the commit (Train), 0 otherwise. */
  proofs: number;
  /** The commit id (0x + 64 hex digits), as the contract derives and records it. */
  contentId: string;
}

export interface GrothCalldata {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
}

/** IModelRepository.TrainingLink: one proof of a training commit's chain and what it proves. */
export interface TrainingLinkCalldata {
  newWeightsHash: bigint;
  dataHash: bigint;
  samples: number;
  correct: number;
  proof: GrothCalldata;
}

/**
 * The arguments of each custom error that are commit token numbers: messages show those commits'
 * ids instead (an unknown one keeps its number).
 */
const COMMIT_ARGS: Record<string, number[]> = {
  FlavumStaleParent: [1, 2],
  FlavumRejectedBase: [0],
  FlavumWrongCommitStatus: [0],
  FlavumInvalidTrainingProof: [1],
  FlavumTrainingReused: [3],
  FlavumMergeDuplicateWeights: [0, 1],
  FlavumMergeDuplicateData: [0, 1],
  FlavumWeightsMismatch: [0],
  FlavumNothingToRevert: [2],
  FlavumDuplicateCommit: [1],
};

const ROLE_NAMES = ["none", "contributor", "maintainer", "owner"];

export function recordedRepository(network: string): string {
  const a = readDeployments(network).ModelRepository?.address;
  if (!a)
    throw new FlavumError(
      `no ModelRepository is recorded for network "${network}"; run \`npx hardhat rollup:deploy --network ${network}\``,
      "NO_DEPLOYMENT",
    );
  return a;
}

/** A custom error of ModelRepository, as a sentence. */
export function explain(name: string, args: readonly unknown[]): string {
  const a = args.map((x) => String(x));
  switch (name) {
    case "FlavumMissingRole":
      return `no permission: ${a[1]} needs the ${ROLE_NAMES[Number(a[2])] ?? a[2]} role in repository ${a[0]}`;
    case "FlavumBranchNotWritable":
      return `no permission: ${a[2]} may not write to branch "${a[1]}" of repository ${a[0]}`;
    case "FlavumStaleParent":
      return `stale parent: the branch head is commit ${a[1]}, but the commit was made from ${a[2]}; pull and train again`;
    case "FlavumUnknownCommit":
      return `unknown commit ${a[1]}${a[0] !== "0" ? ` in repository ${a[0]}` : ""}`;
    case "FlavumUnknownRepositoryName":
      return `unknown repository "${a[0]}"`;
    case "FlavumUnknownRepository":
      return `unknown repository ${a[0]}`;
    case "FlavumUnknownBranch":
      return `unknown branch "${a[1]}" in repository ${a[0]}`;
    case "FlavumInvalidTrainingProof":
      return `the training proof does not verify: proof ${Number(a[2]) + 1} of the chain, for this data, weights and pusher, from the weights ` +
        `${a[2] === "0" ? `of parent ${a[1]}` : `proof ${a[2]} produced`} (repository ${a[0]}; a chain verifies only in the order it was trained, ` +
        `and a proof counts only for the account, repository, chain and contract it was made for)`;
    case "FlavumTrainingReused":
      return `this training was already pushed: commit ${a[3]} of repository ${a[0]} trained on the same data commitment from the same parent weights (a training counts once)`;
    case "FlavumChainRepeatsLink":
      return `proof ${Number(a[0]) + 1} of the chain trains on the same data commitment from the same weights as an earlier proof of it (a training counts once)`;
    case "FlavumInvalidChainLength":
      return `a training commit chains 1 to ${a[1]} proofs, got ${a[0]}`;
    case "FlavumTooManySamples":
      return `a training commit's proofs may sum to at most ${2 ** 32 - 1} samples, got ${a[0]}`;
    case "FlavumInvalidSamples":
      return `proof ${Number(a[0]) + 1} of the chain claims ${a[1]} samples with ${a[2]} correct (each proof needs at least 1 sample and at most as many correct)`;
    case "FlavumDuplicateCommit":
      return `commit ${a[1]} already has commit id ${a[0]}`;
    case "FlavumRejectedBase":
      return `commit ${a[0]} is rejected: nothing builds on it, branches from it or reverts to it`;
    case "FlavumMergeDuplicateWeights":
      return `commits ${a[0]} and ${a[1]} have the same weights: merging both would count one update twice`;
    case "FlavumMergeDuplicateData":
      return `commits ${a[0]} and ${a[1]} committed the same data: merging both would count the same samples twice`;
    case "FlavumInvalidMergeProof":
      return `the merge proof of ${a[1]} commits does not verify (repository ${a[0]})`;
    case "FlavumWrongCommitStatus":
      return `commit ${a[0]} is not in a state that allows this (status ${["none", "proposed", "merged", "rejected", "accepted"][Number(a[1])] ?? a[1]})`;
    case "FlavumDuplicateName":
      return `a repository named "${a[0]}" already exists (id ${a[1]})`;
    default:
      return `${name}(${a.join(", ")})`;
  }
}

export class EvmRepoLedger {
  private constructor(readonly hre: HardhatRuntimeEnvironment, readonly contract: Contract, readonly account: string, readonly evm: EvmLedger) {}

  static async connect(hre: HardhatRuntimeEnvironment, address: string, signerIndex = 0): Promise<EvmRepoLedger> {
    const evm = new EvmLedger(hre, signerIndex);
    const signer = await evm.signer();
    if ((await hre.ethers.provider.getCode(address)) === "0x")
      throw new FlavumError(`no contract at the recorded ModelRepository address ${address} on ${hre.network.name}: redeploy with rollup:deploy`, "NO_DEPLOYMENT");
    const contract = (await hre.ethers.getContractAt("ModelRepository", address, signer)) as unknown as Contract;
    return new EvmRepoLedger(hre, contract, await signer.getAddress(), evm);
  }

  /** Sends a transaction; a revert with a known custom error becomes a FlavumError saying why. */
  private async send(fn: string, args: unknown[]): Promise<{ hash: string; logs: { name: string; args: Record<string, unknown> }[]; gasUsed: bigint }> {
    try {
      const { tx, receipt } = await this.evm.send(`ModelRepository.${fn}`, this.contract.getFunction(fn)(...args));
      const logs = receipt.logs
        .map((l) => this.contract.interface.parseLog(l))
        .filter((p): p is LogDescription => p !== null)
        .map((p) => ({ name: p.name, args: p.args as unknown as Record<string, unknown> }));
      return { hash: tx.hash, logs, gasUsed: receipt.gasUsed };
    } catch (e) {
      throw await this.translate(e);
    }
  }

  /** The contract's error, with the commit token numbers among its arguments shown as commit ids. */
  private async translate(e: unknown): Promise<Error> {
    const revert = decodeRevert(this.contract, e);
    if (!revert) return e as Error;
    const args = [...revert.args];
    for (const i of COMMIT_ARGS[revert.name] ?? []) {
      try {
        const token = BigInt(String(args[i]));
        if (token !== 0n) args[i] = shortId((await this.commit(token)).contentId);
      } catch {
        /* not a known commit: keep its number */
      }
    }
    return new FlavumError(explain(revert.name, args), "REVERTED");
  }

  private async view<T>(fn: string, args: unknown[]): Promise<T> {
    try {
      return (await this.contract.getFunction(fn)(...args)) as T;
    } catch (e) {
      throw await this.translate(e);
    }
  }

  /** The commit id a transaction's CommitIdentified event recorded, if it created a commit. */
  private static identified(logs: { name: string; args: Record<string, unknown> }[]): string | undefined {
    return logs.find((l) => l.name === "CommitIdentified")?.args.contentId as string | undefined;
  }

  async createRepository(name: string, weightsHash: bigint, architectureHash: string, trainVerifier: string, mergeVerifiers: string[], uri: string) {
    const r = await this.send("createRepository", [name, toBytes32(weightsHash), architectureHash, trainVerifier, mergeVerifiers, uri]);
    const ev = r.logs.find((l) => l.name === "RepositoryCreated")!;
    return { repoId: ev.args.repoId as bigint, initialCommit: ev.args.initialCommit as bigint, initialId: EvmRepoLedger.identified(r.logs)!, txHash: r.hash };
  }

  async invite(repoId: bigint, account: string, role: RepoRole): Promise<string> {
    return (await this.send("invite", [repoId, account, role])).hash;
  }

  async createBranch(repoId: bigint, name: string, fromCommit: bigint): Promise<void> {
    await this.send("createBranch", [repoId, name, fromCommit]);
  }

  /** Pushes a training commit: its chain of proofs, in training order (one link for a single proof). */
  async pushCommit(repoId: bigint, branch: string, parent: bigint, chain: readonly TrainingLinkCalldata[], uri: string) {
    const links = chain.map((l) => ({ newWeightsHash: toBytes32(l.newWeightsHash), dataHash: toBytes32(l.dataHash), samples: l.samples, correct: l.correct, proof: l.proof }));
    const r = await this.send("pushCommit", [repoId, branch, parent, links, uri]);
    return { commitId: r.logs.find((l) => l.name === "CommitPushed")!.args.commitId as bigint, contentId: EvmRepoLedger.identified(r.logs)!, txHash: r.hash, gasUsed: r.gasUsed };
  }

  /** `contentId` is the merge commit's id, undefined for a fast-forward (no new commit). */
  async merge(repoId: bigint, branch: string, commits: bigint[], weightsHash: bigint, proof: GrothCalldata) {
    const r = await this.send("merge", [repoId, branch, commits, toBytes32(weightsHash), proof]);
    const ev = r.logs.find((l) => l.name === "Merged");
    const moved = r.logs.find((l) => l.name === "HeadMoved");
    return { commitId: (ev?.args.mergeCommit ?? moved?.args.head) as bigint, contentId: EvmRepoLedger.identified(r.logs), txHash: r.hash, gasUsed: r.gasUsed };
  }

  async reject(repoId: bigint, commitId: bigint, reason: string): Promise<string> {
    return (await this.send("reject", [repoId, commitId, reason])).hash;
  }

  async revertTo(repoId: bigint, branch: string, to: bigint) {
    const r = await this.send("revertTo", [repoId, branch, to]);
    return { commitId: r.logs.find((l) => l.name === "Reverted")!.args.commitId as bigint, contentId: EvmRepoLedger.identified(r.logs)!, txHash: r.hash };
  }

  async repoIdByName(name: string): Promise<bigint> {
    return this.view<bigint>("repositoryByName", [name]);
  }

  async repository(repoId: bigint) {
    const r = await this.view<{ name: string; architectureHash: string; trainVerifier: string; mergeVerifiers: string[]; initialCommit: bigint; uri: string }>("repository", [repoId]);
    return { name: r.name, architectureHash: r.architectureHash, trainVerifier: r.trainVerifier, mergeVerifiers: [...r.mergeVerifiers], initialCommit: r.initialCommit, uri: r.uri };
  }

  /** A repository's or commit's token URI (a training commit's: ipfs://<CID of its objects>). */
  async tokenURI(id: bigint): Promise<string> {
    return this.view<string>("tokenURI", [id]);
  }

  async commit(id: bigint): Promise<ChainCommit> {
    const c = await this.view<Record<string, unknown> & { parents: bigint[] }>("commit", [id]);
    return {
      id: c.id as bigint, repoId: c.repoId as bigint, author: c.author as string, kind: Number(c.kind), status: Number(c.status),
      branch: c.branch as string, parents: [...c.parents], weightsHash: BigInt(c.weightsHash as string), dataHash: BigInt(c.dataHash as string),
      samples: Number(c.samples), correct: Number(c.correct), revertOf: c.revertOf as bigint, proofs: Number(c.proofs),
      contentId: (c.contentId as string).toLowerCase(),
    };
  }

  /** The token number of the commit with id `contentId`, 0n if no commit has it (yet). */
  async commitIdOf(contentId: string): Promise<bigint> {
    return this.view<bigint>("commitIdOf", [contentId]);
  }

  /** The most training proofs one commit may chain. */
  async maxChainLength(): Promise<number> {
    return Number(await this.view<bigint>("maxChainLength", []));
  }

  /** The contract's chainDataHash (src/repos/trainingChain.ts computes the same). */
  async chainDataHash(dataHashes: readonly bigint[]): Promise<bigint> {
    return BigInt(await this.view<string>("chainDataHash", [dataHashes.map(toBytes32)]));
  }

  async head(repoId: bigint, branch: string): Promise<bigint> {
    return this.view<bigint>("head", [repoId, branch]);
  }

  /** Every branch, read page by page: the list has no upper bound. */
  async branches(repoId: bigint): Promise<{ name: string; head: bigint }[]> {
    const out: { name: string; head: bigint }[] = [];
    for (;;) {
      const [names, heads, total] = await this.view<[string[], bigint[], bigint]>("branchesOf", [repoId, out.length, PAGE]);
      names.forEach((name, i) => out.push({ name, head: heads[i] }));
      if (names.length === 0 || BigInt(out.length) >= total) return out;
    }
  }

  async hasBranch(repoId: bigint, name: string): Promise<boolean> {
    try {
      await this.contract.getFunction("branchInfo")(repoId, name);
      return true;
    } catch (e) {
      const err = await this.translate(e);
      if (/^unknown branch /.test(err.message)) return false;
      throw err;
    }
  }

  /** Every commit id, read page by page: the list has no upper bound. */
  async commitsOf(repoId: bigint): Promise<bigint[]> {
    const out: bigint[] = [];
    for (;;) {
      const [ids, total] = await this.view<[bigint[], bigint]>("commitsOf", [repoId, out.length, PAGE]);
      out.push(...ids);
      if (ids.length === 0 || BigInt(out.length) >= total) return out;
    }
  }

  /** Chain, contract, repository and author a training proof must be made for to be pushed by `author`. */
  async trainingContext(repoId: bigint, author = this.account): Promise<TrainingContext> {
    const { chainId } = await this.hre.ethers.provider.getNetwork();
    return { chainId, contract: await this.contract.getAddress(), repoId, author };
  }

  /** The contract's own binding (statement.ts computes the same; a mismatch means another contract or chain). */
  async trainingBinding(repoId: bigint, author = this.account): Promise<bigint> {
    return this.view<bigint>("trainingBinding", [repoId, author]);
  }

  /** The commit one of whose proofs used (repository, parent weights, data), or 0n. */
  async trainingUse(repoId: bigint, parentWeightsHash: bigint, dataHash: bigint): Promise<bigint> {
    return this.view<bigint>("trainingUse", [repoId, toBytes32(parentWeightsHash), toBytes32(dataHash)]);
  }

  async roleOf(repoId: bigint, account: string): Promise<RepoRole> {
    return Number(await this.view<bigint>("roleOf", [repoId, account])) as RepoRole;
  }

  async ownerOf(tokenId: bigint): Promise<string> {
    return this.view<string>("ownerOf", [tokenId]);
  }
}

/**
 * The custom error `contract` (or a library it uses) reverted with in `e`, from ethers' decoded
 * revert, the raw revert data, or the message text; undefined if `e` is not such a revert.
 */
export function decodeRevert(contract: Contract, e: unknown): { name: string; args: unknown[] } | undefined {
  const data = (e as { data?: string })?.data ?? (e as { error?: { data?: string } })?.error?.data;
  const parsed = (() => {
    try {
      return data ? contract.interface.parseError(data) : null;
    } catch {
      return null;
    }
  })();
  return (e as { revert?: { name: string; args: unknown[] } }).revert ?? (parsed ? { name: parsed.name, args: [...parsed.args] } : undefined) ?? fromMessage(e);
}

/**
 * Over JSON-RPC (a `hardhat node`) the revert reaches us only as text:
 * "reverted with custom error 'FlavumMissingRole(1, "0x…", 2)'".
 */
function fromMessage(e: unknown): { name: string; args: unknown[] } | undefined {
  const m = /custom error '(\w+)\((.*)\)'/.exec(String((e as Error)?.message ?? ""));
  if (!m) return undefined;
  const args = m[2] ? m[2].split(/,\s*/).map((a) => a.replace(/^"|"$/g, "")) : [];
  return { name: m[1], args };
}

export function toBytes32(v: bigint): string {
  return "0x" + v.toString(16).padStart(64, "0");
}
