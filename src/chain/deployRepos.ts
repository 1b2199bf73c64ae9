/**
 * Deploys Flavum's model repositories (ModelRepository: repositories and commits as "Flavum Repository
 * Commit" / FLVC tokens). The one deploy path used by `rollup:deploy` and by the contract tests'
 * fixtures; recorded in deployments/<network>.json under "ModelRepository" and "RepositoryRollup"
 * (the rollup its repositories may settle training rounds through; except on the in-process network). Also the merge verifiers' public-signal layout, so the merge circuit and the contract
 * agree on one definition (the training statement's is src/training/statement.ts).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { EvmLedger } from "./evm";
import type { ModelRepository, RepositoryRollup } from "../../typechain-types";

export interface DeployRepositoriesOptions {
  /** Which of the network's accounts deploys (defaults to 0). */
  signerIndex?: number;
}

export interface RepositoriesDeployment {
  repository: ModelRepository;
  address: string;
  /** The RepositoryRollup linked to it: training rounds settled as batches of verified proofs. */
  rollup: RepositoryRollup;
  rollupAddress: string;
}

export async function deployRepositories(
  hre: HardhatRuntimeEnvironment,
  opts: DeployRepositoriesOptions = {},
): Promise<RepositoriesDeployment> {
  const ledger = new EvmLedger(hre, opts.signerIndex ?? 0);
  const { contract } = await ledger.deploy("ModelRepository", [], "ModelRepository");
  const address = await contract.getAddress();
  const { contract: rollup } = await ledger.deploy("RepositoryRollup", [address], "RepositoryRollup");
  return {
    repository: contract as unknown as ModelRepository, address,
    rollup: rollup as unknown as RepositoryRollup, rollupAddress: await rollup.getAddress(),
  };
}

/** IModelRepository.Role, in the contract's order (higher can do everything lower can). */
export enum RepoRole {
  None = 0,
  Contributor = 1,
  Maintainer = 2,
  Owner = 3,
}

/** IModelRepository.CommitKind. */
export enum CommitKind {
  None = 0,
  Initial = 1,
  Train = 2,
  Merge = 3,
  Revert = 4,
}

/** IModelRepository.CommitStatus. */
export enum CommitStatus {
  None = 0,
  Proposed = 1,
  Merged = 2,
  Rejected = 3,
  Accepted = 4,
}

/** IModelRepository.TokenKind. */
export enum TokenKind {
  None = 0,
  Repository = 1,
  Commit = 2,
}

/** The merge counts a repository gets verifiers for by default (k = 1 is a proof-free fast-forward); mergeVerifiers[k - 2]. */
export const MERGE_COUNTS = [2, 3, 4] as const;
/** The largest merge ModelRepository takes (its MAX_MERGE): mergeVerifiers has MAX_MERGE - 1 slots. */
export const MAX_MERGE = 8;

/** The contract's verifier slots from verifiers by merge size k (a missing size stays the zero address: unsupported). */
export function mergeVerifierSlots(byK: ReadonlyMap<number, string>): string[] {
  const slots = Array<string>(MAX_MERGE - 1).fill("0x" + "0".repeat(40));
  for (const [k, address] of byK) {
    if (!Number.isInteger(k) || k < 2 || k > MAX_MERGE) throw new RangeError(`merge size ${k} is outside 2 … ${MAX_MERGE}`);
    slots[k - 2] = address;
  }
  return slots;
}

// The training statement lives in src/training/statement.ts (its one home); re-exported for the
// contract's TypeScript callers.
export { TRAINING_PUBLIC_SIGNALS, packMetrics, trainingPublicSignals, trainingBinding } from "../training/statement";
export type { TrainingStatement, TrainingContext } from "../training/statement";

/**
 * Names of the public signals of a merge proof of k commits, in the order the contract passes them to
 * the k-commit merge verifier (`uint256[2k + 1]`): the new weights hash, then the k merged commits'
 * weights hashes, then their sample counts, both in the order of `merge`'s `commits` argument.
 */
export function mergePublicSignalNames(k: number): string[] {
  if (!Number.isInteger(k) || k < 2 || k > MAX_MERGE) throw new Error(`a proven merge takes 2 to ${MAX_MERGE} commits, got ${k}`);
  const idx = Array.from({ length: k }, (_, i) => i + 1);
  return ["newWeightsHash", ...idx.map((i) => `weightsHash_${i}`), ...idx.map((i) => `samples_${i}`)];
}

/** The merge proof's public-signal vector, as ModelRepository.merge builds it. */
export function mergePublicSignals(
  newWeightsHash: bigint | string,
  commits: { weightsHash: bigint | string; samples: bigint | number }[],
): bigint[] {
  mergePublicSignalNames(commits.length);
  return [
    BigInt(newWeightsHash),
    ...commits.map((c) => BigInt(c.weightsHash)),
    ...commits.map((c) => BigInt(c.samples)),
  ];
}
