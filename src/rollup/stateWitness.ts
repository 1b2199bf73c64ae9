/**
 * The state batch in TypeScript, with the state circuit's semantics (src/protocol/stateBatch.ts):
 * `applyStateOp` is the reference of one operation, and `planStateBatch` runs a batch on a copy of the
 * tree and produces the statement, the exit tree and the circuit input. Whatever the circuit has no
 * witness for is a FlavumError here, so a sequencer learns of it before it spends a proof on it.
 */
import { FlavumError } from "../errors";
import { FIELD_P } from "../quant/fixed";
import {
  DataPointKind, DataPointLeaf, MAX_STATE_OPS, NOOP, OpType, StateOp, encodeOps, opElements, opsCommitment, packStateMeta, stateChallenge,
  stateRlc,
} from "../protocol/stateBatch";
import { log2Exact, subtreeLevels } from "./merkle";
import { StateTree } from "./stateTree";

export interface StateOpResult {
  valid: boolean;
  /** Poseidon2(dpId, old leaf) for a valid exit, else 0. */
  exitLeaf: bigint;
}

function checkOp(tree: StateTree, op: StateOp): void {
  if (!(op.type in OpType) || !Number.isInteger(op.type)) throw new FlavumError(`unknown operation type ${op.type}`);
  if (op.kind !== DataPointKind.Owned && op.kind !== DataPointKind.Common)
    throw new FlavumError(`operation kind ${op.kind} is neither 0 (owned) nor 1 (common)`);
  const e = opElements(op);
  e.forEach((v, t) => {
    // Above p the circuit would see the value reduced, so the leaf it proves is not the one posted.
    if (v < 0n || v >= FIELD_P) throw new FlavumError(`operation element e${t} = ${v} is not a field element`);
  });
  if (op.type === OpType.Noop) return;
  if (op.dpId === 0n) throw new FlavumError(`${OpType[op.type].toUpperCase()} of data point 0: ids start at 1`);
  if (op.dpId >= tree.capacity)
    throw new FlavumError(`${OpType[op.type].toUpperCase()} of data point ${op.dpId}: the state tree of depth ${tree.depth} holds ids below ${tree.capacity}`);
}

function describe(l: DataPointLeaf): string {
  return `owner 0x${l.owner.toString(16)}, ${l.kind === DataPointKind.Common ? "common" : "owned"}, balance ${l.balance}`;
}

/** Applies `op` to `tree` (in place) as the state circuit does. */
export function applyStateOp(tree: StateTree, op: StateOp): StateOpResult {
  checkOp(tree, op);
  const none = { valid: false, exitLeaf: 0n };
  if (op.type === OpType.Noop) return none;
  const cur = tree.dataPoint(op.dpId);
  const ownedByA = cur !== undefined && cur.kind === DataPointKind.Owned && cur.owner === op.a;
  switch (op.type) {
    case OpType.Deposit:
      if (cur) throw new FlavumError(`DEPOSIT into data point ${op.dpId}, which is not empty (${describe(cur)})`);
      tree.set(op.dpId, { owner: op.a, kind: op.kind, contentHash: op.contentHash, asset: op.b, balance: op.amount });
      return { valid: true, exitLeaf: 0n };
    case OpType.Transfer:
      if (!ownedByA) return none;
      tree.set(op.dpId, { ...cur, owner: op.b });
      return { valid: true, exitLeaf: 0n };
    case OpType.Exit: {
      if (!ownedByA) return none;
      const exitLeaf = tree.hashExit(op.dpId, tree.leaf(op.dpId));
      tree.set(op.dpId, undefined);
      return { valid: true, exitLeaf };
    }
    case OpType.Infer:
      return { valid: cur !== undefined && (cur.kind === DataPointKind.Common || ownedByA), exitLeaf: 0n };
  }
  return none;
}

export interface StateOpOutcome {
  valid: boolean;
  /** The slot of this operation's exit leaf in the batch's exit tree (valid exits only). */
  exitIndex?: number;
}

export interface StateBatchPlan {
  ops: StateOp[];
  oldRoot: bigint;
  newRoot: bigint;
  exitRoot: bigint;
  /** One per slot (opsPerBatch), 0 where the slot is not a valid exit. */
  exitLeaves: bigint[];
  /** subtreeLevels of exitLeaves: claim paths are subtreePath(exitLevels, slot). */
  exitLevels: bigint[][];
  status: bigint;
  meta: bigint;
  /** opsCommitment of the proven operations (all slots): a public input, passed to the contract as is. */
  opsCommit: bigint;
  /** The operations as posted (encodeOps), what r is over. */
  posted: Uint8Array;
  r: bigint;
  h: bigint;
  results: StateOpOutcome[];
  circuitInput: Record<string, unknown>;
  /** A copy of the tree with the batch applied; the given tree is left as it was. */
  after: StateTree;
}

export function planStateBatch(args: {
  tree: StateTree;
  ops: readonly StateOp[];
  opsPerBatch: number;
  firstOp: bigint;
  stateBatch: bigint;
  chainId: bigint;
  stateContract: string;
}): StateBatchPlan {
  const { tree, opsPerBatch } = args;
  const ops = args.ops.slice();
  log2Exact(opsPerBatch);
  if (opsPerBatch > MAX_STATE_OPS) throw new FlavumError(`ops per state batch ${opsPerBatch} is above the most status bits meta holds (${MAX_STATE_OPS})`);
  if (ops.length < 1 || ops.length > opsPerBatch)
    throw new FlavumError(`a state batch of ${opsPerBatch} slots takes 1..${opsPerBatch} operations, got ${ops.length}`);

  const after = tree.clone();
  const oldRoot = after.root;
  const mask = after.capacity - 1n;
  const slots = [...ops, ...Array<StateOp>(opsPerBatch - ops.length).fill(NOOP)];
  const leafFields: bigint[][] = [];
  const siblings: bigint[][] = [];
  const results: StateOpOutcome[] = [];
  const exitLeaves: bigint[] = [];
  slots.forEach((op, k) => {
    // A NOOP's path is not checked, so any index serves; its own id may lie outside the tree.
    const index = op.type === OpType.Noop ? op.dpId & mask : op.dpId;
    let res: StateOpResult;
    try {
      checkOp(after, op);
      const cur = op.type === OpType.Noop ? undefined : after.dataPoint(index);
      leafFields.push(cur ? [cur.owner, BigInt(cur.kind), cur.contentHash, cur.asset, cur.balance, 0n] : [0n, 0n, 0n, 0n, 0n, 1n]);
      siblings.push(after.siblings(index));
      res = applyStateOp(after, op);
    } catch (e) {
      if (e instanceof FlavumError) throw new FlavumError(`state operation ${args.firstOp + BigInt(k)} (slot ${k}): ${e.message}`);
      throw e;
    }
    exitLeaves.push(res.exitLeaf);
    if (k < ops.length) results.push(res.exitLeaf !== 0n ? { valid: res.valid, exitIndex: k } : { valid: res.valid });
  });

  const exitLevels = subtreeLevels(after.hashers.h2, exitLeaves);
  const exitRoot = exitLevels[exitLevels.length - 1][0];
  const newRoot = after.root;
  const status = results.reduce((s, res, k) => (res.valid ? s | (1n << BigInt(k)) : s), 0n);
  const meta = packStateMeta({ firstOp: args.firstOp, count: ops.length, status, stateBatch: args.stateBatch, opsPerBatch });
  const posted = encodeOps(ops);
  const opsCommit = opsCommitment(ops, opsPerBatch);
  const r = stateChallenge({ chainId: args.chainId, stateContract: args.stateContract, oldRoot, newRoot, exitRoot, meta, opsCommit }, posted);
  const h = stateRlc(ops, r);
  const column = (i: number) => leafFields.map((f) => f[i].toString());
  const circuitInput = {
    oldRoot: oldRoot.toString(), newRoot: newRoot.toString(), exitRoot: exitRoot.toString(),
    meta: meta.toString(), opsCommit: opsCommit.toString(), r: r.toString(), h: h.toString(),
    op: slots.map((op) => opElements(op).map(String)),
    leafOwner: column(0), leafKind: column(1), leafContentHash: column(2), leafAsset: column(3), leafBalance: column(4), leafEmpty: column(5),
    siblings: siblings.map((s) => s.map(String)),
  };
  return { ops, oldRoot, newRoot, exitRoot, exitLeaves, exitLevels, status, meta, opsCommit, posted, r, h, results, circuitInput, after };
}
