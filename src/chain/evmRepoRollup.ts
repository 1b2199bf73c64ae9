/**
 * RepositoryRollup on an EVM chain: repository training rounds settled as batches of verified proofs
 * (contracts/repos/RepositoryRollup.sol). Reverts come back as sentences naming what was wrong.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Contract, LogDescription } from "ethers";
import { FlavumError } from "../errors";
import { EvmLedger } from "./evm";
import { readDeployments } from "./deployments";
import { decodeRevert, toBytes32, type GrothCalldata } from "./evmRepos";
import type { TrainingContext } from "../training/statement";
import type { BatchVerifyingKey } from "../zk/batchVerifyingKey";

const ROLE_NAMES = ["none", "contributor", "maintainer", "owner"];

/** IRepositoryRollup.RollupInfo. */
export interface RollupInfo {
  open: boolean;
  baseCommit: bigint;
  head: bigint;
  round: number;
  root: string;
  keyHash: string;
}

/** One commit of a round as the contract takes it: its author and how many proofs it spans. */
export interface RoundCommitCalldata {
  author: string;
  links: number;
}

/** What a round merges: indices into its commits; the merged weights and proof for two or more. */
export interface RoundMergeCalldata {
  commits: number[];
  weightsHash: bigint;
  proof: GrothCalldata;
}

/** A settled commit, as its CommitSettled event records it. */
export interface SettledCommit {
  round: number;
  index: number;
  author: string;
  contentId: string;
  parentWeights: bigint;
  weightsHash: bigint;
  dataHash: bigint;
  samples: number;
  correct: number;
  links: number;
}

export const NO_PROOF: GrothCalldata = { a: [0n, 0n], b: [[0n, 0n], [0n, 0n]], c: [0n, 0n] };

export function recordedRepositoryRollup(network: string): string {
  const a = readDeployments(network).RepositoryRollup?.address;
  if (!a)
    throw new FlavumError(
      `no RepositoryRollup is recorded for network "${network}"; run \`npx hardhat rollup:deploy --network ${network}\``,
      "NO_DEPLOYMENT",
    );
  return a;
}

/** A custom error of RepositoryRollup, as a sentence. */
export function explainRollup(name: string, args: readonly unknown[]): string {
  const a = args.map((x) => String(x));
  const link = (i: string, j: string) => `proof ${Number(j) + 1} of commit ${Number(i) + 1} of the round`;
  switch (name) {
    case "FlavumRollupMissingRole":
      return `no permission: ${a[1]} needs the ${ROLE_NAMES[Number(a[2])] ?? a[2]} role in repository ${a[0]}`;
    case "FlavumRollupAlreadyOpen":
      return `repository ${a[0]}'s rollup is already open (its training key is fixed once)`;
    case "FlavumRollupNotOpen":
      return `repository ${a[0]} has no open rollup: its owner opens it with repo:rollup-open`;
    case "FlavumRollupWrongKeyShape":
      return `the training key has ${a[0]} IC points; the training statement's 5 public inputs need ${a[1]}`;
    case "FlavumRollupRoundSize":
      return `a round settles 1 to ${a[1]} commits, got ${a[0]}`;
    case "FlavumRollupProofCount":
      return `the round's commits span ${a[0]} proofs but it carries ${a[1]} (at most ${a[2]} a round)`;
    case "FlavumRollupEmptyCommit":
      return `commit ${Number(a[0]) + 1} of the round has no proof`;
    case "FlavumRollupInputCount":
      return `the round carries ${a[0]} public inputs; its proofs need ${a[1]}`;
    case "FlavumRollupWrongParent":
      return `stale parent: ${link(a[0], a[1])} trains from weights ${a[3]}, but must train from ${a[2]} (the rollup head, or the previous proof's weights); train again from the head`;
    case "FlavumRollupWrongBinding":
      return `${link(a[0], a[1])} is bound to someone else (binding ${a[3]}, its author's is ${a[2]}): a proof counts only for the author, repository, chain and contract it was made for`;
    case "FlavumRollupInvalidMetrics":
      return `${link(a[0], a[1])} states metrics ${a[2]}: samples must be 1 … 2^32 − 1 and correct at most samples`;
    case "FlavumRollupTooManySamples":
      return `commit ${Number(a[0]) + 1} of the round sums to ${a[1]} samples, more than 2^32 − 1`;
    case "FlavumRollupTrainingReused":
      return `this training was already settled in round ${a[3]} of repository ${a[0]}'s rollup (same data commitment from the same weights; a training counts once)`;
    case "FlavumRollupInvalidProofs":
      return `a proof of round ${a[1]} of repository ${a[0]} does not verify`;
    case "FlavumRollupMergeCount":
      return `a round merges 0 to 8 of its commits, got ${a[0]}`;
    case "FlavumRollupMergeIndex":
      return `merge entry ${a[0]} names commit ${a[1]}: indices must increase and be below the round's ${a[2]} commits`;
    case "FlavumRollupMergeWeights":
      return `a fast-forward to commit ${Number(a[0]) + 1} of the round states weights ${a[2]}, not its ${a[1]}`;
    case "FlavumRollupMergeDuplicate":
      return `commits ${Number(a[0]) + 1} and ${Number(a[1]) + 1} of the round have the same weights: merging both would count one update twice`;
    case "FlavumRollupNoMergeVerifier":
      return `repository ${a[0]} has no merge verifier for ${a[1]} commits`;
    case "FlavumRollupInvalidMergeProof":
      return `the merge proof of ${a[1]} commits does not verify (repository ${a[0]})`;
    case "FlavumRollupNotField":
      return `${a[0]} is not a BN254 scalar field element`;
    case "FlavumGroth16InputNotInField":
      return `public input ${a[0]} of the round (${a[1]}) is not below the BN254 scalar field's modulus`;
    case "FlavumGroth16CoordinateNotInField":
      return `proof ${Number(a[0]) + 1} of the round has a coordinate (${a[1]}) not below the BN254 base field's modulus`;
    case "FlavumGroth16PrecompileFailed":
      return `a proof of the round is not a valid curve point (the precompile at ${a[0]} refused it)`;
    default:
      return `${name}(${a.join(", ")})`;
  }
}

export class EvmRepoRollupLedger {
  private constructor(readonly hre: HardhatRuntimeEnvironment, readonly contract: Contract, readonly account: string, readonly evm: EvmLedger) {}

  static async connect(hre: HardhatRuntimeEnvironment, address: string, signerIndex = 0): Promise<EvmRepoRollupLedger> {
    const evm = new EvmLedger(hre, signerIndex);
    const signer = await evm.signer();
    if ((await hre.ethers.provider.getCode(address)) === "0x")
      throw new FlavumError(`no contract at the recorded RepositoryRollup address ${address} on ${hre.network.name}: redeploy with rollup:deploy`, "NO_DEPLOYMENT");
    const contract = (await hre.ethers.getContractAt("RepositoryRollup", address, signer)) as unknown as Contract;
    return new EvmRepoRollupLedger(hre, contract, await signer.getAddress(), evm);
  }

  get address(): Promise<string> {
    return this.contract.getAddress();
  }

  private async send(fn: string, args: unknown[]) {
    try {
      const { tx, receipt } = await this.evm.send(`RepositoryRollup.${fn}`, this.contract.getFunction(fn)(...args));
      const logs = receipt.logs
        .map((l) => this.contract.interface.parseLog(l))
        .filter((p): p is LogDescription => p !== null);
      return { hash: tx.hash, data: tx.data, logs, gasUsed: receipt.gasUsed, block: receipt.blockNumber };
    } catch (e) {
      throw this.translate(e);
    }
  }

  private translate(e: unknown): Error {
    const revert = decodeRevert(this.contract, e);
    // Any error the contract or its libraries (Groth16Batch, CodeStore) revert with is a refusal, named.
    return revert ? new FlavumError(explainRollup(revert.name, revert.args), "REVERTED") : (e as Error);
  }

  private async view<T>(fn: string, args: unknown[]): Promise<T> {
    try {
      return (await this.contract.getFunction(fn)(...args)) as T;
    } catch (e) {
      throw this.translate(e);
    }
  }

  async open(repoId: bigint, vk: BatchVerifyingKey) {
    const r = await this.send("open", [repoId, vk]);
    return { txHash: r.hash, gasUsed: r.gasUsed };
  }

  async settleRound(repoId: bigint, commits: readonly RoundCommitCalldata[], proofs: readonly GrothCalldata[], inputs: readonly bigint[], merge: RoundMergeCalldata) {
    const r = await this.send("settleRound", [repoId, commits, proofs, inputs, { ...merge, weightsHash: toBytes32(merge.weightsHash) }]);
    const settled = r.logs.find((l) => l.name === "RoundSettled");
    if (!settled) throw new FlavumError("internal: settleRound emitted no RoundSettled event", "INTERNAL");
    return {
      txHash: r.hash, data: r.data, gasUsed: r.gasUsed, block: r.block,
      round: Number(settled.args.round), head: BigInt(settled.args.head), root: String(settled.args.root),
      commits: r.logs.filter((l) => l.name === "CommitSettled").map(settledCommit),
    };
  }

  /**
   * Runs `settleRound` without sending it (a proposals-only round unless `merge` is given): what the
   * contract would say about these commits now, as a FlavumError if it would revert.
   */
  async simulateRound(repoId: bigint, commits: readonly RoundCommitCalldata[], proofs: readonly GrothCalldata[], inputs: readonly bigint[], merge: RoundMergeCalldata = { commits: [], weightsHash: 0n, proof: NO_PROOF }) {
    try {
      return Number(await this.contract.settleRound.staticCall(repoId, commits, proofs, inputs, { ...merge, weightsHash: toBytes32(merge.weightsHash) }));
    } catch (e) {
      throw this.translate(e);
    }
  }

  async rollupOf(repoId: bigint): Promise<RollupInfo> {
    const r = await this.view<{ open: boolean; baseCommit: bigint; head: string; round: bigint; root: string; keyHash: string }>("rollupOf", [repoId]);
    return { open: r.open, baseCommit: r.baseCommit, head: BigInt(r.head), round: Number(r.round), root: r.root, keyHash: r.keyHash };
  }

  async samplesOf(repoId: bigint, author: string): Promise<bigint> {
    return this.view<bigint>("samplesOf", [repoId, author]);
  }

  async trainingContext(repoId: bigint, author = this.account): Promise<TrainingContext> {
    const { chainId } = await this.hre.ethers.provider.getNetwork();
    return { chainId, contract: await this.contract.getAddress(), repoId, author };
  }

  async trainingBinding(repoId: bigint, author = this.account): Promise<bigint> {
    return this.view<bigint>("trainingBinding", [repoId, author]);
  }

  /** The round that settled training from `parentWeights` on `dataHash`, or 0. */
  async trainingUse(repoId: bigint, parentWeights: bigint, dataHash: bigint): Promise<number> {
    return Number(await this.view<bigint>("trainingUse", [repoId, toBytes32(parentWeights), toBytes32(dataHash)]));
  }

  async limits(): Promise<{ commits: number; proofs: number }> {
    return { commits: Number(await this.view<bigint>("maxRoundCommits", [])), proofs: Number(await this.view<bigint>("maxRoundProofs", [])) };
  }

  /** Every commit the rollup settled for `repoId`, from its events, oldest first. */
  async settledCommits(repoId: bigint): Promise<SettledCommit[]> {
    const events = await this.contract.queryFilter(this.contract.filters.CommitSettled(repoId));
    return events.map((e) => settledCommit(this.contract.interface.parseLog(e)!));
  }
}

function settledCommit(l: LogDescription): SettledCommit {
  const a = l.args;
  return {
    round: Number(a.round), index: Number(a.index), author: String(a.author), contentId: String(a.contentId),
    parentWeights: BigInt(a.parentWeights), weightsHash: BigInt(a.weightsHash), dataHash: BigInt(a.dataHash),
    samples: Number(a.samples), correct: Number(a.correct), links: Number(a.links),
  };
}
