/**
 * The batch statement: what a rollup batch proof says, in the one form the circuit generator, the
 * sequencer, the ledger adapters and (mirrored in Solidity) FlavumRollup share. Six public inputs,
 * in this order:
 *
 *   oldRoot, newRoot, batchRoot, meta, r, h
 *
 *   meta = modelId (64) | batchNumber << 64 (64) | firstLeaf << 128 (40) | count << 168 (16)
 *          | layout << 184 (17): the model's output layout as the registry records it, which the
 *          circuit checks against the layout it packs, so `decodeOutput` cannot be told a wrong one
 *          | log2(B) << 201 (4): the batch size, so a proof for one size never settles as another
 *   r    = keccak256(chainId ‖ rollup ‖ oldRoot ‖ newRoot ‖ batchRoot ‖ meta ‖ trace) mod p
 *   h    = Σ_j e_j · r^(j+1) mod p over the trace elements e = (requestId, inputHash, outputWord)
 *          of each real entry, in order (see traceBinding.ts)
 *
 * Each model has its own trace tree (oldRoot/newRoot are the model's), and batchNumber counts that
 * model's batches, so no model's batches can move another's roots or slots. Chain id and rollup
 * address enter through r, so a proof verifies for one chain and contract only; the old root and
 * the batch number stop it being applied twice.
 *
 * A trace leaf is Poseidon(modelId, requestId, inputHash, outputWord); padding slots of a partly
 * full batch hold leaf 0, which no Poseidon preimage produces, so a padded slot can never be
 * presented as a real inference.
 */
import { FlavumError } from "../errors";

/** Depth of each model's trace tree: 2^20 inferences before it rolls over to a fresh tree. */
export const TREE_DEPTH = 20;
export const MAX_BATCH = 256;
export const BATCH_PUBLIC_INPUTS = ["oldRoot", "newRoot", "batchRoot", "meta", "r", "h"] as const;

export const META = { batchShift: 64n, firstLeafShift: 128n, countShift: 168n, layoutShift: 184n, levelsShift: 201n } as const;
/** Bits of meta: the circuit decomposes exactly these. */
export const META_BITS = 205;
const mask = (bits: number) => (1n << BigInt(bits)) - 1n;

export interface OutputLayout {
  outputBits: number;
  outputCount: number;
  hasLabel: boolean;
}

/** outputBits (8) | outputCount << 8 (8) | hasLabel << 16: one word the circuit and contract compare. */
export function outputLayoutWord(l: OutputLayout): bigint {
  if (!(l.outputBits >= 1 && l.outputBits <= 255) || !(l.outputCount >= 1 && l.outputCount <= 255))
    throw new FlavumError(`output layout ${l.outputCount} × ${l.outputBits} bits does not fit the batch statement (1..255 each)`);
  return BigInt(l.outputBits) | (BigInt(l.outputCount) << 8n) | ((l.hasLabel ? 1n : 0n) << 16n);
}

export interface BatchMeta {
  modelId: bigint;
  batchNumber: bigint;
  firstLeaf: bigint;
  count: number;
  layout: OutputLayout;
  batchSize: number;
}

export function packMeta(m: BatchMeta): bigint {
  if (m.modelId < 0n || m.modelId > mask(64)) throw new FlavumError(`model id ${m.modelId} does not fit 64 bits`);
  if (m.batchNumber < 0n || m.batchNumber > mask(64)) throw new FlavumError(`batch number ${m.batchNumber} does not fit 64 bits`);
  if (m.firstLeaf < 0n || m.firstLeaf > mask(40)) throw new FlavumError(`leaf index ${m.firstLeaf} does not fit 40 bits`);
  if (!(m.count >= 1 && m.count <= MAX_BATCH)) throw new FlavumError(`batch count ${m.count} must be 1..${MAX_BATCH}`);
  const levels = Math.log2(m.batchSize);
  if (!Number.isInteger(levels) || levels < 0 || levels > 8) throw new FlavumError(`batch size ${m.batchSize} must be a power of two from 1 to ${MAX_BATCH}`);
  return m.modelId | (m.batchNumber << META.batchShift) | (m.firstLeaf << META.firstLeafShift) | (BigInt(m.count) << META.countShift) |
    (outputLayoutWord(m.layout) << META.layoutShift) | (BigInt(levels) << META.levelsShift);
}

export function unpackMeta(meta: bigint): BatchMeta {
  return {
    modelId: meta & mask(64),
    batchNumber: (meta >> META.batchShift) & mask(64),
    firstLeaf: (meta >> META.firstLeafShift) & mask(40),
    count: Number((meta >> META.countShift) & mask(16)),
    layout: {
      outputBits: Number((meta >> META.layoutShift) & mask(8)),
      outputCount: Number((meta >> (META.layoutShift + 8n)) & mask(8)),
      hasLabel: ((meta >> (META.layoutShift + 16n)) & 1n) === 1n,
    },
    batchSize: 1 << Number((meta >> META.levelsShift) & 15n),
  };
}

/**
 * Where a model's next batch of size B lands: the next free leaf rounded up to a multiple of B, or
 * leaf 0 of a fresh tree when the current one cannot hold B more (`rollover`), so a full tree never
 * stops a model (results stay readable: reads check batch roots, not the tree root).
 */
export function nextSlot(nextLeaf: bigint, batchSize: number): { firstLeaf: bigint; rollover: boolean } {
  const b = BigInt(batchSize);
  const aligned = ((nextLeaf + b - 1n) / b) * b;
  if (aligned + b > 1n << BigInt(TREE_DEPTH)) return { firstLeaf: 0n, rollover: true };
  return { firstLeaf: aligned, rollover: false };
}

/** Bits of an output word: label in the low 8 bits, then each output in `bits` bits. */
export function outputWordBits(outputCount: number, bits: number): number {
  return 8 + outputCount * bits;
}

/**
 * The output word of a leaf: label in the low 8 bits, then each output offset to unsigned
 * (v + 2^(bits-1)) in `bits` bits. Fits one field element (and the trace's 31-byte word) when
 * 8 + n·bits <= 248.
 */
export function packOutputWord(label: number, out: readonly bigint[], bits: number): bigint {
  if (outputWordBits(out.length, bits) > 248)
    throw new FlavumError(`${out.length} outputs of ${bits} bits do not fit one trace word (max 240 bits)`);
  const off = 1n << BigInt(bits - 1);
  let w = BigInt(label);
  out.forEach((v, i) => (w |= (v + off) << BigInt(8 + bits * i)));
  return w;
}

export function unpackOutputWord(word: bigint, n: number, bits: number): { label: number; out: bigint[] } {
  const off = 1n << BigInt(bits - 1);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(((word >> BigInt(8 + bits * i)) & mask(bits)) - off);
  return { label: Number(word & 0xffn), out };
}

/** Request ids the sequencer assigns to off-chain requests live above 2^63; on-chain ids below. */
export const OFFCHAIN_REQUEST_BASE = 1n << 63n;

/**
 * An on-chain request id is `chainTag << 47 | n`: each chain a rollup's domain settles on numbers its
 * own requests (n = 1, 2, ...) under its tag (0..65535), so ids from different chains never collide and
 * stay below OFFCHAIN_REQUEST_BASE. Tag 0's ids are plain 1, 2, ...
 */
export const CHAIN_TAG_SHIFT = 47n;
const MAX_CHAIN_TAG = 0xffff;

/** The tag of the chain that opened on-chain request `id`; undefined for an off-chain id. */
export function requestChainTag(id: bigint): number | undefined {
  if (id < 0n) throw new FlavumError(`request id ${id} is negative`, "BAD_INPUT");
  return id >= OFFCHAIN_REQUEST_BASE ? undefined : Number(id >> CHAIN_TAG_SHIFT);
}

/** The id of the `n`th on-chain request (n >= 1) of the chain tagged `tag`. */
export function onchainRequestId(tag: number, n: bigint): bigint {
  if (!Number.isInteger(tag) || tag < 0 || tag > MAX_CHAIN_TAG) throw new FlavumError(`a chain tag is 0..${MAX_CHAIN_TAG}, got ${tag}`, "BAD_INPUT");
  if (n < 1n || n >= 1n << CHAIN_TAG_SHIFT) throw new FlavumError(`an on-chain request number is 1..2^47-1, got ${n}`, "BAD_INPUT");
  return (BigInt(tag) << CHAIN_TAG_SHIFT) | n;
}
