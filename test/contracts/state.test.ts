/**
 * FlavumState's L1 side on the real deployment (deployRollup + deployState): what it refuses before any
 * proof is involved — malformed content, balances where none belong, requests on data points that are not
 * in the rollup, a model of another input layout, state batches from non-sequencers or of the wrong size —
 * and that the content commitment it computes is the one model circuits compute.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { packedHash } from "../../src/quant/commitment";
import { compileRollupModel } from "../helpers/rollup";
import { quantizedSample, stateRollup } from "../helpers/state";
import { DUMMY_PROOF } from "./fixtures";
import { stateBatchArg } from "../../src/chain/evmState";

describe("FlavumState (L1 operations)", function () {
  before(compileRollupModel);
  const fixture = () => loadFixture(stateRollup);

  it("commits a deposit's content exactly as the model circuits do, and queues one operation", async () => {
    const { s } = await fixture();
    const { values, bits } = quantizedSample(0);
    await expect(s.state.deposit(values, bits, false)).to.emit(s.state, "PriorityOpQueued");
    const d = await s.state.dataPoint(1n);
    expect(d.contentHash).to.equal(await packedHash(values, bits));
    expect(d.location).to.equal(1n); // Queued
    expect((await s.state.stateInfo()).opTail).to.equal(1n);
  });

  it("refuses malformed content, common balances and oversized amounts, naming what was wrong", async () => {
    const { s } = await fixture();
    const { values, bits } = quantizedSample(0);
    const big = 1n << BigInt(bits - 1);
    await expect(s.state.deposit([...values.slice(0, 3), big], bits, false)).to.be.revertedWithCustomError(s.state, "FlavumContentOutOfRange").withArgs(3n, big, bits);
    await expect(s.state.deposit([], bits, false)).to.be.revertedWithCustomError(s.state, "FlavumInvalidContent");
    await expect(s.state.deposit(values, 0, false)).to.be.revertedWithCustomError(s.state, "FlavumInvalidContent").withArgs(values.length, 0, 0);
    const tooMany = Array(5 * Math.floor(250 / bits) + 1).fill(0n);
    await expect(s.state.deposit(tooMany, bits, false)).to.be.revertedWithCustomError(s.state, "FlavumInvalidContent").withArgs(tooMany.length, bits, 5 * Math.floor(250 / bits));
    await expect(s.state.deposit(values, bits, true, { value: 1n })).to.be.revertedWithCustomError(s.state, "FlavumCommonBalance").withArgs(1n);
  });

  it("refuses requests on unknown data points, to the zero address, and models of another layout", async () => {
    const { s, d, modelId } = await fixture();
    const { values, bits } = quantizedSample(0);
    await expect(s.state.requestTransfer(7n, (await hre.ethers.getSigners())[1].address)).to.be.revertedWithCustomError(s.state, "FlavumWrongLocation").withArgs(7n, 0n);
    await expect(s.state.requestExit(7n)).to.be.revertedWithCustomError(s.state, "FlavumWrongLocation");
    await (await s.state.deposit(values.slice(0, 10), bits, false)).wait();
    await expect(s.state.requestTransfer(1n, hre.ethers.ZeroAddress)).to.be.revertedWithCustomError(s.state, "FlavumStateZeroAddress").withArgs("to");
    await expect(s.state.requestInference(modelId, 1n, hre.ethers.ZeroAddress))
      .to.be.revertedWithCustomError(s.state, "FlavumLayoutMismatch").withArgs(modelId, 1n, values.length, bits, 10n, bits);
    await expect(s.state.requestInference(99n, 1n, hre.ethers.ZeroAddress)).to.be.revertedWithCustomError(d.rollup, "FlavumUnknownRequestModel");
  });

  it("takes state batches only from the rollup's sequencers, of 1..opsPerBatch queued operations", async () => {
    const { s } = await fixture();
    const [, alice] = await hre.ethers.getSigners();
    const batch = (count: number, status = 0n) => stateBatchArg({ count, newRoot: 1n, exitRoot: 1n, status, opsCommit: 1n, proof: DUMMY_PROOF });
    await expect(s.state.connect(alice).submitStateBatch(batch(1), "0x")).to.be.revertedWithCustomError(s.state, "FlavumStateNotSequencer").withArgs(alice.address);
    await expect(s.state.submitStateBatch(batch(0), "0x")).to.be.revertedWithCustomError(s.state, "FlavumStateInvalidCount").withArgs(0n, 4n);
    await expect(s.state.submitStateBatch(batch(5), "0x")).to.be.revertedWithCustomError(s.state, "FlavumStateInvalidCount").withArgs(5n, 4n);
    await expect(s.state.submitStateBatch(batch(1), "0x")).to.be.revertedWithCustomError(s.state, "FlavumInvalidOpsLength").withArgs(0n, 160n);
    await expect(s.state.submitStateBatch(batch(1, 0b10n), "0x" + "00".repeat(160))).to.be.revertedWithCustomError(s.state, "FlavumInvalidStatus");
    await expect(s.state.submitStateBatch(batch(1), "0x" + "00".repeat(160))).to.be.revertedWithCustomError(s.state, "FlavumNotEnoughOps").withArgs(0n, 1n, 0n);
  });

  it("mints and burns data-point tokens only through the state contract", async () => {
    const { s } = await fixture();
    const [, alice] = await hre.ethers.getSigners();
    const token = s.token as any;
    await expect(token.connect(alice).mint(alice.address, 1n)).to.be.revertedWithCustomError(token, "FlavumNotMinter");
    await expect(token.connect(alice).burn(1n)).to.be.revertedWithCustomError(token, "FlavumNotMinter");
    await expect(s.state.connect(alice).depositToken(1n)).to.be.revertedWithCustomError(token, "ERC721NonexistentToken");
  });
});
