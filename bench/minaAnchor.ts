/**
 * The non-EVM anchor's figures, with proofs enabled, once: compile RootAnchor (o1js, Kimchi/Pickles
 * keys), deploy it on an in-process Mina.LocalBlockchain from the rollup's empty root, anchor one
 * batch (build, prove, sign, apply), read the history back. Mina has no gas: a transaction pays the
 * fee its sender sets, and deploying pays the account creation fee once.
 */
import { compareAnchored } from "../src/chain/anchor";
import { MinaAnchorLedger, NANOMINA_PER_MINA } from "../src/chain/mina/minaAnchor";
import { o1jsVersion, rootAnchorContract } from "../src/chain/mina/rootAnchor";
import { TREE_DEPTH } from "../src/protocol/batch";
import { hasher, zeroRoots } from "../src/rollup/merkle";

export interface MinaAnchorSummary {
  ledger: "mina (o1js LocalBlockchain, proofs enabled)";
  o1js: string;
  /** RootAnchor.compile(); cold (no key cache) unless a cache directory was given. */
  compileMs: number;
  compileCache: "none" | string;
  /** Rows of the `anchor` circuit (Kimchi), as o1js's analyzeMethods counts them. */
  anchorRows: number;
  deployMs: number;
  /** One anchor transaction: build (runs the method), prove, sign, apply (the ledger verifies the proof). */
  anchorMs: number;
  /** Of anchorMs, `tx.prove()`. */
  proveMs: number;
  /** The anchor transaction's JSON, proof included. */
  txBytes: number;
  /** Fee the anchor transaction paid (what the fee payer's balance lost), nanomina and MINA. */
  feeNanomina: number;
  feeMina: number;
  /** Paid once, by the deploy: Mina's account creation fee for the zkApp account. */
  accountCreationFeeMina: number;
  /** The anchored batch read back from the zkApp's events agrees with what was anchored. */
  historyOk: boolean;
}

export async function benchMinaAnchor(opts: { cacheDir?: string; progress?: (line: string) => void } = {}): Promise<MinaAnchorSummary> {
  const progress = opts.progress ?? ((s: string) => process.stderr.write(`[bench] mina: ${s}\n`));
  const { o1js, RootAnchor } = await rootAnchorContract();
  const version = o1jsVersion();
  const h = await hasher();
  const genesisRoot = zeroRoots(h, TREE_DEPTH)[TREE_DEPTH]; // the rollup's empty root

  const t0 = Date.now();
  const ledger = await MinaAnchorLedger.local({ proofsEnabled: true, genesisRoot, progress, cacheDir: opts.cacheDir ?? null });
  const deployMs = Date.now() - t0 - ledger.compileMs;
  try {
    const rows = (await RootAnchor.analyzeMethods()).anchor.rows;
    const batch = { oldRoot: genesisRoot, newRoot: h(genesisRoot, 1n), batchHash: h(2n, 3n) };
    const before = ledger.balance();
    progress("anchoring one batch (proving)…");
    const r = await ledger.anchor(batch);
    const fee = before - ledger.balance();
    const tx = ledger.lastTx!;
    progress(`anchored in ${(r.ms / 1000).toFixed(1)} s (prove ${(tx.proveMs / 1000).toFixed(1)} s), ${tx.txBytes} bytes`);
    const historyOk = compareAnchored(await ledger.history(), [batch]).ok;
    const accountCreationFee = o1js.Mina.getNetworkConstants().accountCreationFee.toBigInt();
    return {
      ledger: "mina (o1js LocalBlockchain, proofs enabled)",
      o1js: version,
      compileMs: ledger.compileMs,
      compileCache: opts.cacheDir ?? "none",
      anchorRows: rows,
      deployMs,
      anchorMs: r.ms,
      proveMs: tx.proveMs,
      txBytes: tx.txBytes,
      feeNanomina: Number(fee),
      feeMina: Number(fee) / Number(NANOMINA_PER_MINA),
      accountCreationFeeMina: Number(accountCreationFee) / Number(NANOMINA_PER_MINA),
      historyOk,
    };
  } finally {
    await ledger.close();
  }
}
