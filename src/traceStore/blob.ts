/**
 * The BLOB trace store: a batch's compact trace (src/protocol/traceBinding.ts) carried in EIP-4844
 * blobs of a type-3 transaction instead of calldata.
 *
 * Layout (canonical, field-element safe). A blob is 4096 field elements of 32 bytes (131072 bytes).
 * Byte 0 of every field element is 0x00, so each element is below the BLS12-381 scalar modulus, and
 * bytes 1..31 carry payload: 31 payload bytes per element, 126976 per blob. The payload is one stream
 * laid across the transaction's blobs in order (blob 0 element 0 first):
 *     stream = len (4 bytes, big-endian) ‖ trace (len bytes) ‖ 0x00 … (to the end of the last blob)
 * A trace of L bytes takes ceil((4 + L) / 126976) blobs: one blob holds up to 126972 trace bytes
 * (3096 entries of 41 bytes, i.e. 1-byte output words), and MAX_BLOBS_PER_TX = 6 blobs hold up to
 * 761852 bytes. Decoding is strict: every element's byte 0 is zero, the length fits, the blob count
 * is exactly the one the length needs and all padding is zero, so each trace has exactly one encoding
 * and the versioned hashes bind the trace bytes themselves, not merely some blob that decodes to them.
 *
 * What the chain sees: only the versioned hashes (BLOBHASH, 0x01 ‖ sha256(commitment)[1:]); the EVM
 * never reads blob bytes. Nodes keep blobs outside the execution layer: Hardhat's EDR checks the
 * sidecar's KZG proofs when it accepts the transaction, then keeps none of it (no JSON-RPC method
 * returns blob data; eth_getTransactionByHash gives blobVersionedHashes and maxFeePerBlobGas only,
 * and its receipts carry no blobGasUsed / blobGasPrice). A public chain's execution nodes serve no
 * sidecars over eth_ either: consensus nodes do (beacon API, for about 18 days). So the sender keeps
 * and publishes the sidecar (BlobSidecar, plain hex JSON); a verifier fetches it from wherever it is
 * published (or passes a `blobSource`, e.g. a beacon API client) and fetchBlobTrace checks every blob
 * against the versioned hashes the transaction carried before it decodes a single entry.
 *
 * KZG comes from kzg-wasm (c-kzg-4844 compiled to WebAssembly, the Ethereum ceremony's trusted setup
 * bundled): nothing is downloaded at install or run time.
 */
import { BaseWallet, BytesLike, Transaction, Wallet, getBytes, hexlify, sha256 } from "ethers";
import { FlavumError } from "../errors";
import { decodeTrace, TraceItem } from "../protocol/traceBinding";

export const BYTES_PER_FIELD_ELEMENT = 32;
export const FIELD_ELEMENTS_PER_BLOB = 4096;
export const BYTES_PER_BLOB = BYTES_PER_FIELD_ELEMENT * FIELD_ELEMENTS_PER_BLOB; // 131072
/** Payload bytes per field element: byte 0 stays zero. */
export const PAYLOAD_BYTES_PER_FIELD_ELEMENT = 31;
export const PAYLOAD_BYTES_PER_BLOB = PAYLOAD_BYTES_PER_FIELD_ELEMENT * FIELD_ELEMENTS_PER_BLOB; // 126976
export const LENGTH_PREFIX_BYTES = 4;
/**
 * Blobs one transaction may carry: Cancun's per-block maximum, and Osaka's per-transaction cap
 * (EIP-7594). Prague blocks take up to 9, but no more than 6 fit every fork from Cancun on.
 */
export const MAX_BLOBS_PER_TX = 6;
/** Blob gas per blob (EIP-4844): a transaction uses GAS_PER_BLOB × its blob count. */
export const GAS_PER_BLOB = 131072n;
export const VERSIONED_HASH_VERSION_KZG = 0x01;

/** Trace bytes that `blobCount` blobs hold. */
export function blobCapacity(blobCount: number = MAX_BLOBS_PER_TX): number {
  if (!Number.isInteger(blobCount) || blobCount < 1) throw new FlavumError(`a blob count must be a positive integer, got ${blobCount}`);
  return blobCount * PAYLOAD_BYTES_PER_BLOB - LENGTH_PREFIX_BYTES;
}

/** The number of blobs a trace of `byteLength` bytes takes. */
export function blobsNeeded(byteLength: number): number {
  return Math.max(1, Math.ceil((LENGTH_PREFIX_BYTES + byteLength) / PAYLOAD_BYTES_PER_BLOB));
}

/** Byte `s` of the payload stream sits in blob floor(s / 126976), at this offset inside it. */
function blobOffset(streamIndex: number): number {
  const inBlob = streamIndex % PAYLOAD_BYTES_PER_BLOB;
  const element = Math.floor(inBlob / PAYLOAD_BYTES_PER_FIELD_ELEMENT);
  return element * BYTES_PER_FIELD_ELEMENT + 1 + (inBlob % PAYLOAD_BYTES_PER_FIELD_ELEMENT);
}

/**
 * Lays `trace` into blobs (see the module comment). Refuses a trace that does not fit `maxBlobs`
 * (default MAX_BLOBS_PER_TX) blobs; the bytes are not parsed, so any byte string round-trips.
 */
export function encodeBlobs(trace: Uint8Array, opts: { maxBlobs?: number } = {}): Uint8Array[] {
  const maxBlobs = opts.maxBlobs ?? MAX_BLOBS_PER_TX;
  const capacity = blobCapacity(maxBlobs);
  if (trace.length > capacity)
    throw new FlavumError(
      `a trace of ${trace.length} bytes does not fit ${maxBlobs} blob${maxBlobs === 1 ? "" : "s"}: ` +
        `they hold ${capacity} bytes (${PAYLOAD_BYTES_PER_BLOB} payload bytes per ${BYTES_PER_BLOB}-byte blob, ` +
        `less the ${LENGTH_PREFIX_BYTES}-byte length prefix); split the batch or post it as calldata`,
      "TRACE_TOO_LARGE",
    );
  const stream = new Uint8Array(LENGTH_PREFIX_BYTES + trace.length);
  new DataView(stream.buffer).setUint32(0, trace.length, false);
  stream.set(trace, LENGTH_PREFIX_BYTES);
  const blobs = Array.from({ length: blobsNeeded(trace.length) }, () => new Uint8Array(BYTES_PER_BLOB));
  // Whole 31-byte runs: each element's payload is contiguous in the stream.
  for (let s = 0; s < stream.length; s += PAYLOAD_BYTES_PER_FIELD_ELEMENT) {
    const run = stream.subarray(s, Math.min(s + PAYLOAD_BYTES_PER_FIELD_ELEMENT, stream.length));
    blobs[Math.floor(s / PAYLOAD_BYTES_PER_BLOB)].set(run, blobOffset(s));
  }
  return blobs;
}

/** The inverse of encodeBlobs, refusing every non-canonical input with the reason. */
export function decodeBlobs(blobs: readonly BytesLike[]): Uint8Array {
  if (blobs.length === 0) throw new FlavumError("no blobs to decode: a blob trace has at least one blob", "BAD_BLOB");
  const bs = blobs.map((b, i) => {
    const bytes = getBytes(b, `blobs[${i}]`);
    if (bytes.length !== BYTES_PER_BLOB)
      throw new FlavumError(`blob ${i} has ${bytes.length} bytes, not ${BYTES_PER_BLOB}`, "BAD_BLOB");
    for (let e = 0; e < FIELD_ELEMENTS_PER_BLOB; e++)
      if (bytes[e * BYTES_PER_FIELD_ELEMENT] !== 0)
        throw new FlavumError(`blob ${i}, field element ${e}: its first byte is 0x${bytes[e * 32].toString(16).padStart(2, "0")}, not 0x00, so it is not a Flavum trace blob`, "BAD_BLOB");
    return bytes;
  });
  const streamLength = bs.length * PAYLOAD_BYTES_PER_BLOB;
  const stream = new Uint8Array(streamLength);
  for (let s = 0; s < streamLength; s += PAYLOAD_BYTES_PER_FIELD_ELEMENT) {
    const off = blobOffset(s);
    stream.set(bs[Math.floor(s / PAYLOAD_BYTES_PER_BLOB)].subarray(off, off + PAYLOAD_BYTES_PER_FIELD_ELEMENT), s);
  }
  const length = new DataView(stream.buffer).getUint32(0, false);
  if (length > blobCapacity(bs.length))
    throw new FlavumError(`the blobs' length prefix says ${length} bytes, more than ${bs.length} blob(s) hold (${blobCapacity(bs.length)})`, "BAD_BLOB");
  if (blobsNeeded(length) !== bs.length)
    throw new FlavumError(`a ${length}-byte trace takes ${blobsNeeded(length)} blob(s), but ${bs.length} were given`, "BAD_BLOB");
  const end = LENGTH_PREFIX_BYTES + length;
  for (let s = end; s < streamLength; s++)
    if (stream[s] !== 0) throw new FlavumError(`nonzero padding at payload byte ${s} (the trace ends at ${end}): the blobs are not canonical`, "BAD_BLOB");
  return stream.slice(LENGTH_PREFIX_BYTES, end);
}

// ---------------------------------------------------------------------------------------------
// KZG

/** The KZG operations used here; the first two are ethers v6's KzgLibrary, so this can be its `kzg`. */
export interface BlobKzg {
  blobToKzgCommitment(blob: Uint8Array): Uint8Array;
  computeBlobKzgProof(blob: Uint8Array, commitment: Uint8Array): Uint8Array;
  verifyBlobKzgProof(blob: Uint8Array, commitment: Uint8Array, proof: Uint8Array): boolean;
}

let kzgLoading: Promise<BlobKzg> | undefined;

/**
 * kzg-wasm with the mainnet trusted setup it bundles, loaded once per process (loading the setup
 * takes several seconds; each commitment or proof then takes tens of milliseconds).
 */
export function loadKzg(): Promise<BlobKzg> {
  kzgLoading ??= (async () => {
    // Required lazily: its trusted setup is ~800 KB of JavaScript, not worth parsing unless used.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { loadKZG } = require("kzg-wasm") as typeof import("kzg-wasm");
    const k = await loadKZG();
    const call = <T>(what: string, f: () => T): T => {
      try {
        return f();
      } catch (e) {
        throw new FlavumError(`KZG ${what} failed: ${(e as Error).message} (a blob is ${BYTES_PER_BLOB} bytes of canonical field elements)`, "BAD_BLOB");
      }
    };
    return {
      blobToKzgCommitment: (blob) => getBytes(call("commitment", () => k.blobToKZGCommitment(hexlify(blob)))),
      computeBlobKzgProof: (blob, commitment) =>
        getBytes(call("proof", () => k.computeBlobKZGProof(hexlify(blob), hexlify(commitment)))),
      verifyBlobKzgProof: (blob, commitment, proof) =>
        call("proof check", () => k.verifyBlobKZGProof(hexlify(blob), hexlify(commitment), hexlify(proof))),
    };
  })();
  kzgLoading.catch(() => (kzgLoading = undefined));
  return kzgLoading;
}

/** EIP-4844's kzg_to_versioned_hash: 0x01 ‖ sha256(commitment)[1:]. */
export function versionedHash(commitment: BytesLike): string {
  const c = getBytes(commitment, "commitment");
  if (c.length !== 48) throw new FlavumError(`a KZG commitment is 48 bytes, got ${c.length}`, "BAD_BLOB");
  return "0x" + VERSIONED_HASH_VERSION_KZG.toString(16).padStart(2, "0") + sha256(c).slice(4);
}

/**
 * What the sender keeps and publishes so anyone can fetch the trace later: the blobs and, per blob,
 * its commitment, proof and versioned hash, all 0x-hex (JSON as is).
 */
export interface BlobSidecar {
  blobs: string[];
  commitments: string[];
  proofs: string[];
  versionedHashes: string[];
}

export async function buildSidecar(blobs: readonly BytesLike[], kzg?: BlobKzg): Promise<BlobSidecar> {
  const k = kzg ?? (await loadKzg());
  const sidecar: BlobSidecar = { blobs: [], commitments: [], proofs: [], versionedHashes: [] };
  blobs.forEach((b, i) => {
    const blob = getBytes(b, `blobs[${i}]`);
    if (blob.length !== BYTES_PER_BLOB) throw new FlavumError(`blob ${i} has ${blob.length} bytes, not ${BYTES_PER_BLOB}`, "BAD_BLOB");
    const commitment = k.blobToKzgCommitment(blob);
    sidecar.blobs.push(hexlify(blob));
    sidecar.commitments.push(hexlify(commitment));
    sidecar.proofs.push(hexlify(k.computeBlobKzgProof(blob, commitment)));
    sidecar.versionedHashes.push(versionedHash(commitment));
  });
  return sidecar;
}

/** Encodes a trace and builds its sidecar in one go. */
export async function traceSidecar(trace: Uint8Array, opts: { maxBlobs?: number; kzg?: BlobKzg } = {}): Promise<BlobSidecar> {
  return buildSidecar(encodeBlobs(trace, opts), opts.kzg);
}

/**
 * Checks blobs against the versioned hashes a transaction carried, recomputing each commitment from
 * the blob bytes (a sidecar's own commitments and hashes are not trusted): the count must match, each
 * blob must hash to its versioned hash, and, where the sidecar gives them, its commitment must be the
 * recomputed one and its proof must verify. Returns the blob bytes.
 */
export async function verifyBlobs(
  source: BlobSidecar | readonly BytesLike[],
  expectedVersionedHashes: readonly string[],
  kzg?: BlobKzg,
): Promise<Uint8Array[]> {
  const k = kzg ?? (await loadKzg());
  const sidecar = isSidecar(source) ? source : undefined;
  const blobs = (sidecar ? sidecar.blobs : (source as readonly BytesLike[])).map((b, i) => getBytes(b, `blobs[${i}]`));
  if (blobs.length !== expectedVersionedHashes.length)
    throw new FlavumError(`${blobs.length} blob(s) were given but the transaction carries ${expectedVersionedHashes.length}`, "BLOB_MISMATCH");
  blobs.forEach((blob, i) => {
    if (blob.length !== BYTES_PER_BLOB) throw new FlavumError(`blob ${i} has ${blob.length} bytes, not ${BYTES_PER_BLOB}`, "BAD_BLOB");
    const commitment = k.blobToKzgCommitment(blob);
    const got = versionedHash(commitment);
    const want = expectedVersionedHashes[i].toLowerCase();
    if (got !== want)
      throw new FlavumError(
        `blob ${i} does not match the chain: its versioned hash is ${got}, but the transaction recorded ${want}; ` +
          `the published blob is not the one that was posted`,
        "BLOB_MISMATCH",
      );
    if (sidecar) {
      if (sidecar.commitments[i] !== undefined && hexlify(sidecar.commitments[i]) !== hexlify(commitment))
        throw new FlavumError(`sidecar commitment ${i} is not the commitment of blob ${i}`, "BLOB_MISMATCH");
      if (sidecar.proofs[i] !== undefined && !k.verifyBlobKzgProof(blob, commitment, getBytes(sidecar.proofs[i])))
        throw new FlavumError(`sidecar proof ${i} does not verify for blob ${i}`, "BLOB_MISMATCH");
    }
  });
  return blobs;
}

function isSidecar(x: unknown): x is BlobSidecar {
  return typeof x === "object" && x !== null && !Array.isArray(x) && Array.isArray((x as BlobSidecar).blobs);
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC

/** An EIP-1193 provider (hre.network.provider) or anything with ethers' `send` (JsonRpcProvider, hre.ethers.provider). */
export type RpcProvider =
  | { request(args: { method: string; params?: unknown[] }): Promise<unknown> }
  | { send(method: string, params: unknown[]): Promise<unknown> };

async function rpc<T>(p: RpcProvider, method: string, params: unknown[]): Promise<T> {
  if ("request" in p && typeof p.request === "function") return (await p.request({ method, params })) as T;
  return (await (p as { send(m: string, a: unknown[]): Promise<unknown> }).send(method, params)) as T;
}

const quantity = (v: bigint): string => "0x" + v.toString(16);

function errorText(e: unknown): string {
  const err = e as { shortMessage?: string; message?: string; error?: { message?: string } };
  return err?.error?.message ?? err?.shortMessage ?? err?.message ?? String(e);
}

/** The fields of an eth_getTransactionReceipt answer that are used here (the node's JSON). */
export interface RpcReceipt {
  transactionHash: string;
  blockNumber: string;
  blockHash: string;
  status: string;
  gasUsed: string;
  effectiveGasPrice?: string;
  blobGasUsed?: string;
  blobGasPrice?: string;
  logs: { address: string; topics: string[]; data: string }[];
  [field: string]: unknown;
}

export interface SendBlobTxOptions {
  /** The signer: a wallet (any ethers BaseWallet: Wallet, HDNodeWallet) or a private key. */
  wallet?: BaseWallet;
  privateKey?: string;
  provider: RpcProvider;
  to: string;
  data?: BytesLike;
  value?: bigint;
  /** Raw 131072-byte blobs (from encodeBlobs), or a sidecar already built for them. */
  blobs: readonly BytesLike[] | BlobSidecar;
  /**
   * Execution gas limit; default eth_estimateGas with the blob hashes + 10%. Hardhat's network ignores
   * blob hashes in eth_estimateGas, so a call that needs BLOBHASH must be given a gasLimit there.
   */
  gasLimit?: bigint;
  /** maxFeePerBlobGas; default eth_blobBaseFee × blobFeeMultiplier. */
  maxFeePerBlobGas?: bigint;
  /** Headroom over the current blob base fee (default 2: the fee can rise for several full blocks). */
  blobFeeMultiplier?: bigint;
  /** How long to wait for the receipt (default 120 s; Hardhat's automine answers at once). */
  receiptTimeoutMs?: number;
  kzg?: BlobKzg;
}

export interface BlobTxResult {
  hash: string;
  receipt: RpcReceipt;
  blockNumber: number;
  /** Execution gas the transaction used (receipt.gasUsed). */
  gasUsed: bigint;
  /** Blob gas: the receipt's blobGasUsed where the node gives it, else GAS_PER_BLOB × blob count (EIP-4844's definition). */
  blobGasUsed: bigint;
  /** Price paid per blob gas, where the receipt gives it (EDR's does not). */
  blobGasPrice: bigint | null;
  maxFeePerBlobGas: bigint;
  versionedHashes: string[];
  /** What the sender must keep and publish: nodes do not serve it back (see the module comment). */
  sidecar: BlobSidecar;
}

/**
 * Builds, signs (locally: nodes take type-3 transactions only raw) and sends a type-3 transaction
 * carrying `blobs`, then waits for its receipt. Fees: maxFeePerBlobGas from eth_blobBaseFee with
 * headroom, maxFeePerGas = 2 × the latest base fee + the node's priority fee. Throws FlavumError when
 * the node is not blob-capable, the call would revert, or the transaction reverted.
 */
export async function sendBlobTx(opts: SendBlobTxOptions): Promise<BlobTxResult> {
  const { provider } = opts;
  if ((opts.wallet === undefined) === (opts.privateKey === undefined))
    throw new FlavumError("sendBlobTx needs exactly one of wallet and privateKey");
  const wallet: BaseWallet = opts.wallet ?? new Wallet(opts.privateKey!);
  const sidecar = isSidecar(opts.blobs) ? opts.blobs : await buildSidecar(opts.blobs, opts.kzg);
  const n = sidecar.blobs.length;
  if (n < 1 || n > MAX_BLOBS_PER_TX)
    throw new FlavumError(`a blob transaction carries 1..${MAX_BLOBS_PER_TX} blobs, got ${n}`, "BAD_BLOB");
  if (sidecar.commitments.length !== n || sidecar.proofs.length !== n)
    throw new FlavumError(`the sidecar has ${n} blobs but ${sidecar.commitments.length} commitments and ${sidecar.proofs.length} proofs`, "BAD_BLOB");

  let blobBaseFee: bigint;
  try {
    blobBaseFee = BigInt(await rpc<string>(provider, "eth_blobBaseFee", []));
  } catch (e) {
    throw new FlavumError(
      `the node does not answer eth_blobBaseFee (${errorText(e)}): blob mode needs a chain at Cancun or later ` +
        `(for Hardhat's network, hardfork "cancun" or later)`,
      "NO_BLOBS",
    );
  }
  const multiplier = opts.blobFeeMultiplier ?? 2n;
  if (multiplier < 1n) throw new FlavumError(`blobFeeMultiplier must be at least 1, got ${multiplier}`);
  const maxFeePerBlobGas = opts.maxFeePerBlobGas ?? (blobBaseFee * multiplier > 0n ? blobBaseFee * multiplier : 1n);
  if (maxFeePerBlobGas < blobBaseFee)
    throw new FlavumError(`maxFeePerBlobGas ${maxFeePerBlobGas} is below the current blob base fee ${blobBaseFee}`);

  const [chainId, nonce, latest] = await Promise.all([
    rpc<string>(provider, "eth_chainId", []),
    rpc<string>(provider, "eth_getTransactionCount", [wallet.address, "pending"]),
    rpc<{ baseFeePerGas?: string }>(provider, "eth_getBlockByNumber", ["latest", false]),
  ]);
  const baseFee = BigInt(latest.baseFeePerGas ?? 0);
  let priority: bigint;
  try {
    priority = BigInt(await rpc<string>(provider, "eth_maxPriorityFeePerGas", []));
  } catch {
    priority = 1_000_000_000n;
  }
  const maxFeePerGas = 2n * baseFee + priority;
  const data = hexlify(opts.data ?? "0x");
  const value = opts.value ?? 0n;

  let gasLimit = opts.gasLimit;
  if (gasLimit === undefined) {
    try {
      const est = await rpc<string>(provider, "eth_estimateGas", [
        {
          from: wallet.address,
          to: opts.to,
          data,
          value: quantity(value),
          type: "0x3",
          maxFeePerGas: quantity(maxFeePerGas),
          maxPriorityFeePerGas: quantity(priority),
          maxFeePerBlobGas: quantity(maxFeePerBlobGas),
          blobVersionedHashes: sidecar.versionedHashes,
        },
      ]);
      gasLimit = (BigInt(est) * 11n) / 10n;
    } catch (e) {
      throw new FlavumError(
        `eth_estimateGas for the blob transaction to ${opts.to} failed: ${errorText(e)}. If the call reads BLOBHASH, ` +
          `the node may have ignored the blob hashes (Hardhat's network does: it runs eth_call and eth_estimateGas ` +
          `without blobs, so BLOBHASH reads zero there); pass gasLimit`,
        "BLOB_TX_ESTIMATE",
      );
    }
  }

  const raw = await wallet.signTransaction({
    type: 3,
    chainId: BigInt(chainId),
    nonce: Number(BigInt(nonce)),
    to: opts.to,
    data,
    value,
    gasLimit,
    maxFeePerGas,
    maxPriorityFeePerGas: priority,
    maxFeePerBlobGas,
    blobs: sidecar.blobs.map((b, i) => ({ data: b, commitment: sidecar.commitments[i], proof: sidecar.proofs[i] })),
  });
  // The signed transaction commits to versioned hashes ethers derived from the commitments: check
  // they are the sidecar's (a sidecar passed in with foreign hashes would otherwise go unnoticed).
  const signed = Transaction.from(raw);
  if (signed.blobVersionedHashes?.join() !== sidecar.versionedHashes.join())
    throw new FlavumError("the sidecar's versioned hashes are not those of its commitments", "BLOB_MISMATCH");

  let hash: string;
  try {
    hash = await rpc<string>(provider, "eth_sendRawTransaction", [raw]);
  } catch (e) {
    // An automining node (Hardhat) mines a transaction that reverts and still answers with an error.
    const mined = await rpc<RpcReceipt | null>(provider, "eth_getTransactionReceipt", [signed.hash]).catch(() => null);
    if (mined)
      throw new FlavumError(
        `blob transaction ${signed.hash} reverted in block ${BigInt(mined.blockNumber)}: ${errorText(e)}`,
        "BLOB_TX_REVERTED",
      );
    throw new FlavumError(`the node refused the blob transaction: ${errorText(e)}`, "BLOB_TX_REFUSED");
  }
  if (hash.toLowerCase() !== signed.hash!.toLowerCase())
    throw new FlavumError(`the node answered transaction hash ${hash}, but the signed transaction is ${signed.hash}`);

  const receipt = await waitForReceipt(provider, hash, opts.receiptTimeoutMs ?? 120_000);
  if (BigInt(receipt.status) !== 1n)
    throw new FlavumError(`blob transaction ${hash} reverted in block ${BigInt(receipt.blockNumber)}`, "BLOB_TX_REVERTED");
  return {
    hash,
    receipt,
    blockNumber: Number(BigInt(receipt.blockNumber)),
    gasUsed: BigInt(receipt.gasUsed),
    blobGasUsed: receipt.blobGasUsed !== undefined ? BigInt(receipt.blobGasUsed) : GAS_PER_BLOB * BigInt(n),
    blobGasPrice: receipt.blobGasPrice !== undefined ? BigInt(receipt.blobGasPrice) : null,
    maxFeePerBlobGas,
    versionedHashes: sidecar.versionedHashes.slice(),
    sidecar,
  };
}

async function waitForReceipt(provider: RpcProvider, hash: string, timeoutMs: number): Promise<RpcReceipt> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await rpc<RpcReceipt | null>(provider, "eth_getTransactionReceipt", [hash]);
    if (r) return r;
    if (Date.now() > deadline) throw new FlavumError(`no receipt for blob transaction ${hash} after ${timeoutMs} ms`, "BLOB_TX_PENDING");
    await new Promise((res) => setTimeout(res, 500));
  }
}

// ---------------------------------------------------------------------------------------------
// Fetching a trace back

/** A way to get blobs from somewhere other than a published sidecar (e.g. a beacon API client). */
export type BlobSource = (tx: {
  hash: string;
  blockHash: string;
  blockNumber: number;
  versionedHashes: string[];
}) => Promise<BlobSidecar | readonly BytesLike[]>;

export interface FetchBlobTraceOptions {
  provider: RpcProvider;
  txHash: string;
  /** The sidecar the sender published. */
  sidecar?: BlobSidecar;
  /** Or a source asked for the blobs (used when no sidecar is given). */
  blobSource?: BlobSource;
  /**
   * Versioned hashes the consumer trusts, e.g. what a contract stored through BLOBHASH: they must be
   * the transaction's (a mismatch means the wrong transaction or a wrong record).
   */
  expectedVersionedHashes?: readonly string[];
  kzg?: BlobKzg;
}

export interface BlobTrace {
  txHash: string;
  blockNumber: number;
  versionedHashes: string[];
  /** The compact trace bytes the blobs carry. */
  bytes: Uint8Array;
  wordBytes: number;
  items: TraceItem[];
}

/**
 * Gets a blob-mode trace back from its transaction: reads the versioned hashes the transaction
 * carried from the node (eth_getTransactionByHash), takes the blobs from the published sidecar or
 * `blobSource` (the node itself serves none), checks every blob against those hashes, decodes the
 * blobs strictly and parses the trace with decodeTrace.
 */
export async function fetchBlobTrace(opts: FetchBlobTraceOptions): Promise<BlobTrace> {
  const tx = await rpc<{
    type?: string;
    blockHash?: string | null;
    blockNumber?: string | null;
    blobVersionedHashes?: string[];
  } | null>(opts.provider, "eth_getTransactionByHash", [opts.txHash]);
  if (!tx) throw new FlavumError(`the node knows no transaction ${opts.txHash}`, "NO_BLOBS");
  if (tx.type === undefined || BigInt(tx.type) !== 3n || !tx.blobVersionedHashes?.length)
    throw new FlavumError(`transaction ${opts.txHash} is of type ${tx.type ?? "?"}, not a blob (type 3) transaction`, "NO_BLOBS");
  if (!tx.blockNumber || !tx.blockHash) throw new FlavumError(`blob transaction ${opts.txHash} is not mined yet`, "BLOB_TX_PENDING");
  const versionedHashes = tx.blobVersionedHashes.map((h) => h.toLowerCase());
  if (opts.expectedVersionedHashes) {
    const want = opts.expectedVersionedHashes.map((h) => h.toLowerCase());
    if (want.join() !== versionedHashes.join())
      throw new FlavumError(
        `transaction ${opts.txHash} carries versioned hashes [${versionedHashes.join(", ")}], not the expected [${want.join(", ")}]`,
        "BLOB_MISMATCH",
      );
  }
  const blockNumber = Number(BigInt(tx.blockNumber));
  let source: BlobSidecar | readonly BytesLike[];
  if (opts.sidecar) source = opts.sidecar;
  else if (opts.blobSource) source = await opts.blobSource({ hash: opts.txHash, blockHash: tx.blockHash, blockNumber, versionedHashes });
  else
    throw new FlavumError(
      `no blobs for ${opts.txHash}: execution nodes serve no blob data over JSON-RPC (Hardhat keeps none; ` +
        `on a public chain the consensus layer serves sidecars for about 18 days), so pass the sidecar the sender published or a blobSource`,
      "NO_BLOBS",
    );
  const blobs = await verifyBlobs(source, versionedHashes, opts.kzg);
  const bytes = decodeBlobs(blobs);
  const { wordBytes, items } = decodeTrace(bytes);
  return { txHash: opts.txHash, blockNumber, versionedHashes, bytes, wordBytes, items };
}
