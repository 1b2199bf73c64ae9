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

export type RequestStatus = "pending" | "batched" | "settled";
export type BatchStatus = "proven" | "submitting" | "settled" | "stale";

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
}

export interface BatchRow {
  localId: number;
  modelId: bigint;
  batchSize: number;
  batchNumber: bigint;
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
  gasUsed: bigint | null;
  proveMs: number;
}

export interface ServedModel {
  modelId: bigint;
  name: string;
  batchSize: number;
  verifier: string;
}

const big = (v: unknown) => BigInt(v as string);
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
      "INSERT INTO models (model_id, name, batch_size, verifier) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT(model_id) DO UPDATE SET name = excluded.name, batch_size = excluded.batch_size, verifier = excluded.verifier",
    ).run(m.modelId.toString(), m.name, m.batchSize, m.verifier);
  }

  models(): ServedModel[] {
    return (this.db.prepare("SELECT * FROM models ORDER BY CAST(model_id AS INTEGER)").all() as Record<string, unknown>[]).map((r) => ({
      modelId: big(r.model_id), name: r.name as string, batchSize: r.batch_size as number, verifier: r.verifier as string,
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
    };
  }

  getRequest(id: bigint): RequestRow | undefined {
    const r = this.db.prepare("SELECT * FROM requests WHERE id = ?").get(id.toString()) as Record<string, unknown> | undefined;
    return r && this.request(r);
  }

  /** The model with the oldest pending request, and up to `limit` of its pending requests in order. */
  oldestPending(limit: (modelId: bigint) => number): { modelId: bigint; requests: RequestRow[] } | undefined {
    const first = this.db.prepare("SELECT model_id FROM requests WHERE status = 'pending' ORDER BY seq LIMIT 1").get() as { model_id: string } | undefined;
    if (!first) return undefined;
    const modelId = big(first.model_id);
    const rows = this.db.prepare("SELECT * FROM requests WHERE status = 'pending' AND model_id = ? ORDER BY seq LIMIT ?").all(first.model_id, limit(modelId)) as Record<string, unknown>[];
    return { modelId, requests: rows.map((r) => this.request(r)) };
  }

  pendingCount(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM requests WHERE status = 'pending'").get() as { n: number }).n;
  }

  private batch(r: Record<string, unknown>): BatchRow {
    return {
      localId: r.local_id as number, modelId: big(r.model_id), batchSize: r.batch_size as number,
      batchNumber: big(r.batch_number), firstLeaf: big(r.first_leaf), count: r.count as number,
      oldRoot: big(r.old_root), newRoot: big(r.new_root), batchRoot: big(r.batch_root),
      leaves: (JSON.parse(r.leaves as string) as string[]).map(big), entries: JSON.parse(r.entries as string),
      proof: JSON.parse(r.proof as string), status: r.status as BatchStatus, txHash: (r.tx_hash as string) ?? null,
      gasUsed: r.gas_used ? big(r.gas_used) : null, proveMs: r.prove_ms as number,
    };
  }

  /** Records a proven batch and marks its requests batched, in one transaction. */
  addProvenBatch(b: Omit<BatchRow, "localId" | "status" | "txHash" | "gasUsed">, requestIds: bigint[]): number {
    return this.db.transaction(() => {
      const res = this.db.prepare(
        `INSERT INTO batches (model_id, batch_size, batch_number, first_leaf, count, old_root, new_root, batch_root,
          leaves, entries, proof, status, prove_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'proven', ?)`,
      ).run(
        b.modelId.toString(), b.batchSize, b.batchNumber.toString(), b.firstLeaf.toString(), b.count,
        b.oldRoot.toString(), b.newRoot.toString(), b.batchRoot.toString(), json(b.leaves), json(b.entries), json(b.proof), b.proveMs,
      );
      const localId = Number(res.lastInsertRowid);
      const upd = this.db.prepare("UPDATE requests SET status = 'batched', batch_local_id = ?, entry_index = ? WHERE id = ? AND status = 'pending'");
      requestIds.forEach((id, i) => {
        if (upd.run(localId, i, id.toString()).changes !== 1) throw new FlavumError(`request ${id} is no longer pending`);
      });
      return localId;
    })();
  }

  /** The batch in flight (proven or being submitted), if any: there is at most one. */
  unsettled(): BatchRow | undefined {
    const r = this.db.prepare("SELECT * FROM batches WHERE status IN ('proven', 'submitting') ORDER BY local_id LIMIT 1").get() as Record<string, unknown> | undefined;
    return r && this.batch(r);
  }

  getBatch(localId: number): BatchRow | undefined {
    const r = this.db.prepare("SELECT * FROM batches WHERE local_id = ?").get(localId) as Record<string, unknown> | undefined;
    return r && this.batch(r);
  }

  settledBatches(): BatchRow[] {
    return (this.db.prepare("SELECT * FROM batches WHERE status = 'settled' ORDER BY CAST(batch_number AS INTEGER)").all() as Record<string, unknown>[]).map((r) => this.batch(r));
  }

  /** Written BEFORE the transaction is sent: after a crash, the batch is checked against the chain. */
  markSubmitting(localId: number): void {
    this.db.prepare("UPDATE batches SET status = 'submitting' WHERE local_id = ? AND status IN ('proven', 'submitting')").run(localId);
  }

  setTxHash(localId: number, txHash: string): void {
    this.db.prepare("UPDATE batches SET tx_hash = ? WHERE local_id = ?").run(txHash, localId);
  }

  markSettled(localId: number, txHash: string | null, gasUsed: bigint | null): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE batches SET status = 'settled', tx_hash = COALESCE(?, tx_hash), gas_used = COALESCE(?, gas_used) WHERE local_id = ?")
        .run(txHash, gasUsed?.toString() ?? null, localId);
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
}
