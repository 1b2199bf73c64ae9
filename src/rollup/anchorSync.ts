/**
 * Keeping an anchor ledger (src/chain/anchor.ts) in step with the rollup's settlement history, and
 * checking the settlement chains against it. What is anchored is the running history root of
 * src/protocol/history.ts: one transition (oldRoot, newRoot, batchHash) per settled batch, in
 * settlement order, from GENESIS_HISTORY (0). This module sees only the AnchorLedger port and plain
 * data (the batches a chain settled, as its BatchSubmitted events give them, and what its
 * `FlavumRollup.history()` returns): reading chains and opening ledgers is the caller's.
 *
 * - `anchorPending` anchors, in order, what the anchor does not hold yet, and never extends an anchor
 *   whose history is not a prefix of the settled history (it names the first difference instead).
 * - `checkAnchor` compares the anchor with each chain, and each chain's on-chain history root with
 *   its own events.
 *
 * Lag versus divergence: an anchor that is a strict prefix of a chain's history (the chain settled
 * batches the anchor does not hold yet) is NOT ok — the chain's latest batches are not anchored — but
 * it is reported as `lag: n` with no `mismatch`. Everything else that is not agreement (a differing
 * batch, a batch anchored that the chain did not settle, a misnumbered anchor, a chain whose
 * `history()` disagrees with its events) is a divergence: `mismatch` names it and the report's
 * `diverged` is true. So `ok` = every chain agrees and is fully anchored; `!ok && !diverged` = only lag.
 */
import { compareAnchored, type AnchorLedger, type RootTransition } from "../chain/anchor";
import { FlavumError } from "../errors";
import { GENESIS_HISTORY, historyTransitions, type HistoryBatch } from "../protocol/history";
import type { Progress } from "../zk/log";

const hex = (v: bigint) => "0x" + v.toString(16);
/** Fixed-width hex for the JSON report (a 32-byte word, as the EVM side prints it). */
const word = (v: bigint) => "0x" + v.toString(16).padStart(64, "0");

export interface AnchorPendingResult {
  /** How many batches this call anchored: `to - from`. */
  anchored: number;
  /** The anchor's batch count before this call: the first index anchored (when any). */
  from: number;
  /** The anchor's batch count after this call. */
  to: number;
  ms: number;
}

/**
 * Anchors every transition of `settled` (settlement order) the anchor does not hold yet. Before
 * sending anything, the anchor's existing history must equal the first transitions of `settled`:
 * otherwise a FlavumError names the first mismatch (a differing batch, or the anchor holding more
 * batches than were settled) and nothing is anchored.
 */
export async function anchorPending(anchor: AnchorLedger, settled: readonly HistoryBatch[], progress?: Progress): Promise<AnchorPendingResult> {
  const t0 = Date.now();
  const transitions = historyTransitions(settled);
  const state = await anchor.state();
  const from = state.batches;
  const refuse = (why: string): never => {
    throw new FlavumError(
      `refusing to extend the ${anchor.kind} anchor: its history (${from} batches) is not a prefix of the settled history (${transitions.length} batches): ${why}`,
      "ANCHOR_DIVERGED",
    );
  };
  const cmp = compareAnchored(await anchor.history(), transitions.slice(0, from));
  if (!cmp.ok) refuse(cmp.firstMismatch!.message);
  if (from > transitions.length) refuse(`batch ${transitions.length} is anchored but was not settled`);
  // compareAnchored has checked every anchored batch; with none anchored, the root must be the genesis.
  const expectedRoot = from === 0 ? GENESIS_HISTORY : transitions[from - 1].newRoot;
  if (state.root !== expectedRoot) refuse(`the anchor's root is ${hex(state.root)}, expected ${hex(expectedRoot)} after ${from} batches`);

  const pending = transitions.slice(from);
  if (pending.length) progress?.(`anchoring ${pending.length} settled batches in the ${anchor.kind} anchor (batches ${from}..${transitions.length - 1})…`);
  for (const [i, t] of pending.entries()) {
    const r = await anchor.anchor(t);
    if (r.index !== from + i) {
      throw new FlavumError(`the ${anchor.kind} anchor recorded batch ${from + i} at index ${r.index}: another writer is anchoring`, "ANCHOR_DIVERGED");
    }
    progress?.(`anchored batch ${r.index} (${i + 1}/${pending.length}) in ${r.ms} ms`);
  }
  return { anchored: pending.length, from, to: from + pending.length, ms: Date.now() - t0 };
}

export interface ChainHistory {
  network: string;
  chainId: bigint;
  /** The batches the chain settled, in settlement order (from its BatchSubmitted events). */
  batches: readonly HistoryBatch[];
  /** What the chain's FlavumRollup.history() returns, when read: checked against `batches`. */
  history?: { root: bigint; batches: number };
}

export type ChainMismatchKind = "differs" | "extra" | "index" | "history";

export interface ChainAnchorReport {
  network: string;
  chainId: string;
  /** Batches the chain settled. */
  proven: number;
  /** Batches the anchor holds. */
  anchored: number;
  /** Leading batches on which the anchor and the chain agree. */
  agreeing: number;
  /** Agreeing and fully anchored (no lag, no mismatch). */
  ok: boolean;
  /** Batches the chain settled that the anchor does not hold yet, when the anchor is a prefix of it. */
  lag?: number;
  /** The divergence, named (absent for agreement and for a mere lag). */
  mismatch?: string;
  mismatchKind?: ChainMismatchKind;
}

export interface AnchorCheckReport {
  /** Every chain agrees with the anchor and is fully anchored. */
  ok: boolean;
  /** Some chain diverges from the anchor (or from its own events): more than a lag. */
  diverged: boolean;
  anchor: { kind: string; root: string; batches: number };
  chains: ChainAnchorReport[];
}

/** Compares the anchor's history with each chain's settled history, and each chain's `history()` with its events. */
export async function checkAnchor(anchor: AnchorLedger, chains: readonly ChainHistory[]): Promise<AnchorCheckReport> {
  const anchored = await anchor.history();
  const state = await anchor.state();
  const reports = chains.map((c): ChainAnchorReport => {
    const name = `${c.network} (chain ${c.chainId})`;
    const transitions: RootTransition[] = historyTransitions(c.batches);
    const cmp = compareAnchored(anchored, transitions);
    const r: ChainAnchorReport = {
      network: c.network, chainId: c.chainId.toString(), proven: cmp.proven, anchored: cmp.anchored, agreeing: cmp.agreeing, ok: cmp.ok,
    };
    const problems: { kind: ChainMismatchKind; message: string }[] = [];
    if (c.history) {
      const root = transitions.length ? transitions[transitions.length - 1].newRoot : GENESIS_HISTORY;
      if (c.history.root !== root || c.history.batches !== transitions.length) {
        problems.push({
          kind: "history",
          message:
            `${name}: its on-chain history() is root ${hex(c.history.root)} after ${c.history.batches} batches, ` +
            `its BatchSubmitted events give root ${hex(root)} after ${transitions.length} batches`,
        });
      }
    }
    const m = cmp.firstMismatch;
    if (m?.kind === "missing") r.lag = cmp.proven - cmp.anchored;
    else if (m) problems.push({ kind: m.kind as ChainMismatchKind, message: `${name} and the ${anchor.kind} anchor part at batch ${m.index}: ${m.message}` });
    if (problems.length) {
      r.mismatch = problems.map((p) => p.message).join("; ");
      r.mismatchKind = problems[0].kind;
    }
    r.ok = cmp.ok && !problems.length;
    return r;
  });
  return {
    ok: reports.every((r) => r.ok),
    diverged: reports.some((r) => r.mismatch !== undefined),
    anchor: { kind: anchor.kind, root: word(state.root), batches: state.batches },
    chains: reports,
  };
}
