/**
 * src/rollup/anchorSync.ts over the journal-backed local Mina anchor (MinaAnchorLedger.open, proofs
 * disabled), with fabricated settled batches: this module is pure logic over the AnchorLedger port
 * (the EVM side has its own end-to-end test). Covers: anchoring in two calls, reopening the journal in
 * a new adapter (same history and state), journals refused at open (a changed root, a dropped entry,
 * a changed signature, cut-off entries), the journal untouched by a refused anchor and guarded
 * against a second writer, checkAnchor's verdicts (agreement, a differing batch, lag, an extra
 * anchored batch, a chain whose history() disagrees with its events), and anchorPending refusing to
 * extend a diverged anchor. Also prints the replay time per journal entry.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { keccak256, toBeHex } from "ethers";
import { MinaAnchorLedger } from "../../src/chain/mina/minaAnchor";
import { JOURNAL_FORMAT } from "../../src/chain/mina/anchorJournal";
import { FIELD_P } from "../../src/quant/fixed";
import { historyTransitions, type HistoryBatch } from "../../src/protocol/history";
import { anchorPending, checkAnchor } from "../../src/rollup/anchorSync";
import { flavumRejection } from "../helpers/rejection";

/** A fabricated value below the BN254 scalar field, fixed by its label. */
const fab = (label: string) => BigInt(keccak256(Buffer.from(label))) % FIELD_P;

/** `n` fabricated settled batches, chained state roots, batch ids counting from 1. */
function fabricate(n: number, tag = "a"): HistoryBatch[] {
  const out: HistoryBatch[] = [];
  let root = fab("genesis");
  for (let i = 0; i < n; i++) {
    const newRoot = fab(`${tag}:root:${i}`);
    out.push({ batchId: BigInt(i + 1), oldRoot: root, newRoot, batchRoot: fab(`${tag}:batch:${i}`) });
    root = newRoot;
  }
  return out;
}

type JournalJson = { format: string; head: { batches: number; root: string; digest: string }; entries: { index: number; newRoot: string; signature: string }[] };

describe("anchorSync over the journal-backed Mina anchor (proofs disabled)", function () {
  this.timeout(300_000);

  let dir: string;
  let file: string;
  let ledger: MinaAnchorLedger;
  const settled = fabricate(7);
  const opened: MinaAnchorLedger[] = [];

  const open = async (f: string) => {
    const l = await MinaAnchorLedger.open({ file: f, proofsEnabled: false });
    opened.push(l);
    return l;
  };
  /** A copy of the journal with `edit` applied. */
  const tampered = (name: string, edit: (j: JournalJson) => void) => {
    const j = JSON.parse(fs.readFileSync(file, "utf8")) as JournalJson;
    edit(j);
    const f = path.join(dir, `${name}.json`);
    fs.writeFileSync(f, JSON.stringify(j));
    return f;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-anchor-sync-"));
    file = path.join(dir, "mina-anchor.json");
    ledger = await open(file);
  });

  after(async () => {
    for (const l of opened) await l.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates the journal when absent: keys, genesis 0, no entries, mode 0600", async () => {
    const j = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(j.format).to.equal(JOURNAL_FORMAT);
    expect(j.zkappAddress).to.equal(ledger.address);
    expect(j.sequencer).to.equal(ledger.sequencer);
    expect(j.zkappKey).to.be.a("string");
    expect(j.sequencerKey).to.be.a("string");
    expect(j.note).to.match(/development keys/i);
    expect(j.genesisRoot).to.equal("0x0");
    expect(j.entries).to.deep.equal([]);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    expect(await ledger.state()).to.include({ root: 0n, batches: 0 });
  });

  it("anchorPending anchors in two calls, incrementally, then nothing more", async () => {
    const first = await anchorPending(ledger, settled.slice(0, 3));
    expect(first).to.include({ anchored: 3, from: 0, to: 3 });
    const lines: string[] = [];
    const second = await anchorPending(ledger, settled.slice(0, 5), (l) => lines.push(l));
    expect(second).to.include({ anchored: 2, from: 3, to: 5 });
    expect(lines.some((l) => l.includes("anchored batch 4"))).to.equal(true);
    expect(await anchorPending(ledger, settled.slice(0, 5))).to.include({ anchored: 0, from: 5, to: 5 });

    const want = historyTransitions(settled.slice(0, 5));
    expect(await ledger.history()).to.deep.equal(want.map((t, index) => ({ index, ...t })));
    const j = JSON.parse(fs.readFileSync(file, "utf8")) as JournalJson;
    expect(j.entries.map((e) => e.index)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(j.head.batches).to.equal(5);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
  });

  it("reopening the file in a new adapter gives the same zkApp, history and state", async () => {
    const again = await open(file);
    expect(again.address).to.equal(ledger.address);
    expect(again.sequencer).to.equal(ledger.sequencer);
    expect(again.replayed).to.equal(5);
    expect(await again.state()).to.deep.equal(await ledger.state());
    expect(await again.history()).to.deep.equal(await ledger.history());
  });

  it("refuses a journal with a changed newRoot, naming the entry and the zkApp's reason", async () => {
    const f = tampered("newroot", (j) => {
      j.entries[2].newRoot = toBeHex(fab("forged"));
    });
    const e = await flavumRejection(open(f));
    expect(e.code).to.equal("ANCHOR_JOURNAL_REPLAY");
    expect(e.message).to.contain("entry 2").and.contain("not signed by the sequencer key");
  });

  it("refuses a journal with an entry dropped in the middle, renumbered or not", async () => {
    const dropped = tampered("dropped", (j) => {
      j.entries.splice(1, 1);
    });
    const e1 = await flavumRejection(open(dropped));
    expect(e1.message).to.contain("entry 1 carries index 2");

    // Renumbered and with a matching head count: the zkApp itself refuses entry 1 (signed for n = 2, another oldRoot).
    const renumbered = tampered("renumbered", (j) => {
      j.entries.splice(1, 1);
      j.entries.forEach((x, i) => (x.index = i));
      j.head.batches = j.entries.length;
    });
    const e2 = await flavumRejection(open(renumbered));
    expect(e2.code).to.equal("ANCHOR_JOURNAL_REPLAY");
    expect(e2.message).to.contain("entry 1").and.contain("not signed by the sequencer key");
  });

  it("refuses a journal with a changed signature (another entry's, or not a signature at all)", async () => {
    const swapped = tampered("swapped", (j) => {
      j.entries[3].signature = j.entries[4].signature;
    });
    const e1 = await flavumRejection(open(swapped));
    expect(e1.message).to.contain("entry 3").and.contain("not signed by the sequencer key");

    const garbled = tampered("garbled", (j) => {
      j.entries[0].signature = "not-a-signature";
    });
    const e2 = await flavumRejection(open(garbled));
    expect(e2.message).to.contain("entry 0").and.contain("not a base58 Mina signature");
  });

  it("refuses a journal whose last entries were cut off, whether or not the head count was fixed", async () => {
    const cut = tampered("cut", (j) => {
      j.entries.pop();
    });
    expect((await flavumRejection(open(cut))).message).to.contain("head says 5 batches, the journal holds 4 entries");
    const cutCounted = tampered("cut-counted", (j) => {
      j.entries.pop();
      j.head.batches = 4;
    });
    expect((await flavumRejection(open(cutCounted))).message).to.contain("does not replay to its head: replayed 4 batches");
  });

  it("a refused anchor leaves the journal as it was; a second writer is refused", async () => {
    const before = fs.readFileSync(file, "utf8");
    const stale = historyTransitions(settled)[1];
    await flavumRejection(ledger.anchor(stale));
    expect(fs.readFileSync(file, "utf8")).to.equal(before);

    const other = await open(file);
    await anchorPending(other, settled.slice(0, 6)); // another process anchors batch 5
    const e = await flavumRejection(ledger.anchor(historyTransitions(settled)[5]));
    expect(e.code).to.equal("ANCHOR_JOURNAL_CHANGED");
    // Continue with the up-to-date adapter.
    ledger = other;
    expect((await ledger.state()).batches).to.equal(6);
  });

  it("checkAnchor: ok for chains that agree with the anchor, their history() included", async () => {
    const six = settled.slice(0, 6);
    const t = historyTransitions(six);
    const report = await checkAnchor(ledger, [
      { network: "localhost", chainId: 31337n, batches: six, history: { root: t[5].newRoot, batches: 6 } },
      { network: "localhost2", chainId: 31338n, batches: six },
    ]);
    expect(report).to.deep.equal({
      ok: true,
      diverged: false,
      anchor: { kind: "mina", root: toBeHex(t[5].newRoot, 32), batches: 6 },
      chains: [
        { network: "localhost", chainId: "31337", proven: 6, anchored: 6, agreeing: 6, ok: true },
        { network: "localhost2", chainId: "31338", proven: 6, anchored: 6, agreeing: 6, ok: true },
      ],
    });
    expect(JSON.parse(JSON.stringify(report))).to.deep.equal(report, "JSON-friendly");
  });

  it("checkAnchor names a chain with a different batch at index k, one ahead (lag), one behind (extra)", async () => {
    const six = settled.slice(0, 6);
    const differs = six.map((b, i) => (i === 2 ? { ...b, batchRoot: fab("other batch") } : b));
    const report = await checkAnchor(ledger, [
      { network: "good", chainId: 1n, batches: six },
      { network: "forked", chainId: 2n, batches: differs },
      { network: "ahead", chainId: 3n, batches: settled },
      { network: "behind", chainId: 4n, batches: settled.slice(0, 4) },
    ]);
    expect(report.ok).to.equal(false);
    expect(report.diverged).to.equal(true);
    const [good, forked, ahead, behind] = report.chains;
    expect(good.ok).to.equal(true);

    expect(forked).to.include({ ok: false, agreeing: 2, mismatchKind: "differs" });
    expect(forked.lag).to.equal(undefined);
    expect(forked.mismatch).to.contain("forked (chain 2)").and.contain("batch 2").and.contain("batchHash");

    expect(ahead).to.include({ ok: false, proven: 7, anchored: 6, agreeing: 6, lag: 1 });
    expect(ahead.mismatch).to.equal(undefined, "a lag is not a divergence");

    expect(behind).to.include({ ok: false, proven: 4, anchored: 6, agreeing: 4, mismatchKind: "extra" });
    expect(behind.mismatch).to.contain("behind (chain 4)").and.contain("anchored but not proven");

    // Lag alone: not ok, not diverged.
    const lagOnly = await checkAnchor(ledger, [{ network: "ahead", chainId: 3n, batches: settled }]);
    expect(lagOnly).to.include({ ok: false, diverged: false });
  });

  it("checkAnchor names a chain whose on-chain history() disagrees with its events", async () => {
    const six = settled.slice(0, 6);
    const t = historyTransitions(six);
    const report = await checkAnchor(ledger, [
      { network: "liar", chainId: 5n, batches: six, history: { root: t[4].newRoot, batches: 6 } },
      { network: "empty", chainId: 6n, batches: [], history: { root: 0n, batches: 0 } },
    ]);
    const [liar, empty] = report.chains;
    expect(liar).to.include({ ok: false, agreeing: 6, mismatchKind: "history" });
    expect(liar.mismatch).to.contain("liar (chain 5)").and.contain("history()").and.contain("0x" + t[4].newRoot.toString(16));
    // An empty chain's history is (0, 0 batches): consistent, and the anchor is ahead of it.
    expect(empty).to.include({ ok: false, proven: 0, mismatchKind: "extra" });
    expect(empty.mismatch).to.not.contain("history()");
  });

  it("anchorPending refuses to extend an anchor whose history diverges from `settled`", async () => {
    const before = await ledger.state();
    const journal = fs.readFileSync(file, "utf8");
    const diverged = settled.map((b, i) => (i === 1 ? { ...b, newRoot: fab("elsewhere") } : b));
    const e = await flavumRejection(anchorPending(ledger, diverged));
    expect(e.code).to.equal("ANCHOR_DIVERGED");
    expect(e.message).to.contain("refusing to extend").and.contain("batch 1:");
    // Fewer batches settled than anchored: refused too, nothing sent.
    const e2 = await flavumRejection(anchorPending(ledger, settled.slice(0, 4)));
    expect(e2.message).to.contain("batch 4").and.contain("anchored but not proven");
    expect(await ledger.state()).to.deep.equal(before);
    expect(fs.readFileSync(file, "utf8")).to.equal(journal);
  });

  it("replay time per journal entry (proofs disabled)", async () => {
    const f = path.join(dir, "long.json");
    const l = await open(f);
    const many = fabricate(30, "long");
    const t = await anchorPending(l, many);
    expect(t.anchored).to.equal(30);
    const lines: string[] = [];
    const t0 = Date.now();
    const again = await MinaAnchorLedger.open({ file: f, proofsEnabled: false, progress: (s) => lines.push(s) });
    opened.push(again);
    const openMs = Date.now() - t0;
    expect(again.replayed).to.equal(30);
    expect(await again.state()).to.deep.equal(await l.state());
    expect(lines.some((s) => s.startsWith("replaying 30 anchored batches"))).to.equal(true);
    expect(lines.some((s) => s.startsWith("replayed 30/30"))).to.equal(true);
    console.log(
      `      anchoring 30 batches: ${(t.ms / 30).toFixed(0)} ms each; reopening: ${openMs} ms in all, ` +
        `replay ${again.replayMs} ms = ${(again.replayMs / 30).toFixed(0)} ms per entry`,
    );
  });
});
