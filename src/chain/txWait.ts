/**
 * Waiting for a sent transaction to be mined, on a chain that mines when it pleases. A receipt read
 * once says nothing about a transaction still in the mempool; the only safe conclusions are "mined"
 * (ok or reverted), "dropped" (it can never be mined: the node does not know it and its nonce was
 * used by another transaction), or "still pending" — and a pending transaction must never be treated
 * as something to send again, since both could land.
 */
import { FlavumError } from "../errors";
import { formatSeconds, Progress, toStderr } from "../zk/log";

/** What waitForTx reads from a provider (ethers' Provider has all three). */
export interface ReceiptLike {
  status: number | null;
  gasUsed: bigint;
  blockNumber: number;
}

export interface TxProvider<R extends ReceiptLike = ReceiptLike> {
  getTransactionReceipt(hash: string): Promise<R | null>;
  getTransaction(hash: string): Promise<{ nonce: number; from: string } | null>;
  getTransactionCount(address: string, blockTag: "latest"): Promise<number>;
}

/** A transaction as the sender knows it: its hash, and (if known) its sender and nonce. */
export interface SentTx {
  hash: string;
  nonce?: number;
  from?: string;
}

export type TxWaitResult<R extends ReceiptLike = ReceiptLike> =
  | { status: "mined"; gasUsed: bigint; block: number; nonce?: number; receipt: R }
  | { status: "reverted"; gasUsed: bigint; block: number; nonce?: number; receipt: R }
  | { status: "pending"; waitedMs: number; nonce?: number }
  | { status: "dropped"; nonce: number };

export interface WaitOptions {
  /** Give up (status "pending") after this long; default FLAVUM_TX_TIMEOUT_MS or 10 minutes. 0 checks once. */
  timeoutMs?: number;
  /** How often the provider is asked; default FLAVUM_TX_POLL_MS or 1 s. */
  pollMs?: number;
  /** How often a progress line is printed while waiting; default 15 s. */
  progressEveryMs?: number;
  progress?: Progress;
  /** What the transaction does, for progress lines ("batch 3"). */
  what?: string;
}

export const DEFAULT_TX_TIMEOUT_MS = 10 * 60 * 1000;

function envMs(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new FlavumError(`${name} must be a number of milliseconds ≥ 0, not "${v}"`, "BAD_CONFIG");
  return n;
}

export const txTimeoutMs = (): number => envMs("FLAVUM_TX_TIMEOUT_MS", DEFAULT_TX_TIMEOUT_MS);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function describeTx(tx: SentTx): string {
  return `${tx.hash}${tx.nonce !== undefined ? ` (nonce ${tx.nonce})` : ""}`;
}

/**
 * Polls until the transaction is mined, can no longer be mined, or the timeout passes. Never reports
 * "dropped" for a transaction the node still knows or whose nonce is still unused.
 */
export async function waitForTx<R extends ReceiptLike>(provider: TxProvider<R>, sent: SentTx, opts: WaitOptions = {}): Promise<TxWaitResult<R>> {
  const timeoutMs = opts.timeoutMs ?? txTimeoutMs();
  const pollMs = opts.pollMs ?? envMs("FLAVUM_TX_POLL_MS", 1000);
  const every = opts.progressEveryMs ?? 15_000;
  const log = opts.progress ?? toStderr;
  const tx: SentTx = { ...sent };
  const start = Date.now();
  let nextReport = start + every;

  const mined = async (): Promise<TxWaitResult<R> | undefined> => {
    const r = await provider.getTransactionReceipt(tx.hash);
    if (!r) return undefined;
    return { status: r.status === 1 ? "mined" : "reverted", gasUsed: r.gasUsed, block: r.blockNumber, nonce: tx.nonce, receipt: r };
  };

  for (;;) {
    const done = await mined();
    if (done) return done;
    const known = await provider.getTransaction(tx.hash);
    if (known) {
      // The node's word beats what the caller remembered (an old store may not have the nonce).
      tx.nonce = known.nonce;
      tx.from = known.from;
    } else if (tx.nonce !== undefined && tx.from !== undefined) {
      const confirmed = await provider.getTransactionCount(tx.from, "latest");
      if (confirmed > tx.nonce) {
        // The nonce may have been used by this very transaction between the two reads above.
        const late = await mined();
        if (late) return late;
        return { status: "dropped", nonce: tx.nonce };
      }
    }
    const waited = Date.now() - start;
    if (waited >= timeoutMs) return { status: "pending", waitedMs: waited, nonce: tx.nonce };
    if (Date.now() >= nextReport) {
      log(`${opts.what ? `${opts.what}: ` : ""}waiting for tx ${describeTx(tx)} to be mined: ${formatSeconds(waited)}` +
        (known ? "" : " (the node does not know it; its nonce is still unused, so it may still be mined)"));
      nextReport += every;
    }
    await sleep(Math.min(pollMs, Math.max(0, timeoutMs - waited)));
  }
}

/** The error for a transaction that was not mined in time: it may still land, so it must not be resent blindly. */
export function stillPendingError(what: string, tx: SentTx, waitedMs: number, hint?: string): FlavumError {
  return new FlavumError(
    `${what}: transaction ${describeTx(tx)} still pending after ${Math.round(waitedMs / 1000)} s: it may still be mined; ` +
      (hint ?? "check it (eth_getTransactionReceipt or a block explorer) before running the command again, which would send a new transaction") +
      ` (FLAVUM_TX_TIMEOUT_MS sets how long to wait)`,
    "TX_PENDING",
  );
}

/** What a send returns before it is mined (ethers' TransactionResponse has these). */
export interface SentResponse {
  hash: string;
  nonce: number;
  from: string;
}

/**
 * Sends (awaits the send), then waits for the transaction with progress; the receipt on success, a
 * FlavumError naming the action, hash and nonce on a revert, a drop or a timeout. Records nothing.
 */
export async function sendAndWait<T extends SentResponse, R extends ReceiptLike>(
  provider: TxProvider<R>,
  send: Promise<T> | T,
  what: string,
  opts: WaitOptions & { pendingHint?: string } = {},
): Promise<{ tx: T; receipt: R; gasUsed: bigint; block: number }> {
  const tx = await send;
  const sent = { hash: tx.hash, nonce: tx.nonce, from: tx.from };
  const r = await waitForTx(provider, sent, { what, ...opts });
  switch (r.status) {
    case "mined":
      return { tx, receipt: r.receipt, gasUsed: r.gasUsed, block: r.block };
    case "reverted":
      throw new FlavumError(`${what}: transaction ${describeTx(sent)} reverted in block ${r.block} (${r.gasUsed} gas used)`, "REVERTED");
    case "dropped":
      throw new FlavumError(
        `${what}: transaction ${describeTx(sent)} was dropped: the node no longer knows it and another transaction used its nonce; it will never be mined, so the command can be run again`,
        "TX_DROPPED",
      );
    case "pending":
      throw stillPendingError(what, sent, r.waitedMs, opts.pendingHint);
  }
}
