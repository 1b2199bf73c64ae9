/**
 * The sequencer's durable state in SQLite (better-sqlite3): its mempool of requests, the batches it
 * built (with their proofs and transaction hashes), and the models it serves. Every state change is
 * one transaction, so a crash leaves either the old state or the new one, never half of each.
 * The trace tree is not stored separately: it is rebuilt from the settled batches' leaves.
 */
import Database from "better-sqlite3";
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import { OFFCHAIN_REQUEST_BASE } from "../protocol/batch";

/** rejected: the sequencer cannot prove it (reason kept); closed: its requester cancelled it on chain. */
export type RequestStatus = "pending" | "batched" | "settled" | "rejected" | "closed";
/**
 * planned: its witness input is fixed (every root is known) and it waits for a prover; proven → submitting → settled;
 * stale: another batch took its slot, its requests went back to the mempool.
 */
export type BatchStatus = "planned" | "proven" | "submitting" | "settled" | "stale";

export interface RequestRow {
  id: bigint;
  modelId: bigint;
  /** Float sample (off-chain requests) or quantized input (on-chain requests). */
  sample: number[] | null;
  quantized: bigint[] | null;
  status: RequestStatus;
  batchLocalId: number | null;
  entryIndex: number | null;
  createdAt: string;
  reason: string | null;
  /** On-chain requests: whether the result was delivered (fulfil + callback), by anyone. */
  fulfilled: boolean;
}

export interface BatchRow {
  localId: number;
  modelId: bigint;
  batchSize: number;
  /** The model's own batch number, which the proof binds. */
  batchNumber: bigint;
  /** The rollup-wide batch id the ledger gave it when it settled (the read API's key). */
  batchId: bigint | null;
  /** The compact trace as posted (bound to the proof). */
  trace: string;
  firstLeaf: bigint;
  count: number;
  oldRoot: bigint;
  newRoot: bigint;
  batchRoot: bigint;
  leaves: bigint[];
  entries: unknown[];
  proof: unknown;
  status: BatchStatus;
  txHash: string | null;
  /** Sender and nonce of the batch's transaction: with the hash, what tells "may still land" from "dropped". */
  txNonce: number | null;
  txFrom: string | null;
  gasUsed: bigint | null;
  proveMs: number;
  /** The batch circuit's input, kept from planning until the batch is proven (null afterwards). */
  circuitInput: Record<string, unknown> | null;
}

/** One batch sent to one of a multi-chain rollup's other chains. */
export interface ChainTxRow {
  chain: string;
  position: number;
  batchId: bigint;
  status: "sending" | "sent" | "settled";
  txHash: string | null;
  txNonce: number | null;
  txFrom: string | null;
  gasUsed: bigint | null;
}

export interface ServedModel {
  modelId: bigint;
  name: string;
  batchSize: number;
  verifier: string;
  /** The batch circuit's vk hash registered on chain; null for rows written before it was recorded. */
  vkHash?: string | null;
  /** The model circuit (source hash) the batch circuit was built from; null likewise. */
  circuitHash?: string | null;
}

const big = (v: unknown) => BigInt(v as string);

/** Off-chain ids below BASE + 2^40 are sequential (OFFCHAIN_REQUEST_BASE + seq); signed requests' ids are hashes above. */
const SEQUENTIAL_IDS = 1n << 40n;

type NewBatch = Omit<BatchRow, "localId" | "status" | "txHash" | "txNonce" | "txFrom" | "gasUsed" | "batchId" | "circuitInput">;
const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

export class SequencerStore {
  readonly db: Database.Database;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS models (
        model_id TEXT PRIMARY KEY, name TEXT NOT NULL, batch_size INTEGER NOT NULL, verifier TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS requests (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE, model_id TEXT NOT NULL, sample TEXT, quantized TEXT,
        status TEXT NOT NULL, batch_local_id INTEGER, entry_index INTEGER, created_at TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS requests_pending ON requests (status, model_id, seq);
      CREATE TABLE IF NOT EXISTS batches (
        local_id INTEGER PRIMARY KEY AUTOINCREMENT,
        model_id TEXT NOT NULL, batch_size INTEGER NOT NULL, batch_number TEXT NOT NULL, first_leaf TEXT NOT NULL,
        count INTEGER NOT NULL, old_root TEXT NOT NULL, new_root TEXT NOT NULL, batch_root TEXT NOT NULL,
        leaves TEXT NOT NULL, entries TEXT NOT NULL, proof TEXT NOT NULL, status TEXT NOT NULL,
        tx_hash TEXT, gas_used TEXT, prove_ms REAL NOT NULL);
    `);
    this.migrate();
  }

  /** Columns added after stores were first written; idempotent, so an old store opens as a new one. */
  private migrate(): void {
    this.db.transaction(() => {
      // Read inside the write lock: two processes opening an old store at once must not both add a column.
      const has = new Set((this.db.prepare("PRAGMA table_info(batches)").all() as { name: string }[]).map((c) => c.name));
      if (!has.has("tx_nonce")) this.db.exec("ALTER TABLE batches ADD COLUMN tx_nonce INTEGER");
      if (!has.has("tx_from")) this.db.exec("ALTER TABLE batches ADD COLUMN tx_from TEXT");
      if (!has.has("batch_id")) this.db.exec("ALTER TABLE batches ADD COLUMN batch_id TEXT");
      if (!has.has("trace")) this.db.exec("ALTER TABLE batches ADD COLUMN trace TEXT NOT NULL DEFAULT '0x'");
      const reqCols = new Set((this.db.prepare("PRAGMA table_info(requests)").all() as { name: string }[]).map((c) => c.name));
      if (!reqCols.has("reason")) this.db.exec("ALTER TABLE requests ADD COLUMN reason TEXT");
      if (!reqCols.has("fulfilled")) this.db.exec("ALTER TABLE requests ADD COLUMN fulfilled INTEGER NOT NULL DEFAULT 0");
      const modelCols = new Set((this.db.prepare("PRAGMA table_info(models)").all() as { name: string }[]).map((c) => c.name));
      for (const col of ["vk_hash", "circuit_hash"]) if (!modelCols.has(col)) this.db.exec(`ALTER TABLE models ADD COLUMN ${col} TEXT`);
      if (!has.has("circuit_input")) this.db.exec("ALTER TABLE batches ADD COLUMN circuit_input TEXT");
      // A signed request is accepted once per (signer, nonce): a client that lost the reply sends it again safely.
      // A multi-chain rollup's other chains: per (chain, position in the primary's settlement order), the transaction sent.
      this.db.exec(`CREATE TABLE IF NOT EXISTS chain_txs (
        chain TEXT NOT NULL, position INTEGER NOT NULL, batch_id TEXT NOT NULL, status TEXT NOT NULL,
        tx_hash TEXT, tx_nonce INTEGER, tx_from TEXT, gas_used TEXT, PRIMARY KEY (chain, position))`);
      this.db.exec(`CREATE TABLE IF NOT EXISTS signed_requests (
        signer TEXT NOT NULL, nonce TEXT NOT NULL, request_id TEXT NOT NULL UNIQUE, signature TEXT NOT NULL, PRIMARY KEY (signer, nonce))`);
    }).immediate();
  }

  close(): void {
    this.db.close();
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  /**
   * Ties the store to one rollup deployment: a store written for another deployment (another
   * chain, or a redeployed rollup) would replay batches the new rollup never saw.
   */
  bind(deployment: string): void {
    const current = this.getMeta("deployment");
    if (current === undefined) this.setMeta("deployment", deployment);
    else if (current !== deployment)
      throw new FlavumError(
        `sequencer store ${this.file} belongs to rollup deployment ${current}, not ${deployment}; ` +
          `use another --store or remove it`,
        "STORE_MISMATCH",
      );
  }

  addModel(m: ServedModel): void {
    this.db.prepare(
      "INSERT INTO models (model_id, name, batch_size, verifier, vk_hash, circuit_hash) VALUES (?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT(model_id) DO UPDATE SET name = excluded.name, batch_size = excluded.batch_size, verifier = excluded.verifier, " +
        "vk_hash = excluded.vk_hash, circuit_hash = excluded.circuit_hash",
    ).run(m.modelId.toString(), m.name, m.batchSize, m.verifier, m.vkHash ?? null, m.circuitHash ?? null);
  }

  models(): ServedModel[] {
    return (this.db.prepare("SELECT * FROM models ORDER BY CAST(model_id AS INTEGER)").all() as Record<string, unknown>[]).map((r) => ({
      modelId: big(r.model_id), name: r.name as string, batchSize: r.batch_size as number, verifier: r.verifier as string,
      vkHash: (r.vk_hash as string | null) ?? null, circuitHash: (r.circuit_hash as string | null) ?? null,
    }));
  }

  model(idOrName: string): ServedModel | undefined {
    return this.models().find((m) => m.modelId.toString() === idOrName || m.name === idOrName);
  }

  /** Queues requests atomically: all of them or none. */
  addRequests(reqs: { id: bigint; modelId: bigint; sample?: number[]; quantized?: bigint[] }[]): void {
    const ins = this.db.prepare(
      "INSERT INTO requests (id, model_id, sample, quantized, status, created_at) VALUES (?, ?, ?, ?, 'pending', ?) ON CONFLICT(id) DO NOTHING",
    );
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const r of reqs) ins.run(r.id.toString(), r.modelId.toString(), r.sample ? json(r.sample) : null, r.quantized ? json(r.quantized) : null, now);
    })();
  }

  nextOffchainSeq(): bigint {
    const row = this.db.prepare("SELECT COALESCE(MAX(seq), 0) AS s FROM requests").get() as { s: number };
    return BigInt(row.s + 1);
  }

  private request(r: Record<string, unknown>): RequestRow {
    return {
      id: big(r.id), modelId: big(r.model_id),
      sample: r.sample ? JSON.parse(r.sample as string) : null,
      quantized: r.quantized ? (JSON.parse(r.quantized as string) as string[]).map(big) : null,
      status: r.status as RequestStatus, batchLocalId: (r.batch_local_id as number) ?? null,
      entryIndex: (r.entry_index as number) ?? null, createdAt: r.created_at as string,
      reason: (r.reason as string | null) ?? null, fulfilled: Boolean(r.fulfilled),
    };
  }

  getRequest(id: bigint): RequestRow | undefined {
    const r = this.db.prepare("SELECT * FROM requests WHERE id = ?").get(id.toString()) as Record<string, unknown> | undefined;
    return r && this.request(r);
  }

  /**
   * The model with the oldest pending request, and up to `limit` of its pending requests: on-chain ones
   * first, in request-id order (the ledger serves them in that order and insists on overdue ones), then
   * off-chain ones in arrival order.
   */
  oldestPending(limit: (modelId: bigint) => number, onlyModel?: bigint): { modelId: bigint; requests: RequestRow[] } | undefined {
    const first = (onlyModel === undefined
      ? this.db.prepare("SELECT model_id FROM requests WHERE status = 'pending' ORDER BY seq LIMIT 1").get()
      : this.db.prepare("SELECT model_id FROM requests WHERE status = 'pending' AND model_id = ? LIMIT 1").get(onlyModel.toString())) as { model_id: string } | undefined;
    if (!first) return undefined;
    const modelId = big(first.model_id);
    const rows = (this.db.prepare("SELECT * FROM requests WHERE status = 'pending' AND model_id = ? ORDER BY seq").all(first.model_id) as Record<string, unknown>[])
      .map((r) => this.request(r));
    const onchain = rows.filter((r) => r.id < OFFCHAIN_REQUEST_BASE).sort((a, b) => (a.id < b.id ? -1 : 1));
    const offchain = rows.filter((r) => r.id >= OFFCHAIN_REQUEST_BASE);
    return { modelId, requests: [...onchain, ...offchain].slice(0, limit(modelId)) };
  }

  /** The sequencer cannot prove this request: kept with its reason, out of every batch. */
  rejectRequest(id: bigint, reason: string, status: "rejected" | "closed" = "rejected"): void {
    this.db.prepare("UPDATE requests SET status = ?, reason = ? WHERE id = ? AND status = 'pending'").run(status, reason, id.toString());
  }

  /** On-chain requests proven in a settled batch whose result has not been delivered yet. */
  undelivered(): RequestRow[] {
    return (this.db.prepare("SELECT * FROM requests WHERE status = 'settled' AND fulfilled = 0 ORDER BY seq").all() as Record<string, unknown>[])
      .map((r) => this.request(r)).filter((r) => r.id < OFFCHAIN_REQUEST_BASE);
  }

  markDelivered(id: bigint): void {
    this.db.prepare("UPDATE requests SET fulfilled = 1 WHERE id = ?").run(id.toString());
  }

  pendingCount(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM requests WHERE status = 'pending'").get() as { n: number }).n;
  }

  private batch(r: Record<string, unknown>): BatchRow {
    return {
      localId: r.local_id as number, modelId: big(r.model_id), batchSize: r.batch_size as number,
      batchNumber: big(r.batch_number), batchId: r.batch_id ? big(r.batch_id) : null, trace: (r.trace as string) ?? "0x",
      firstLeaf: big(r.first_leaf), count: r.count as number,
      oldRoot: big(r.old_root), newRoot: big(r.new_root), batchRoot: big(r.batch_root),
      leaves: (JSON.parse(r.leaves as string) as string[]).map(big), entries: JSON.parse(r.entries as string),
      proof: JSON.parse(r.proof as string), status: r.status as BatchStatus, txHash: (r.tx_hash as string) ?? null,
      txNonce: (r.tx_nonce as number) ?? null, txFrom: (r.tx_from as string) ?? null,
      gasUsed: r.gas_used ? big(r.gas_used) : null, proveMs: r.prove_ms as number,
      circuitInput: r.circuit_input ? JSON.parse(r.circuit_input as string) : null,
    };
  }

  /** Records a proven batch and marks its requests batched, in one transaction. */
  addProvenBatch(b: NewBatch, requestIds: bigint[]): number {
    return this.insertBatch(b, requestIds, "proven");
  }

  /**
   * Records a planned batch (roots and witness input fixed, no proof yet) and marks its requests
   * batched, in one transaction: a prover anywhere can prove it, and it is submitted in its turn.
   */
  addPlannedBatch(b: Omit<NewBatch, "proof" | "proveMs">, circuitInput: Record<string, unknown>, requestIds: bigint[]): number {
    return this.insertBatch({ ...b, proof: null, proveMs: 0 }, requestIds, "planned", circuitInput);
  }

  private insertBatch(b: NewBatch, requestIds: bigint[], status: "planned" | "proven", circuitInput?: Record<string, unknown>): number {
    return this.db.transaction(() => {
      const res = this.db.prepare(
        `INSERT INTO batches (model_id, batch_size, batch_number, first_leaf, count, old_root, new_root, batch_root,
          leaves, entries, proof, status, prove_ms, trace, circuit_input) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        b.modelId.toString(), b.batchSize, b.batchNumber.toString(), b.firstLeaf.toString(), b.count,
        b.oldRoot.toString(), b.newRoot.toString(), b.batchRoot.toString(), json(b.leaves), json(b.entries), json(b.proof), status, b.proveMs,
        b.trace, circuitInput ? json(circuitInput) : null,
      );
      const localId = Number(res.lastInsertRowid);
      const upd = this.db.prepare("UPDATE requests SET status = 'batched', batch_local_id = ?, entry_index = ? WHERE id = ? AND status = 'pending'");
      requestIds.forEach((id, i) => {
        if (upd.run(localId, i, id.toString()).changes !== 1) throw new FlavumError(`request ${id} is no longer pending`);
      });
      return localId;
    })();
  }

  /** A planned batch's proof arrived; a second arrival (a retried job) changes nothing. */
  setProof(localId: number, proof: unknown, proveMs: number): boolean {
    return this.db.prepare("UPDATE batches SET proof = ?, prove_ms = ?, status = 'proven', circuit_input = NULL WHERE local_id = ? AND status = 'planned'")
      .run(json(proof), proveMs, localId).changes === 1;
  }

  /** Every batch not settled yet and not stale, in the order they are to be submitted. */
  inflightBatches(modelId?: bigint): BatchRow[] {
    const rows = (modelId === undefined
      ? this.db.prepare("SELECT * FROM batches WHERE status IN ('planned', 'proven', 'submitting') ORDER BY local_id").all()
      : this.db.prepare("SELECT * FROM batches WHERE status IN ('planned', 'proven', 'submitting') AND model_id = ? ORDER BY local_id").all(modelId.toString())
    ) as Record<string, unknown>[];
    return rows.map((r) => this.batch(r));
  }

  /** Pending requests per model: how many and since when the oldest waits (what the batching policy looks at). */
  pendingByModel(): { modelId: bigint; count: number; oldest: string }[] {
    return (this.db.prepare("SELECT model_id, COUNT(*) AS n, MIN(created_at) AS oldest FROM requests WHERE status = 'pending' GROUP BY model_id").all() as Record<string, unknown>[])
      .map((r) => ({ modelId: big(r.model_id), count: r.n as number, oldest: r.oldest as string }));
  }

  /**
   * Queues a signed request under its id unless that id is taken: then the request already there is
   * returned (`duplicate`), so a resent request is never queued twice — also after a rebuild from the
   * chain, which restores settled requests by id but not who signed them. `sameInput` tells a resend
   * from another request under a reused nonce. One transaction.
   */
  addSignedRequest(r: { id: bigint; modelId: bigint; quantized: bigint[]; signer: string; nonce: bigint; signature: string }, sameInput: (existing: RequestRow) => boolean): { id: bigint; duplicate: boolean } {
    return this.db.transaction(() => {
      const existing = this.getRequest(r.id);
      if (existing) {
        if (existing.modelId !== r.modelId || !sameInput(existing))
          throw new FlavumError(`request ${r.id} (${r.signer}'s nonce ${r.nonce}) is already taken by another request: sign the new one with a fresh nonce`, "NONCE_USED");
        return { id: r.id, duplicate: true };
      }
      this.addRequests([{ id: r.id, modelId: r.modelId, quantized: r.quantized }]);
      this.db.prepare("INSERT INTO signed_requests (signer, nonce, request_id, signature) VALUES (?, ?, ?, ?)").run(r.signer.toLowerCase(), r.nonce.toString(), r.id.toString(), r.signature);
      return { id: r.id, duplicate: false };
    }).immediate();
  }

  /** Who signed an off-chain request, if it came signed. */
  signerOf(id: bigint): { signer: string; nonce: bigint; signature: string } | undefined {
    const r = this.db.prepare("SELECT * FROM signed_requests WHERE request_id = ?").get(id.toString()) as Record<string, string> | undefined;
    return r && { signer: r.signer, nonce: big(r.nonce), signature: r.signature };
  }

  /** Requests, newest first (the API's listing). */
  recentRequests(limit: number, modelId?: bigint): RequestRow[] {
    const rows = (modelId === undefined
      ? this.db.prepare("SELECT * FROM requests ORDER BY seq DESC LIMIT ?").all(limit)
      : this.db.prepare("SELECT * FROM requests WHERE model_id = ? ORDER BY seq DESC LIMIT ?").all(modelId.toString(), limit)
    ) as Record<string, unknown>[];
    return rows.map((r) => this.request(r));
  }

  /** Batches, newest first (the API's listing). */
  recentBatches(limit: number, modelId?: bigint): BatchRow[] {
    const rows = (modelId === undefined
      ? this.db.prepare("SELECT * FROM batches WHERE status != 'stale' ORDER BY local_id DESC LIMIT ?").all(limit)
      : this.db.prepare("SELECT * FROM batches WHERE status != 'stale' AND model_id = ? ORDER BY local_id DESC LIMIT ?").all(modelId.toString(), limit)
    ) as Record<string, unknown>[];
    return rows.map((r) => this.batch(r));
  }

  /** The settled batch with this rollup-wide id. */
  batchById(batchId: bigint): BatchRow | undefined {
    const r = this.db.prepare("SELECT * FROM batches WHERE batch_id = ? AND status = 'settled'").get(batchId.toString()) as Record<string, unknown> | undefined;
    return r && this.batch(r);
  }

  /** The next batch to submit (planned, proven or being submitted), if any. */
  unsettled(): BatchRow | undefined {
    const r = this.db.prepare("SELECT * FROM batches WHERE status IN ('planned', 'proven', 'submitting') ORDER BY local_id LIMIT 1").get() as Record<string, unknown> | undefined;
    return r && this.batch(r);
  }

  getBatch(localId: number): BatchRow | undefined {
    const r = this.db.prepare("SELECT * FROM batches WHERE local_id = ?").get(localId) as Record<string, unknown> | undefined;
    return r && this.batch(r);
  }

  /** Settled batches, per model in that model's batch order. */
  settledBatches(modelId?: bigint): BatchRow[] {
    const rows = (modelId === undefined
      ? this.db.prepare("SELECT * FROM batches WHERE status = 'settled' ORDER BY model_id, CAST(batch_number AS INTEGER)").all()
      : this.db.prepare("SELECT * FROM batches WHERE status = 'settled' AND model_id = ? ORDER BY CAST(batch_number AS INTEGER)").all(modelId.toString())
    ) as Record<string, unknown>[];
    return rows.map((r) => this.batch(r));
  }

  /** Written BEFORE the transaction is sent: after a crash, the batch is checked against the chain. */
  markSubmitting(localId: number): void {
    this.db.prepare("UPDATE batches SET status = 'submitting' WHERE local_id = ? AND status IN ('proven', 'submitting')").run(localId);
  }

  /**
   * The batch's transaction as broadcast (a replacement overwrites it: same nonce, new hash); null
   * once it is known never to land, so the next submit may send again.
   */
  setTx(localId: number, tx: { hash: string; nonce?: number; from?: string } | null): void {
    this.db.prepare("UPDATE batches SET tx_hash = ?, tx_nonce = ?, tx_from = ? WHERE local_id = ?")
      .run(tx?.hash ?? null, tx?.nonce ?? null, tx?.from ?? null, localId);
  }

  markSettled(localId: number, batchId: bigint, txHash: string | null, gasUsed: bigint | null): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE batches SET status = 'settled', batch_id = ?, tx_hash = COALESCE(?, tx_hash), gas_used = COALESCE(?, gas_used) WHERE local_id = ?")
        .run(batchId.toString(), txHash, gasUsed?.toString() ?? null, localId);
      this.db.prepare("UPDATE requests SET status = 'settled' WHERE batch_local_id = ?").run(localId);
    })();
  }

  /** Another batch took this one's slot: its requests go back to the mempool. */
  markStale(localId: number): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE batches SET status = 'stale' WHERE local_id = ?").run(localId);
      this.db.prepare("UPDATE requests SET status = 'pending', batch_local_id = NULL, entry_index = NULL WHERE batch_local_id = ?").run(localId);
    })();
  }

  // ---- Rebuilding from the chain (src/rollup/rebuild.ts). Additions only: nothing above depends on them.

  /** Rows per table; the deployment binding in meta alone does not make a store non-empty. */
  counts(): { models: number; batches: number; requests: number } {
    const n = (table: string) => (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { models: n("models"), batches: n("batches"), requests: n("requests") };
  }

  isEmpty(): boolean {
    const c = this.counts();
    return c.models + c.batches + c.requests === 0;
  }

  /** Every row the store has for one batch slot of a model, whatever its status. */
  batchesAt(modelId: bigint, batchNumber: bigint): BatchRow[] {
    return (this.db.prepare("SELECT * FROM batches WHERE model_id = ? AND batch_number = ? ORDER BY local_id").all(modelId.toString(), batchNumber.toString()) as Record<string, unknown>[])
      .map((r) => this.batch(r));
  }

  /** Runs `fn` as one transaction (nested calls join it): a rebuild writes all it recovered or nothing. */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * Records a batch recovered from the chain as settled, with the requests it proves. A request the
   * store lacks is added settled; an off-chain one under the sequence number its id was made from
   * (id - OFFCHAIN_REQUEST_BASE) when that is free, so the ids nextOffchainSeq hands out later never
   * repeat a settled one. A request the store holds but never saw settled (pending, batched, set
   * aside) is moved into the batch: the chain proved it, and re-batching it would prove it twice. One
   * already settled in another batch of the store keeps that batch (`kept`).
   */
  addSettledBatch(
    b: Omit<BatchRow, "localId" | "status" | "circuitInput">,
    requests: { id: bigint; quantized?: bigint[] | null; fulfilled: boolean; createdAt: string }[],
  ): { localId: number; added: number; moved: number; kept: number } {
    if (b.batchId === null) throw new FlavumError(`a settled batch needs its batch id (model ${b.modelId}, batch ${b.batchNumber})`);
    return this.db.transaction(() => {
      const res = this.db.prepare(
        `INSERT INTO batches (model_id, batch_size, batch_number, first_leaf, count, old_root, new_root, batch_root, leaves, entries, proof,
          status, prove_ms, trace, batch_id, tx_hash, tx_nonce, tx_from, gas_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'settled', ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        b.modelId.toString(), b.batchSize, b.batchNumber.toString(), b.firstLeaf.toString(), b.count,
        b.oldRoot.toString(), b.newRoot.toString(), b.batchRoot.toString(), json(b.leaves), json(b.entries), json(b.proof), b.proveMs,
        b.trace, b.batchId!.toString(), b.txHash, b.txNonce, b.txFrom, b.gasUsed?.toString() ?? null,
      );
      const localId = Number(res.lastInsertRowid);
      const seqTaken = this.db.prepare("SELECT 1 FROM requests WHERE seq = ?");
      const ins = this.db.prepare(
        `INSERT INTO requests (seq, id, model_id, sample, quantized, status, batch_local_id, entry_index, created_at, fulfilled)
          VALUES (?, ?, ?, NULL, ?, 'settled', ?, ?, ?, ?)`,
      );
      const move = this.db.prepare(
        "UPDATE requests SET status = 'settled', batch_local_id = ?, entry_index = ?, reason = NULL, fulfilled = MAX(fulfilled, ?) WHERE id = ?",
      );
      let added = 0, moved = 0, kept = 0;
      requests.forEach((r, i) => {
        const row = this.getRequest(r.id);
        if (!row) {
          // Only a sequential id (the CLI's) names a sequence number; a signed request's id is a hash.
          const own = r.id >= OFFCHAIN_REQUEST_BASE && r.id - OFFCHAIN_REQUEST_BASE < SEQUENTIAL_IDS ? Number(r.id - OFFCHAIN_REQUEST_BASE) : null;
          const seq = own !== null && !seqTaken.get(own) ? own : null;
          ins.run(seq, r.id.toString(), b.modelId.toString(), r.quantized ? json(r.quantized) : null, localId, i, r.createdAt, r.fulfilled ? 1 : 0);
          added++;
        } else if (row.modelId !== b.modelId) {
          throw new FlavumError(`request ${r.id} is proven in batch ${b.batchId} of model ${b.modelId}, but this store has it for model ${row.modelId}`, "STORE_DIVERGED");
        } else if (row.status !== "settled" || row.batchLocalId === null) {
          move.run(localId, i, r.fulfilled ? 1 : 0, r.id.toString());
          moved++;
        } else kept++;
      });
      return { localId, added, moved, kept };
    })();
  }

  // ------------------------------------------------------------ other chains (src/rollup/chainMirror.ts)

  /** The transaction this store sent `chain` for the batch at `position` of the settlement order, if any. */
  chainTx(chain: string, position: number): ChainTxRow | undefined {
    const r = this.db.prepare("SELECT * FROM chain_txs WHERE chain = ? AND position = ?").get(chain, position) as Record<string, unknown> | undefined;
    if (!r) return undefined;
    return {
      chain, position, batchId: big(r.batch_id), status: r.status as ChainTxRow["status"], txHash: (r.tx_hash as string | null) ?? null,
      txNonce: (r.tx_nonce as number | null) ?? null, txFrom: (r.tx_from as string | null) ?? null, gasUsed: r.gas_used == null ? null : big(r.gas_used),
    };
  }

  /** Written BEFORE the transaction is sent (status "sending"), then with its hash and nonce ("sent"). */
  setChainTx(chain: string, position: number, batchId: bigint, tx?: { hash: string; nonce?: number; from?: string }): void {
    this.db.prepare(
      `INSERT INTO chain_txs (chain, position, batch_id, status, tx_hash, tx_nonce, tx_from) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (chain, position) DO UPDATE SET batch_id = excluded.batch_id, status = excluded.status, tx_hash = excluded.tx_hash,
          tx_nonce = excluded.tx_nonce, tx_from = excluded.tx_from, gas_used = NULL`,
    ).run(chain, position, batchId.toString(), tx ? "sent" : "sending", tx?.hash ?? null, tx?.nonce ?? null, tx?.from ?? null);
  }

  markChainTxSettled(chain: string, position: number, gasUsed: bigint | null): void {
    this.db.prepare("UPDATE chain_txs SET status = 'settled', gas_used = COALESCE(?, gas_used) WHERE chain = ? AND position = ?")
      .run(gasUsed?.toString() ?? null, chain, position);
  }

  /** A transaction that can never be mined (dropped, reverted): the batch is sent to that chain again. */
  clearChainTx(chain: string, position: number): void {
    this.db.prepare("DELETE FROM chain_txs WHERE chain = ? AND position = ?").run(chain, position);
  }

  /** The settled batch the rollup numbered `batchId`, if this store proved it. */
  settledBatchById(batchId: bigint): BatchRow | undefined {
    const r = this.db.prepare("SELECT * FROM batches WHERE status = 'settled' AND batch_id = ?").get(batchId.toString()) as Record<string, unknown> | undefined;
    return r && this.batch(r);
  }
}
