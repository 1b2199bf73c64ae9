/**
 * Rebuilds the rollup state from L1 alone: the queued operations (their posted elements are in the
 * events) replayed through the state circuit's TypeScript twin, batch by batch, checking every proven
 * root and status bit against what the contract recorded. The sequencer needs no store of its own for
 * the state, and in exodus any owner computes its Merkle proof the same way.
 */
import { FlavumError } from "../errors";
import type { StateHistory } from "../chain/evmState";
import { StateTree } from "./stateTree";
import { applyStateOp } from "./stateWitness";
import { subtreeLevels, subtreePath } from "./merkle";

export interface ExitRecord {
  dpId: bigint;
  stateBatch: bigint;
  slot: number;
  path: bigint[];
  leaf: { owner: bigint; contentHash: bigint; asset: bigint; balance: bigint };
}

export interface RebuiltState {
  tree: StateTree;
  /** Every proven exit, by data point (the latest). */
  exits: Map<bigint, ExitRecord>;
  /** The next operation no batch has processed. */
  nextOp: bigint;
}

export async function rebuildState(history: StateHistory, depth: number, opsPerBatch: number): Promise<RebuiltState> {
  const tree = await StateTree.create(depth);
  const exits = new Map<bigint, ExitRecord>();
  let nextOp = 0n;
  for (const b of history.batches) {
    if (b.firstOp !== nextOp) throw new FlavumError(`state batch ${b.stateBatch} starts at operation ${b.firstOp}, expected ${nextOp}`);
    if (b.oldRoot !== tree.root) throw new FlavumError(`state batch ${b.stateBatch} starts from root ${b.oldRoot}, the rebuilt state is at ${tree.root}`);
    const leaves: bigint[] = Array(opsPerBatch).fill(0n);
    const pending: Omit<ExitRecord, "path">[] = [];
    for (let k = 0; k < b.count; k++) {
      const op = history.ops[Number(b.firstOp) + k];
      if (!op) throw new FlavumError(`state batch ${b.stateBatch} consumed operation ${Number(b.firstOp) + k}, which no event records`);
      const before = tree.dataPoint(op.dpId);
      const res = applyStateOp(tree, op);
      const proven = ((b.status >> BigInt(k)) & 1n) === 1n;
      if (res.valid !== proven) throw new FlavumError(`operation ${Number(b.firstOp) + k}: the rebuilt state says ${res.valid ? "valid" : "invalid"}, batch ${b.stateBatch} proved ${proven ? "valid" : "invalid"}`);
      if (res.exitLeaf !== 0n && before) {
        leaves[k] = res.exitLeaf;
        pending.push({ dpId: op.dpId, stateBatch: b.stateBatch, slot: k, leaf: { owner: before.owner, contentHash: before.contentHash, asset: before.asset, balance: before.balance } });
      }
    }
    if (tree.root !== b.newRoot) throw new FlavumError(`state batch ${b.stateBatch} proved root ${b.newRoot}; replaying its operations gives ${tree.root}`);
    const levels = subtreeLevels(tree.hashers.h2, leaves);
    if (levels[levels.length - 1][0] !== b.exitRoot) throw new FlavumError(`state batch ${b.stateBatch}: the rebuilt exit tree does not match its exit root`);
    for (const e of pending) exits.set(e.dpId, { ...e, path: subtreePath(levels, e.slot) });
    nextOp += BigInt(b.count);
  }
  return { tree, exits, nextOp };
}
