/**
 * The Mina anchor adapter (src/chain/mina) on an in-process Mina.LocalBlockchain with proofs disabled:
 * RootAnchor deployed from the rollup's empty root, three batches anchored in a chain, its state and
 * its event history; compareAnchored against the same and against a changed, a missing and an extra
 * batch; and what the ledger itself refuses: a stale oldRoot (by the adapter, and by the zkApp's
 * precondition when the adapter's check is bypassed), a signature by another key, a value that is no
 * BN254 scalar, and state, permission or key changes signed by the zkApp's own key after deployment.
 * Proofs are enabled once, in bench/minaAnchor.ts.
 */
import { expect } from "chai";
import { compareAnchored, type AnchoredBatch, type RootTransition } from "../../src/chain/anchor";
import { MinaAnchorLedger, DEFAULT_FEE } from "../../src/chain/mina/minaAnchor";
import { BN254_R, anchorMessage } from "../../src/chain/mina/rootAnchor";
import { FlavumError, InputError } from "../../src/errors";
import { TREE_DEPTH } from "../../src/protocol/batch";
import { hasher, zeroRoots } from "../../src/rollup/merkle";
import { rejection } from "../helpers/rejection";

describe("Mina anchor (o1js LocalBlockchain, proofs disabled)", function () {
  this.timeout(120_000);

  let ledger: MinaAnchorLedger;
  let genesis: bigint;
  let h: (a: bigint, b: bigint) => bigint;
  const batches: RootTransition[] = [];

  before(async () => {
    h = await hasher();
    genesis = zeroRoots(h, TREE_DEPTH)[TREE_DEPTH];
    ledger = await MinaAnchorLedger.local({ proofsEnabled: false, genesisRoot: genesis });
    // Three chained batches with roots and hashes spread over the BN254 field, one at r - 1.
    let root = genesis;
    for (let i = 1n; i <= 3n; i++) {
      const newRoot = i === 3n ? BN254_R - 1n : h(root, i);
      batches.push({ oldRoot: root, newRoot, batchHash: h(newRoot, 1000n + i) });
      root = newRoot;
    }
  });

  after(async () => {
    await ledger?.close();
  });

  it("deploys with the genesis root, no batches and the genesis digest", async () => {
    const s = await ledger.state();
    expect(s.root).to.equal(genesis);
    expect(s.batches).to.equal(0);
    expect(s.digest).to.not.equal(0n);
    expect(await ledger.history()).to.deep.equal([]);
    expect(ledger.kind).to.equal("mina");
  });

  it("anchors three chained batches: state and history agree", async () => {
    const digests: bigint[] = [(await ledger.state()).digest];
    for (const [i, b] of batches.entries()) {
      const r = await ledger.anchor(b);
      expect(r.index).to.equal(i);
      expect(r.txId).to.be.a("string");
      if (i === batches.length - 1) {
        console.log(`      one anchor transaction (proofs disabled): ${r.ms} ms, ${ledger.lastTx?.txBytes} bytes of JSON, fee ${DEFAULT_FEE} nanomina`);
      }
      digests.push((await ledger.state()).digest);
    }
    const s = await ledger.state();
    expect(s.root).to.equal(batches[2].newRoot);
    expect(s.batches).to.equal(3);
    expect(new Set(digests).size).to.equal(4, "each batch moves the digest");
    const hist = await ledger.history();
    expect(hist).to.deep.equal(batches.map((b, index) => ({ index, ...b })));
  });

  it("compareAnchored: ok on the same batches; names a changed root, a missing and an extra batch", async () => {
    const hist = await ledger.history();
    const same = compareAnchored(hist, batches);
    expect(same).to.deep.equal({ ok: true, anchored: 3, proven: 3, agreeing: 3 });

    const changed = batches.map((b) => ({ ...b }));
    changed[1].newRoot += 1n;
    const c = compareAnchored(hist, changed);
    expect(c.ok).to.equal(false);
    expect(c.agreeing).to.equal(1);
    expect(c.firstMismatch).to.include({ index: 1, kind: "differs" });
    expect(c.firstMismatch!.fields).to.deep.equal(["newRoot"]);
    expect(c.firstMismatch!.message).to.contain("0x" + batches[1].newRoot.toString(16)).and.contain("0x" + changed[1].newRoot.toString(16));

    const fourth = { oldRoot: batches[2].newRoot, newRoot: 42n, batchHash: 43n };
    const missing = compareAnchored(hist, [...batches, fourth]);
    expect(missing).to.deep.include({ ok: false, anchored: 3, proven: 4, agreeing: 3 });
    expect(missing.firstMismatch).to.include({ index: 3, kind: "missing" });
    expect(missing.firstMismatch!.message).to.contain("proven but not anchored");

    const extra = compareAnchored(hist, batches.slice(0, 2));
    expect(extra).to.deep.include({ ok: false, anchored: 3, proven: 2, agreeing: 2 });
    expect(extra.firstMismatch).to.include({ index: 2, kind: "extra" });
    expect(extra.firstMismatch!.message).to.contain("anchored but not proven");

    const gap: AnchoredBatch[] = [hist[0], hist[2]];
    expect(compareAnchored(gap, batches).firstMismatch).to.include({ index: 1, kind: "index" });
  });

  it("refuses a stale oldRoot before sending, naming both roots", async () => {
    const before = ledger.balance();
    const e = await rejection(ledger.anchor(batches[1]));
    expect(e).to.be.instanceOf(FlavumError);
    expect(e.message).to.contain("stale oldRoot")
      .and.contain("0x" + batches[2].newRoot.toString(16))
      .and.contain("0x" + batches[1].oldRoot.toString(16));
    expect(ledger.balance()).to.equal(before, "nothing was sent");
  });

  it("the zkApp's precondition refuses a wrong oldRoot when the adapter's check is bypassed", async () => {
    const { o1js, zkapp, feePayer, sequencerKey } = ledger.internals();
    const { Mina, Field, Signature } = o1js;
    const before = await ledger.state();
    const wrong = batches[0];
    // Signed by the right key for the current batch number: only the precondition root == oldRoot stands in the way.
    const n = Field(before.batches);
    const args = [Field(wrong.oldRoot), Field(777n), Field(778n)] as const;
    const sig = Signature.create(sequencerKey, anchorMessage(o1js, zkapp.address, n, ...args));
    const tx = await Mina.transaction({ sender: feePayer.publicKey, fee: DEFAULT_FEE.toString() }, async () => {
      await zkapp.anchor(...args, sig);
    });
    await tx.prove();
    const balance = ledger.balance();
    const sent = await tx.sign([feePayer.key]).safeSend();
    expect(sent.status).to.equal("rejected");
    expect(sent.errors.join(" ")).to.contain("Account_app_state_precondition_unsatisfied");
    expect(await ledger.state()).to.deep.equal(before);
    // As on Mina, a zkApp command that fails its precondition is still included and pays its fee:
    // the reason the adapter checks the root before sending.
    expect(balance - ledger.balance()).to.equal(DEFAULT_FEE);

    // The adapter's raw path says the same in plain words.
    const e = await rejection(ledger.submit({ oldRoot: wrong.oldRoot, newRoot: 777n, batchHash: 778n }));
    expect(e.message).to.contain("Account_app_state_precondition_unsatisfied").and.contain("not the batch's oldRoot");
    expect(await ledger.state()).to.deep.equal(before);
    // The refused transactions' events are still in LocalBlockchain's event store: history() skips them.
    expect(await ledger.history()).to.deep.equal(batches.map((b, index) => ({ index, ...b })));
  });

  it("refuses a batch signed by another key than the sequencer's", async () => {
    const { o1js } = ledger.internals();
    const before = await ledger.state();
    const other = o1js.PrivateKey.random().toBase58();
    const e = await rejection(ledger.submit({ oldRoot: before.root, newRoot: 5n, batchHash: 6n }, { signWith: other }));
    expect(e.message).to.contain("not signed by the sequencer key");
    expect(await ledger.state()).to.deep.equal(before);
  });

  it("refuses values that are not BN254 scalars, with a clear message", async () => {
    const root = (await ledger.state()).root;
    for (const b of [
      { oldRoot: root, newRoot: BN254_R, batchHash: 1n },
      { oldRoot: root, newRoot: 1n, batchHash: BN254_R + 5n },
      { oldRoot: root, newRoot: -1n, batchHash: 1n },
    ]) {
      const e = await rejection(ledger.anchor(b));
      expect(e).to.be.instanceOf(InputError);
      expect(e.message).to.match(/(newRoot|batchHash) .* is not a BN254 scalar field element/);
    }
  });

  it("after deployment, the zkApp key can change neither state, permissions nor verification key, nor redeploy", async () => {
    const { o1js, zkapp, zkappKey, feePayer } = ledger.internals();
    const { Mina, AccountUpdate, Bool, Field, Permissions, UInt32 } = o1js;
    const before = await ledger.state();
    // An update signed by the zkApp key, not incrementing its nonce (that too is impossible): refused
    // by o1js's own checks before sending or by the ledger when applied; either way, with the reason.
    const attempt = async (tx: { sign(keys: unknown[]): { safeSend(): Promise<{ status: string; errors: string[] }> } }) => {
      try {
        const sent = await tx.sign([feePayer.key, zkappKey]).safeSend();
        return { applied: sent.status === "pending", reason: sent.errors.join(" ") };
      } catch (e) {
        return { applied: false, reason: (e as Error).message };
      }
    };
    const signedBy = async (edit: (u: InstanceType<typeof AccountUpdate>) => void) => {
      const tx = await Mina.transaction({ sender: feePayer.publicKey, fee: DEFAULT_FEE.toString() }, async () => {
        const u = AccountUpdate.createSigned(zkapp.address);
        u.body.incrementNonce = Bool(false);
        u.body.useFullCommitment = Bool(true);
        // Ignored, in the form the ledger hashes an ignored range in (else the commitment differs).
        u.body.preconditions.account.nonce = { isSome: Bool(false), value: { lower: UInt32.zero, upper: UInt32.MAXINT() } };
        edit(u);
      });
      return attempt(tx);
    };
    // The control: the same signed update changing nothing goes through, so what is refused below is the change.
    expect(await signedBy(() => undefined)).to.deep.equal({ applied: true, reason: "" });
    const state = await signedBy((u) => AccountUpdate.setValue(u.body.update.appState[0], Field(123n)));
    expect(state.applied).to.equal(false);
    expect(state.reason).to.match(/appState|app_state/);
    const perms = await signedBy((u) => u.account.permissions.set(Permissions.default()));
    expect(perms.applied).to.equal(false);
    expect(perms.reason).to.match(/permissions/i);
    const vk = await signedBy((u) => u.account.verificationKey.set({ data: "", hash: Field(1n) }));
    expect(vk.applied).to.equal(false);
    expect(vk.reason).to.match(/verificationKey|verification_key/);

    const redeploy = await Mina.transaction({ sender: feePayer.publicKey, fee: DEFAULT_FEE.toString() }, async () => {
      zkapp.genesis = { sequencer: feePayer.publicKey, root: Field(1n) };
      await zkapp.deploy();
    });
    zkapp.genesis = undefined;
    const again = await attempt(redeploy);
    expect(again.applied).to.equal(false);
    console.log(`      refused: state ← ${state.reason.slice(0, 90)} | redeploy ← ${again.reason.slice(0, 90)}`);
    expect(await ledger.state()).to.deep.equal(before);
    expect(await ledger.history()).to.have.length(3);
  });
});
