/**
 * Settling every batch on every chain of a multi-chain rollup. The sequencer settles on the primary
 * chain; each other chain then gets the primary's settled batches, in the primary's order, one
 * transaction at a time, from the proofs and traces in the sequencer store: the same proof settles
 * everywhere because it binds the rollup's domain, not a chain (FlavumRollup, r).
 *
 * Crash safety, per chain, as for the primary: the batch at position k is recorded ("sending") before
 * its transaction is sent and with its hash and nonce right after; on the next run a recorded
 * transaction that can still be mined is waited for, never sent twice. The chain's own settlement
 * history (FlavumRollup.history(): root and count) is the truth about where it stands, so a lost
 * record costs at most one duplicate transaction, which reverts (its old root no longer matches).
 *
 * Before sending anything, a chain's history must be a prefix of the primary's: a chain holding a
 * batch the primary does not (or a different one) is reported diverged and nothing is sent to it.
 * A chain that does not answer is reported and skipped; the next run catches it up, batch by batch.
 */
import { FlavumError } from "../errors";
import type { Progress } from "../zk/log";
import { silent } from "../zk/log";
import type { ChainMember } from "../chain/chainSet";
import type { SettledBatchEvent } from "../chain/ledger";
import { describeTx } from "../chain/txWait";
import { historyTransitions } from "../protocol/history";
import { batchSubmission } from "./batchSubmission";
import type { SequencerStore } from "./store";

export interface ChainSent {
  position: number;
  batchId: string;
  txHash: string;
  gasUsed: string;
  ms: number;
}

export interface ChainSync {
  network: string;
  chainId: string;
  /** Batches the chain held before this run, and after it. */
  from: number;
  to: number;
  /** Batches the primary has settled. */
  target: number;
  sent: ChainSent[];
  /** A transaction still in flight: the chain is caught up further on a later run. */
  pending?: string;
  /** Why the chain was not (fully) caught up: unreachable, diverged, a reverted batch. */
  error?: string;
}

const hex = (v: bigint) => "0x" + v.toString(16);

/** Where a chain's history stands against the primary's order; throws DIVERGED when it is not a prefix of it. */
async function position(m: ChainMember, order: SettledBatchEvent[]): Promise<number> {
  const h = await m.ledger.history();
  const expected = historyTransitions(order);
  if (h.batches > order.length)
    throw new FlavumError(`${m.network} has settled ${h.batches} batches, the primary only ${order.length}: it holds batches the primary does not`, "DIVERGED");
  const want = h.batches === 0 ? 0n : expected[h.batches - 1].newRoot;
  if (h.root !== want)
    throw new FlavumError(
      `${m.network}'s settlement history after ${h.batches} batches is ${hex(h.root)}, the primary's is ${hex(want)}: the chains settled different batches`,
      "DIVERGED",
    );
  return h.batches;
}

/**
 * Sends `m` every batch the primary settled that `m` does not hold yet, in order. Returns what it
 * did; a chain that is merely slow (a transaction still pending) is reported, not an error.
 */
export async function catchUp(
  store: SequencerStore, order: SettledBatchEvent[], m: ChainMember, opts: { progress?: Progress; timeoutMs?: number } = {},
): Promise<ChainSync> {
  const progress = opts.progress ?? silent;
  const from = await position(m, order);
  const out: ChainSync = { network: m.network, chainId: m.chainId.toString(), from, to: from, target: order.length, sent: [] };
  const advanced = async (k: number) => (await position(m, order)) > k;
  for (let k = from; k < order.length; k++) {
    const e = order[k];
    const row = store.settledBatchById(e.batchId);
    if (!row)
      throw new FlavumError(`batch ${e.batchId} (position ${k}) is settled on the primary but not in this sequencer store, so it cannot be sent to ${m.network}; rebuild the store with sequencer:rebuild`, "STORE_DIVERGED");
    const rec = store.chainTx(m.network, k);
    if (rec && rec.batchId !== e.batchId) store.clearChainTx(m.network, k);
    else if (rec?.status === "settled") continue;
    else if (rec?.status === "sent" && rec.txHash) {
      const tx = { hash: rec.txHash, nonce: rec.txNonce ?? undefined, from: rec.txFrom ?? undefined };
      const outcome = await m.ledger.waitTx(tx, { what: `batch ${e.batchId} on ${m.network}`, progress, timeoutMs: opts.timeoutMs });
      if (outcome.status === "pending") return { ...out, pending: `batch ${e.batchId}: ${describeTx(tx)} is not mined yet on ${m.network}` };
      if (await advanced(k)) {
        store.markChainTxSettled(m.network, k, outcome.status === "ok" ? outcome.gasUsed : null);
        out.to = k + 1;
        continue;
      }
      store.clearChainTx(m.network, k);
    } else if (rec?.status === "sending" && (await advanced(k))) {
      // Sent, then the process died before the hash was recorded; the chain has it.
      store.markChainTxSettled(m.network, k, null);
      out.to = k + 1;
      continue;
    }
    const t0 = Date.now();
    store.setChainTx(m.network, k, e.batchId);
    const sent = await m.ledger.sendBatch(batchSubmission(row));
    store.setChainTx(m.network, k, e.batchId, sent);
    const outcome = await m.ledger.waitTx(sent, { what: `batch ${e.batchId} on ${m.network}`, progress, timeoutMs: opts.timeoutMs });
    if (outcome.status === "pending") return { ...out, pending: `batch ${e.batchId}: ${describeTx(sent)} is not mined yet on ${m.network}` };
    if (outcome.status !== "ok") {
      store.clearChainTx(m.network, k);
      throw new FlavumError(
        `batch ${e.batchId} (position ${k}) was ${outcome.status === "failed" ? `refused by ${m.network} in block ${outcome.block}` : `dropped by ${m.network}`} (${describeTx(sent)}); it is sent again on the next run`,
        outcome.status === "failed" ? "REVERTED" : "TX_DROPPED",
      );
    }
    store.markChainTxSettled(m.network, k, outcome.gasUsed);
    out.sent.push({ position: k, batchId: e.batchId.toString(), txHash: sent.hash, gasUsed: outcome.gasUsed.toString(), ms: Date.now() - t0 });
    out.to = k + 1;
    progress(`batch ${e.batchId} settled on ${m.network} (${k + 1}/${order.length}), ${outcome.gasUsed} gas`);
  }
  return out;
}

/** Catches up every chain but the primary; one chain's failure is reported in its entry and never stops the others. */
export async function catchUpAll(store: SequencerStore, members: ChainMember[], opts: { progress?: Progress; timeoutMs?: number } = {}): Promise<ChainSync[]> {
  const [primary, ...others] = members;
  const order = await primary.ledger.settledBatches();
  const out: ChainSync[] = [];
  for (const m of others) {
    try {
      out.push(await catchUp(store, order, m, opts));
    } catch (e) {
      const error = (e as Error).message.split("\n")[0];
      (opts.progress ?? silent)(`${m.network}: not caught up: ${error}`);
      out.push({ network: m.network, chainId: m.chainId.toString(), from: -1, to: -1, target: order.length, sent: [], error });
    }
  }
  return out;
}
