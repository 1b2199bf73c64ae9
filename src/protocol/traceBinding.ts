/**
 * Binding the posted trace to the proven leaves, the native-field form of EIP-4844's "proof of
 * equivalence" (DESIGN.md, "Binding the trace"): the contract derives a challenge r from the posted
 * bytes and the roots that commit the proven leaves, and evaluates h = Σ_j e_j·r^(j+1) over the
 * posted field elements; the circuit evaluates the same sum over its own values and both r and h
 * are public inputs. Posted values that differ from the proven ones give a different polynomial,
 * which agrees at r with probability at most n/p (SECURITY.md has the argument).
 *
 * The compact trace, as posted in calldata and parsed by FlavumRollup:
 *   byte 0            wordBytes w (1..31): bytes per output word
 *   then per entry    requestId (8 bytes) ‖ inputHash (32 bytes) ‖ outputWord (w bytes), big-endian
 * Entries are the batch's real inferences in slot order (padding slots are not posted). This is all
 * anyone needs to rebuild every leaf Poseidon(modelId, requestId, inputHash, outputWord): the model
 * id is in the batch's event.
 */
import { keccak256, solidityPacked } from "ethers";
import { FlavumError } from "../errors";
import { FIELD_P } from "../quant/fixed";

// The BN254 scalar field: Groth16's public inputs, Poseidon and the RLC live here.
export { FIELD_P };

export interface TraceItem {
  requestId: bigint;
  inputHash: bigint;
  outputWord: bigint;
}

export const ELEMENTS_PER_ENTRY = 3;
const ENTRY_FIXED_BYTES = 8 + 32;

export function wordBytesFor(wordBits: number): number {
  const w = Math.ceil(wordBits / 8);
  if (w < 1 || w > 31) throw new FlavumError(`an output word of ${wordBits} bits does not fit the trace's 1..31-byte word`);
  return w;
}

function putBig(out: Uint8Array, offset: number, bytes: number, v: bigint, what: string): void {
  if (v < 0n || v >> BigInt(8 * bytes) !== 0n) throw new FlavumError(`${what} ${v} does not fit ${bytes} bytes`);
  for (let k = bytes - 1; k >= 0; k--) {
    out[offset + k] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function getBig(data: Uint8Array, offset: number, bytes: number): bigint {
  let v = 0n;
  for (let k = 0; k < bytes; k++) v = (v << 8n) | BigInt(data[offset + k]);
  return v;
}

export function encodeTrace(items: readonly TraceItem[], wordBytes: number): Uint8Array {
  if (!(wordBytes >= 1 && wordBytes <= 31)) throw new FlavumError(`wordBytes must be 1..31, got ${wordBytes}`);
  const size = ENTRY_FIXED_BYTES + wordBytes;
  const out = new Uint8Array(1 + items.length * size);
  out[0] = wordBytes;
  items.forEach((e, i) => {
    const o = 1 + i * size;
    putBig(out, o, 8, e.requestId, `entry ${i}: request id`);
    if (e.inputHash >= FIELD_P) throw new FlavumError(`entry ${i}: input hash ${e.inputHash} is not a field element`);
    putBig(out, o + 8, 32, e.inputHash, `entry ${i}: input hash`);
    putBig(out, o + 40, wordBytes, e.outputWord, `entry ${i}: output word`);
  });
  return out;
}

/** The inverse of encodeTrace, with the contract's checks: what a reader runs to rebuild leaves. */
export function decodeTrace(data: Uint8Array): { wordBytes: number; items: TraceItem[] } {
  if (data.length < 1) throw new FlavumError("empty trace: it starts with its word size");
  const wordBytes = data[0];
  if (!(wordBytes >= 1 && wordBytes <= 31)) throw new FlavumError(`trace word size ${wordBytes} is not 1..31`);
  const size = ENTRY_FIXED_BYTES + wordBytes;
  if ((data.length - 1) % size !== 0)
    throw new FlavumError(`trace of ${data.length} bytes is not 1 + a whole number of ${size}-byte entries`);
  const items: TraceItem[] = [];
  for (let o = 1; o < data.length; o += size) {
    const inputHash = getBig(data, o + 8, 32);
    if (inputHash >= FIELD_P) throw new FlavumError(`trace entry ${items.length}: input hash is not a field element`);
    items.push({ requestId: getBig(data, o, 8), inputHash, outputWord: getBig(data, o + 40, wordBytes) });
  }
  return { wordBytes, items };
}

/** The field elements the RLC runs over: (requestId, inputHash, outputWord) per entry. */
export function traceElements(items: readonly TraceItem[]): bigint[] {
  return items.flatMap((e) => [e.requestId, e.inputHash, e.outputWord]);
}

export interface ChallengeContext {
  /** The rollup's domain id (src/protocol/domain.ts): the same on every chain it settles on. */
  domain: bigint;
  oldRoot: bigint;
  newRoot: bigint;
  batchRoot: bigint;
  meta: bigint;
}

/**
 * r = keccak256(abi.encodePacked(uint256 domain, uint256 oldRoot, newRoot, batchRoot, meta, bytes
 * trace)) mod p. The roots commit the proven leaves (batchRoot) and state, so a prover fixes its
 * values before it can know r. The domain, not a chain id and contract, makes the same proof settle
 * on every chain of the rollup and on no other rollup's.
 */
export function traceChallenge(c: ChallengeContext, trace: Uint8Array): bigint {
  const packed = solidityPacked(
    ["uint256", "uint256", "uint256", "uint256", "uint256", "bytes"],
    [c.domain, c.oldRoot, c.newRoot, c.batchRoot, c.meta, trace],
  );
  return BigInt(keccak256(packed)) % FIELD_P;
}

/**
 * r for a trace posted outside calldata (a blob, an IPFS block): the same statement, with the bytes32 the
 * contract records of the posted trace in place of the trace. The roots (batchRoot among them) fix the
 * proven entries before r, and `data` fixes the posted ones, so posted entries other than the proven ones
 * give another RLC at r except with probability 3B/p: anyone holding the data can check it against h.
 */
export function postedChallenge(c: ChallengeContext, data: string): bigint {
  const packed = solidityPacked(
    ["uint256", "uint256", "uint256", "uint256", "uint256", "bytes32"],
    [c.domain, c.oldRoot, c.newRoot, c.batchRoot, c.meta, data],
  );
  return BigInt(keccak256(packed)) % FIELD_P;
}

/** h = Σ_j e_j · r^(j+1) mod p: reverse Horner, exactly as FlavumRollup computes it. */
export function traceRlc(elements: readonly bigint[], r: bigint): bigint {
  let acc = 0n;
  for (let j = elements.length - 1; j >= 0; j--) acc = ((acc + elements[j]) * r) % FIELD_P;
  return acc;
}
