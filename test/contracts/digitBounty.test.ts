/**
 * DigitBounty against front-running: a claim's input is public (calldata, InferenceRequested) before its
 * result is delivered and anyone may fulfil, so a copier can replay the input and fulfil its own request
 * first. Commit–reveal with "earliest commitment owns the input" must leave the copier with nothing and
 * pay the honest committer. Runs on the real FlavumRollup with the mock batch verifier.
 */
import { expect } from "chai";
import hre from "hardhat";
import { randomBytes } from "crypto";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { packOutputWord } from "../../src/protocol/batch";
import { encodeQuantized, readInputLayout } from "../../src/sdk/encodeInput";
import { buildSubtree, DUMMY_PROOF, encodeTrace, FIELD, rollupWithModel } from "./fixtures";
import type { DigitBounty, IFlavumInference } from "../../typechain-types";

type Entry = IFlavumInference.InferenceEntryStruct;
const { a, b, c } = DUMMY_PROOF;
const FEE = hre.ethers.parseEther("0.01");
const PRIZE = hre.ethers.parseEther("1");
const word = (label: number) => packOutputWord(label, Array.from({ length: 10 }, (_, i) => BigInt(i === label ? 900 : -100 * i)), 16);
const salt = () => hre.ethers.hexlify(randomBytes(32));
const Reason = { WrongDigit: 0n, WrongModel: 1n, Settled: 2n, EarlierCommitment: 3n };

describe("DigitBounty (commit–reveal)", function () {
  async function bountyFixture() {
    const f = await rollupWithModel();
    const [, , , , , copier, carol] = await hre.ethers.getSigners();
    await f.rollup.setRequestFee(FEE);
    const deadline = (await time.latest()) + 3600;
    const bounty = (await hre.ethers.deployContract("DigitBounty", [await f.rollup.getAddress(), f.modelId, 7, deadline], {
      signer: f.alice,
      value: PRIZE,
    })) as unknown as DigitBounty;
    // A real, well-formed input as the registry describes it (the rollup validates inputs).
    const layout = await readInputLayout(f.registry, f.modelId);
    const image = await encodeQuantized(layout, Array.from({ length: layout.inputSize }, (_, i) => BigInt((i * 7) % 16)));
    return { ...f, bounty, deadline, copier, carol, image };
  }
  type F = Awaited<ReturnType<typeof bountyFixture>>;

  const commitFor = async (f: F, who: { address: string }, s: string) => f.bounty.commitmentFor(who.address, f.image.inputHash, s);

  /** Settles one batch holding the given on-chain requests (in queue order) and returns their entries and paths. */
  async function settle(f: F, requests: { requestId: bigint; label: number }[]) {
    const entries: Entry[] = requests.map((r) => ({ modelId: f.modelId, requestId: r.requestId, inputHash: f.image.inputHash, outputWord: word(r.label) }));
    const tree = await buildSubtree(entries, 8);
    await f.rollup.connect(f.sequencer).submitBatch(f.modelId, 8, entries.length, 123n, tree.root, a, b, c, encodeTrace(entries));
    return { entries, path: (i: number) => tree.path(i) };
  }

  it("refuses a claim without a commitment, with a commitment of the same block, or with the wrong salt", async () => {
    const f = await loadFixture(bountyFixture);
    const { bounty, bob, image } = f;
    const s = salt();
    const expected = await commitFor(f, bob, s);
    await expect(bounty.connect(bob).claim(image.inputHash, image.input, s, { value: FEE }))
      .to.be.revertedWithCustomError(bounty, "FlavumNoCommitment")
      .withArgs(bob.address, image.inputHash, expected);
    await expect(bounty.connect(bob).commit(hre.ethers.ZeroHash)).to.be.revertedWithCustomError(bounty, "FlavumZeroCommitment");

    // Commit and reveal in one block: the reveal could have been copied into a commitment ordered before it.
    await hre.network.provider.send("evm_setAutomine", [false]);
    try {
      await bounty.connect(bob).commit(expected);
      const reveal = await bounty.connect(bob).claim(image.inputHash, image.input, s, { value: FEE, gasLimit: 1_000_000 });
      await mine(1);
      await expect(reveal.wait()).to.be.rejected;
      const block = await hre.ethers.provider.getBlockNumber();
      expect(await bounty.commitBlockOf(expected)).to.equal(block);
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
    // One block later the same reveal goes through.
    await expect(bounty.connect(bob).claim(image.inputHash, image.input, s, { value: FEE })).to.emit(bounty, "ClaimRequested");
    // Another salt is another commitment; someone else's commitment binds them, not the caller.
    await expect(bounty.connect(bob).claim(image.inputHash, image.input, salt(), { value: FEE })).to.be.revertedWithCustomError(bounty, "FlavumNoCommitment");
    await expect(bounty.connect(f.carol).claim(image.inputHash, image.input, s, { value: FEE }))
      .to.be.revertedWithCustomError(bounty, "FlavumNoCommitment")
      .withArgs(f.carol.address, image.inputHash, await commitFor(f, f.carol, s));
  });

  it("re-sending a commitment (by anyone) keeps its first block", async () => {
    const f = await loadFixture(bountyFixture);
    const cm = await commitFor(f, f.bob, salt());
    await expect(f.bounty.connect(f.bob).commit(cm)).to.emit(f.bounty, "ClaimCommitted");
    const first = await f.bounty.commitBlockOf(cm);
    await mine(3);
    await expect(f.bounty.connect(f.copier).commit(cm)).to.not.emit(f.bounty, "ClaimCommitted");
    expect(await f.bounty.commitBlockOf(cm)).to.equal(first);
  });

  it("pays the honest committer; a copier who commits on seeing the reveal (same block, ordered first) cannot claim", async () => {
    const f = await loadFixture(bountyFixture);
    const { bounty, rollup, bob, copier, image, modelId } = f;
    const s = salt();
    await bounty.connect(bob).commit(await commitFor(f, bob, s));
    const bobBlock = await hre.ethers.provider.getBlockNumber();

    // Bob's reveal sits in the mempool; the copier reads its input and gets a commitment mined ahead of it.
    const sc = salt();
    await hre.network.provider.send("evm_setAutomine", [false]);
    try {
      await bounty.connect(bob).claim(image.inputHash, image.input, s, { value: FEE, gasPrice: 2_000_000_000n, gasLimit: 1_000_000 });
      await bounty.connect(copier).commit(await commitFor(f, copier, sc), { gasPrice: 50_000_000_000n, gasLimit: 200_000 });
      await mine(1);
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
    const revealBlock = await hre.ethers.provider.getBlockNumber();
    expect(await bounty.claimantOf(1n)).to.equal(bob.address);
    expect(await bounty.ownerOfInput(image.inputHash)).to.deep.equal([bob.address, BigInt(bobBlock)]);
    expect(await bounty.commitBlockOf(await commitFor(f, copier, sc))).to.equal(revealBlock);

    await expect(bounty.connect(copier).claim(image.inputHash, image.input, sc, { value: FEE }))
      .to.be.revertedWithCustomError(bounty, "FlavumInputClaimedEarlier")
      .withArgs(image.inputHash, bob.address, bobBlock, revealBlock);

    const { entries, path } = await settle(f, [{ requestId: 1n, label: 7 }]);
    const fulfil = rollup.connect(copier).fulfill(1n, entries[0], 0, path(0));
    await expect(fulfil).to.emit(bounty, "BountyPaid").withArgs(1n, bob.address, PRIZE);
    await expect(fulfil).to.changeEtherBalances([bounty, bob, copier], [-PRIZE, PRIZE, 0n]);
    expect(await bounty.settled()).to.equal(true);
    expect((await rollup.requestOf(1n)).modelId).to.equal(modelId);
  });

  it("a copier whose claim lands first (the honest reveal delayed) and is fulfilled first wins nothing", async () => {
    const f = await loadFixture(bountyFixture);
    const { bounty, rollup, bob, copier, image } = f;
    const s = salt();
    await bounty.connect(bob).commit(await commitFor(f, bob, s));
    const bobBlock = await hre.ethers.provider.getBlockNumber();
    await mine(5);

    // The copier learnt the input from Bob's pending reveal, which it keeps out of blocks for a while.
    const sc = salt();
    await bounty.connect(copier).commit(await commitFor(f, copier, sc));
    const copierBlock = await hre.ethers.provider.getBlockNumber();
    await expect(bounty.connect(copier).claim(image.inputHash, image.input, sc, { value: FEE }))
      .to.emit(bounty, "ClaimRequested")
      .withArgs(1n, copier.address, image.inputHash, copierBlock);
    expect(await bounty.ownerOfInput(image.inputHash)).to.deep.equal([copier.address, BigInt(copierBlock)]);
    // Bob's reveal gets through: his earlier commitment takes the input back.
    await expect(bounty.connect(bob).claim(image.inputHash, image.input, s, { value: FEE }))
      .to.emit(bounty, "ClaimRequested")
      .withArgs(2n, bob.address, image.inputHash, bobBlock);
    expect(await bounty.ownerOfInput(image.inputHash)).to.deep.equal([bob.address, BigInt(bobBlock)]);

    const { entries, path } = await settle(f, [{ requestId: 1n, label: 7 }, { requestId: 2n, label: 7 }]);
    // The copier fulfils its own request first: proven as a 7, but not its input.
    const copierFulfil = rollup.connect(copier).fulfill(1n, entries[0], 0, path(0));
    await expect(copierFulfil)
      .to.emit(bounty, "ClaimRejected")
      .withArgs(1n, copier.address, 7, Reason.EarlierCommitment)
      .and.not.to.emit(bounty, "BountyPaid");
    await expect(copierFulfil).to.changeEtherBalances([bounty, copier], [0n, 0n]);
    expect(await bounty.settled()).to.equal(false);

    const bobFulfil = rollup.connect(copier).fulfill(2n, entries[1], 1, path(1));
    await expect(bobFulfil).to.emit(bounty, "BountyPaid").withArgs(2n, bob.address, PRIZE);
    await expect(bobFulfil).to.changeEtherBalances([bounty, bob], [-PRIZE, PRIZE]);
  });

  it("a copier claiming after the honest reveal, in a later block, is refused", async () => {
    const f = await loadFixture(bountyFixture);
    const { bounty, bob, copier, image } = f;
    const s = salt();
    await bounty.connect(bob).commit(await commitFor(f, bob, s));
    const bobBlock = await hre.ethers.provider.getBlockNumber();
    await bounty.connect(bob).claim(image.inputHash, image.input, s, { value: FEE });
    const sc = salt();
    await bounty.connect(copier).commit(await commitFor(f, copier, sc));
    const copierBlock = await hre.ethers.provider.getBlockNumber();
    await expect(bounty.connect(copier).claim(image.inputHash, image.input, sc, { value: FEE }))
      .to.be.revertedWithCustomError(bounty, "FlavumInputClaimedEarlier")
      .withArgs(image.inputHash, bob.address, bobBlock, copierBlock);
  });

  it("rejects a proven claim with another label, and the owner may claim its input again", async () => {
    const f = await loadFixture(bountyFixture);
    const { bounty, rollup, bob, image } = f;
    const s = salt();
    await bounty.connect(bob).commit(await commitFor(f, bob, s));
    await bounty.connect(bob).claim(image.inputHash, image.input, s, { value: FEE });
    await bounty.connect(bob).claim(image.inputHash, image.input, s, { value: FEE });
    const { entries, path } = await settle(f, [{ requestId: 1n, label: 3 }, { requestId: 2n, label: 7 }]);
    await expect(rollup.fulfill(1n, entries[0], 0, path(0))).to.emit(bounty, "ClaimRejected").withArgs(1n, bob.address, 3, Reason.WrongDigit);
    await expect(rollup.fulfill(2n, entries[1], 1, path(1))).to.emit(bounty, "BountyPaid").withArgs(2n, bob.address, PRIZE);
    await expect(bounty.connect(bob).commit(await commitFor(f, bob, salt()))).to.be.revertedWithCustomError(bounty, "FlavumBountySettled");
    await expect(bounty.connect(bob).claim(image.inputHash, image.input, s, { value: FEE })).to.be.revertedWithCustomError(bounty, "FlavumBountySettled");
  });

  it("accepts callbacks only from the rollup, for its own claims", async () => {
    const f = await loadFixture(bountyFixture);
    const { bounty, rollup, alice, bob, image, modelId } = f;
    await expect(bounty.connect(bob).onInference(1n, modelId, word(7))).to.be.revertedWithCustomError(bounty, "FlavumNotRollup").withArgs(bob.address);
    // A request someone else made with the bounty as callback is not a claim: the callback fails, nothing is paid.
    await rollup.connect(alice).requestInference(modelId, image.inputHash, image.input, await bounty.getAddress(), { value: FEE });
    const { entries, path } = await settle(f, [{ requestId: 1n, label: 7 }]);
    await expect(rollup.fulfill(1n, entries[0], 0, path(0)))
      .to.emit(rollup, "CallbackFailed")
      .withArgs(1n, await bounty.getAddress());
    expect(await hre.ethers.provider.getBalance(await bounty.getAddress())).to.equal(PRIZE);
  });

  it("returns an unclaimed bounty to its funder after the deadline", async () => {
    const { bounty, alice, bob, deadline } = await loadFixture(bountyFixture);
    await expect(bounty.connect(alice).reclaim()).to.be.revertedWithCustomError(bounty, "FlavumBountyStillOpen").withArgs(deadline);
    await time.increaseTo(deadline);
    await expect(bounty.connect(bob).reclaim()).to.be.revertedWithCustomError(bounty, "FlavumNotFunder").withArgs(bob.address);
    await expect(bounty.connect(alice).reclaim()).to.changeEtherBalances([bounty, alice], [-PRIZE, PRIZE]);
    await expect(bounty.connect(alice).reclaim()).to.be.revertedWithCustomError(bounty, "FlavumBountySettled");
  });

  it("commitments are keccak256(abi.encode(claimant, inputHash, salt)), computable off-chain", async () => {
    const { bounty, bob, image } = await loadFixture(bountyFixture);
    const s = salt();
    const off = hre.ethers.keccak256(hre.ethers.AbiCoder.defaultAbiCoder().encode(["address", "uint256", "bytes32"], [bob.address, image.inputHash, s]));
    expect(await bounty.commitmentFor(bob.address, image.inputHash, s)).to.equal(off);
    expect(image.inputHash < FIELD).to.equal(true);
  });
});
