/**
 * The journal file of a local Mina anchor: what a `Mina.LocalBlockchain` needs to be rebuilt in
 * another process. A LocalBlockchain lives in one process, the CLI is one process per command, so
 * `MinaAnchorLedger.open({ file })` (minaAnchor.ts) replays this journal into a fresh LocalBlockchain
 * on every open and appends to it after every applied anchor.
 *
 * This file is the format only (parse, check the shape, serialize, write): no o1js is loaded here.
 * Replaying, which is what checks the journal's content, is the adapter's: every entry is sent again
 * as a real `anchor` transaction with its journaled signature, so the zkApp re-checks the old-root
 * precondition and the sequencer's signature over (zkApp address, index, oldRoot, newRoot, batchHash).
 *
 * The file holds PRIVATE KEYS: the zkApp's and the sequencer's. They are development keys, generated
 * for this local ledger and worth nothing anywhere else; the file is still written with mode 0600,
 * and these keys must never be reused on a real Mina network. Because the file holds the sequencer
 * key, whoever can write the file can also sign a different history: the replay catches accidental
 * corruption and hand edits (a changed root, a dropped or reordered entry, a changed signature), not
 * a deliberate rewrite by the file's owner. Comparing the anchor with the settlement chains
 * (src/rollup/anchorSync.ts, `checkAnchor`) is what catches that.
 *
 *   {
 *     "format": "flavum-mina-anchor-journal/1",
 *     "note": "...development keys...",
 *     "zkappAddress": B62…, "zkappKey": EKE…,        the zkApp's account, and its key (base58)
 *     "sequencer": B62…, "sequencerKey": EKE…,        the only key the zkApp accepts, and its key
 *     "genesisRoot": "0x…",
 *     "head": { "batches": n, "root": "0x…", "digest": "0x…" },   the zkApp's state after entry n-1
 *     "entries": [ { "index": 0, "oldRoot": "0x…", "newRoot": "0x…", "batchHash": "0x…",
 *                    "signature": "7mX…" (base58 Mina signature) }, … ]
 *   }
 *
 * `head` is checked against the replayed zkApp's state, so a journal whose last entries were cut off
 * without also rewriting `head` is refused. A whole earlier copy of the file (an old backup) is
 * self-consistent and cannot be told apart locally: against the settlement chains it shows as lag.
 */
import fs from "fs";
import { writeFileAtomically } from "../../atomicFile";
import { FlavumError } from "../../errors";

export const JOURNAL_FORMAT = "flavum-mina-anchor-journal/1";

const NOTE =
  "Development keys of a local Mina anchor (o1js Mina.LocalBlockchain, replayed from this journal on every open). " +
  "Never use these keys on a real Mina network. Keep this file private (mode 0600).";

export interface JournalEntry {
  index: number;
  oldRoot: bigint;
  newRoot: bigint;
  batchHash: bigint;
  /** The sequencer's Mina signature over the batch (base58), as the zkApp accepted it. */
  signature: string;
}

export interface AnchorJournal {
  zkappAddress: string;
  zkappKey: string;
  sequencer: string;
  sequencerKey: string;
  genesisRoot: bigint;
  head: { batches: number; root: bigint; digest: bigint };
  entries: JournalEntry[];
}

const hex = (v: bigint) => "0x" + v.toString(16);

/** The journal as the file holds it (its serialized form, compared to tell whether the file changed). */
export function serializeJournal(j: AnchorJournal): string {
  const entries = j.entries.map((e) => ({
    index: e.index, oldRoot: hex(e.oldRoot), newRoot: hex(e.newRoot), batchHash: hex(e.batchHash), signature: e.signature,
  }));
  return JSON.stringify(
    {
      format: JOURNAL_FORMAT,
      note: NOTE,
      zkappAddress: j.zkappAddress,
      zkappKey: j.zkappKey,
      sequencer: j.sequencer,
      sequencerKey: j.sequencerKey,
      genesisRoot: hex(j.genesisRoot),
      head: { batches: j.head.batches, root: hex(j.head.root), digest: hex(j.head.digest) },
      entries,
    },
    null,
    1,
  ) + "\n";
}

/** Writes the journal atomically, readable by its owner only (it holds private keys). */
export function writeJournal(file: string, j: AnchorJournal): string {
  const text = serializeJournal(j);
  writeFileAtomically(file, text, { mode: 0o600 });
  return text;
}

/** The file's text, or undefined when there is no file. */
export function readJournalText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new FlavumError(`cannot read the Mina anchor journal ${file}: ${(e as Error).message}`, "ANCHOR_JOURNAL");
  }
}

/**
 * Parses and checks the journal's shape: every field present and of its type, roots as 0x-hex,
 * entries numbered 0, 1, 2, … (a missing, repeated or moved entry is named here, before any replay).
 * What the entries say is checked by the replay, not here.
 */
export function parseJournal(file: string, text: string): AnchorJournal {
  const bad = (what: string): never => {
    throw new FlavumError(`the Mina anchor journal ${file} is not valid: ${what}`, "ANCHOR_JOURNAL");
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return bad(`not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return bad("expected a JSON object");
  const o = raw as Record<string, unknown>;
  if (o.format !== JOURNAL_FORMAT) return bad(`format is ${JSON.stringify(o.format)}, expected "${JOURNAL_FORMAT}"`);
  const str = (v: unknown, what: string): string => (typeof v === "string" && v.length > 0 ? v : bad(`${what} must be a non-empty string`));
  const big = (v: unknown, what: string): bigint =>
    typeof v === "string" && /^0x[0-9a-fA-F]{1,64}$/.test(v) ? BigInt(v) : bad(`${what} must be a 0x-hex number, got ${JSON.stringify(v)}`);
  const count = (v: unknown, what: string): number =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : bad(`${what} must be a non-negative integer, got ${JSON.stringify(v)}`);

  const head = o.head as Record<string, unknown> | undefined;
  if (typeof head !== "object" || head === null) return bad("head must be an object {batches, root, digest}");
  if (!Array.isArray(o.entries)) return bad("entries must be a list");
  const entries = (o.entries as unknown[]).map((x, i): JournalEntry => {
    if (typeof x !== "object" || x === null) return bad(`entry ${i} must be an object`);
    const e = x as Record<string, unknown>;
    const index = count(e.index, `entry ${i}'s index`);
    if (index !== i) {
      return bad(`entry ${i} carries index ${index}: entries must be numbered 0, 1, 2, … in order (one is missing, repeated or moved)`);
    }
    return {
      index,
      oldRoot: big(e.oldRoot, `entry ${i}'s oldRoot`),
      newRoot: big(e.newRoot, `entry ${i}'s newRoot`),
      batchHash: big(e.batchHash, `entry ${i}'s batchHash`),
      signature: str(e.signature, `entry ${i}'s signature`),
    };
  });
  const j: AnchorJournal = {
    zkappAddress: str(o.zkappAddress, "zkappAddress"),
    zkappKey: str(o.zkappKey, "zkappKey"),
    sequencer: str(o.sequencer, "sequencer"),
    sequencerKey: str(o.sequencerKey, "sequencerKey"),
    genesisRoot: big(o.genesisRoot, "genesisRoot"),
    head: { batches: count(head.batches, "head.batches"), root: big(head.root, "head.root"), digest: big(head.digest, "head.digest") },
    entries,
  };
  if (j.head.batches !== entries.length) {
    return bad(`head says ${j.head.batches} batches, the journal holds ${entries.length} entries (entries were cut off or added without the head)`);
  }
  return j;
}
