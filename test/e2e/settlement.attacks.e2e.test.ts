/**
 * The attacks of issue 8 on settlement, each through the real code path with real batch proofs
 * (logreg_cancer, batches of 4) on the Hardhat network: forging another model's output through a
 * throwaway model, posting a trace other than the proven one, stalling the sequencer with bad
 * on-chain requests, censoring an on-chain request while keeping its fee, and stopping delivery by
 * fulfilling one request of a batch first. Each must fail with a clear revert or error.
 */
import { expect } from "chai";
import hre from "hardhat";
import { getBytes } from "ethers";
import { loadFixture, mine } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { openSequencer } from "../../src/rollup/service";
import type { Sequencer } from "../../src/rollup/sequencer";
import { encodeInput, encodeQuantized, readInputLayout } from "../../src/sdk/encodeInput";
import { decodeTrace, encodeTrace } from "../../src/protocol/traceBinding";
import { OFFCHAIN_REQUEST_BASE } from "../../src/protocol/batch";
import { traceLeaf } from "../../src/rollup/batchWitness";
import { hasher, subtreeLevels, subtreePath } from "../../src/rollup/merkle";
import { solidityCalldata } from "../../src/zk";
import { commitment, DUMMY_PROOF } from "../contracts/fixtures";
import { heldout } from "../helpers/fixtures";
import { compileRollupModel, copyStore, registeredRollup } from "../helpers/rollup";
import type { MockBatchVerifier } from "../../typechain-types";

const B = 4;
const DELAY = 6;
const FEE = 1000n;
const samples = () => heldout("logreg_cancer").inputs;

describe("settlement attacks (real proofs)", function () {
  before(compileRollupModel);

  const deployedOnce = () => registeredRollup(B, { inclusionDelay: DELAY }, async (d) => void (await (await d.rollup.setRequestFee(FEE)).wait()));

  async function fixture() {
    const f = await loadFixture(deployedOnce);
    const store = copyStore(f.store, "attacks");
    const seq = await openSequencer(hre, { store, addresses: f.d.addresses });
    const layout = await readInputLayout(f.d.registry, f.modelId);
    const [, , , alice, bob] = await hre.ethers.getSigners();
    /** An on-chain request from `who`, with the SDK's encoding unless told otherwise. */
    const request = async (who: typeof alice, sample: number[], override: { inputHash?: bigint; values?: bigint[] } = {}) => {
      const enc = override.values ? await encodeQuantized(layout, override.values) : await encodeInput(layout, sample);
      const tx = await f.d.rollup.connect(who).requestInference(f.modelId, override.inputHash ?? enc.inputHash, enc.input, hre.ethers.ZeroAddress, { value: FEE });
      await tx.wait();
      return await f.d.rollup.requestCount();
    };
    return { ...f, seq, layout, alice, bob, request };
  }

  const close = (seq: Sequencer) => seq.store.close();

  it("a throwaway model with an accept-all verifier cannot forge another model's result or move its state", async () => {
    const { d, seq, modelId, alice, request } = await fixture();
    const victimRequest = await request(alice, samples()[0]);
    const before = await d.rollup.modelTrace(modelId);

    // The attacker registers its own model with a verifier that accepts anything...
    const mock = (await hre.ethers.deployContract("MockBatchVerifier")) as unknown as MockBatchVerifier;
    const s0 = await d.registry.shapeOf(modelId);
    const shape = {
      inputShape: [...s0.inputShape], outputShape: [...s0.outputShape], inputScale: s0.inputScale, outputScale: s0.outputScale,
      inputBits: s0.inputBits, outputBits: s0.outputBits, outputCount: s0.outputCount, hasLabel: s0.hasLabel,
    };
    await (await d.registry.connect(alice).register(commitment("evil"), shape, "evil", [B], [await mock.getAddress()])).wait();
    const evil = await d.registry.modelCount();
    // ...and (as the sequencer) settles a batch whose leaf names the victim model with a forged output.
    const forged = { modelId, requestId: OFFCHAIN_REQUEST_BASE + 1n, inputHash: 5n, outputWord: 1n };
    const h = await hasher();
    const leaves = [await traceLeaf(forged), 0n, 0n, 0n];
    const levels = subtreeLevels(h, leaves);
    const batchRoot = levels[levels.length - 1][0];
    const trace = encodeTrace([{ requestId: forged.requestId, inputHash: forged.inputHash, outputWord: forged.outputWord }], 3);
    const { a, b, c } = DUMMY_PROOF;
    await (await d.rollup.submitBatch(evil, B, 1, 123n, batchRoot, a, b, c, trace)).wait();
    const forgedBatch = await d.rollup.batchIdOf(evil, 0n);

    // The read API knows the batch belongs to the attacker's model: the victim's entry does not verify.
    expect(await d.rollup.verifyInference(forgedBatch, forged, 0, subtreePath(levels, 0))).to.equal(false);
    const asEvil = { ...forged, modelId: evil };
    expect(await d.rollup.verifyInference(forgedBatch, asEvil, 0, subtreePath(levels, 0))).to.equal(false); // leaf names the victim
    // The victim's on-chain request cannot be marked served by it, nor fulfilled.
    await expect(d.rollup.fulfill(victimRequest, { ...forged, requestId: victimRequest }, 0, subtreePath(levels, 0)))
      .to.be.revertedWithCustomError(d.rollup, "FlavumWrongRequestStatus");
    // The victim's tree is untouched and its honest batches still settle, with real proofs.
    const after = await d.rollup.modelTrace(modelId);
    expect(after.root).to.equal(before.root);
    expect(after.batches).to.equal(before.batches);
    await seq.syncOnchainRequests();
    seq.request(modelId.toString(), samples().slice(1, 3));
    await seq.proveNext();
    const s = (await seq.submit())!;
    expect(s.inferences).to.equal(3);
    expect((await d.rollup.requestOf(victimRequest)).status).to.equal(2n); // Included
    close(seq);
  });

  it("a real proof does not settle with a trace other than the proven one, and the posted trace rebuilds every leaf", async () => {
    const { d, seq, modelId } = await fixture();
    seq.request(modelId.toString(), samples().slice(0, 3));
    const batch = (await seq.proveNext())!;
    const { proof, publicSignals } = batch.proof as { proof: never; publicSignals: string[] };
    const cd = solidityCalldata(proof, publicSignals);
    const honest = getBytes(batch.trace);
    const submit = (trace: Uint8Array) => d.rollup.submitBatch(modelId, B, batch.count, batch.newRoot, batch.batchRoot, cd.a, cd.b, cd.c, trace);

    // Garbage, or an honest trace with one output word changed: the contract's h no longer matches the proof's.
    await expect(submit(new Uint8Array([3, ...new Uint8Array(3 * 43)]))).to.be.revertedWithCustomError(d.rollup, "FlavumInvalidBatchProof");
    const changed = Uint8Array.from(honest);
    changed[changed.length - 1] ^= 1;
    await expect(submit(changed)).to.be.revertedWithCustomError(d.rollup, "FlavumInvalidBatchProof");
    // Swapping two entries keeps the multiset but not the order the leaves were proven in.
    const size = (honest.length - 1) / 3;
    const swapped = new Uint8Array([honest[0], ...honest.slice(1 + size, 1 + 2 * size), ...honest.slice(1, 1 + size), ...honest.slice(1 + 2 * size)]);
    await expect(submit(swapped)).to.be.revertedWithCustomError(d.rollup, "FlavumInvalidBatchProof");
    await expect(submit(new Uint8Array())).to.be.revertedWithCustomError(d.rollup, "FlavumInvalidTraceWord");

    const s = (await seq.submit())!;
    // Anyone can rebuild the leaves from the transaction's calldata alone and check the batch root.
    const tx = (await hre.ethers.provider.getTransaction(s.txHash))!;
    const args = d.rollup.interface.decodeFunctionData("submitBatch", tx.data);
    const { items } = decodeTrace(getBytes(args.trace));
    const leaves = [...(await Promise.all(items.map((e) => traceLeaf({ modelId, ...e })))), ...Array(B - items.length).fill(0n)];
    const levels = subtreeLevels(await hasher(), leaves);
    expect(levels[levels.length - 1][0]).to.equal(batch.batchRoot);
    close(seq);
  });

  it("bad on-chain requests are rejected with a refund and never stall the others", async () => {
    const { d, seq, modelId, alice, bob, request, layout } = await fixture();
    const good = await request(alice, samples()[0]);
    // A commitment that is not the input's hash, and an in-range input whose activations overflow.
    const badHash = await request(bob, samples()[1], { inputHash: 12345n });
    const hi = (1n << BigInt(layout.inputBits - 1)) - 1n;
    const overflow = await request(bob, samples()[1], { values: Array(layout.inputSize).fill(hi) });
    // Malformed inputs never even enter the queue.
    await expect(d.rollup.connect(bob).requestInference(modelId, 1n, "0x1234", hre.ethers.ZeroAddress, { value: FEE }))
      .to.be.revertedWithCustomError(d.rollup, "FlavumMalformedInput");
    const bobBefore = await hre.ethers.provider.getBalance(bob.address);

    await seq.syncOnchainRequests();
    seq.request(modelId.toString(), samples().slice(2, 3));
    const batch = (await seq.proveNext())!;
    expect(batch.count).to.equal(2); // the good on-chain request and the off-chain one
    await seq.submit();
    expect(await seq.deliver()).to.equal(1);

    for (const [id, reason] of [[badHash, /does not hash/], [overflow, /outside its calibrated range/]] as const) {
      expect((await d.rollup.requestOf(id)).status).to.equal(5n); // Rejected
      const t = await seq.trace(id);
      expect(t.status).to.equal("rejected");
      expect(t.reason).to.match(reason);
    }
    // Both fees went back to the requester (it paid no gas for the refunds).
    expect((await hre.ethers.provider.getBalance(bob.address)) - bobBefore).to.equal(2n * FEE);
    expect((await d.rollup.requestOf(good)).status).to.equal(3n); // Fulfilled
    const [sequencer] = await hre.ethers.getSigners();
    expect(await d.rollup.earningsOf(sequencer.address)).to.equal(FEE);
    close(seq);
  });

  it("a sequencer that leaves an on-chain request behind past its deadline cannot settle; the requester takes its fee back", async () => {
    const { d, seq, modelId, alice, request } = await fixture();
    const id = await request(alice, samples()[0]);
    await expect(d.rollup.connect(alice).cancelRequest(id)).to.be.revertedWithCustomError(d.rollup, "FlavumCancelTooEarly");
    await mine(DELAY);
    // A censoring sequencer never picks the request up and proves only off-chain requests.
    seq.request(modelId.toString(), samples().slice(1, 3));
    await seq.proveNext();
    await expect(seq.submit()).to.be.rejectedWith(/FlavumOverdueRequest/);
    const [sequencer] = await hre.ethers.getSigners();
    expect(await d.rollup.earningsOf(sequencer.address)).to.equal(0n);

    const before = await hre.ethers.provider.getBalance(alice.address);
    const receipt = (await (await d.rollup.connect(alice).cancelRequest(id)).wait())!;
    const gas = receipt.gasUsed * receipt.gasPrice;
    expect((await hre.ethers.provider.getBalance(alice.address)) + gas - before).to.equal(FEE);
    // With the request cancelled, the same proven batch settles.
    expect((await seq.submit())!.inferences).to.equal(2);
    close(seq);
  });

  it("fulfilling one request of a batch first does not stop the sequencer delivering the rest", async () => {
    const { d, seq, modelId, alice, bob, request } = await fixture();
    const first = await request(alice, samples()[0]);
    const second = await request(bob, samples()[1]);
    await seq.syncOnchainRequests();
    await seq.proveNext();
    await seq.submit();
    // A third party fulfils the first request with the inclusion proof anyone can build from calldata.
    const t = await seq.trace(first);
    const entry = { modelId, requestId: first, inputHash: BigInt(t.inputHash!), outputWord: BigInt(t.outputWord!) };
    await (await d.rollup.connect(bob).fulfill(first, entry, t.index!, t.path!.map(BigInt))).wait();
    expect(await seq.deliver()).to.equal(1);
    expect((await d.rollup.requestOf(second)).status).to.equal(3n);
    expect(await seq.deliver()).to.equal(0); // nothing left, nothing sent twice
    close(seq);
  });
});
