/**
 * Commit ids: one id per commit, the same in every command's input and output. It is a content id,
 * keccak256(abi.encode(kind, repoId, ...)), computed here exactly as ModelRepository._contentId does
 * and recorded by the contract when the commit is created (`commitIdOf`, event `CommitIdentified`),
 * so a training commit has its id as soon as it is proven, before it is pushed, and any machine
 * resolves an id to the on-chain commit. After the kind (IModelRepository.CommitKind) and the
 * repository id:
 *
 *   Initial  weightsHash
 *   Train    the parent's weightsHash, the commit's dataHash (chainDataHash of its proofs' data hashes)
 *   Merge    weightsHash, the merged commits' content ids in `merge`'s order
 *   Revert   keccak256(branch name), the previous head's token number, the restored commit's token number
 *
 * Each is unique: a (parent weights, data) pair trains once, a commit is merged once, and a branch's
 * head never returns to an earlier commit. Token numbers (the ERC-721 ids) are still accepted as input.
 */
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";
import { FlavumError, InputError } from "../errors";
import { CommitKind } from "../chain/deployRepos";

const abi = AbiCoder.defaultAbiCoder();
const word = (v: bigint | string) => "0x" + BigInt(v).toString(16).padStart(64, "0");

export function initialCommitId(repoId: bigint, weightsHash: bigint | string): string {
  return keccak256(abi.encode(["uint8", "uint256", "bytes32"], [CommitKind.Initial, repoId, word(weightsHash)]));
}

/** A training commit's id: computable as soon as its chain is proven (its dataHash is the chain's). */
export function trainCommitId(repoId: bigint, parentWeightsHash: bigint | string, dataHash: bigint | string): string {
  return keccak256(abi.encode(["uint8", "uint256", "bytes32", "bytes32"], [CommitKind.Train, repoId, word(parentWeightsHash), word(dataHash)]));
}

export function mergeCommitId(repoId: bigint, weightsHash: bigint | string, merged: readonly string[]): string {
  return keccak256(abi.encode(["uint8", "uint256", "bytes32", "bytes32[]"], [CommitKind.Merge, repoId, word(weightsHash), merged]));
}

export function revertCommitId(repoId: bigint, branch: string, previousHead: bigint, toCommit: bigint): string {
  return keccak256(abi.encode(["uint8", "uint256", "bytes32", "uint256", "uint256"], [CommitKind.Revert, repoId, keccak256(toUtf8Bytes(branch)), previousHead, toCommit]));
}

/** The form messages and tables show: 0x and the first 12 hex digits (any prefix of 8 or more is accepted back). */
export function shortId(id: string): string {
  return id.slice(0, 14);
}

/** What a user may pass where a commit is expected. */
export type CommitRef = { kind: "token"; token: bigint } | { kind: "id"; id: string } | { kind: "prefix"; hex: string };

/**
 * Parses a commit argument: a commit id (0x + 64 hex digits), a prefix of one (8 or more hex digits,
 * 0x optional unless they are all decimal digits), or a token number (decimal).
 */
export function parseCommitRef(ref: string | bigint): CommitRef {
  if (typeof ref === "bigint") return { kind: "token", token: ref };
  const s = ref.trim();
  // Decimal digits alone are a token number; a prefix that happens to be all digits keeps its 0x.
  if (/^\d+$/.test(s)) return { kind: "token", token: BigInt(s) };
  const hex = s.replace(/^0x/i, "").toLowerCase();
  if (/^[0-9a-f]{64}$/.test(hex)) return { kind: "id", id: `0x${hex}` };
  if (/^[0-9a-f]{8,63}$/.test(hex)) return { kind: "prefix", hex };
  throw new InputError(`commit "${ref}" is neither a commit id (0x and 64 hex digits, or its first 8 or more) nor a token number`);
}

/** Whether `id` (0x + 64 hex) starts with the hex digits `hex`. */
export function matchesPrefix(id: string, hex: string): boolean {
  return id.slice(2).toLowerCase().startsWith(hex);
}

export function ambiguous(ref: string, matches: readonly string[]): FlavumError {
  return new FlavumError(`commit id ${ref} is ambiguous (${matches.map(shortId).join(", ")}): give more digits`, "UNKNOWN_COMMIT");
}
