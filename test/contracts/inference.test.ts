import { expect } from "chai";
import hre from "hardhat";
import { randomBytes } from "crypto";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { packOutputWord, unpackOutputWord } from "../../src/protocol/batch";
import {
  batchCommitmentOf,
  batchIdOf,
  buildSubtree,
  commitment,
  digitsInput,
  digitsShape,
  DUMMY_PROOF,
  encodeTrace,
  type Entry,
  FIELD,
  offchainId,
  rollupWithModel,
  Status,
  submitEntries,
} from "./fixtures";
import type { RevertingConsumer } from "../../typechain-types";

const { a, b, c } = DUMMY_PROOF;
const fieldElement = () => BigInt(hre.ethers.hexlify(randomBytes(32))) % FIELD;
const logits = (label: number) => Array.from({ length: 10 }, (_, i) => BigInt(i === label ? 900 : -100 * i));
const word = (label: number) => packOutputWord(label, logits(label), 16);
const FEE = hre.ethers.parseEther("0.01");
/** Model 1's batch 0 and 1. */
const B0 = batchIdOf(1n, 0);
const B1 = batchIdOf(1n, 1);

describe("FlavumRollup inference API", function () {
  /** Batch 0: five entries of model 1 in a subtree of eight (three padding leaves). */
  async function settledBatch() {
    const f = await rollupWithModel();
    const entries: Entry[] = [3, 1, 4, 1, 5].map((label, i) => ({
      modelId: f.modelId,
      requestId: offchainId(i),
      inputHash: fieldElement(),
      outputWord: word(label),
    }));
    const tree = await buildSubtree(entries, 8);
    await f.rollup.connect(f.sequencer).submitBatch(f.modelId, 8, entries.length, 123n, tree.root, a, b, c, encodeTrace(entries));
    return { ...f, entries, tree };
  }

  describe("verifyInference", () => {
    it("proves every entry at its index with a TypeScript-built path", async () => {
      const { rollup, entries, tree } = await loadFixture(settledBatch);
      expect(await rollup.batchCommitment(B0)).to.equal(batchCommitmentOf(tree.root, 1n, 8));
      expect(await rollup.batchIdOf(1n, 0n)).to.equal(B0);
      for (let i = 0; i < entries.length; i++) expect(await rollup.verifyInference(B0, entries[i], i, tree.path(i))).to.equal(true);
    });

    it("says false (never reverts) for a wrong output, index, path, batch or a padding slot", async () => {
      const { rollup, entries, tree } = await loadFixture(settledBatch);
      const e = entries[2];
      expect(await rollup.verifyInference(B0, { ...e, outputWord: word(7) }, 2, tree.path(2))).to.equal(false);
      expect(await rollup.verifyInference(B0, { ...e, requestId: 99n }, 2, tree.path(2))).to.equal(false);
      expect(await rollup.verifyInference(B0, e, 3, tree.path(2))).to.equal(false);
      expect(await rollup.verifyInference(B0, e, 2, tree.path(3))).to.equal(false);
      expect(await rollup.verifyInference(B0, e, 2, tree.path(2).slice(0, 2))).to.equal(false);
      expect(await rollup.verifyInference(B0, e, 2 + 8, tree.path(2))).to.equal(false); // index wider than the path
      expect(await rollup.verifyInference(B0, e, 2, [...tree.path(2), 0n, 0n, 0n, 0n, 0n, 0n])).to.equal(false); // 9 levels
      expect(await rollup.verifyInference(B1, e, 2, tree.path(2))).to.equal(false); // no batch 1 yet
      expect(await rollup.verifyInference(B0, { ...e, modelId: 2n }, 2, tree.path(2))).to.equal(false);
      expect(await rollup.verifyInference(batchIdOf(2n, 0), { ...e, modelId: 2n }, 2, tree.path(2))).to.equal(false); // no model 2
      expect(await rollup.verifyInference(0n, e, 2, tree.path(2))).to.equal(false); // the bare batch number is no id
      // A padding slot holds leaf 0, which no entry hashes to.
      const zero = { modelId: 0n, requestId: 0n, inputHash: 0n, outputWord: 0n };
      expect(await rollup.verifyInference(B0, zero, 6, tree.path(6))).to.equal(false);
    });

    it("rejects a field element's alias x + p (it would show another label)", async () => {
      const { rollup, entries, tree } = await loadFixture(settledBatch);
      const e = entries[0];
      const alias = BigInt(e.outputWord) + FIELD;
      expect(alias & 0xffn).to.not.equal(BigInt(e.outputWord) & 0xffn);
      expect(await rollup.verifyInference(B0, { ...e, outputWord: alias }, 0, tree.path(0))).to.equal(false);
      expect(await rollup.verifyInference(B0, { ...e, inputHash: BigInt(e.inputHash) + FIELD }, 0, tree.path(0))).to.equal(false);
      const p = tree.path(0);
      expect(await rollup.verifyInference(B0, e, 0, [p[0] + FIELD, p[1], p[2]])).to.equal(false);
    });
  });

  it("decodes output words with the registered layout, as src/protocol/batch.ts does", async () => {
    const { rollup, registry, alice, mock, modelId } = await loadFixture(rollupWithModel);
    const outs = [-32768n, 32767n, 0n, -1n, 1n, 123n, -456n, 7n, 8n, 9n];
    const w = packOutputWord(4, outs, 16);
    const [label, decoded] = await rollup.decodeOutput(modelId, w);
    expect(label).to.equal(4n);
    expect(decoded).to.deep.equal(outs);
    expect(decoded).to.deep.equal(unpackOutputWord(w, 10, 16).out);
    await expect(rollup.decodeOutput(5n, w)).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(5n);
    // Another model's layout reads the same word differently: the layout is the model's, fixed at registration.
    const narrow = { ...digitsShape(), outputBits: 8, outputCount: 3, hasLabel: false };
    await registry.connect(alice).register(commitment("b"), narrow, "", [8], [await mock.getAddress()]);
    expect(await rollup.decodeOutput(2n, w)).to.deep.equal([4n, unpackOutputWord(w, 3, 8).out]);
  });

  describe("requests and fulfilment", () => {
    /** A fee of 0.01 ETH and consumers whose callbacks accept, revert and burn their gas. */
    async function withConsumers() {
      const f = await rollupWithModel();
      await f.rollup.setRequestFee(FEE);
      const deploy = async (mode: number) => (await hre.ethers.deployContract("RevertingConsumer", [mode])) as unknown as RevertingConsumer;
      return { ...f, accepting: await deploy(0), reverting: await deploy(1), burning: await deploy(2) };
    }

    /** Alice's request of model 1 with `callback`, answered with label `label`. */
    async function ask(f: Awaited<ReturnType<typeof withConsumers>>, callback: string, seed: number, label = 7) {
      const x = await digitsInput(seed);
      await f.rollup.connect(f.alice).requestInference(f.modelId, x.inputHash, x.input, callback, { value: FEE });
      const requestId = await f.rollup.requestCount();
      const entry: Entry = { modelId: f.modelId, requestId, inputHash: x.inputHash, outputWord: word(label) };
      return { requestId, entry, x };
    }

    it("charges the fee, numbers requests 1, 2, 3 and records them", async () => {
      const { rollup, alice, modelId } = await loadFixture(withConsumers);
      expect(await rollup.estimateFee(modelId)).to.equal(FEE);
      const x = await digitsInput(1);
      const r = rollup.connect(alice);
      await expect(r.requestInference(modelId, x.inputHash, x.input, hre.ethers.ZeroAddress, { value: FEE - 1n }))
        .to.be.revertedWithCustomError(rollup, "FlavumInsufficientFee")
        .withArgs(FEE - 1n, FEE);
      await expect(r.requestInference(modelId, x.inputHash, x.input, alice.address, { value: FEE }))
        .to.emit(rollup, "InferenceRequested")
        .withArgs(1n, modelId, x.inputHash, x.input, alice.address);
      const block = BigInt(await hre.ethers.provider.getBlockNumber());
      await expect(r.requestInference(modelId, 6n, x.input, hre.ethers.ZeroAddress, { value: FEE * 2n }))
        .to.emit(rollup, "InferenceRequested")
        .withArgs(2n, modelId, 6n, x.input, hre.ethers.ZeroAddress);
      expect(await rollup.requestCount()).to.equal(2n);
      const req = await rollup.requestOf(1n);
      expect([req.inputHash, req.requester, req.modelId, req.status, req.callback, req.createdBlock, req.fee, req.batchId]).to.deep.equal([
        x.inputHash, alice.address, modelId, Status.Pending, alice.address, block, FEE, 0n,
      ]);
      expect((await rollup.requestOf(2n)).fee).to.equal(FEE * 2n);
      expect((await rollup.requestOf(3n)).requester).to.equal(hre.ethers.ZeroAddress);
      expect(await hre.ethers.provider.getBalance(await rollup.getAddress())).to.equal(FEE * 3n);
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([1n, block + 256n]);
    });

    it("lets only the admin set the fee", async () => {
      const { rollup, admin, alice, modelId } = await loadFixture(withConsumers);
      await expect(rollup.connect(alice).setRequestFee(1n))
        .to.be.revertedWithCustomError(rollup, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, await rollup.DEFAULT_ADMIN_ROLE());
      await expect(rollup.connect(admin).setRequestFee(0n)).to.emit(rollup, "RequestFeeSet").withArgs(FEE, 0n);
      expect(await rollup.estimateFee(modelId)).to.equal(0n);
      const x = await digitsInput(2);
      await expect(rollup.connect(alice).requestInference(modelId, x.inputHash, x.input, hre.ethers.ZeroAddress)).to.emit(rollup, "InferenceRequested");
    });

    it("delivers the proven output to the callback once the batch settles", async () => {
      const f = await loadFixture(withConsumers);
      const { rollup, accepting, bob, modelId } = f;
      const { requestId, entry } = await ask(f, await accepting.getAddress(), 3);
      const filler: Entry = { modelId, requestId: offchainId(9), inputHash: 77n, outputWord: word(2) };
      const { batchId, tree } = await submitEntries(f, modelId, [filler, entry]);
      expect((await rollup.requestOf(requestId)).batchId).to.equal(batchId);
      await expect(rollup.connect(bob).fulfill(requestId, entry, 1, tree.path(1)))
        .to.emit(rollup, "InferenceFulfilled")
        .withArgs(requestId, batchId, modelId, entry.outputWord)
        .and.to.emit(accepting, "Delivered")
        .withArgs(await rollup.getAddress(), requestId, modelId, entry.outputWord)
        .and.not.to.emit(rollup, "CallbackFailed");
      expect((await rollup.requestOf(requestId)).status).to.equal(Status.Fulfilled);
    });

    it("fulfils a request without a callback", async () => {
      const f = await loadFixture(withConsumers);
      const { requestId, entry } = await ask(f, hre.ethers.ZeroAddress, 4, 3);
      const { tree } = await submitEntries(f, f.modelId, [entry]);
      // No callback, no gas held back for one: the checks alone are well under checks + callback reserve.
      await expect(f.rollup.fulfill(requestId, entry, 0, tree.path(0), { gasLimit: 260_000 }))
        .to.emit(f.rollup, "InferenceFulfilled")
        .and.not.to.emit(f.rollup, "CallbackFailed");
    });

    it("checks the entry against the request and its inclusion", async () => {
      const f = await loadFixture(withConsumers);
      const { rollup, accepting } = f;
      const { requestId, entry } = await ask(f, await accepting.getAddress(), 5);
      const { batchId, tree } = await submitEntries(f, f.modelId, [entry]);
      const p = tree.path(0);
      await expect(rollup.fulfill(2n, entry, 0, p)).to.be.revertedWithCustomError(rollup, "FlavumUnknownRequest").withArgs(2n);
      for (const bad of [{ ...entry, requestId: 2n }, { ...entry, inputHash: 1n }, { ...entry, modelId: 2n }])
        await expect(rollup.fulfill(requestId, bad, 0, p)).to.be.revertedWithCustomError(rollup, "FlavumEntryMismatch").withArgs(requestId);
      await expect(rollup.fulfill(requestId, { ...entry, outputWord: word(8) }, 0, p))
        .to.be.revertedWithCustomError(rollup, "FlavumInclusionNotProven")
        .withArgs(requestId, batchId);
      await expect(rollup.fulfill(requestId, entry, 1, tree.path(1)))
        .to.be.revertedWithCustomError(rollup, "FlavumInclusionNotProven")
        .withArgs(requestId, batchId);
      await expect(rollup.fulfill(requestId, entry, 0, p)).to.emit(accepting, "Delivered");
    });

    it("still fulfils when the callback reverts, burns its gas or has no code", async () => {
      const f = await loadFixture(withConsumers);
      const { rollup, bob, reverting, burning } = f;
      const callbacks = [await reverting.getAddress(), await burning.getAddress(), bob.address];
      const asked = [];
      for (const [i, cb] of callbacks.entries()) asked.push(await ask(f, cb, 10 + i, i));
      const { batchId, tree } = await submitEntries(f, f.modelId, asked.map((x) => x.entry));
      for (const [i, cb] of callbacks.entries()) {
        await expect(rollup.fulfill(asked[i].requestId, asked[i].entry, i, tree.path(i)))
          .to.emit(rollup, "InferenceFulfilled")
          .withArgs(asked[i].requestId, batchId, f.modelId, asked[i].entry.outputWord)
          .and.to.emit(rollup, "CallbackFailed")
          .withArgs(asked[i].requestId, cb);
        expect((await rollup.requestOf(asked[i].requestId)).status).to.equal(Status.Fulfilled);
      }
    });

    it("refuses a fulfilment that leaves the callback too little gas", async () => {
      const f = await loadFixture(withConsumers);
      const { rollup, accepting } = f;
      const { requestId, entry } = await ask(f, await accepting.getAddress(), 6);
      const { tree } = await submitEntries(f, f.modelId, [entry]);
      const needed = (200_000n * 64n) / 63n + 10_000n;
      // Enough for the checks (a Poseidon4 leaf and three Poseidon2 nodes), not for the callback.
      await expect(rollup.fulfill(requestId, entry, 0, tree.path(0), { gasLimit: 300_000 }))
        .to.be.revertedWithCustomError(rollup, "FlavumInsufficientCallbackGas")
        .withArgs((x: bigint) => x < needed, needed);
      expect(await rollup.callbackGasLimit()).to.equal(200_000n);
      expect((await rollup.requestOf(requestId)).status).to.equal(Status.Included);
      await expect(rollup.fulfill(requestId, entry, 0, tree.path(0))).to.emit(accepting, "Delivered");
    });
  });
});
