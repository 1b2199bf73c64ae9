/**
 * A lost disk is not a lost rollup, with real proofs: two batches settled (an on-chain request with an
 * off-chain one, then off-chain ones), the store deleted, a new one rebuilt from the chain alone — the
 * same batches, entries, proofs and requests, every inclusion path confirmed on chain, the sequencer
 * reconciling — and the rollup going on from it without proving anything twice. A trace that is not the
 * one proven, a store that is not empty, and a blob batch whose sidecar is gone are refused. Then the
 * same through the command line against a `npx hardhat node`: sequencer:rebuild in place of a deleted store.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { getBytes, Wallet, ZeroAddress } from "ethers";
import { EvmRollupLedger } from "../../src/chain/evmRollup";
import { SequencerStore } from "../../src/rollup/store";
import { openSequencer, resetStore } from "../../src/rollup/service";
import { batchFromTrace, rebuildStore } from "../../src/rollup/rebuild";
import { batchPaths } from "../../src/rollup/batchBuild";
import { hasher } from "../../src/rollup/merkle";
import { loadModel } from "../../src/model/artifacts";
import { OFFCHAIN_REQUEST_BASE } from "../../src/protocol/batch";
import { encodeQuantized } from "../../src/sdk/encodeInput";
import { verify } from "../../src/zk";
import { startTraceNode, stopTraceNode, TraceNode } from "../../src/traceStore/ipfs";
import { HeliaIpfsPoster } from "../../src/traceStore/ipfsPoster";
import type { DeployRollupOptions } from "../../src/chain/deployRollup";
import { heldout, usePtauDir } from "../helpers/fixtures";
import { quantizedSample } from "../helpers/state";
import { compileRollupModel, copyStore, registeredRollup, ROLLUP_MODEL, tmpStore } from "../helpers/rollup";
import { cliEnv, hardhatSync, lastJson, startHardhatNode, type HardhatNode } from "../helpers/processes";

const B = 4;
type Registered = Awaited<ReturnType<typeof registeredRollup>>;

async function requestOnchain(f: Registered, sample: number): Promise<bigint> {
  const [inputSize, inputScale, inputBits] = await f.d.registry.inputLayoutOf(f.modelId);
  const layout = { inputSize: Number(inputSize), inputScale: Number(inputScale), inputBits: Number(inputBits) };
  const { inputHash, input } = await encodeQuantized(layout, quantizedSample(sample).values);
  const id = await f.d.rollup.requestInference.staticCall(f.modelId, inputHash, input, ZeroAddress);
  await (await f.d.rollup.requestInference(f.modelId, inputHash, input, ZeroAddress)).wait();
  return id;
}

/**
 * Batch 0: on-chain request A (delivered) and one off-chain request; batch 1: three off-chain ones; then
 * on-chain request C, which the lost store never saw. `backup` is the store as it stood before batch 0
 * was proven (A and the first off-chain request pending); the store itself is deleted.
 */
async function twoBatches() {
  const f = await registeredRollup(B);
  const file = copyStore(f.store, "lost");
  const seq = await openSequencer(hre, { store: file, addresses: f.d.addresses });
  const a = await requestOnchain(f, 0);
  await seq.syncOnchainRequests();
  const off1 = seq.request(f.modelId.toString(), heldout("logreg_cancer").inputs.slice(0, 1));
  const backup = tmpStore("backup");
  await seq.store.db.backup(backup);
  expect((await seq.proveNext())!.count).to.equal(2);
  await seq.submit();
  expect(await seq.deliver()).to.equal(1);
  const off2 = seq.request(f.modelId.toString(), heldout("logreg_cancer").inputs.slice(1, 4));
  expect((await seq.proveNext())!.count).to.equal(3);
  await seq.submit();
  const c = await requestOnchain(f, 5);
  const ids = [a, ...off1, ...off2];
  const before = {
    batches: seq.store.settledBatches(),
    requests: ids.map((id) => seq.store.getRequest(id)!),
    traces: await Promise.all(ids.map((id) => seq.trace(id))),
  };
  seq.store.close();
  resetStore(file);
  return { ...f, ids, a, c, backup, before };
}

const connect = (f: Registered) => EvmRollupLedger.connect(hre, f.d.addresses);
/** What the sequencer stores, minus what only says where and when it was written. */
const comparable = (b: ReturnType<SequencerStore["settledBatches"]>[number]) => {
  const { localId: _l, proveMs: _p, ...rest } = b;
  return JSON.parse(JSON.stringify(rest, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
};

describe("sequencer:rebuild: a store rebuilt from the chain alone (real proofs)", function () {
  before(compileRollupModel);

  it("recovers the settled batches, their proofs, entries and requests; every path verifies on chain and the sequencer reconciles", async () => {
    const f = await loadFixture(twoBatches);
    const file = tmpStore("rebuilt");
    const store = new SequencerStore(file);
    const report = await rebuildStore(store, await connect(f));

    expect(report.models).to.have.length(1);
    expect(report.models[0]).to.include({ modelId: f.modelId.toString(), name: ROLLUP_MODEL, batchSize: B, build: "ok", added: true });
    expect(report.models[0].verifier).to.equal(await f.d.registry.verifierOf(f.modelId, B));
    expect(report.batches.map((b) => [b.modelBatch, b.count, b.traceFrom, b.added])).to.deep.equal([["0", 2, "calldata", true], ["1", 3, "calldata", true]]);
    expect(report.requests).to.deep.equal({ settled: 5, onchain: 1, offchain: 4, delivered: 1, moved: 0, pendingOnchain: 1 });

    // Row for row what the sequencer wrote when it proved and settled them, proof included.
    const rebuilt = store.settledBatches();
    expect(rebuilt.map(comparable)).to.deep.equal(f.before.batches.map(comparable));
    const vkey = batchPaths(loadModel(ROLLUP_MODEL), B).vkey;
    for (const b of rebuilt) {
      const { proof, publicSignals } = b.proof as { proof: never; publicSignals: string[] };
      expect(await verify(vkey, publicSignals, proof)).to.equal(true);
    }
    const batchIdOf = (s: SequencerStore, localId: number | null) => s.getBatch(localId!)!.batchId;
    const old = f.before.requests;
    for (const [i, id] of f.ids.entries()) {
      const r = store.getRequest(id)!;
      expect(r.status).to.equal("settled");
      expect(r.entryIndex).to.equal(old[i].entryIndex);
      expect(batchIdOf(store, r.batchLocalId)).to.equal(f.before.batches.find((b) => b.localId === old[i].batchLocalId)!.batchId);
      expect(r.fulfilled).to.equal(old[i].fulfilled);
      if (id < OFFCHAIN_REQUEST_BASE) expect(r.quantized).to.deep.equal(old[i].quantized);
    }
    expect(store.getRequest(f.a)!.fulfilled).to.equal(true);
    expect(store.getRequest(f.c)).to.equal(undefined); // the sequencer's own sync takes it, checking its input
    store.close();

    const seq = await openSequencer(hre, { store: file, addresses: f.d.addresses });
    expect(seq.tree(f.modelId).root).to.equal((await f.d.rollup.modelTrace(f.modelId)).root);
    for (const [i, id] of f.ids.entries()) {
      const t = await seq.trace(id);
      expect(t.verified, `request ${id}`).to.equal(true);
      expect(t).to.deep.equal(f.before.traces[i]);
    }
    seq.store.close();
  });

  it("goes on from the rebuilt store: a new batch settles on top, nothing settled before is batched or submitted again", async () => {
    const f = await loadFixture(twoBatches);
    const file = tmpStore("rebuilt");
    const store = new SequencerStore(file);
    await rebuildStore(store, await connect(f));
    store.close();

    const seq = await openSequencer(hre, { store: file, addresses: f.d.addresses });
    expect(await seq.syncOnchainRequests()).to.equal(1);
    const [fresh] = seq.request(f.modelId.toString(), heldout("logreg_cancer").inputs.slice(6, 7));
    // New off-chain ids continue after the recovered ones instead of reusing a settled request's id.
    expect(fresh > f.ids.reduce((m, id) => (id > m ? id : m), 0n)).to.equal(true);
    const b = (await seq.proveNext())!;
    expect((b.entries as { requestId: string }[]).map((e) => BigInt(e.requestId))).to.deep.equal([f.c, fresh]);
    const s = (await seq.submit())!;
    expect(s.batchId).to.equal(await f.d.rollup.batchIdOf(f.modelId, 2n));
    expect(await seq.deliver()).to.equal(1);
    expect((await f.d.rollup.requestOf(f.c)).status).to.equal(3n); // fulfilled

    expect(await seq.proveNext()).to.equal(undefined);
    const submitted = await f.d.rollup.queryFilter(f.d.rollup.filters.BatchSubmitted());
    expect(submitted).to.have.length(3);
    expect(seq.store.settledBatches()).to.have.length(3);
    expect((await f.d.rollup.modelTrace(f.modelId)).batches).to.equal(3n);
    for (const id of [...f.ids, f.c, fresh]) expect((await seq.trace(id)).verified, `request ${id}`).to.equal(true);
    seq.store.close();
  });

  it("refuses a batch whose trace is not the one proven, and writes nothing", async () => {
    const f = await loadFixture(twoBatches);
    const ledger = await connect(f);
    const [ev0, ev1] = await ledger.settledBatches();
    const calldataOf = async (txHash: string) => {
      const tx = (await hre.ethers.provider.getTransaction(txHash))!;
      return { tx, args: ledger.rollup.interface.decodeFunctionData("submitBatch", tx.data) };
    };
    const { tx, args } = await calldataOf(ev0.txHash);
    const trace = getBytes(args.trace);
    const [outputBits, outputCount, hasLabel] = await f.d.registry.outputLayoutOf(f.modelId);
    const layout = { outputBits: Number(outputBits), outputCount: Number(outputCount), hasLabel };
    const h = await hasher();
    expect((await batchFromTrace({ event: ev0, trace, layout, h })).entries).to.have.length(2);

    const forged = trace.slice();
    forged[forged.length - 2] ^= 1; // one bit of the last entry's output word
    await expect(batchFromTrace({ event: ev0, trace: forged, layout, h })).to.be.rejectedWith(/batch root .* not the trace that was proven/);
    const other = getBytes((await calldataOf(ev1.txHash)).args.trace);
    await expect(batchFromTrace({ event: ev0, trace: other, layout, h })).to.be.rejectedWith(/holds 3 entries, the batch settled 2/);

    // The same forgery in the calldata the node returns: the rebuild stops before writing anything.
    const provider = hre.ethers.provider;
    const real = provider.getTransaction.bind(provider);
    const data = ledger.rollup.interface.encodeFunctionData("submitBatch", [...args.toArray().slice(0, 8), forged]);
    provider.getTransaction = (async (hash: string) => (hash === ev0.txHash ? { ...tx, data, to: tx.to, from: tx.from, nonce: tx.nonce } : real(hash))) as typeof provider.getTransaction;
    const store = new SequencerStore(tmpStore("forged"));
    try {
      await expect(rebuildStore(store, ledger)).to.be.rejectedWith(/not the trace that was proven/);
    } finally {
      provider.getTransaction = real;
    }
    expect(store.isEmpty()).to.equal(true);
    store.close();
  });

  it("refuses a store that is not empty; with force it adds only what the store is missing", async () => {
    const f = await loadFixture(twoBatches);
    const ledger = await connect(f);
    // The store as a day-old backup left it: the model, and batch 0's requests still pending.
    const store = new SequencerStore(copyStore(f.backup, "restored"));
    await expect(rebuildStore(store, ledger)).to.be.rejectedWith(/is not empty \(1 model\(s\), 0 batch\(es\), 2 request\(s\)\).*--force/);
    expect(store.settledBatches()).to.have.length(0);

    const report = await rebuildStore(store, ledger, { force: true });
    expect(report.models[0].added).to.equal(false);
    expect(report.batches.map((b) => b.added)).to.deep.equal([true, true]);
    expect(report.requests).to.include({ settled: 5, moved: 2 });
    for (const id of f.ids) expect(store.getRequest(id)!.status, `request ${id}`).to.equal("settled");
    expect(store.pendingCount()).to.equal(0);

    const again = await rebuildStore(store, ledger, { force: true });
    expect(again.batches.map((b) => b.added)).to.deep.equal([false, false]);
    expect(again.requests.settled).to.equal(0);
    expect(store.settledBatches()).to.have.length(2);
    const file = store.file;
    store.close();
    const seq = await openSequencer(hre, { store: file, addresses: f.d.addresses });
    for (const id of f.ids) expect((await seq.trace(id)).verified).to.equal(true);
    expect(await seq.proveNext()).to.equal(undefined); // what the chain settled is not proven again
    seq.store.close();
  });

  describe("blob deployment", () => {
    const archive = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-blobs-"));
    async function blobBatch() {
      const f = await registeredRollup(B, { traceStore: "blob" });
      const file = copyStore(f.store, "lost");
      const seq = await openSequencer(hre, { store: file, addresses: f.d.addresses });
      (seq.ledger as EvmRollupLedger).blobArchive = archive;
      const ids = seq.request(f.modelId.toString(), heldout("logreg_cancer").inputs.slice(0, 3));
      await seq.proveNext();
      const s = (await seq.submit())!;
      seq.store.close();
      resetStore(file);
      return { ...f, ids, txHash: s.txHash };
    }

    it("rebuilds a blob batch from the archived sidecar, and without it fails naming the batch and where its trace should be", async () => {
      const f = await loadFixture(blobBatch);
      const ledger = await connect(f);
      ledger.blobArchive = archive;
      const file = tmpStore("rebuilt");
      const store = new SequencerStore(file);
      const report = await rebuildStore(store, ledger);
      expect(report.batches.map((b) => [b.count, b.traceFrom])).to.deep.equal([[3, "blob"]]);
      store.close();
      const seq = await openSequencer(hre, { store: file, addresses: f.d.addresses });
      for (const id of f.ids) expect((await seq.trace(id)).verified).to.equal(true);
      seq.store.close();

      const bare = await connect(f);
      bare.blobArchive = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-no-blobs-"));
      const empty = new SequencerStore(tmpStore("no-sidecar"));
      const batchId = ((f.modelId << 64n) | 0n).toString();
      await expect(rebuildStore(empty, bare)).to.be.rejectedWith(
        new RegExp(`cannot rebuild 1 settled batch.*batch ${batchId} .*${f.txHash}.*sidecar the sequencer archived at ${path.join(bare.blobArchive, f.txHash)}\\.json`, "s"),
      );
      expect(empty.isEmpty()).to.equal(true);
      empty.close();
    });
  });

  describe("ipfs deployment", () => {
    const members = [0, 1].map((i) => new Wallet(`0x${(0xdac0n + BigInt(i)).toString(16).padStart(64, "0")}`));
    const nodes: TraceNode[] = [];
    after(async () => {
      for (const n of nodes) await stopTraceNode(n);
    });
    async function ipfsBatch() {
      const f = await registeredRollup(B, { traceStore: "ipfs", dac: members.map((w) => w.address), dacThreshold: 2 } as DeployRollupOptions);
      const [publisher, ...memberNodes] = await Promise.all([0, 1, 2].map(() => startTraceNode()));
      nodes.push(publisher, ...memberNodes);
      const file = copyStore(f.store, "lost");
      const seq = await openSequencer(hre, { store: file, addresses: f.d.addresses });
      (seq.ledger as EvmRollupLedger).ipfsPoster = new HeliaIpfsPoster(publisher, members.map((wallet, i) => ({ wallet, node: memberNodes[i] })), members.map((w) => w.address), 2, 10_000);
      const ids = seq.request(f.modelId.toString(), heldout("logreg_cancer").inputs.slice(0, 2));
      await seq.proveNext();
      await seq.submit();
      seq.store.close();
      resetStore(file);
      return { ...f, ids, publisher };
    }

    it("rebuilds an IPFS batch from a trace node holding its block, and without one fails naming the block", async () => {
      const f = await loadFixture(ipfsBatch);
      const ledger = await connect(f);
      const file = tmpStore("rebuilt");
      const store = new SequencerStore(file);
      const report = await rebuildStore(store, ledger, { ipfs: { node: f.publisher } });
      expect(report.batches.map((b) => [b.count, b.traceFrom])).to.deep.equal([[2, "ipfs"]]);
      store.close();
      const seq = await openSequencer(hre, { store: file, addresses: f.d.addresses });
      for (const id of f.ids) expect((await seq.trace(id)).verified).to.equal(true);
      seq.store.close();

      const none = new SequencerStore(tmpStore("no-ipfs"));
      await expect(rebuildStore(none, ledger)).to.be.rejectedWith(/its trace is the IPFS block b[a-z2-7]+ .*give the rebuild a trace node holding it/);
      // A node that holds nothing and has no peers: the fetch times out, and the failure says so.
      const lonely = await startTraceNode();
      nodes.push(lonely);
      await expect(rebuildStore(none, ledger, { ipfs: { node: lonely, timeoutMs: 500 } })).to.be.rejectedWith(/fetching it failed: trace b[a-z2-7]+ was not found within 500 ms/);
      expect(none.isEmpty()).to.equal(true);
      none.close();
    });
  });
});

describe("sequencer:rebuild on the command line against a hardhat node", function () {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-rebuild-cli-"));
  // Its own cache and model name: its keys, verifier and default stores are nobody else's.
  const env = cliEnv(tmp, `http://127.0.0.1:${port}`);
  const name = "rebuild_logreg";
  let node: HardhatNode | undefined;

  const hardhat = (...args: string[]) => hardhatSync([...args, "--network", "localhost"], { env, timeoutMs: 10 * 60_000 });

  before(async () => {
    usePtauDir();
    node = await startHardhatNode({ port, env, timeoutMs: 60_000 });
    const c = hardhatSync(["model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", name,
      "--calibration", "fixtures/data/logreg_cancer.calibration.json"], { env });
    expect(c.code, c.err).to.equal(0);
  });

  // npx starts the node as its child: end the whole process group, or the node outlives the tests.
  after(() => node?.stop());

  it("rebuilds the default store after it is deleted; the commands go on from it; a second rebuild needs --force", () => {
    expect(hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4").code).to.equal(0);
    const rollup = JSON.parse(fs.readFileSync(path.join(tmp, "localhost.json"), "utf8")).FlavumRollup.address as string;
    const store = path.join(tmp, "build", "rollup", "localhost", `31337-${rollup.toLowerCase()}`, "sequencer.db");
    const { modelId } = lastJson(hardhat("model:register", "--name", name, "--batch", "4", "--json"));
    const { requests } = lastJson(hardhat("infer:request", "--model", name, "--input", "fixtures/data/logreg_cancer.sample.json", "--json"));
    const settled = lastJson(hardhat("batch:run", "--json"));
    expect(settled.inferences).to.equal(4);
    resetStore(store);

    const r = lastJson(hardhat("sequencer:rebuild", "--json"));
    expect(r.store).to.equal(store);
    expect(r.reconciled).to.equal(true);
    expect(r.models.map((m: { modelId: string; name: string; build: string }) => [m.modelId, m.name, m.build])).to.deep.equal([[modelId, name, "ok"]]);
    expect(r.batches.map((b: { batchId: string; txHash: string }) => [b.batchId, b.txHash])).to.deep.equal([[settled.batchId, settled.txHash]]);
    expect(r.requests).to.include({ settled: 4, offchain: 4 });
    expect(r.unrecoverable.join(" ")).to.match(/off-chain requests .* queued/);
    // The data-point state needs no store: replayed from L1 events, it reaches the contract's root.
    expect(r.state).to.include({ ok: true, stateBatches: 0, operations: 0 });
    for (const id of requests) expect(lastJson(hardhat("trace:show", "--request", id, "--json")).verified, `request ${id}`).to.equal(true);

    const refused = hardhat("sequencer:rebuild");
    expect(refused.code).to.equal(1);
    expect(refused.err).to.match(/is not empty .* --force/);
    const forced = hardhat("sequencer:rebuild", "--force");
    expect(forced.code, forced.err).to.equal(0);
    expect(forced.out).to.match(/\(already in the store\)/);
    expect(forced.out).to.contain("the sequencer opens on it");
    // Nothing the chain settled is proven or submitted again.
    expect(lastJson(hardhat("batch:run", "--json")).batchId).to.equal(null);
  });
});
