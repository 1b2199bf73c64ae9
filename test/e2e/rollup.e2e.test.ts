/**
 * The rollup end to end with real proofs: register a model (batch circuit, generated verifier, NFT),
 * queue requests, prove a batch, settle it on the Hardhat network, read the verified result as a
 * dApp would; restart the sequencer mid-way and check nothing is lost or submitted twice; and an
 * on-chain request answered through the request/callback pattern.
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployRollup, traceStoreConfig } from "../../src/chain/deployRollup";
import { EvmRollupLedger } from "../../src/chain/evmRollup";
import type { RollupLedger } from "../../src/chain/ledger";
import { Sequencer } from "../../src/rollup/sequencer";
import { openSequencer, registerModel } from "../../src/rollup/service";
import { unpackOutputWord } from "../../src/protocol/batch";
import { getBytes, ZeroAddress } from "ethers";
import { encodeInput, readInputLayout } from "../../src/sdk/encodeInput";
import { historyTransitions } from "../../src/protocol/history";
import { heldout } from "../helpers/fixtures";
import { compileRollupModel, copyStore, registeredRollup, ROLLUP_MODEL, tmpStore } from "../helpers/rollup";

const B = 4;

describe("rollup end to end", function () {
  before(compileRollupModel);

  const registeredOnce = () => registeredRollup(B);
  async function registered() {
    const f = await loadFixture(registeredOnce);
    return { ...f, store: copyStore(f.store) };
  }

  it("registers the model as an NFT with its batch verifier", async () => {
    const { d, modelId } = await registered();
    const [owner] = await hre.ethers.getSigners();
    expect(await d.registry.ownerOf(modelId)).to.equal(owner.address);
    expect(await d.registry.verifierOf(modelId, B)).to.properAddress;
  });

  it("proves a partly full batch, settles it, and a dApp verifies each inference on-chain", async () => {
    const { d, store, modelId } = await registered();
    const seq = await openSequencer(hre, { store, addresses: d.addresses });
    const samples = heldout("logreg_cancer").inputs.slice(0, 3);
    const ids = seq.request(modelId.toString(), samples);
    const batch = await seq.proveNext();
    expect(batch?.count).to.equal(3);
    const settled = (await seq.submit())!;
    expect(settled.batchId).to.equal(await d.rollup.batchIdOf(modelId, 0n));
    expect((await d.rollup.modelTrace(modelId)).batches).to.equal(1n);
    expect((await d.rollup.modelTrace(modelId)).root).to.equal(seq.tree(modelId).root);

    for (const id of ids) {
      const t = await seq.trace(id);
      expect(t.status).to.equal("settled");
      expect(t.verified).to.equal(true);
      // The dApp's view: the output word decodes to the same probability the executor computed.
      const { out } = unpackOutputWord(BigInt(t.outputWord!), 1, 16);
      expect(Number(out[0]) / 2 ** 14).to.be.closeTo(t.output![0], 1e-9);
    }
    // A forged output for a proven request does not verify.
    const t0 = await seq.trace(ids[0]);
    const forged = { modelId, requestId: ids[0], inputHash: BigInt(t0.inputHash!), outputWord: BigInt(t0.outputWord!) + 1n };
    expect(await d.rollup.verifyInference(settled.batchId, forged, t0.index!, t0.path!.map(BigInt))).to.equal(false);
    seq.store.close();
  });

  it("recovers from a crash after sending a batch without submitting it twice", async () => {
    const { d, store, modelId } = await registered();
    let seq = await openSequencer(hre, { store, addresses: d.addresses });
    const ids = seq.request(modelId.toString(), heldout("logreg_cancer").inputs.slice(3, 5));
    await seq.proveNext();
    // The process "dies" right after the transaction is broadcast, before anything else is written.
    const real = seq.ledger as EvmRollupLedger;
    const crashing: RollupLedger = Object.assign(Object.create(Object.getPrototypeOf(real)), real, {
      sendBatch: async (b: Parameters<RollupLedger["sendBatch"]>[0]) => {
        await real.sendBatch(b);
        throw new Error("simulated crash");
      },
    });
    const crashed = await Sequencer.open(seq.store, crashing);
    await expect(crashed.submit()).to.be.rejectedWith("simulated crash");
    seq.store.close();

    seq = await openSequencer(hre, { store, addresses: d.addresses });
    const batches = async () => (await d.rollup.modelTrace(modelId)).batches;
    expect(await batches()).to.equal(1n);
    expect(await seq.submit()).to.equal(undefined); // nothing left in flight: reconcile recorded it
    for (const id of ids) expect((await seq.trace(id)).verified).to.equal(true);
    expect(await batches()).to.equal(1n);

    // A batch proven before a crash is still there after it, and settles once.
    const more = seq.request(modelId.toString(), heldout("logreg_cancer").inputs.slice(5, 6));
    await seq.proveNext();
    seq.store.close();
    seq = await openSequencer(hre, { store, addresses: d.addresses });
    const s = (await seq.submit())!;
    expect(s.batchId).to.equal(await d.rollup.batchIdOf(modelId, 1n));
    expect((await seq.trace(more[0])).verified).to.equal(true);
    expect(await batches()).to.equal(2n);
    seq.store.close();
  });

  it("refuses a store that belongs to another rollup deployment", async () => {
    const { store } = await registered();
    const other = await deployRollup(hre);
    await expect(openSequencer(hre, { store, addresses: other.addresses })).to.be.rejectedWith(/belongs to rollup deployment/);
  });

  it("rejects the same proof replayed against another rollup", async () => {
    const { d, store, modelId } = await registered();
    const seq = await openSequencer(hre, { store, addresses: d.addresses });
    seq.request(modelId.toString(), heldout("logreg_cancer").inputs.slice(0, 1));
    const b = (await seq.proveNext())!;
    // A second rollup sharing the registry: same model, same verifier, same empty root.
    const [owner] = await hre.ethers.getSigners();
    const Rollup = await hre.ethers.getContractFactory("FlavumRollup");
    // Another domain: the proof binds the domain, so it does not settle there.
    const twin = await Rollup.deploy(d.addresses.registry, d.addresses.poseidon2, d.addresses.poseidon4, owner.address, await d.rollup.emptyRoot(), 256, traceStoreConfig(), { domain: (await d.rollup.domain()) ^ 1n, chainTag: 0 });
    await twin.grantRole(await twin.SEQUENCER_ROLE(), owner.address);
    const ledger = await EvmRollupLedger.connect(hre, { registry: d.addresses.registry, rollup: await twin.getAddress() });
    const { solidityCalldata } = await import("../../src/zk");
    const { proof, publicSignals } = b.proof as { proof: never; publicSignals: string[] };
    const cd = solidityCalldata(proof, publicSignals);
    await expect(
      ledger.sendBatch({ modelId, batchSize: B, count: b.count, newRoot: b.newRoot, batchRoot: b.batchRoot, proof: cd, trace: getBytes(b.trace) }),
    ).to.be.revertedWithCustomError(twin, "FlavumInvalidBatchProof");
    seq.store.close();
  });

  it("settles the same proof on a second rollup of the same domain, each serving only its own chain's requests", async () => {
    const { d, store, modelId } = await registered();
    const seq = await openSequencer(hre, { store, addresses: d.addresses });
    // One of this chain's on-chain requests (tag 0) and one off-chain request in the batch.
    const [owner] = await hre.ethers.getSigners();
    const enc = await encodeInput(await readInputLayout(d.registry as never, modelId), heldout("logreg_cancer").inputs[1]);
    await (await d.rollup.requestInference(modelId, enc.inputHash, enc.input, ZeroAddress, { value: await d.rollup.estimateFee(modelId) })).wait();
    await seq.syncOnchainRequests();
    seq.request(modelId.toString(), heldout("logreg_cancer").inputs.slice(0, 1));
    await seq.proveNext();
    const settled = (await seq.submit())!;
    expect((await d.rollup.requestOf(1n)).status).to.equal(2n); // included
    // The rollup's other chain, as rollup:deploy --chains deploys it: the same domain, tag 1.
    const sibling = await deployRollup(hre, { domain: await d.rollup.domain(), chainTag: 1 });
    await (await sibling.rollup.grantRole(await sibling.rollup.SEQUENCER_ROLE(), owner.address)).wait();
    // The model registered there as model:register --chains does: the same id, its own verifier.
    const siblingSeq = await openSequencer(hre, { store: tmpStore("sibling"), addresses: sibling.addresses });
    expect((await registerModel(siblingSeq, hre, ROLLUP_MODEL, B)).modelId).to.equal(modelId);
    siblingSeq.store.close();
    // Its own requests carry its tag; it has one pending, which the batch does not hold.
    await (await sibling.rollup.requestInference(modelId, enc.inputHash, enc.input, ZeroAddress, { value: await sibling.rollup.estimateFee(modelId) })).wait();
    const siblingRequest = (1n << 47n) + 1n;
    expect((await sibling.rollup.requestOf(siblingRequest)).requester).to.equal(owner.address);
    const ledger = await EvmRollupLedger.connect(hre, { registry: sibling.addresses.registry, rollup: sibling.addresses.rollup });
    const row = seq.store.getBatch(settled.localId)!;
    const { batchSubmission } = await import("../../src/rollup/batchSubmission");
    await ledger.waitTx(await ledger.sendBatch(batchSubmission(row)));
    expect((await sibling.rollup.modelTrace(modelId))[0]).to.equal(row.newRoot);
    // Tag 0's request is a plain entry there; its own stays pending.
    expect((await sibling.rollup.requestOf(siblingRequest)).status).to.equal(1n);
    expect((await sibling.rollup.requestOf(1n)).requester).to.equal(ZeroAddress);
    // Both hold the same settlement history, the one the events give.
    const [ha, hb] = [await d.rollup.history(), await sibling.rollup.history()];
    expect(hb).to.deep.equal(ha);
    expect(ha[1]).to.equal(1n);
    const [t] = historyTransitions([row].map((r) => ({ batchId: settled.batchId, oldRoot: r.oldRoot, newRoot: r.newRoot, batchRoot: r.batchRoot })));
    expect(ha[0]).to.equal(t.newRoot);
    // Replayed on the same contract, the batch no longer starts from its root.
    await expect(ledger.sendBatch(batchSubmission(row))).to.be.revertedWithCustomError(sibling.rollup, "FlavumInvalidBatchProof");
    seq.store.close();
  });
});
