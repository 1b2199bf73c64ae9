/**
 * The data availability committee (DAC) of the `ipfs` trace store: k of n keys attest that they hold
 * a batch's trace. An attestation is an EIP-712 signature over
 *     domain  { name: "FlavumDAC", version: "1", chainId, verifyingContract: rollup }
 *     message Availability(uint256 batchId, bytes32 digest)
 * where digest is the sha2-256 digest inside the trace's CID (ipfs.ts, cidDigest), i.e. what the
 * rollup contract records. contracts/libraries/DacAttestation.sol checks the same structure on chain
 * (OpenZeppelin ECDSA over MessageHashUtils.toTypedDataHash).
 *
 * A member signs only what it holds: collectSignatures has every member fetch the trace by CID
 * from the publisher over its own IPFS node, check the bytes hash to the CID (fetchTrace does) and
 * decode as a compact trace, and pin it, before it signs. encodeSignatures packs the 65-byte
 * signatures sorted by signer address ascending, the order the contract requires (which makes a
 * duplicate signer a cheap, local check there).
 */
import { getAddress, getBytes, hexlify, Signature, TypedDataDomain, TypedDataEncoder, verifyTypedData } from "ethers";
import { FlavumError } from "../errors";
import { decodeTrace } from "../protocol/traceBinding";
import { cidDigest, connect, fetchTrace, TraceNode } from "./ipfs";

export const DAC_DOMAIN_NAME = "FlavumDAC";
export const DAC_DOMAIN_VERSION = "1";
export const SIGNATURE_BYTES = 65;
/** The EIP-712 types of an attestation (the domain type is implied by the domain's fields). */
export const AVAILABILITY_TYPES: Record<string, Array<{ name: string; type: string }>> = {
  Availability: [
    { name: "batchId", type: "uint256" },
    { name: "digest", type: "bytes32" },
  ],
};

/** What an attestation is about. */
export interface AvailabilityStatement {
  /** The rollup contract: the EIP-712 verifyingContract. */
  rollup: string;
  chainId: bigint | number;
  batchId: bigint | number;
  /** The trace CID's sha2-256 digest (bytes32, 0x-hex). */
  digest: string;
}

/** One member's attestation. */
export interface DacSignature {
  signer: string;
  /** 65 bytes r ‖ s ‖ v, 0x-hex. */
  signature: string;
}

/** What signs: an ethers v6 Wallet, or any Signer with signTypedData. */
export interface DacSigner {
  getAddress(): Promise<string>;
  signTypedData(domain: TypedDataDomain, types: Record<string, Array<{ name: string; type: string }>>, value: Record<string, unknown>): Promise<string>;
}

function checkStatement(s: AvailabilityStatement): { domain: TypedDataDomain; value: { batchId: bigint; digest: string } } {
  let rollup: string;
  try {
    rollup = getAddress(s.rollup);
  } catch {
    throw new FlavumError(`rollup "${s.rollup}" is not an address`);
  }
  const chainId = BigInt(s.chainId);
  const batchId = BigInt(s.batchId);
  if (chainId <= 0n) throw new FlavumError(`chainId must be positive, got ${s.chainId}`);
  if (batchId < 0n || batchId >> 256n !== 0n) throw new FlavumError(`batchId ${s.batchId} is not a uint256`);
  if (typeof s.digest !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(s.digest))
    throw new FlavumError(`digest "${s.digest}" is not a 0x-prefixed bytes32`);
  return { domain: dacDomain(rollup, chainId), value: { batchId, digest: s.digest.toLowerCase() } };
}

/** The EIP-712 domain of the committee of one rollup contract on one chain. */
export function dacDomain(rollup: string, chainId: bigint | number): TypedDataDomain {
  return { name: DAC_DOMAIN_NAME, version: DAC_DOMAIN_VERSION, chainId: BigInt(chainId), verifyingContract: getAddress(rollup) };
}

/** The EIP-712 digest a member signs (what the contract recovers from). */
export function availabilityHash(s: AvailabilityStatement): string {
  const { domain, value } = checkStatement(s);
  return TypedDataEncoder.hash(domain, AVAILABILITY_TYPES, value);
}

/** A member's attestation that it holds the trace with `digest` for `batchId`. */
export async function signAvailability(wallet: DacSigner, s: AvailabilityStatement): Promise<DacSignature> {
  const { domain, value } = checkStatement(s);
  const signature = await wallet.signTypedData(domain, AVAILABILITY_TYPES, value);
  const signer = getAddress(await wallet.getAddress());
  if (getBytes(signature).length !== SIGNATURE_BYTES) throw new FlavumError(`signer ${signer} returned a ${getBytes(signature).length}-byte signature, not 65`);
  const recovered = verifyTypedData(domain, AVAILABILITY_TYPES, value, signature);
  if (recovered !== signer) throw new FlavumError(`signer ${signer} produced a signature that recovers to ${recovered}`);
  return { signer, signature: Signature.from(signature).serialized };
}

/** The address an attestation recovers to (the contract's view of who signed). */
export function recoverAvailabilitySigner(s: AvailabilityStatement, signature: string): string {
  const { domain, value } = checkStatement(s);
  return verifyTypedData(domain, AVAILABILITY_TYPES, value, signature);
}

/**
 * The signatures as the contract takes them: 65-byte signatures concatenated, sorted by signer
 * address ascending. Refuses a signer given twice and a signature that is not 65 bytes.
 */
export function encodeSignatures(sigs: readonly DacSignature[]): string {
  const sorted = sigs
    .map((s) => ({ signer: getAddress(s.signer), bytes: getBytes(s.signature) }))
    .sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : BigInt(a.signer) > BigInt(b.signer) ? 1 : 0));
  const out = new Uint8Array(sorted.length * SIGNATURE_BYTES);
  sorted.forEach((s, i) => {
    if (s.bytes.length !== SIGNATURE_BYTES) throw new FlavumError(`the signature of ${s.signer} is ${s.bytes.length} bytes, not ${SIGNATURE_BYTES}`);
    if (i > 0 && sorted[i - 1].signer === s.signer) throw new FlavumError(`signer ${s.signer} appears twice`);
    out.set(s.bytes, i * SIGNATURE_BYTES);
  });
  return hexlify(out);
}

/** The inverse of encodeSignatures: the 65-byte signatures in order. */
export function decodeSignatures(encoded: string): string[] {
  const bytes = getBytes(encoded);
  if (bytes.length % SIGNATURE_BYTES !== 0) throw new FlavumError(`${bytes.length} bytes is not a whole number of ${SIGNATURE_BYTES}-byte signatures`);
  const out: string[] = [];
  for (let o = 0; o < bytes.length; o += SIGNATURE_BYTES) out.push(hexlify(bytes.subarray(o, o + SIGNATURE_BYTES)));
  return out;
}

/** A committee member: its key and its own IPFS node. */
export interface DacMember {
  wallet: DacSigner;
  node: TraceNode;
}

export interface CollectOptions {
  rollup: string;
  chainId: bigint | number;
  batchId: bigint | number;
  /** The trace's CID (raw CIDv1, sha2-256), as publishTrace returned it. */
  cid: string;
  /** The publisher's node: each member connects to it before fetching (skipped for a member's own node). */
  publisher?: TraceNode;
  /** Per member, how long to wait for the trace (default 30 s). */
  timeoutMs?: number;
  /** Fail unless at least this many members signed (default: none required). */
  threshold?: number;
  /** A member's check of the bytes before it signs (default: they decode as a compact trace). */
  check?: (bytes: Uint8Array) => void;
}

export interface CollectResult {
  /** The attestations, sorted by signer ascending. */
  signatures: DacSignature[];
  /** encodeSignatures(signatures): what the contract takes. */
  encoded: string;
  /** Members that did not sign, and why. */
  failures: Array<{ member: string; error: string }>;
}

/**
 * Has every member fetch the trace by CID (from the publisher, to whom it connects first), verify
 * and pin it in its own node, and only then sign; members work in parallel. A member that cannot
 * get or check the trace does not sign and is listed in `failures`.
 */
export async function collectSignatures(members: readonly DacMember[], opts: CollectOptions): Promise<CollectResult> {
  const digest = cidDigest(opts.cid);
  const statement: AvailabilityStatement = { rollup: opts.rollup, chainId: opts.chainId, batchId: opts.batchId, digest };
  checkStatement(statement);
  const check = opts.check ?? ((bytes: Uint8Array) => void decodeTrace(bytes));
  const results = await Promise.all(
    members.map(async (m) => {
      const who = await m.wallet.getAddress().catch(() => "(unknown signer)");
      try {
        if (opts.publisher && opts.publisher !== m.node) await connect(m.node, opts.publisher);
        const bytes = await fetchTrace(m.node, opts.cid, { timeoutMs: opts.timeoutMs, pin: true });
        check(bytes);
        return { ok: true as const, sig: await signAvailability(m.wallet, statement) };
      } catch (e) {
        return { ok: false as const, member: who, error: (e as Error).message };
      }
    }),
  );
  const signatures: DacSignature[] = [];
  const failures: CollectResult["failures"] = [];
  for (const r of results) {
    if (r.ok) signatures.push(r.sig);
    else failures.push({ member: r.member, error: r.error });
  }
  const encoded = encodeSignatures(signatures); // also refuses a member key given twice
  signatures.sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
  if (opts.threshold !== undefined && signatures.length < opts.threshold)
    throw new FlavumError(
      `only ${signatures.length} of ${members.length} committee members attested batch ${opts.batchId} (${opts.cid}); ` +
        `${opts.threshold} are needed. ` +
        failures.map((f) => `${f.member}: ${f.error}`).join("; "),
      "DAC_THRESHOLD",
    );
  return { signatures, encoded, failures };
}
