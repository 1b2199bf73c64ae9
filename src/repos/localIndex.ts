/**
 * What this machine has trained and not yet pushed, in SQLite, keyed by commit id (the content id
 * of src/repos/commitIds.ts, the id every command prints): commit records live in the object store
 * (`record`, their content hash); the index says which were pushed and under which token number.
 * It also keeps each commit's data salt: the secret that hides the rows behind the on-chain data
 * commitments (its chunks' salts derive from it). It is kept out of the object store on purpose —
 * objects are content addressed and meant to be shared (the commit's metrics URI names its
 * record), the salt never is. Indexes written before commit ids existed keyed commits by their
 * record's hash; those rows keep working (their record is their id).
 */
import Database from "better-sqlite3";
import fs from "fs";
import path from "path";
import { cacheRoot } from "../zk/paths";
import { FlavumError } from "../errors";

export interface IndexedCommit {
  /** The commit id (0x + 64 hex digits); for commits trained before commit ids, their record's hash. */
  id: string;
  repo: string;
  status: "trained" | "pushed";
  /** The token number the contract gave it, once pushed. */
  onchainId: string | null;
  /** The object holding the commit record. */
  record: string;
}

const row = (r: Record<string, string | null>): IndexedCommit => ({
  id: r.id!, repo: r.repo!, status: r.status as IndexedCommit["status"], onchainId: r.onchain_id, record: r.record ?? r.id!,
});

export function defaultIndexPath(network: string): string {
  return path.join(cacheRoot(), "repos", network, "local.db");
}

export class LocalIndex {
  private readonly db: Database.Database;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.exec(`CREATE TABLE IF NOT EXISTS local_commits (
      id TEXT PRIMARY KEY, repo TEXT NOT NULL, status TEXT NOT NULL, onchain_id TEXT, created_at TEXT NOT NULL)`);
    // Indexes written before data salts existed gain the column; their commits simply have none.
    const cols = this.db.prepare("PRAGMA table_info(local_commits)").all() as { name: string }[];
    if (!cols.some((c) => c.name === "salt")) this.db.exec("ALTER TABLE local_commits ADD COLUMN salt TEXT");
    if (!cols.some((c) => c.name === "record")) this.db.exec("ALTER TABLE local_commits ADD COLUMN record TEXT");
  }

  close(): void {
    this.db.close();
  }

  /** Records commit `id`, whose record is object `record` (by default: `id` itself, the old layout). */
  add(id: string, repo: string, salt?: bigint, record?: string): void {
    this.db.prepare("INSERT INTO local_commits (id, repo, status, created_at, salt, record) VALUES (?, ?, 'trained', ?, ?, ?) ON CONFLICT(id) DO NOTHING")
      .run(id, repo, new Date().toISOString(), salt === undefined ? null : salt.toString(), record ?? null);
  }

  /** The data salt of local commit `id` (undefined if it has none recorded here). */
  salt(id: string): bigint | undefined {
    const r = this.db.prepare("SELECT salt FROM local_commits WHERE id = ?").get(id) as { salt: string | null } | undefined;
    return r?.salt ? BigInt(r.salt) : undefined;
  }

  markPushed(id: string, onchainId: bigint): void {
    this.db.prepare("UPDATE local_commits SET status = 'pushed', onchain_id = ? WHERE id = ?").run(onchainId.toString(), id);
  }

  /** A local commit by its id or an unambiguous prefix of at least 8 hex digits (0x optional). */
  find(idOrPrefix: string): IndexedCommit {
    const hit = this.lookup(idOrPrefix);
    if (!hit) throw new FlavumError(`unknown commit ${idOrPrefix}: nothing trained here has that id`, "UNKNOWN_COMMIT");
    return hit;
  }

  /** Like `find`, but undefined when nothing trained here has that id. */
  lookup(idOrPrefix: string): IndexedCommit | undefined {
    const hex = idOrPrefix.trim().replace(/^0x/i, "").toLowerCase();
    if (!/^[0-9a-f]{8,64}$/.test(hex)) throw new FlavumError(`unknown commit "${idOrPrefix}": commit ids are hex (at least 8 digits)`, "UNKNOWN_COMMIT");
    const rows = this.db.prepare("SELECT * FROM local_commits WHERE id LIKE ? OR id LIKE ?").all(`0x${hex}%`, `${hex}%`) as Record<string, string>[];
    if (rows.length > 1) throw new FlavumError(`commit id ${idOrPrefix} is ambiguous: give more digits`, "UNKNOWN_COMMIT");
    return rows.length ? row(rows[0]) : undefined;
  }

  unpushed(repo: string): IndexedCommit[] {
    return (this.db.prepare("SELECT * FROM local_commits WHERE repo = ? AND status = 'trained' ORDER BY created_at").all(repo) as Record<string, string>[]).map(row);
  }
}
