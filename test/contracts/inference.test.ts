import { expect } from "chai";
import hre from "hardhat";
import { randomBytes } from "crypto";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { packOutputWord, unpackOutputWord } from "../../src/rollup/layout";
import { buildSubtree, DUMMY_PROOF, encodeTrace, FIELD, rollupWithModel } from "./fixtures";
import type { DigitBounty, IFlavumInference } from "../../typechain-types";

type Entry = IFlavumInference.InferenceEntryStruct;
const { a, b, c } = DUMMY_PROOF;
const fieldElement = () => BigInt(hre.ethers.hexlify(randomBytes(32))) % FIELD;
const logits = (label: number) => Array.from({ length: 10 }, (_, i) => BigInt(i === label ? 900 : -100 * i));
const word = (label: number) => packOutputWord(label, logits(label), 16);
const FEE = hre.ethers.parseEther("0.01");

describe("FlavumRollup inference API", function () {
  /** Batch 0: five entries of model 1 in a subtree of eight (three padding leaves). */
  async function settledBatch() {
    const f = await rollupWithModel();
    const entries: Entry[] = [3, 1, 4, 1, 5].map((label, i) => ({
      modelId: f.modelId,
      requestId: (1n << 63n) + BigInt(i),
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
      expect(await rollup.batchRoot(0n)).to.equal(tree.root);
      for (let i = 0; i < entries.length; i++) expect(await rollup.verifyInference(0n, entries[i], i, tree.path(i))).to.equal(true);
    });

    it("says false (never reverts) for a wrong output, index, path, batch or a padding slot", async () => {
      const { rollup, entries, tree } = await loadFixture(settledBatch);
      const e = entries[2];
      expect(await rollup.verifyInference(0n, { ...e, outputWord: word(7) }, 2, tree.path(2))).to.equal(false);
      expect(await rollup.verifyInference(0n, { ...e, requestId: 99n }, 2, tree.path(2))).to.equal(false);
      expect(await rollup.verifyInference(0n, e, 3, tree.path(2))).to.equal(false);
      expect(await rollup.verifyInference(0n, e, 2, tree.path(3))).to.equal(false);
      expect(await rollup.verifyInference(0n, e, 2, tree.path(2).slice(0, 2))).to.equal(false);
      expect(await rollup.verifyInference(0n, e, 2 + 8, tree.path(2))).to.equal(false); // index wider than the path
      expect(await rollup.verifyInference(0n, e, 2, [...tree.path(2), 0n, 0n, 0n, 0n, 0n, 0n])).to.equal(false); // 9 levels
      expect(await rollup.verifyInference(1n, e, 2, tree.path(2))).to.equal(false); // no batch 1 yet
      // A padding slot holds leaf 0, which no entry hashes to.
      const zero = { modelId: 0n, requestId: 0n, inputHash: 0n, outputWord: 0n };
      expect(await rollup.verifyInference(0n, zero, 6, tree.path(6))).to.equal(false);
    });

    it("rejects a field element's alias x + p (it would show another label)", async () => {
      const { rollup, entries, tree } = await loadFixture(settledBatch);
      const e = entries[0];
      const alias = BigInt(e.outputWord) + FIELD;
      expect(alias & 0xffn).to.not.equal(BigInt(e.outputWord) & 0xffn);
      expect(await rollup.verifyInference(0n, { ...e, outputWord: alias }, 0, tree.path(0))).to.equal(false);
      expect(await rollup.verifyInference(0n, { ...e, inputHash: BigInt(e.inputHash) + FIELD }, 0, tree.path(0))).to.equal(false);
      const p = tree.path(0);
      expect(await rollup.verifyInference(0n, e, 0, [p[0] + FIELD, p[1], p[2]])).to.equal(false);
    });
  });

  it("decodes output words with the registered layout, as layout.ts does", async () => {
    const { rollup, registry, modelId } = await loadFixture(rollupWithModel);
    const outs = [-32768n, 32767n, 0n, -1n, 1n, 123n, -456n, 7n, 8n, 9n];
    const w = packOutputWord(4, outs, 16);
    const [label, decoded] = await rollup.decodeOutput(modelId, w);
    expect(label).to.equal(4n);
    expect(decoded).to.deep.equal(outs);
    expect(decoded).to.deep.equal(unpackOutputWord(w, 10, 16).out);
    await expect(rollup.decodeOutput(5n, w)).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(5n);
  });

  describe("requests, fees and fulfilment", () => {
    /** A funded bounty for a 7 (1 ETH, alice), a fee of 0.01 ETH. */
    async function bounty() {
      const f = await rollupWithModel();
      await f.rollup.setRequestFee(FEE);
      const deadline = (await time.latest()) + 3600;
      const bounty = (await hre.ethers.deployContract("DigitBounty", [await f.rollup.getAddress(), f.modelId, 7, deadline], {
        signer: f.alice,
        value: hre.ethers.parseEther("1"),
      })) as unknown as DigitBounty;
      return { ...f, bounty, deadline };
    }

    /** Settles one batch holding `entries` (size 8) and returns each entry's path. */
    async function settle(f: Awaited<ReturnType<typeof bounty>>, entries: Entry[]) {
      const tree = await buildSubtree(entries, 8);
      await f.rollup.connect(f.sequencer).submitBatch(f.modelId, 8, entries.length, fieldElement(), tree.root, a, b, c, encodeTrace(entries));
      return { batchId: (await f.rollup.batchCount()) - 1n, tree };
    }

    it("charges the fee, numbers requests 1, 2, 3 and records them", async () => {
      const { rollup, alice, modelId } = await loadFixture(bounty);
      expect(await rollup.estimateFee(modelId)).to.equal(FEE);
      const r = rollup.connect(alice);
      await expect(r.requestInference(modelId, 5n, "0x01", hre.ethers.ZeroAddress, { value: FEE - 1n }))
        .to.be.revertedWithCustomError(rollup, "FlavumInsufficientFee")
        .withArgs(FEE - 1n, FEE);
      await expect(r.requestInference(2n, 5n, "0x", hre.ethers.ZeroAddress, { value: FEE }))
        .to.be.revertedWithCustomError(rollup, "FlavumUnknownRequestModel")
        .withArgs(2n);
      await expect(r.requestInference(modelId, FIELD, "0x", hre.ethers.ZeroAddress, { value: FEE }))
        .to.be.revertedWithCustomError(rollup, "FlavumNotFieldElement")
        .withArgs(FIELD);
      await expect(r.requestInference(modelId, 5n, "0xabcd", alice.address, { value: FEE }))
        .to.emit(rollup, "InferenceRequested")
        .withArgs(1n, modelId, 5n, "0xabcd", alice.address);
      await expect(r.requestInference(modelId, 6n, "0x", hre.ethers.ZeroAddress, { value: FEE * 2n }))
        .to.emit(rollup, "InferenceRequested")
        .withArgs(2n, modelId, 6n, "0x", hre.ethers.ZeroAddress);
      expect(await rollup.requestCount()).to.equal(2n);
      const req = await rollup.requestOf(1n);
      expect([req.inputHash, req.requester, req.modelId, req.fulfilled, req.callback]).to.deep.equal([5n, alice.address, modelId, false, alice.address]);
      expect(await hre.ethers.provider.getBalance(await rollup.getAddress())).to.equal(FEE * 3n);
    });

    it("lets only the admin set the fee and withdraw the fees", async () => {
      const { rollup, admin, alice, bob, modelId } = await loadFixture(bounty);
      await expect(rollup.connect(alice).setRequestFee(1n)).to.be.revertedWithCustomError(rollup, "AccessControlUnauthorizedAccount");
      await expect(rollup.connect(alice).withdrawFees(alice.address)).to.be.revertedWithCustomError(rollup, "AccessControlUnauthorizedAccount");
      await rollup.connect(alice).requestInference(modelId, 5n, "0x", hre.ethers.ZeroAddress, { value: FEE });
      const withdraw = rollup.connect(admin).withdrawFees(bob.address);
      await expect(withdraw).to.emit(rollup, "FeesWithdrawn").withArgs(bob.address, FEE);
      await expect(withdraw).to.changeEtherBalances([rollup, bob], [-FEE, FEE]);
      await expect(rollup.connect(admin).setRequestFee(0n)).to.emit(rollup, "RequestFeeSet").withArgs(FEE, 0n);
      expect(await rollup.estimateFee(modelId)).to.equal(0n);
    });

    it("pays the bounty when the proven label is the digit, once", async () => {
      const f = await loadFixture(bounty);
      const { rollup, bounty: bty, bob, alice, modelId } = f;
      const inputHash = fieldElement();
      await expect(bty.connect(bob).claim(inputHash, "0x1234", { value: FEE }))
        .to.emit(rollup, "InferenceRequested")
        .withArgs(1n, modelId, inputHash, "0x1234", await bty.getAddress())
        .and.to.emit(bty, "ClaimRequested")
        .withArgs(1n, bob.address, inputHash);
      expect(await bty.claimantOf(1n)).to.equal(bob.address);

      const entry: Entry = { modelId, requestId: 1n, inputHash, outputWord: word(7) };
      const filler: Entry = { modelId, requestId: (1n << 63n) + 9n, inputHash: 77n, outputWord: word(2) };
      const { batchId, tree } = await settle(f, [filler, entry]);
      const fulfil = rollup.connect(alice).fulfill(1n, batchId, entry, 1, tree.path(1));
      await expect(fulfil)
        .to.emit(rollup, "InferenceFulfilled")
        .withArgs(1n, batchId, modelId, entry.outputWord)
        .and.to.emit(bty, "BountyPaid")
        .withArgs(1n, bob.address, hre.ethers.parseEther("1"))
        .and.not.to.emit(rollup, "CallbackFailed");
      await expect(fulfil).to.changeEtherBalances([bty, bob], [-hre.ethers.parseEther("1"), hre.ethers.parseEther("1")]);
      expect(await bty.settled()).to.equal(true);
      expect((await rollup.requestOf(1n)).fulfilled).to.equal(true);
      await expect(rollup.fulfill(1n, batchId, entry, 1, tree.path(1)))
        .to.be.revertedWithCustomError(rollup, "FlavumAlreadyFulfilled")
        .withArgs(1n);
      await expect(bty.connect(bob).claim(inputHash, "0x", { value: FEE })).to.be.revertedWithCustomError(bty, "FlavumBountySettled");
    });

    it("pays nothing for another label", async () => {
      const f = await loadFixture(bounty);
      const { rollup, bounty: bty, bob, modelId } = f;
      const inputHash = fieldElement();
      await bty.connect(bob).claim(inputHash, "0x", { value: FEE });
      const entry: Entry = { modelId, requestId: 1n, inputHash, outputWord: word(3) };
      const { batchId, tree } = await settle(f, [entry]);
      const fulfil = rollup.fulfill(1n, batchId, entry, 0, tree.path(0));
      await expect(fulfil).to.emit(bty, "ClaimRejected").withArgs(1n, bob.address, 3).and.not.to.emit(bty, "BountyPaid");
      await expect(fulfil).to.changeEtherBalances([bty, bob], [0n, 0n]);
      expect(await bty.settled()).to.equal(false);
    });

    it("checks the entry against the request and its inclusion", async () => {
      const f = await loadFixture(bounty);
      const { rollup, bounty: bty, bob, modelId } = f;
      const inputHash = fieldElement();
      await bty.connect(bob).claim(inputHash, "0x", { value: FEE });
      const entry: Entry = { modelId, requestId: 1n, inputHash, outputWord: word(7) };
      const { batchId, tree } = await settle(f, [entry]);
      const p = tree.path(0);
      await expect(rollup.fulfill(2n, batchId, entry, 0, p)).to.be.revertedWithCustomError(rollup, "FlavumUnknownRequest").withArgs(2n);
      for (const bad of [{ ...entry, requestId: 2n }, { ...entry, inputHash: 1n }, { ...entry, modelId: 2n }])
        await expect(rollup.fulfill(1n, batchId, bad, 0, p)).to.be.revertedWithCustomError(rollup, "FlavumEntryMismatch").withArgs(1n);
      await expect(rollup.fulfill(1n, batchId, { ...entry, outputWord: word(8) }, 0, p))
        .to.be.revertedWithCustomError(rollup, "FlavumInclusionNotProven")
        .withArgs(1n, batchId);
      await expect(rollup.fulfill(1n, batchId + 1n, entry, 0, p))
        .to.be.revertedWithCustomError(rollup, "FlavumInclusionNotProven")
        .withArgs(1n, batchId + 1n);
      await expect(rollup.fulfill(1n, batchId, entry, 0, p)).to.emit(bty, "BountyPaid");
    });

    it("still fulfils when the callback reverts, burns its gas or has no code", async () => {
      const f = await loadFixture(bounty);
      const { rollup, alice, bob, modelId } = f;
      const reverting = await hre.ethers.deployContract("RevertingConsumer", [false]);
      const burning = await hre.ethers.deployContract("RevertingConsumer", [true]);
      const callbacks = [await reverting.getAddress(), await burning.getAddress(), bob.address];
      const entries: Entry[] = [];
      for (const [i, cb] of callbacks.entries()) {
        const inputHash = BigInt(1000 + i);
        await rollup.connect(alice).requestInference(modelId, inputHash, "0x", cb, { value: FEE });
        entries.push({ modelId, requestId: BigInt(i + 1), inputHash, outputWord: word(i) });
      }
      const { batchId, tree } = await settle(f, entries);
      for (const [i, cb] of callbacks.entries()) {
        await expect(rollup.fulfill(BigInt(i + 1), batchId, entries[i], i, tree.path(i)))
          .to.emit(rollup, "InferenceFulfilled")
          .and.to.emit(rollup, "CallbackFailed")
          .withArgs(BigInt(i + 1), cb);
        expect((await rollup.requestOf(BigInt(i + 1))).fulfilled).to.equal(true);
      }
    });

    it("refuses a fulfilment that leaves the callback too little gas", async () => {
      const f = await loadFixture(bounty);
      const { rollup, bounty: bty, bob, modelId } = f;
      const inputHash = fieldElement();
      await bty.connect(bob).claim(inputHash, "0x", { value: FEE });
      const entry: Entry = { modelId, requestId: 1n, inputHash, outputWord: word(7) };
      const { batchId, tree } = await settle(f, [entry]);
      const needed = (200_000n * 64n) / 63n + 10_000n;
      // Enough for the checks (a Poseidon4 leaf and three Poseidon2 nodes), not for the callback.
      await expect(rollup.fulfill(1n, batchId, entry, 0, tree.path(0), { gasLimit: 300_000 }))
        .to.be.revertedWithCustomError(rollup, "FlavumInsufficientCallbackGas")
        .withArgs((x: bigint) => x < needed, needed);
      expect(await rollup.callbackGasLimit()).to.equal(200_000n);
      await expect(rollup.fulfill(1n, batchId, entry, 0, tree.path(0))).to.emit(bty, "BountyPaid");
    });

    it("DigitBounty accepts callbacks only from the rollup, for its own claims", async () => {
      const f = await loadFixture(bounty);
      const { rollup, bounty: bty, alice, bob, modelId } = f;
      await expect(bty.connect(bob).onInference(1n, modelId, word(7)))
        .to.be.revertedWithCustomError(bty, "FlavumNotRollup")
        .withArgs(bob.address);
      // A request someone else made with the bounty as callback is not a claim: the callback fails.
      await rollup.connect(alice).requestInference(modelId, 42n, "0x", await bty.getAddress(), { value: FEE });
      const entry: Entry = { modelId, requestId: 1n, inputHash: 42n, outputWord: word(7) };
      const { batchId, tree } = await settle(f, [entry]);
      await expect(rollup.fulfill(1n, batchId, entry, 0, tree.path(0)))
        .to.emit(rollup, "CallbackFailed")
        .withArgs(1n, await bty.getAddress());
      expect(await bty.settled()).to.equal(false);
    });

    it("DigitBounty returns an unclaimed bounty to its funder after the deadline", async () => {
      const { bounty: bty, alice, bob, deadline } = await loadFixture(bounty);
      expect([await bty.digit(), await bty.funder(), await bty.deadline()]).to.deep.equal([7n, alice.address, BigInt(deadline)]);
      await expect(bty.connect(bob).fund({ value: 5n })).to.emit(bty, "BountyFunded").withArgs(bob.address, 5n, hre.ethers.parseEther("1") + 5n);
      await expect(bty.connect(alice).reclaim()).to.be.revertedWithCustomError(bty, "FlavumBountyStillOpen").withArgs(deadline);
      await time.increaseTo(deadline);
      await expect(bty.connect(bob).reclaim()).to.be.revertedWithCustomError(bty, "FlavumNotFunder").withArgs(bob.address);
      const all = hre.ethers.parseEther("1") + 5n;
      const reclaim = bty.connect(alice).reclaim();
      await expect(reclaim).to.emit(bty, "BountyReclaimed").withArgs(alice.address, all);
      await expect(reclaim).to.changeEtherBalances([bty, alice], [-all, all]);
      await expect(bty.connect(alice).reclaim()).to.be.revertedWithCustomError(bty, "FlavumBountySettled");
      await expect(hre.ethers.deployContract("DigitBounty", [alice.address, 1n, 10, deadline]))
        .to.be.revertedWithCustomError(bty, "FlavumInvalidDigit")
        .withArgs(10);
    });
  });
});
