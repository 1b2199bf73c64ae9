/**
 * The batch circuit's public inputs and trace leaves, shared by the circuit generator, the
 * sequencer and (mirrored in Solidity) FlavumRollup. Five public inputs, in this order:
 *
 *   oldRoot, newRoot, batchRoot, ctx, meta
 *
 *   ctx  = rollup address (160 bits) | chainId << 160          (chainId < 2^64)
 *   meta = modelId (64) | batchNumber << 64 (64) | firstLeaf << 128 (40) | count << 168 (16)
 *
 * Binding chain id, rollup address and batch number into the proof stops a batch being replayed
 * on another chain, contract or slot; the old root stops it being applied twice. Packing keeps
 * the verifier at five public inputs (~7k gas each) instead of nine.
 *
 * A trace leaf is Poseidon(modelId, requestId, inputHash, outputWord); padding slots of a partly
 * full batch hold leaf 0, which no Poseidon preimage produces, so a padded slot can never be
 * presented as a real inference.
 */
import { FlavumError } from "../errors";

/** Depth of the rollup's trace tree: 2^20 inferences. */
export const TREE_DEPTH = 20;
export const MAX_BATCH = 256;

export const CTX_CHAIN_SHIFT = 160n;
export const META = { batchShift: 64n, firstLeafShift: 128n, countShift: 168n } as const;
const mask = (bits: number) => (1n << BigInt(bits)) - 1n;

export function packCtx(rollup: string | bigint, chainId: bigint): bigint {
  const addr = BigInt(rollup);
  if (addr > mask(160)) throw new FlavumError(`rollup address ${rollup} is wider than 160 bits`);
  if (chainId < 0n || chainId > mask(64)) throw new FlavumError(`chain id ${chainId} does not fit 64 bits`);
  return addr | (chainId << CTX_CHAIN_SHIFT);
}

export interface BatchMeta {
  modelId: bigint;
  batchNumber: bigint;
  firstLeaf: bigint;
  count: number;
}

export function packMeta(m: BatchMeta): bigint {
  if (m.modelId < 0n || m.modelId > mask(64)) throw new FlavumError(`model id ${m.modelId} does not fit 64 bits`);
  if (m.batchNumber < 0n || m.batchNumber > mask(64)) throw new FlavumError(`batch number ${m.batchNumber} does not fit 64 bits`);
  if (m.firstLeaf < 0n || m.firstLeaf > mask(40)) throw new FlavumError(`leaf index ${m.firstLeaf} does not fit 40 bits`);
  if (!(m.count >= 1 && m.count <= MAX_BATCH)) throw new FlavumError(`batch count ${m.count} must be 1..${MAX_BATCH}`);
  return m.modelId | (m.batchNumber << META.batchShift) | (m.firstLeaf << META.firstLeafShift) | (BigInt(m.count) << META.countShift);
}

/** Where a batch of size B lands: the next free leaf rounded up to a multiple of B. */
export function alignLeaf(nextLeaf: bigint, batchSize: number): bigint {
  const b = BigInt(batchSize);
  return ((nextLeaf + b - 1n) / b) * b;
}

/**
 * The output word of a leaf: label in the low 8 bits, then each output offset to unsigned
 * (v + 2^(bits-1)) in `bits` bits. Fits one field element when 8 + n·bits <= 248.
 */
export function packOutputWord(label: number, out: readonly bigint[], bits: number): bigint {
  if (8 + out.length * bits > 248)
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
