/**
 * Waiting for transactions on a chain that does not mine on demand: the outcomes of waitForTx, and
 * batch:submit with automine off — it waits, a rerun while the transaction is pending sends nothing,
 * a dropped transaction (nonce used by another) is resent, and --replace reuses the nonce.
 */
import { expect } from "chai";
import Database from "better-sqlite3";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { EvmRollupLedger } from "../../src/chain/evmRollup";
import { sendAndWait, TxProvider, waitForTx } from "../../src/chain/txWait";
import { SequencerStore } from "../../src/rollup/store";
import type { Sequencer } from "../../src/rollup/sequencer";
import { openSequencer } from "../../src/rollup/service";
import { heldout } from "../helpers/fixtures";
import { compileRollupModel, copyStore, registeredRollup, tmpStore } from "../helpers/rollup";

const B = 4;

/** A scripted provider: each call reads the current state, which the test changes between polls. */
function fakeProvider(state: {
  receipt?: { status: number; gasUsed: bigint; blockNumber: number } | null;
  tx?: { nonce: number; from: string } | null;
  confirmedNonce?: number;
  onPoll?: (n: number) => void;
}): TxProvider & { polls: number } {
  const p = {
    polls: 0,
    async getTransactionReceipt() {
      p.polls++;
      state.onPoll?.(p.polls);
      return state.receipt ?? null;
    },
    async getTransaction() {
      return state.tx ?? null;
    },
    async getTransactionCount() {
      return state.confirmedNonce ?? 0;
    },
  };
  return p;
}

const FROM = "0x00000000000000000000000000000000000000aa";
const HASH = "0x" + "ab".repeat(32);

describe("waitForTx", () => {
  it("reports a mined transaction and a reverted one", async () => {
    const ok = await waitForTx(fakeProvider({ receipt: { status: 1, gasUsed: 21000n, blockNumber: 7 } }), { hash: HASH }, { progress: () => {} });
    expect(ok).to.include({ status: "mined", gasUsed: 21000n, block: 7 });
    const bad = await waitForTx(fakeProvider({ receipt: { status: 0, gasUsed: 30000n, blockNumber: 8 } }), { hash: HASH }, { progress: () => {} });
    expect(bad).to.include({ status: "reverted", block: 8 });
  });

  it("waits while the transaction is pending, with progress, until it is mined", async () => {
    const state: Parameters<typeof fakeProvider>[0] = { tx: { nonce: 3, from: FROM }, confirmedNonce: 3 };
    state.onPoll = (n) => {
      if (n === 8) state.receipt = { status: 1, gasUsed: 5n, blockNumber: 9 };
    };
    const msgs: string[] = [];
    const r = await waitForTx(fakeProvider(state), { hash: HASH }, { timeoutMs: 5000, pollMs: 20, progressEveryMs: 40, progress: (m) => msgs.push(m), what: "test" });
    expect(r.status).to.equal("mined");
    expect(msgs.length).to.be.greaterThan(0);
    expect(msgs[0]).to.match(new RegExp(`^test: waiting for tx ${HASH} \\(nonce 3\\) to be mined: \\d`));
  });

  it("times out as pending, never as dropped, while the node knows the transaction", async () => {
    // Even with the nonce already confirmed: a node that still serves the transaction outranks a guess.
    const r = await waitForTx(fakeProvider({ tx: { nonce: 3, from: FROM }, confirmedNonce: 9 }), { hash: HASH }, { timeoutMs: 100, pollMs: 20, progress: () => {} });
    expect(r).to.include({ status: "pending", nonce: 3 });
    expect((r as { waitedMs: number }).waitedMs).to.be.at.least(100);
  });

  it("times out as pending when the node forgot the transaction but its nonce is unused", async () => {
    const r = await waitForTx(fakeProvider({ tx: null, confirmedNonce: 3 }), { hash: HASH, nonce: 3, from: FROM }, { timeoutMs: 60, pollMs: 20, progress: () => {} });
    expect(r.status).to.equal("pending");
  });

  it("times out as pending when nothing says which nonce an unknown transaction used", async () => {
    const r = await waitForTx(fakeProvider({ tx: null, confirmedNonce: 100 }), { hash: HASH }, { timeoutMs: 60, pollMs: 20, progress: () => {} });
    expect(r.status).to.equal("pending");
  });

  it("reports dropped once the node forgot it and another transaction used its nonce", async () => {
    const r = await waitForTx(fakeProvider({ tx: null, confirmedNonce: 4 }), { hash: HASH, nonce: 3, from: FROM }, { timeoutMs: 5000, pollMs: 20, progress: () => {} });
    expect(r).to.deep.equal({ status: "dropped", nonce: 3 });
  });

  it("reports mined, not dropped, when the transaction itself used the nonce between two reads", async () => {
    const state: Parameters<typeof fakeProvider>[0] = { tx: null, confirmedNonce: 4 };
    // First receipt read: nothing yet; by the nonce check it has been mined.
    state.onPoll = (n) => {
      if (n === 2) state.receipt = { status: 1, gasUsed: 1n, blockNumber: 2 };
    };
    const r = await waitForTx(fakeProvider(state), { hash: HASH, nonce: 3, from: FROM }, { timeoutMs: 5000, pollMs: 20, progress: () => {} });
    expect(r.status).to.equal("mined");
  });

  it("sendAndWait names the action, hash and nonce when the wait times out or the transaction reverts", async () => {
    const sent = { hash: HASH, nonce: 5, from: FROM };
    await expect(sendAndWait(fakeProvider({ tx: sent, confirmedNonce: 5 }), sent, "deploying Foo", { timeoutMs: 30, pollMs: 10, progress: () => {} }))
      .to.be.rejectedWith(new RegExp(`deploying Foo: transaction ${HASH} \\(nonce 5\\) still pending after 0 s: it may still be mined`));
    await expect(sendAndWait(fakeProvider({ receipt: { status: 0, gasUsed: 9n, blockNumber: 3 } }), sent, "deploying Foo", { progress: () => {} }))
      .to.be.rejectedWith(/deploying Foo: transaction 0xab.* \(nonce 5\) reverted in block 3/);
  });
});

describe("SequencerStore migration", () => {
  it("adds the transaction nonce and sender columns to a store written before them, idempotently", () => {
    const file = tmpStore("txwait");
    const db = new Database(file);
    db.exec(`CREATE TABLE batches (
      local_id INTEGER PRIMARY KEY AUTOINCREMENT,
      model_id TEXT NOT NULL, batch_size INTEGER NOT NULL, batch_number TEXT NOT NULL, first_leaf TEXT NOT NULL,
      count INTEGER NOT NULL, old_root TEXT NOT NULL, new_root TEXT NOT NULL, batch_root TEXT NOT NULL,
      leaves TEXT NOT NULL, entries TEXT NOT NULL, proof TEXT NOT NULL, status TEXT NOT NULL,
      tx_hash TEXT, gas_used TEXT, prove_ms REAL NOT NULL);
      INSERT INTO batches (model_id, batch_size, batch_number, first_leaf, count, old_root, new_root, batch_root, leaves, entries, proof, status, tx_hash, prove_ms)
      VALUES ('1', 4, '0', '0', 1, '0', '0', '0', '[]', '[]', '{}', 'submitting', '${HASH}', 1);`);
    db.close();
    let s = new SequencerStore(file);
    expect(s.getBatch(1)).to.include({ txHash: HASH, txNonce: null, txFrom: null, status: "submitting" });
    s.setTx(1, { hash: HASH, nonce: 7, from: FROM });
    s.close();
    s = new SequencerStore(file);
    expect(s.getBatch(1)).to.include({ txHash: HASH, txNonce: 7, txFrom: FROM });
    s.close();
  });
});

describe("batch:submit with automine off", function () {
  const send = (method: string, params: unknown[] = []) => hre.network.provider.send(method, params);
  const provider = () => hre.ethers.provider;

  before(compileRollupModel);

  afterEach(async () => {
    await send("evm_setAutomine", [true]);
    await send("evm_mine");
  });

  const registeredOnce = () => registeredRollup(B);

  /** A fresh copy of the registered store, a proven batch of two, and the sequencer's account. */
  async function provenBatch(samples = [0, 2]) {
    const f = await loadFixture(registeredOnce);
    const store = copyStore(f.store, "txwait");
    const msgs: string[] = [];
    const seq = await open(store, f.d.addresses, msgs);
    seq.request(f.modelId.toString(), heldout("logreg_cancer").inputs.slice(...samples));
    await seq.proveNext();
    const [owner] = await hre.ethers.getSigners();
    return { ...f, store, seq, msgs, owner };
  }

  /** Each open is one run of a command; waits are shortened so a "timeout" takes a moment. */
  async function open(store: string, addresses: { registry: string; rollup: string }, msgs: string[], timeoutMs = 400): Promise<Sequencer> {
    const seq = await openSequencer(hre, { store, addresses, progress: (m) => msgs.push(m) });
    (seq.ledger as EvmRollupLedger).evm.waitOptions = { timeoutMs, pollMs: 25, progressEveryMs: 100 };
    return seq;
  }

  const mineIn = (ms: number) => new Promise<void>((resolve, reject) => setTimeout(() => send("evm_mine").then(() => resolve(), reject), ms));
  const nonces = async (addr: string) => ({ latest: await provider().getTransactionCount(addr, "latest"), pending: await provider().getTransactionCount(addr, "pending") });

  it("waits for the batch's transaction to be mined, with progress, and settles it", async () => {
    const { d, store, msgs, owner, modelId } = await provenBatch();
    await send("evm_setAutomine", [false]);
    const seq = await open(store, d.addresses, msgs, 30_000);
    const before = await nonces(owner.address);
    const [settled] = await Promise.all([seq.submit(), mineIn(700)]);
    expect(settled!.batchId).to.equal(await d.rollup.batchIdOf(modelId, 0n));
    expect((await d.rollup.modelTrace(modelId)).batches).to.equal(1n);
    expect(msgs.some((m) => /^batch 0: waiting for tx 0x[0-9a-f]{64} \(nonce \d+\) to be mined: /.test(m))).to.equal(true, msgs.join("\n"));
    expect((await nonces(owner.address)).latest).to.equal(before.latest + 1);
    const row = seq.store.getBatch(settled!.localId)!;
    expect(row).to.include({ status: "settled", txNonce: before.latest, txHash: settled!.txHash });
    seq.store.close();
  });

  it("leaves a timed-out batch submitting and a rerun while it is pending sends nothing; it settles once mined", async () => {
    const { d, store, seq, msgs, owner, modelId } = await provenBatch();
    await send("evm_setAutomine", [false]);
    const before = await nonces(owner.address);
    await expect(seq.submit()).to.be.rejectedWith(/batch 0: transaction 0x[0-9a-f]{64} \(nonce \d+\) still pending after \d+ s: it may still be mined; run batch:submit again to keep waiting .*--replace/);
    const row = seq.store.unsettled()!;
    expect(row.status).to.equal("submitting");
    expect(row.txNonce).to.equal(before.latest);
    expect(row.txFrom?.toLowerCase()).to.equal(owner.address.toLowerCase());
    expect(await nonces(owner.address)).to.deep.equal({ latest: before.latest, pending: before.pending + 1 });
    seq.store.close();

    // The rerun: the same pending transaction is waited on again, nothing new is sent.
    const rerun = await open(store, d.addresses, msgs);
    await expect(rerun.submit()).to.be.rejectedWith(/still pending/);
    expect(await nonces(owner.address)).to.deep.equal({ latest: before.latest, pending: before.pending + 1 });
    const pendingBlock = await send("eth_getBlockByNumber", ["pending", false]);
    expect(pendingBlock.transactions).to.deep.equal([row.txHash]);
    rerun.store.close();

    const third = await open(store, d.addresses, msgs, 30_000);
    const [settled] = await Promise.all([third.submit(), mineIn(300)]);
    expect(settled!.txHash).to.equal(row.txHash);
    expect((await d.rollup.modelTrace(modelId)).batches).to.equal(1n);
    expect(await nonces(owner.address)).to.deep.equal({ latest: before.latest + 1, pending: before.latest + 1 });
    expect(await third.submit()).to.equal(undefined);
    expect(await nonces(owner.address)).to.deep.equal({ latest: before.latest + 1, pending: before.latest + 1 });
    third.store.close();
  });

  it("resends a batch whose transaction was dropped and its nonce used by another, and not before", async () => {
    const { d, store, seq, msgs, owner, modelId } = await provenBatch();
    await send("evm_setAutomine", [false]);
    await expect(seq.submit()).to.be.rejectedWith(/still pending/);
    const first = seq.store.unsettled()!;
    seq.store.close();
    expect(await send("hardhat_dropTransaction", [first.txHash])).to.equal(true);

    // Forgotten by the node but its nonce unused: it may still land (anyone holding it can rebroadcast).
    let rerun = await open(store, d.addresses, msgs);
    const before = await nonces(owner.address);
    await expect(rerun.submit()).to.be.rejectedWith(/still pending/);
    expect(await nonces(owner.address)).to.deep.equal(before);
    rerun.store.close();

    // Another transaction takes the nonce: now the batch's transaction can never be mined.
    await owner.sendTransaction({ to: owner.address, value: 1n, nonce: first.txNonce! });
    await send("evm_mine");
    await send("evm_setAutomine", [true]);
    rerun = await open(store, d.addresses, msgs);
    const settled = (await rerun.submit())!;
    expect(settled.batchId).to.equal(await d.rollup.batchIdOf(modelId, 0n));
    expect(settled.txHash).to.not.equal(first.txHash);
    expect((await d.rollup.modelTrace(modelId)).batches).to.equal(1n);
    expect(msgs.some((m) => /was dropped \(another transaction used its nonce\)/.test(m))).to.equal(true);
    expect(rerun.store.getBatch(first.localId)!.txNonce).to.equal(first.txNonce! + 1);
    rerun.store.close();
  });

  it("--replace re-sends a pending batch with the same nonce and higher fees, and only one lands", async () => {
    const { d, store, seq, msgs, owner, modelId } = await provenBatch();
    await send("evm_setAutomine", [false]);
    await expect(seq.submit()).to.be.rejectedWith(/still pending/);
    const first = seq.store.unsettled()!;
    seq.store.close();
    const oldTx = (await provider().getTransaction(first.txHash!))!;

    const rerun = await open(store, d.addresses, msgs, 30_000);
    const [settled] = await Promise.all([rerun.submit({ replace: true }), mineIn(700)]);
    expect(settled!.txHash).to.not.equal(first.txHash);
    const newTx = (await provider().getTransaction(settled!.txHash))!;
    expect(newTx.nonce).to.equal(first.txNonce);
    expect(newTx.maxFeePerGas! > oldTx.maxFeePerGas!).to.equal(true);
    expect(newTx.maxPriorityFeePerGas! > oldTx.maxPriorityFeePerGas!).to.equal(true);
    expect(await provider().getTransactionReceipt(first.txHash!)).to.equal(null);
    expect((await d.rollup.modelTrace(modelId)).batches).to.equal(1n);
    expect(await nonces(owner.address)).to.deep.equal({ latest: first.txNonce! + 1, pending: first.txNonce! + 1 });
    expect(rerun.store.getBatch(first.localId)).to.include({ status: "settled", txHash: settled!.txHash, txNonce: first.txNonce });
    rerun.store.close();
  });
});
