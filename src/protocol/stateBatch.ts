/**
 * The state batch statement: what a proof of the rollup's own state circuit says, in the one form the
 * circuit generator, the sequencer, the ledger adapters and (mirrored in Solidity) FlavumState share.
 *
 * The rollup state is a sparse Poseidon tree of depth D over data points, leaf index = data-point id
 * (ids start at 1; leaf 0 is never used):
 *
 *   leaf(dp) = Poseidon5(owner, kind, contentHash, asset, balance)      empty = 0
 *     kind 0 = owned (only its owner may use, transfer or withdraw it), 1 = common (anyone may run
 *     inference on it; nobody withdraws it); asset 0 = ETH, else an ERC-20 address; balance < 2^128.
 *
 * Every state change comes from an L1 priority operation, appended by FlavumState to its queue with
 * keccak256 of its five posted field elements; a state batch consumes the next `count` operations in
 * queue order (the contract checks each posted operation against its stored hash, so none can be skipped,
 * reordered or invented). Posted operation, five field elements:
 *
 *   e0 = type (8) | kind << 8 (8) | dpId << 16 (64) | requestId << 80 (64) | createdBlock << 144 (64)
 *   e1 = a: DEPOSIT the new owner; TRANSFER / EXIT / INFER the L1 sender of the request
 *   e2 = b: DEPOSIT the asset; TRANSFER the recipient; else 0
 *   e3 = DEPOSIT the amount credited (< 2^128); else 0
 *   e4 = DEPOSIT the content hash (computed on chain from the values: see PackedContent.sol); else 0
 *
 * Semantics, in order, each on the state left by the previous operation. An operation the circuit finds
 * invalid changes nothing and has status bit 0; the L1 contract acts on the status (refund, reject):
 *   DEPOSIT   the leaf must be empty (the contract allocates fresh ids and re-deposits only claimed ones,
 *             so this always holds); leaf := (a, kind, e4, b, e3). Always status 1.
 *   TRANSFER  valid iff the leaf is non-empty, owned, and its owner is a; owner := b.
 *   EXIT      valid iff the leaf is non-empty, owned, and its owner is a; leaf := 0, and the exit leaf
 *             Poseidon2(dpId, old leaf) goes to slot k of the batch's exit tree.
 *   INFER     valid iff the leaf is non-empty and common or owned by a; nothing changes (a read: the
 *             contract then releases inference request `requestId` to its model's queue).
 *   NOOP (0)  padding slots k >= count: all five elements 0, nothing changes.
 *
 * The exit tree of a batch has one leaf per slot (0 where slot k is not a valid exit): a subtree of
 * log2(opsPerBatch) levels whose root is a public input, so claims prove (index, path) against it.
 *
 * What the contract queues: FlavumState refuses, when an operation is queued, anything the circuit
 * could not process — a non-NOOP operation of dpId 0 or dpId >= 2^D, a kind above 1, a type above 4,
 * an element >= p — so every queued operation has a witness and a batch can always make progress. A
 * NOOP inside count (a real slot k < count whose operation is type 0) is allowed: it changes nothing,
 * its status bit is 0, and it is bound by h like any other.
 *
 * Public inputs, in this order: oldRoot, newRoot, exitRoot, meta, opsCommit, r, h
 *   meta      = firstOp (64) | count << 64 (16) | status << 80 (64: bit k = op k valid)
 *               | stateBatch << 144 (64) | log2(opsPerBatch) << 208 (4)
 *   opsCommit = PoseidonChain over the 5 · opsPerBatch proven elements op[k][t], all slots (the padding
 *               slots' zeros included), in order k then t: acc = 5 · opsPerBatch, then
 *               acc = Poseidon(acc, chunk) for each chunk of up to 15 (a last shorter one unpadded)
 *   r         = keccak256(chainId ‖ stateContract ‖ oldRoot ‖ newRoot ‖ exitRoot ‖ meta ‖ opsCommit ‖ ops) mod p
 *               (solidityPacked: uint256, address, uint256 × 5, bytes; ops = the posted operations)
 *   h         = Σ_{k<count} Σ_{t<5} e_{k,t} · r^(5k+t+1) mod p
 *
 * Why opsCommit: h binds the proven operations to the posted ones only if r is drawn after both are
 * fixed. The posted ones are fixed by the queue; the proven ones are private, and without opsCommit r
 * depends only on public values and the posted operations, so a prover knows r before it chooses them.
 * h is then one linear equation in many free unknowns — the elements a slot's semantics ignore
 * (requestId, createdBlock, e2..e4 of EXIT and INFER, every field of an invalid operation) reach no
 * other public input — and a prover can change one element (a deposit's owner) and solve another for
 * the same h. With opsCommit (Poseidon-binding) in r's preimage, changing any proven element changes
 * opsCommit and so r; for proven ≠ posted, h agrees at the r drawn with probability at most 5N/p per
 * try (their difference is a nonzero polynomial in r of degree at most 5N). The contract takes opsCommit from the sequencer and does not
 * recompute it (it never sees the padding or hashes Poseidon): the check against the posted operations
 * is h, over the r that opsCommit went into.
 */
import { FlavumError } from "../errors";
import { FIELD_P } from "../quant/fixed";
import { poseidon } from "../quant/commitment";
import { keccak256, solidityPacked, toBeHex } from "ethers";

export const STATE_PUBLIC_INPUTS = ["oldRoot", "newRoot", "exitRoot", "meta", "opsCommit", "r", "h"] as const;
/** Posted field elements per operation. */
export const OP_ELEMENTS = 5;
/** Most operations one state batch can take (status bits in meta). */
export const MAX_STATE_OPS = 64;
export const STATE_META = { countShift: 64n, statusShift: 80n, batchShift: 144n, levelsShift: 208n } as const;
export const STATE_META_BITS = 212;
export const E0 = { kindShift: 8n, dpIdShift: 16n, requestIdShift: 80n, blockShift: 144n } as const;
export const E0_BITS = 208;

export enum OpType {
  Noop = 0,
  Deposit = 1,
  Transfer = 2,
  Exit = 3,
  Infer = 4,
}

export enum DataPointKind {
  Owned = 0,
  Common = 1,
}

/** One priority operation as posted (decoded). */
export interface StateOp {
  type: OpType;
  kind: DataPointKind;
  dpId: bigint;
  requestId: bigint;
  createdBlock: bigint;
  a: bigint;
  b: bigint;
  amount: bigint;
  contentHash: bigint;
}

/** A data point as it sits in a leaf. */
export interface DataPointLeaf {
  owner: bigint;
  kind: DataPointKind;
  contentHash: bigint;
  asset: bigint;
  balance: bigint;
}

const mask = (bits: number) => (1n << BigInt(bits)) - 1n;

export const NOOP: StateOp = { type: OpType.Noop, kind: 0, dpId: 0n, requestId: 0n, createdBlock: 0n, a: 0n, b: 0n, amount: 0n, contentHash: 0n };

export function opElements(op: StateOp): [bigint, bigint, bigint, bigint, bigint] {
  if (op.dpId > mask(64) || op.requestId > mask(64) || op.createdBlock > mask(64))
    throw new FlavumError(`operation fields out of range: dpId ${op.dpId}, requestId ${op.requestId}, block ${op.createdBlock} (64 bits each)`);
  if (op.amount >= 1n << 128n) throw new FlavumError(`amount ${op.amount} does not fit 128 bits`);
  const e0 = BigInt(op.type) | (BigInt(op.kind) << E0.kindShift) | (op.dpId << E0.dpIdShift) | (op.requestId << E0.requestIdShift) |
    (op.createdBlock << E0.blockShift);
  return [e0, op.a, op.b, op.amount, op.contentHash];
}

export function decodeOp(e: readonly bigint[]): StateOp {
  if (e.length !== OP_ELEMENTS) throw new FlavumError(`an operation has ${OP_ELEMENTS} elements, got ${e.length}`);
  const type = Number(e[0] & 0xffn);
  if (!(type in OpType)) throw new FlavumError(`unknown operation type ${type}`);
  return {
    type, kind: Number((e[0] >> E0.kindShift) & 0xffn), dpId: (e[0] >> E0.dpIdShift) & mask(64),
    requestId: (e[0] >> E0.requestIdShift) & mask(64), createdBlock: (e[0] >> E0.blockShift) & mask(64),
    a: e[1], b: e[2], amount: e[3], contentHash: e[4],
  };
}

/** keccak256 of the five elements, as FlavumState stores it per queued operation. */
export function opHash(op: StateOp): string {
  return keccak256(solidityPacked(Array(OP_ELEMENTS).fill("uint256"), opElements(op)));
}

/** The posted operations: count × 5 × 32 bytes, big-endian. */
export function encodeOps(ops: readonly StateOp[]): Uint8Array {
  const out = new Uint8Array(ops.length * OP_ELEMENTS * 32);
  ops.forEach((op, k) => opElements(op).forEach((v, t) => out.set(Buffer.from(toBeHex(v, 32).slice(2), "hex"), (k * OP_ELEMENTS + t) * 32)));
  return out;
}

export function decodeOps(bytes: Uint8Array): StateOp[] {
  if (bytes.length % (OP_ELEMENTS * 32) !== 0) throw new FlavumError(`posted operations are ${bytes.length} bytes, not a multiple of ${OP_ELEMENTS * 32}`);
  const ops: StateOp[] = [];
  for (let o = 0; o < bytes.length; o += OP_ELEMENTS * 32) {
    const e = Array.from({ length: OP_ELEMENTS }, (_, t) => BigInt("0x" + Buffer.from(bytes.subarray(o + 32 * t, o + 32 * t + 32)).toString("hex")));
    ops.push(decodeOp(e));
  }
  return ops;
}

export interface StateMeta {
  firstOp: bigint;
  count: number;
  status: bigint;
  stateBatch: bigint;
  opsPerBatch: number;
}

export function packStateMeta(m: StateMeta): bigint {
  const levels = Math.log2(m.opsPerBatch);
  if (!Number.isInteger(levels) || m.opsPerBatch > MAX_STATE_OPS)
    throw new FlavumError(`ops per state batch ${m.opsPerBatch} must be a power of two up to ${MAX_STATE_OPS}`);
  if (!(m.count >= 1 && m.count <= m.opsPerBatch)) throw new FlavumError(`state batch count ${m.count} must be 1..${m.opsPerBatch}`);
  if (m.status >> BigInt(m.count) !== 0n) throw new FlavumError(`status bits ${m.status.toString(2)} beyond the ${m.count} operations`);
  if (m.firstOp > mask(64) || m.stateBatch > mask(64)) throw new FlavumError(`first op ${m.firstOp} or state batch ${m.stateBatch} does not fit 64 bits`);
  return m.firstOp | (BigInt(m.count) << STATE_META.countShift) | (m.status << STATE_META.statusShift) |
    (m.stateBatch << STATE_META.batchShift) | (BigInt(levels) << STATE_META.levelsShift);
}

export function unpackStateMeta(meta: bigint): StateMeta {
  return {
    firstOp: meta & mask(64),
    count: Number((meta >> STATE_META.countShift) & mask(16)),
    status: (meta >> STATE_META.statusShift) & mask(64),
    stateBatch: (meta >> STATE_META.batchShift) & mask(64),
    opsPerBatch: 2 ** Number((meta >> STATE_META.levelsShift) & mask(4)),
  };
}

export interface StateStatement {
  chainId: bigint;
  stateContract: string;
  oldRoot: bigint;
  newRoot: bigint;
  exitRoot: bigint;
  meta: bigint;
  /** opsCommitment of the proven operations. */
  opsCommit: bigint;
}

/** r, over the statement and the posted operations (encodeOps). */
export function stateChallenge(s: StateStatement, ops: Uint8Array): bigint {
  const digest = keccak256(
    solidityPacked(
      ["uint256", "address", "uint256", "uint256", "uint256", "uint256", "uint256", "bytes"],
      [s.chainId, s.stateContract, s.oldRoot, s.newRoot, s.exitRoot, s.meta, s.opsCommit, ops],
    ),
  );
  return BigInt(digest) % FIELD_P;
}

// circomlibjs builds its Poseidon asynchronously, and planStateBatch is synchronous: the build starts
// when this module loads, and the instance is kept. StateTree (src/rollup/stateTree.ts) imports this
// module, then awaits the same cached build to create a tree, so the callback below has run by then:
// whoever holds a tree can commit to operations.
let fieldHash: ((inputs: bigint[]) => bigint) | undefined;
let fieldHashError: unknown;
/** Resolves once poseidonChain / opsCommitment can run (they throw before). */
export const stateHashReady: Promise<void> = poseidon().then(
  (p) => {
    fieldHash = (inputs) => p.F.toObject(p(inputs));
  },
  (e) => {
    fieldHashError = e;
  },
);

/**
 * TypeScript twin of circuits/lib/PoseidonChain.circom: acc = n; acc = Poseidon(acc, chunk) for each
 * chunk of up to 15 consecutive elements (a last shorter chunk is not padded).
 */
export function poseidonChain(elements: readonly bigint[]): bigint {
  if (!fieldHash) throw new FlavumError(`Poseidon is not loaded yet (await stateHashReady)${fieldHashError ? `: ${fieldHashError}` : ""}`);
  if (elements.length < 1) throw new FlavumError("a Poseidon chain needs at least one element");
  elements.forEach((v, i) => {
    // The circuit sees elements mod p: an integer at or above p would commit as another one.
    if (v < 0n || v >= FIELD_P) throw new FlavumError(`element ${i} = ${v} is not a field element`);
  });
  let acc = BigInt(elements.length);
  for (let c = 0; c < elements.length; c += 15) acc = fieldHash([acc, ...elements.slice(c, c + 15)]);
  return acc;
}

/** opsCommit: the Poseidon chain over the elements of `ops` padded with NOOPs to opsPerBatch slots. */
export function opsCommitment(ops: readonly StateOp[], opsPerBatch: number): bigint {
  if (!Number.isInteger(opsPerBatch) || opsPerBatch < 1 || ops.length > opsPerBatch)
    throw new FlavumError(`${ops.length} operations do not fit a state batch of ${opsPerBatch} slots`);
  const slots = [...ops, ...Array<StateOp>(opsPerBatch - ops.length).fill(NOOP)];
  return poseidonChain(slots.flatMap((op) => opElements(op)));
}

/** h = Σ_{k,t} e_{k,t} r^(5k+t+1) over the real operations. */
export function stateRlc(ops: readonly StateOp[], r: bigint): bigint {
  let acc = 0n;
  let pw = 1n;
  for (const op of ops) {
    for (const e of opElements(op)) {
      pw = (pw * r) % FIELD_P;
      acc = (acc + (e % FIELD_P) * pw) % FIELD_P;
    }
  }
  return acc;
}
