/**
 * The rollup's settlement history: one running root over every inference batch a FlavumRollup has
 * settled, in settlement order, whatever its model. FlavumRollup keeps it on chain (`history()`); anyone
 * rebuilds it from the BatchSubmitted events; the sequencer anchors it in non-EVM ledgers
 * (src/chain/anchor.ts). Chains that settled the same batches in the same order hold the same history
 * root, so comparing (root, batches) across chains is one call per chain.
 *
 *   batchHash_k = keccak256(abi.encode(uint256 batchId, uint256 oldRoot, uint256 newRoot, uint256 batchRoot)) mod p
 *   history_0   = 0
 *   history_k   = keccak256(abi.encode(uint256 history_{k-1}, uint256 batchHash_k)) mod p
 *
 * Both are reduced mod the BN254 scalar field so they are public-input-sized and fit every anchor ledger.
 */
import { AbiCoder, keccak256 } from "ethers";
import { FIELD_P } from "../quant/fixed";

export interface HistoryBatch {
  batchId: bigint;
  oldRoot: bigint;
  newRoot: bigint;
  batchRoot: bigint;
}

const coder = AbiCoder.defaultAbiCoder();

export function historyBatchHash(b: HistoryBatch): bigint {
  return BigInt(keccak256(coder.encode(["uint256", "uint256", "uint256", "uint256"], [b.batchId, b.oldRoot, b.newRoot, b.batchRoot]))) % FIELD_P;
}

export function nextHistoryRoot(previous: bigint, batchHash: bigint): bigint {
  return BigInt(keccak256(coder.encode(["uint256", "uint256"], [previous, batchHash]))) % FIELD_P;
}

export const GENESIS_HISTORY = 0n;

/** Each batch's transition of the history root, in the order given (settlement order). */
export function historyTransitions(batches: readonly HistoryBatch[]): { oldRoot: bigint; newRoot: bigint; batchHash: bigint }[] {
  let root = GENESIS_HISTORY;
  return batches.map((b) => {
    const batchHash = historyBatchHash(b);
    const oldRoot = root;
    root = nextHistoryRoot(root, batchHash);
    return { oldRoot, newRoot: root, batchHash };
  });
}
