/**
 * The port for anchor ledgers: ledgers that keep the rollup's chain of roots without verifying its
 * proofs (ledger.ts is the port for settlement ledgers, which verify the Groth16 proofs: the EVM).
 *
 * What an anchor guarantees (the Mina adapter: mina/rootAnchor.ts enforces each point on-chain):
 * - the ledger holds an append-only, gap-free, ordered chain of roots from the genesis root: batch n
 *   is accepted only if its oldRoot is the current root (a ledger precondition) and is numbered n;
 * - every batch in it was signed by the sequencer key fixed at deployment, for that anchor and that
 *   position (the signature covers the anchor's address and n, so it cannot be replayed elsewhere);
 * - its digest commits to the whole history (genesis, sequencer key, every (n, oldRoot, newRoot,
 *   batchHash)): what the ledger's events say is checked against it, and once anchored, a batch cannot
 *   be changed, removed or reordered without the ledger itself changing;
 * - no one, not even the zkApp's own key, can change the state, keys or permissions another way.
 *
 * What it does NOT guarantee:
 * - that a root is correct, or was ever proven: Mina does not verify the BN254 Groth16 proofs, only
 *   the settlement chains do. A holder of the sequencer key can anchor a root no chain proved (or
 *   withhold one); `compareAnchored` against each settlement chain is what finds that, and names it;
 * - liveness: that the anchor keeps up with the settlement chains (a lag shows as "missing");
 * - anything about the trace data behind a root (availability is the trace store's business).
 *
 * This file is pure TypeScript: no ledger library is loaded from here. The Mina adapter lives in
 * mina/minaAnchor.ts and loads o1js only when it is used.
 */

/** One anchored batch, as the anchor ledger recorded it: `index` counts from 0 in anchoring order. */
export interface AnchoredBatch {
  index: number;
  oldRoot: bigint;
  newRoot: bigint;
  batchHash: bigint;
}

/** A batch transition as the settlement chain proved it, or as the sequencer asks to anchor it. */
export interface RootTransition {
  oldRoot: bigint;
  newRoot: bigint;
  batchHash: bigint;
}

export interface AnchorState {
  /** The last anchored root (the genesis root while nothing is anchored). */
  root: bigint;
  /** How many batches are anchored. */
  batches: number;
  /** The ledger's running hash over every anchored batch (its meaning is the adapter's). */
  digest: bigint;
}

export interface AnchorLedger {
  /** Which ledger this is: "mina". */
  readonly kind: string;
  /**
   * Anchors one batch. Refused (with the expected and the actual root named) when `oldRoot` is not
   * the anchor's current root, and when a value is not a BN254 scalar.
   */
  anchor(b: RootTransition): Promise<{ index: number; ms: number; txId?: string }>;
  state(): Promise<AnchorState>;
  /** Every anchored batch in order, read from the ledger and checked against its digest. */
  history(): Promise<AnchoredBatch[]>;
  close(): Promise<void>;
}

export type AnchorMismatchKind =
  /** The anchored batch and the proven batch at this index differ in `fields`. */
  | "differs"
  /** The settlement chain proved this batch, the anchor does not hold it. */
  | "missing"
  /** The anchor holds this batch, the settlement chain did not prove it. */
  | "extra"
  /** The anchor's history is not numbered 0, 1, 2, … (a gap, a repeat or a reordering). */
  | "index";

export interface AnchorMismatch {
  /** Position in the proven order (0-based). */
  index: number;
  kind: AnchorMismatchKind;
  fields?: ("oldRoot" | "newRoot" | "batchHash")[];
  anchored?: AnchoredBatch;
  proven?: RootTransition;
  message: string;
}

export interface AnchorComparison {
  ok: boolean;
  anchored: number;
  proven: number;
  /** How many leading batches agree. */
  agreeing: number;
  firstMismatch?: AnchorMismatch;
}

const hex = (v: bigint) => "0x" + v.toString(16);

/**
 * Compares the anchored roots with the proven roots of a settlement chain's batches, in order: ok
 * when both hold the same batches in the same order; otherwise the first index where they part and
 * how (a differing field, a batch proven but not anchored, a batch anchored but not proven).
 * An anchor that merely lags behind the chain is reported as "missing": the caller decides whether
 * a lag is acceptable (`agreeing` says how far they agree).
 */
export function compareAnchored(anchored: AnchoredBatch[], proven: RootTransition[]): AnchorComparison {
  const base = { anchored: anchored.length, proven: proven.length };
  const n = Math.min(anchored.length, proven.length);
  const fail = (agreeing: number, firstMismatch: AnchorMismatch): AnchorComparison => ({ ok: false, ...base, agreeing, firstMismatch });
  for (let i = 0; i < n; i++) {
    const a = anchored[i];
    const p = proven[i];
    if (a.index !== i) {
      return fail(i, { index: i, kind: "index", anchored: a, proven: p, message: `anchored batch ${i} carries index ${a.index}` });
    }
    const fields = (["oldRoot", "newRoot", "batchHash"] as const).filter((f) => a[f] !== p[f]);
    if (fields.length) {
      const what = fields.map((f) => `${f} anchored ${hex(a[f])}, proven ${hex(p[f])}`).join("; ");
      return fail(i, { index: i, kind: "differs", fields: [...fields], anchored: a, proven: p, message: `batch ${i}: ${what}` });
    }
  }
  if (proven.length > n) {
    const p = proven[n];
    return fail(n, {
      index: n, kind: "missing", proven: p,
      message: `batch ${n} (${hex(p.oldRoot)} → ${hex(p.newRoot)}) is proven but not anchored (${anchored.length} anchored, ${proven.length} proven)`,
    });
  }
  if (anchored.length > n) {
    const a = anchored[n];
    return fail(n, {
      index: n, kind: "extra", anchored: a,
      message: `batch ${n} (${hex(a.oldRoot)} → ${hex(a.newRoot)}) is anchored but not proven (${anchored.length} anchored, ${proven.length} proven)`,
    });
  }
  return { ok: true, ...base, agreeing: n };
}
