/**
 * The rollup state end to end with real proofs on the Hardhat network: a data point deposited with ETH,
 * an inference requested on it, the state batch that authorises it and the inference batch that answers
 * it, the verified result read by another contract, the withdrawal (exit, claim of the L1 token, its
 * balance paid) and the re-deposit of the token; then the exodus path with the sequencer stopped.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, mine } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { parseEther } from "ethers";
import { openSequencer } from "../../src/rollup/service";
import { opElements } from "../../src/protocol/stateBatch";
import { compileRollupModel, copyStore } from "../helpers/rollup";
import { STATE_TEST, quantizedSample, rebuilt, stateBatch, stateRollup } from "../helpers/state";

describe("rollup state end to end (real proofs)", function () {
  before(compileRollupModel);
  const fixture = async () => {
    const f = await loadFixture(stateRollup);
    return { ...f, store: copyStore(f.store) };
  };

  it("deposits, infers on, withdraws, claims and re-deposits a data point", async () => {
    const { d, s, ledger, store, modelId } = await fixture();
    const [, alice, bob] = await hre.ethers.getSigners();
    const { values, bits } = quantizedSample(0);
    const state = s.state.connect(alice);

    const dpId = await state.deposit.staticCall(values, bits, false, { value: parseEther("1") });
    await (await state.deposit(values, bits, false, { value: parseEther("1") })).wait();
    const requestId = await state.requestInference.staticCall(modelId, dpId, hre.ethers.ZeroAddress);
    await (await state.requestInference(modelId, dpId, hre.ethers.ZeroAddress)).wait();
    expect((await d.rollup.requestOf(requestId)).status).to.equal(6n); // Authorizing

    // The state batch proves the deposit and that alice may use her data point.
    const sb = (await stateBatch(ledger))!;
    expect(sb.count).to.equal(2);
    expect(sb.status).to.equal(0b11n);
    expect((await s.state.dataPoint(dpId)).location).to.equal(2n); // Rollup
    expect((await d.rollup.requestOf(requestId)).status).to.equal(1n); // Pending, in the model's queue

    // The inference batch answers it; delivery records the result on the data point.
    const seq = await openSequencer(hre, { store, addresses: d.addresses });
    await seq.syncOnchainRequests();
    expect((await seq.proveNext())?.count).to.equal(1);
    await seq.submit();
    expect(await seq.deliver()).to.equal(1);
    seq.store.close();
    const [found, outputWord] = await d.rollup.dataPointResult(dpId, modelId);
    expect(found).to.equal(true);

    // Another contract reads the verified label.
    const reader = await (await hre.ethers.getContractFactory("DataPointReader")).deploy(d.addresses.rollup);
    await (await reader.record(dpId, modelId)).wait();
    expect(await reader.labelOf(dpId, modelId)).to.equal(outputWord & 0xffn);

    // Withdraw: exit proven in the next state batch, then claimed once as the token with its balance.
    await (await state.requestExit(dpId)).wait();
    expect((await stateBatch(ledger))!.status).to.equal(1n);
    const exit = (await rebuilt(ledger)).exits.get(dpId)!;
    expect(exit.stateBatch).to.equal(1n);
    const claimArgs = [exit.stateBatch, exit.slot, dpId, exit.leaf.contentHash, hre.ethers.ZeroAddress, exit.leaf.balance, exit.path] as const;
    await expect(s.state.connect(bob).claim(...claimArgs)).to.be.revertedWithCustomError(s.state, "FlavumExitNotProven");
    await expect(state.claim(...claimArgs)).to.changeEtherBalances([alice, s.state], [parseEther("1"), -parseEther("1")]);
    await expect(state.claim(...claimArgs)).to.be.revertedWithCustomError(s.state, "FlavumAlreadyClaimed");
    const token = s.token.connect(alice) as any;
    expect(await token.ownerOf(dpId)).to.equal(alice.address);
    const [contentHash] = await token.contentOf(dpId);
    expect(contentHash).to.equal(exit.leaf.contentHash);
    expect((await token.resultOf(dpId, modelId))[1]).to.equal(outputWord);

    // Re-deposit: the token is burnt and the data point comes back, same id and content.
    await (await state.depositToken(dpId)).wait();
    await expect(token.ownerOf(dpId)).to.be.reverted;
    await stateBatch(ledger);
    const back = (await rebuilt(ledger)).tree.dataPoint(dpId)!;
    expect(back.contentHash).to.equal(contentHash);
    expect(back.owner).to.equal(BigInt(alice.address));
    expect((await s.state.dataPoint(dpId)).location).to.equal(2n);
  });

  it("moves an ERC-20 balance in with a data point and pays it out on the claim", async () => {
    const { s, ledger } = await fixture();
    const [, alice] = await hre.ethers.getSigners();
    const token = await (await hre.ethers.getContractFactory("TestToken")).deploy();
    await (await token.mint(alice.address, 1000n)).wait();
    await (await (token.connect(alice) as typeof token).approve(s.addresses.state, 600n)).wait();
    const { values, bits } = quantizedSample(2);
    await (await s.state.connect(alice).depositERC20(values, bits, await token.getAddress(), 600n)).wait();
    await (await s.state.connect(alice).requestExit(1n)).wait();
    expect((await stateBatch(ledger))!.status).to.equal(0b11n);
    const exit = (await rebuilt(ledger)).exits.get(1n)!;
    expect(exit.leaf.balance).to.equal(600n);
    expect(exit.leaf.asset).to.equal(BigInt(await token.getAddress()));
    await expect(s.state.connect(alice).claim(exit.stateBatch, exit.slot, 1n, exit.leaf.contentHash, await token.getAddress(), 600n, exit.path))
      .to.changeTokenBalances(token, [alice, s.state], [600n, -600n]);
  });

  it("exodus with the sequencer stopped: owners withdraw from the last proven state, queued deposits are refunded", async () => {
    const { s, ledger } = await fixture();
    const [, alice, bob] = await hre.ethers.getSigners();
    const { values, bits } = quantizedSample(1);
    await (await s.state.connect(alice).deposit(values, bits, false, { value: parseEther("2") })).wait();
    await stateBatch(ledger);
    // The sequencer stops; bob's deposit waits in the queue.
    await (await s.state.connect(bob).deposit(values, bits, false, { value: parseEther("3") })).wait();
    await expect(s.state.activateExodus()).to.be.revertedWithCustomError(s.state, "FlavumNothingOverdue");
    await mine(STATE_TEST.deadline);
    await (await s.state.activateExodus()).wait();
    await expect(stateBatch(ledger)).to.be.rejectedWith(/exodus/);

    // Alice's proof comes from L1 data alone.
    const state = await rebuilt(ledger);
    const leaf = state.tree.dataPoint(1n)!;
    const args = [1n, leaf.contentHash, hre.ethers.ZeroAddress, leaf.balance, state.tree.siblings(1n)] as const;
    await expect(s.state.connect(bob).exodusWithdraw(...args)).to.be.revertedWithCustomError(s.state, "FlavumStateNotProven");
    await expect(s.state.connect(alice).exodusWithdraw(...args)).to.changeEtherBalance(alice, parseEther("2"));
    await expect(s.state.connect(alice).exodusWithdraw(...args)).to.be.revertedWithCustomError(s.state, "FlavumAlreadyWithdrawn");
    expect(await (s.token as any).ownerOf(1n)).to.equal(alice.address);

    // Bob's deposit never entered the state: refunded from its queued operation, once.
    const h = await ledger.history();
    const refund = [1n, opElements(h.ops[1])] as const;
    await expect(s.state.exodusRefund(...refund)).to.changeEtherBalance(bob, parseEther("3"));
    await expect(s.state.exodusRefund(...refund)).to.be.revertedWithCustomError(s.state, "FlavumNothingToRefund");
  });
});
