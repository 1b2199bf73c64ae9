/**
 * The Mina anchor adapter: the AnchorLedger port (../anchor.ts) served by the RootAnchor zkApp
 * (rootAnchor.ts) through o1js. `MinaAnchorLedger.local()` runs on `Mina.LocalBlockchain`, in
 * process and offline; the anchoring mode is "sequencer key": the adapter signs each batch with the
 * sequencer's Mina key, and the zkApp accepts only that key's signature over the batch.
 *
 * `MinaAnchorLedger.open({ file })` is the same local chain made to outlive its process (the CLI is
 * one process per command): the file (anchorJournal.ts) holds the zkApp's and the sequencer's
 * development keys, the genesis root and every anchored batch with its signature. Opening it deploys
 * the zkApp afresh at the same address and replays every entry as a real `anchor` transaction, so the
 * zkApp re-checks each one; an entry that does not replay fails the open, naming it.
 *
 * Mina cannot verify BN254 Groth16 cheaply, so this ledger anchors the roots the EVM chains prove;
 * it does not settle them. What that guarantees and what not: see ../anchor.ts and docs/multichain.md.
 */
import type { Field as FieldT, Mina as MinaNs, PrivateKey as PrivateKeyT, PublicKey as PublicKeyT, Signature as SignatureT } from "o1js";
import { FlavumError, InputError } from "../../errors";
import type { AnchoredBatch, AnchorLedger, AnchorState, RootTransition } from "../anchor";
import { parseJournal, readJournalText, writeJournal, type AnchorJournal, type JournalEntry } from "./anchorJournal";
import {
  BN254_R, anchorMessage, defaultCacheDir, genesisDigest, nextDigest, rootAnchorContract,
  type O1js, type RootAnchorInstance, type RootAnchorModule,
} from "./rootAnchor";

/** 1 MINA in nanomina, the unit of Mina fees and balances. */
export const NANOMINA_PER_MINA = 1_000_000_000n;
/** The fee each adapter transaction pays unless told otherwise: 0.1 MINA. */
export const DEFAULT_FEE = 100_000_000n;

export interface MinaLocalOptions {
  /** Prove every transaction (and compile RootAnchor first) as a real Mina network would. Default false. */
  proofsEnabled?: boolean;
  /** Receives progress lines (compiling, deploying). */
  progress?: (line: string) => void;
  /** The sequencer's Mina private key (base58); a fresh one when absent. */
  sequencerKey?: string;
  /** The root the anchor starts from: the rollup's empty root. Default 0. */
  genesisRoot?: bigint;
  /** Fee of each transaction, in nanomina. */
  fee?: bigint;
  /** Where o1js caches compiled keys: a directory, or null for no cache. Default: the OS temp dir. */
  cacheDir?: string | null;
}

export interface MinaOpenOptions extends MinaLocalOptions {
  /**
   * The journal file: replayed when it exists, created (fresh development keys, deployed, written)
   * when it does not. `sequencerKey` and `genesisRoot`, when given, are used for a new file and must
   * agree with an existing one.
   */
  file: string;
}

/** Figures of the adapter's last transaction. */
export interface MinaTxFigures {
  /** Whole transaction: build, prove, sign and apply. */
  ms: number;
  /** Time in `tx.prove()` (a dummy proof when proofs are disabled). */
  proveMs: number;
  /** Size of the transaction's JSON, proofs included. */
  txBytes: number;
  /** Fee paid, in nanomina. */
  fee: bigint;
  accountUpdates: number;
}

const hex = (v: bigint) => "0x" + v.toString(16);

/** The hints a failed transaction's Mina failure codes get (the codes are the ledger's). */
const FAILURE_HINTS: Record<string, string> = {
  Account_app_state_precondition_unsatisfied: "the zkApp's state is not what the transaction required: its root is not the batch's oldRoot",
  Update_not_permitted_app_state: "the zkApp's state may only be changed by a proof of its `anchor` method",
  Update_not_permitted_verification_key: "the zkApp's verification key cannot be changed",
  Update_not_permitted_permissions: "the zkApp's permissions cannot be changed",
  Account_is_new_precondition_unsatisfied: "the zkApp is already deployed",
};

/**
 * Mina reports failures as JSON lists per account update (e.g. `[[],[["Account_app_state_precondition_unsatisfied",0]]]`):
 * kept as they are, each code followed by a plain-words hint where there is one.
 */
function describeFailures(errors: string[]): string {
  const raw = errors.join("; ");
  const codes = new Set(raw.match(/[A-Z][A-Za-z]*(?:_[a-z][a-z0-9]*)+/g) ?? []);
  const hints = [...codes].filter((c) => FAILURE_HINTS[c]).map((c) => `${c}: ${FAILURE_HINTS[c]}`);
  return hints.length ? `${hints.join("; ")} (${raw})` : raw;
}

let compiled = false;

/** Compiles RootAnchor once per process (o1js keeps the keys on the class). */
async function compileOnce(mod: RootAnchorModule, cacheDir: string | null, o1js: O1js, progress?: (s: string) => void): Promise<number> {
  if (compiled) return 0;
  progress?.("compiling RootAnchor…");
  const t0 = Date.now();
  const cache = cacheDir === null ? o1js.Cache.None : o1js.Cache.FileSystem(cacheDir);
  await mod.RootAnchor.compile({ cache });
  const ms = Date.now() - t0;
  compiled = true;
  progress?.(`compiled RootAnchor in ${(ms / 1000).toFixed(1)} s`);
  return ms;
}

/** A base58 Mina private key, or a FlavumError naming which one is not. */
function privateKey(o1js: O1js, base58: string, what: string): PrivateKeyT {
  try {
    return o1js.PrivateKey.fromBase58(base58);
  } catch (e) {
    throw new FlavumError(`${what} is not a base58 Mina private key (${(e as Error).message})`, "ANCHOR_KEY");
  }
}

function checkScalar(what: string, v: bigint): void {
  if (typeof v !== "bigint") throw new InputError(`${what} must be a bigint, got ${typeof v}`);
  if (v < 0n || v >= BN254_R) {
    throw new InputError(`${what} ${v < 0n ? v.toString() : hex(v)} is not a BN254 scalar field element (0 ≤ x < r = ${hex(BN254_R)})`);
  }
}

export class MinaAnchorLedger implements AnchorLedger {
  readonly kind = "mina";
  /** ms spent compiling RootAnchor when this adapter was created (0: not compiled, or already). */
  compileMs = 0;
  /** Figures of the last transaction this adapter sent (deploy or anchor). */
  lastTx?: MinaTxFigures;
  /** ms spent replaying the journal when this adapter was opened, and how many entries (`open` only). */
  replayMs = 0;
  replayed = 0;
  private closed = false;
  /** The journal file (`open`): its content as last read or written, and why it may not be extended. */
  private journal?: { file: string; data: AnchorJournal; text: string; broken?: string };

  private constructor(
    private readonly o1js: O1js,
    private readonly mod: RootAnchorModule,
    private readonly local: Awaited<ReturnType<typeof MinaNs.LocalBlockchain>>,
    private readonly zkapp: RootAnchorInstance,
    private readonly feePayer: { publicKey: PublicKeyT; key: PrivateKeyT },
    private readonly sequencerKey: PrivateKeyT,
    private readonly zkappKey: PrivateKeyT,
    readonly genesisRoot: bigint,
    readonly fee: bigint,
    readonly proofsEnabled: boolean,
  ) {}

  /** A local Mina chain (in-process, offline) with a freshly deployed RootAnchor, kept in memory only. */
  static async local(opts: MinaLocalOptions = {}): Promise<MinaAnchorLedger> {
    const { o1js } = await rootAnchorContract();
    const sequencerKey = opts.sequencerKey ? privateKey(o1js, opts.sequencerKey, "the sequencer key") : o1js.PrivateKey.random();
    return MinaAnchorLedger.deploy(opts, o1js.PrivateKey.random(), sequencerKey);
  }

  /**
   * A local Mina chain kept in a journal file (see anchorJournal.ts): a new file gets fresh keys and
   * a deployed zkApp; an existing one is replayed entry by entry into a fresh LocalBlockchain. Fails
   * with a FlavumError naming the entry when one does not replay (the zkApp refuses its oldRoot or its
   * signature), and when the replayed state is not the file's head: never a shorter history.
   */
  static async open(opts: MinaOpenOptions): Promise<MinaAnchorLedger> {
    const { o1js } = await rootAnchorContract();
    const { file } = opts;
    const text = readJournalText(file);
    if (text === undefined) {
      const sequencerKey = opts.sequencerKey ? privateKey(o1js, opts.sequencerKey, "the sequencer key") : o1js.PrivateKey.random();
      const zkappKey = o1js.PrivateKey.random();
      const ledger = await MinaAnchorLedger.deploy(opts, zkappKey, sequencerKey);
      const s = await ledger.state();
      const journal: AnchorJournal = {
        zkappAddress: ledger.address,
        zkappKey: zkappKey.toBase58(),
        sequencer: ledger.sequencer,
        sequencerKey: sequencerKey.toBase58(),
        genesisRoot: ledger.genesisRoot,
        head: { batches: s.batches, root: s.root, digest: s.digest },
        entries: [],
      };
      opts.progress?.(`writing the Mina anchor journal ${file} (development keys, mode 0600)`);
      ledger.journal = { file, data: journal, text: writeJournal(file, journal) };
      return ledger;
    }

    const j = parseJournal(file, text);
    const bad = (what: string): never => {
      throw new FlavumError(`the Mina anchor journal ${file} ${what}`, "ANCHOR_JOURNAL");
    };
    if (opts.genesisRoot !== undefined && opts.genesisRoot !== j.genesisRoot) {
      bad(`starts from the genesis root ${hex(j.genesisRoot)}, the caller expects ${hex(opts.genesisRoot)}`);
    }
    const zkappKey = privateKey(o1js, j.zkappKey, `the zkApp key in ${file}`);
    const sequencerKey = privateKey(o1js, j.sequencerKey, `the sequencer key in ${file}`);
    if (zkappKey.toPublicKey().toBase58() !== j.zkappAddress) bad(`holds a zkApp key whose address is not its zkappAddress ${j.zkappAddress}`);
    if (sequencerKey.toPublicKey().toBase58() !== j.sequencer) bad(`holds a sequencer key whose public key is not its sequencer ${j.sequencer}`);
    if (opts.sequencerKey !== undefined && opts.sequencerKey !== j.sequencerKey) bad(`is anchored by another sequencer key (${j.sequencer}) than the caller's`);

    const ledger = await MinaAnchorLedger.deploy({ ...opts, genesisRoot: j.genesisRoot }, zkappKey, sequencerKey);
    await ledger.replay(file, j.entries, opts.progress);
    const s = await ledger.state();
    if (s.batches !== j.head.batches || s.root !== j.head.root || s.digest !== j.head.digest) {
      bad(
        `does not replay to its head: replayed ${s.batches} batches to root ${hex(s.root)}, digest ${hex(s.digest)}; ` +
          `the head says ${j.head.batches} batches, root ${hex(j.head.root)}, digest ${hex(j.head.digest)}`,
      );
    }
    ledger.journal = { file, data: j, text };
    return ledger;
  }

  /** Deploys RootAnchor with these keys on a fresh LocalBlockchain (fee payer: its first test account). */
  private static async deploy(opts: MinaLocalOptions, zkappKey: PrivateKeyT, sequencerKey: PrivateKeyT): Promise<MinaAnchorLedger> {
    const { o1js, ...mod } = await rootAnchorContract();
    const { Mina, AccountUpdate, Field } = o1js;
    const proofsEnabled = opts.proofsEnabled ?? false;
    const genesisRoot = opts.genesisRoot ?? 0n;
    checkScalar("genesis root", genesisRoot);
    const fee = opts.fee ?? DEFAULT_FEE;
    const local = await Mina.LocalBlockchain({ proofsEnabled });
    Mina.setActiveInstance(local);
    const compileMs = proofsEnabled ? await compileOnce(mod, opts.cacheDir === undefined ? defaultCacheDir() : opts.cacheDir, o1js, opts.progress) : 0;

    // The test accounts are random per LocalBlockchain: only fees depend on them, never the zkApp's
    // address (its key) nor what the sequencer signs (the address, n and the batch).
    const payer = local.testAccounts[0];
    const zkapp = new mod.RootAnchor(zkappKey.toPublicKey());
    zkapp.genesis = { sequencer: sequencerKey.toPublicKey(), root: Field(genesisRoot) };

    const ledger = new MinaAnchorLedger(o1js, mod, local, zkapp, { publicKey: payer, key: payer.key }, sequencerKey, zkappKey, genesisRoot, fee, proofsEnabled);
    ledger.compileMs = compileMs;
    opts.progress?.(`deploying RootAnchor at ${zkapp.address.toBase58()} (sequencer ${sequencerKey.toPublicKey().toBase58()})…`);
    await ledger.send(async () => {
      AccountUpdate.fundNewAccount(payer);
      await zkapp.deploy();
    }, [zkappKey]);
    zkapp.genesis = undefined;
    return ledger;
  }

  /**
   * Sends every journaled entry again with its journaled signature (never re-signed: re-signing would
   * accept whatever the file says). The first entry that the zkApp refuses fails the replay.
   */
  private async replay(file: string, entries: JournalEntry[], progress?: (line: string) => void): Promise<void> {
    const { Signature } = this.o1js;
    if (!entries.length) return;
    progress?.(`replaying ${entries.length} anchored batches from ${file}${this.proofsEnabled ? " (proving each)" : ""}…`);
    const t0 = Date.now();
    let lastReport = t0;
    for (const e of entries) {
      try {
        for (const f of ["oldRoot", "newRoot", "batchHash"] as const) checkScalar(f, e[f]);
        let signature: SignatureT;
        try {
          signature = Signature.fromBase58(e.signature);
        } catch (err) {
          throw new FlavumError(`its signature is not a base58 Mina signature (${(err as Error).message})`);
        }
        await this.sendAnchor(e, signature);
      } catch (err) {
        throw new FlavumError(
          `the Mina anchor journal ${file} does not replay: entry ${e.index} (${hex(e.oldRoot)} → ${hex(e.newRoot)}) was refused: ` +
            // o1js's assertion messages add a second line ("Bool.assertTrue(): false != true"): the first says why.
            `${(err as Error).message.split("\n")[0].trim()}. The file was changed or corrupted; its history is not opened.`,
          "ANCHOR_JOURNAL_REPLAY",
        );
      }
      const now = Date.now();
      if (e.index === entries.length - 1 || now - lastReport >= 2000) {
        lastReport = now;
        progress?.(`replayed ${e.index + 1}/${entries.length} anchored batches (${((now - t0) / (e.index + 1)).toFixed(0)} ms each)`);
      }
    }
    this.replayMs = Date.now() - t0;
    this.replayed = entries.length;
  }

  /** The journal file this adapter keeps (`open`), or undefined (`local`). */
  get journalFile(): string | undefined {
    return this.journal?.file;
  }

  /** The zkApp's address (base58). */
  get address(): string {
    return this.zkapp.address.toBase58();
  }

  /** The sequencer's public key (base58): the only key the zkApp accepts. */
  get sequencer(): string {
    return this.sequencerKey.toPublicKey().toBase58();
  }

  async anchor(b: RootTransition): Promise<{ index: number; ms: number; txId?: string }> {
    for (const f of ["oldRoot", "newRoot", "batchHash"] as const) checkScalar(f, b[f]);
    const s = await this.state();
    if (s.root !== b.oldRoot) {
      throw new FlavumError(
        `stale oldRoot: the Mina anchor's root is ${hex(s.root)} (after ${s.batches} batches), the batch to anchor starts from ${hex(b.oldRoot)}`,
        "ANCHOR_STALE_ROOT",
      );
    }
    const r = await this.submit(b);
    return { index: s.batches, ms: r.ms, txId: r.txId };
  }

  /**
   * Sends `anchor` to the zkApp as given, without the adapter's checks: the ledger's precondition and
   * the contract's signature check are what refuse a wrong batch. `signWith` signs with another key
   * (base58) than the sequencer's. For tests and tools; the sequencer uses `anchor`.
   */
  async submit(b: RootTransition, opts: { signWith?: string } = {}): Promise<{ ms: number; txId?: string }> {
    const { Field, PrivateKey, Signature } = this.o1js;
    this.use();
    const key = opts.signWith ? PrivateKey.fromBase58(opts.signWith) : this.sequencerKey;
    const n = Field(BigInt(this.zkapp.batches.get().toString()));
    const signature = Signature.create(key, anchorMessage(this.o1js, this.zkapp.address, n, Field(b.oldRoot), Field(b.newRoot), Field(b.batchHash)));
    return this.sendAnchor(b, signature);
  }

  /**
   * Sends one `anchor` transaction with this signature; with a journal, checks first that the file is
   * still what this adapter last read or wrote, and appends the batch to it once the ledger applied it.
   */
  private async sendAnchor(b: RootTransition, signature: SignatureT): Promise<{ ms: number; txId?: string }> {
    const { Field } = this.o1js;
    this.use();
    this.checkJournal();
    const n = Number(this.zkapp.batches.get().toBigInt());
    const [oldRoot, newRoot, batchHash] = [Field(b.oldRoot), Field(b.newRoot), Field(b.batchHash)];
    const fig = await this.send(async () => {
      await this.zkapp.anchor(oldRoot, newRoot, batchHash, signature);
    });
    if (this.journal) await this.appendJournal({ index: n, oldRoot: b.oldRoot, newRoot: b.newRoot, batchHash: b.batchHash, signature: signature.toBase58() });
    return { ms: fig.ms, txId: fig.txId };
  }

  /** Refuses to anchor when the journal file changed under this adapter, or could not be written. */
  private checkJournal(): void {
    const j = this.journal;
    if (!j) return;
    if (j.broken) throw new FlavumError(j.broken, "ANCHOR_JOURNAL_BROKEN");
    if (readJournalText(j.file) !== j.text) {
      throw new FlavumError(
        `the Mina anchor journal ${j.file} changed since this adapter read it (${j.data.entries.length} entries): another process anchored, or it was edited; ` +
          "open it again before anchoring",
        "ANCHOR_JOURNAL_CHANGED",
      );
    }
  }

  private async appendJournal(e: JournalEntry): Promise<void> {
    const j = this.journal!;
    const s = await this.state();
    const data: AnchorJournal = { ...j.data, head: { batches: s.batches, root: s.root, digest: s.digest }, entries: [...j.data.entries, e] };
    try {
      j.text = writeJournal(j.file, data);
      j.data = data;
    } catch (err) {
      // The local chain now holds a batch the file does not: anchoring on would leave a gap in it.
      j.broken =
        `batch ${e.index} was anchored in the local Mina ledger but the journal ${j.file} could not be written (${(err as Error).message}); ` +
        `this adapter anchors nothing more: open the file again (it ends before batch ${e.index})`;
      throw new FlavumError(j.broken, "ANCHOR_JOURNAL_BROKEN");
    }
  }

  async state(): Promise<AnchorState> {
    this.use();
    return {
      root: this.zkapp.root.get().toBigInt(),
      batches: Number(this.zkapp.batches.get().toBigInt()),
      digest: this.zkapp.digest.get().toBigInt(),
    };
  }

  /**
   * Every anchored batch, read from the zkApp's `anchored` events (the ledger's own data) and checked
   * against its state: numbered 0..n-1, chained from the genesis root (each oldRoot the previous
   * newRoot) to the zkApp's root, as many as its counter, and hashing to its digest.
   *
   * The events alone are not the history: a transaction the ledger refused can still leave its
   * events in the event store (Mina.LocalBlockchain keeps them, with no status; an archive node marks
   * them "failed"). So events marked failed are dropped, and of the rest the one sequence that
   * chains from genesis and reproduces the on-chain digest is taken (Poseidon is collision
   * resistant: no other sequence reproduces it).
   */
  async history(): Promise<AnchoredBatch[]> {
    const { Field } = this.o1js;
    this.use();
    const events = await this.zkapp.fetchEvents();
    const s = await this.state();
    const sequencer = this.zkapp.sequencer.get();
    const candidates = new Map<number, AnchoredBatch[]>();
    const seen = new Set<string>();
    let dropped = 0;
    for (const e of events) {
      if (e.type !== "anchored") continue;
      if (e.event.transactionInfo?.transactionStatus === "failed") {
        dropped++;
        continue;
      }
      const d = e.event.data as unknown as InstanceType<RootAnchorModule["AnchoredEvent"]>;
      const b = { index: Number(d.index.toBigInt()), oldRoot: d.oldRoot.toBigInt(), newRoot: d.newRoot.toBigInt(), batchHash: d.batchHash.toBigInt() };
      const key = `${b.index}:${b.oldRoot}:${b.newRoot}:${b.batchHash}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const list = candidates.get(b.index) ?? [];
      list.push(b);
      candidates.set(b.index, list);
    }
    // Depth-first over the candidates of each index whose oldRoot continues the chain (almost always
    // exactly one), iteratively: the path, and for each step the candidate index tried.
    const step = (prev: bigint, i: number) => (candidates.get(i) ?? []).filter((c) => c.oldRoot === prev);
    const path: { b: AnchoredBatch; digest: FieldT; options: AnchoredBatch[]; at: number }[] = [];
    const d0 = genesisDigest(this.o1js, Field(this.genesisRoot), sequencer);
    let options = step(this.genesisRoot, 0);
    let at = 0;
    for (;;) {
      const i = path.length;
      const prev = i ? path[i - 1] : undefined;
      if (i === s.batches && (prev?.b.newRoot ?? this.genesisRoot) === s.root && (prev?.digest ?? d0).toBigInt() === s.digest) {
        return path.map((p) => p.b);
      }
      if (i < s.batches && at < options.length) {
        const b = options[at];
        const digest = nextDigest(this.o1js, prev?.digest ?? d0, Field(i), Field(b.oldRoot), Field(b.newRoot), Field(b.batchHash));
        path.push({ b, digest, options, at });
        options = step(b.newRoot, i + 1);
        at = 0;
        continue;
      }
      const back = path.pop();
      if (!back) break;
      options = back.options;
      at = back.at + 1;
    }
    throw new FlavumError(
      `the Mina anchor's events do not match its state: no sequence of its ${seen.size} distinct \`anchored\` events` +
        (dropped ? ` (${dropped} more from failed transactions dropped)` : "") +
        ` chains from the genesis root ${hex(this.genesisRoot)} through ${s.batches} batches to its root ${hex(s.root)} and digest ${hex(s.digest)}`,
      "ANCHOR_HISTORY",
    );
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /**
   * For tests: the o1js module, the local chain, the zkApp, the contract module and the keys, so a
   * test can build transactions the adapter would never send (and see the ledger refuse them).
   * Transactions sent through these bypass the journal of an `open`ed adapter.
   */
  internals() {
    return { o1js: this.o1js, local: this.local, zkapp: this.zkapp, mod: this.mod, feePayer: this.feePayer, zkappKey: this.zkappKey, sequencerKey: this.sequencerKey };
  }

  /** The fee payer's balance, in nanomina. */
  balance(): bigint {
    this.use();
    return this.o1js.Mina.getBalance(this.feePayer.publicKey).toBigInt();
  }

  private use(): void {
    if (this.closed) throw new FlavumError("this Mina anchor adapter is closed", "ANCHOR_CLOSED");
    this.o1js.Mina.setActiveInstance(this.local);
  }

  /** Builds, proves, signs and applies one transaction; throws with the ledger's reason when refused. */
  private async send(body: () => Promise<void>, extraSigners: PrivateKeyT[] = []): Promise<MinaTxFigures & { txId?: string }> {
    const { Mina } = this.o1js;
    this.use();
    const t0 = Date.now();
    const tx = await Mina.transaction({ sender: this.feePayer.publicKey, fee: this.fee.toString() }, body);
    const p0 = Date.now();
    await tx.prove();
    const proveMs = Date.now() - p0;
    tx.sign([this.feePayer.key, ...extraSigners]);
    const txBytes = Buffer.byteLength(tx.toJSON());
    const sent = await tx.safeSend();
    if (sent.status !== "pending") {
      throw new FlavumError(`the Mina ledger refused the transaction: ${describeFailures(sent.errors)}`, "ANCHOR_TX_REJECTED");
    }
    await sent.wait();
    const fig = { ms: Date.now() - t0, proveMs, txBytes, fee: this.fee, accountUpdates: tx.transaction.accountUpdates.length };
    this.lastTx = fig;
    return { ...fig, txId: sent.hash };
  }
}
