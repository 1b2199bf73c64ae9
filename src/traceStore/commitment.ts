/**
 * Where a deployment posts its batch traces, and what the contract records of a posted trace: the
 * versioned hash of the blob holding it, or the sha2-256 digest of the raw IPFS block holding it. The
 * batch challenge r binds that commitment (src/protocol/traceBinding.ts, postedChallenge).
 */
import { FlavumError } from "../errors";
import { traceSidecar } from "./blob";
import { cidDigest, traceCid } from "./ipfs";

export const TRACE_STORES = ["calldata", "blob", "ipfs"] as const;
export type TraceStoreMode = (typeof TRACE_STORES)[number];

export function traceStoreMode(s: string): TraceStoreMode {
  if (!(TRACE_STORES as readonly string[]).includes(s))
    throw new FlavumError(`--trace-store must be one of ${TRACE_STORES.join(", ")}, got "${s}"`, "BAD_INPUT");
  return s as TraceStoreMode;
}

/** The contract's enum value for a mode (IFlavumRollup.TraceStore). */
export const traceStoreIndex = (m: TraceStoreMode): number => TRACE_STORES.indexOf(m);

/** The bytes32 a posted trace is committed as: blob 0's versioned hash, or the IPFS block's digest. */
export async function dataCommitment(mode: Exclude<TraceStoreMode, "calldata">, trace: Uint8Array): Promise<string> {
  if (mode === "ipfs") return cidDigest(traceCid(trace));
  const sidecar = await traceSidecar(trace, { maxBlobs: 1 });
  return sidecar.versionedHashes[0];
}
