/**
 * Attacks on the rollup state, each through the real code path with real state proofs: claiming twice or
 * someone else's exit, exiting a common data point, inference on someone's owned data point, a forged
 * exit proof, a stale root, a skipped or reordered deposit, exodus before the deadline, batches after
 * exodus, and a sequencer that leaves an overdue operation behind.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, mine } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { parseEther } from "ethers";
import { planStateBatch } from "../../src/rollup/stateWitness";
import { encodeOps } from "../../src/protocol/stateBatch";
import { openSequencer } from "../../src/rollup/service";
import { stateBatchArg } from "../../src/chain/evmState";
import { compileRollupModel, copyStore } from "../helpers/rollup";
import { STATE_TEST, proveStatePlan, quantizedSample, rebuilt, stateBatch, stateRollup } from "../helpers/state";

describe("rollup state attacks (real proofs)", function () {
  before(compileRollupModel);
  const fixture = () => loadFixture(stateRollup);
  const deposit = async (s: any, who: any, i: number, opts: { common?: boolean; value?: bigint } = {}) => {
    const { values, bits } = quantizedSample(i);
    const id = await s.state.connect(who).deposit.staticCall(values, bits, !!opts.common, { value: opts.value ?? 0n });
    await (await s.state.connect(who).deposit(values, bits, !!opts.common, { value: opts.value ?? 0n })).wait();
    return id as bigint;
  };
  /** A plan for the next `count` queued operations from the state rebuilt from L1, proven for real. */
  const provenNext = async (ledger: any, opts: { reorder?: boolean; count?: number } = {}) => {
    const info = await ledger.info();
    const h = await ledger.history();
    const state = await rebuilt(ledger);
    let ops = h.ops.slice(Number(info.opHead), Number(info.opHead) + (opts.count ?? Number(info.opTail - info.opHead)));
    if (opts.reorder) ops = [...ops].reverse();
    const plan = planStateBatch({
      tree: state.tree, ops, opsPerBatch: STATE_TEST.opsPerBatch, firstOp: info.opHead, stateBatch: info.stateBatches,
      chainId: 31337n, stateContract: ledger.address,
    });
    return { plan, proof: await proveStatePlan(plan) };
  };
  const submit = (s: any, { plan, proof }: any) => s.state.submitStateBatch(stateBatchArg({ ...plan, count: plan.ops.length, proof }), plan.posted);

  it("refuses inference on someone's owned data point: the state batch proves no consent and the fee is refunded", async () => {
    const { d, s, ledger, modelId } = await fixture();
    const [, alice, mallory] = await hre.ethers.getSigners();
    await (await d.rollup.setRequestFee(1000n)).wait();
    const dp = await deposit(s, alice, 0);
    const requestId = await s.state.connect(mallory).requestInference.staticCall(modelId, dp, hre.ethers.ZeroAddress, { value: 1000n });
    const tx = s.state.connect(mallory).requestInference(modelId, dp, hre.ethers.ZeroAddress, { value: 1000n });
    await (await tx).wait();
    const before = await hre.ethers.provider.getBalance(mallory.address);
    const sb = (await stateBatch(ledger))!;
    expect(sb.status).to.equal(0b01n); // the deposit valid, mallory's authorisation not
    expect((await d.rollup.requestOf(requestId)).status).to.equal(5n); // Rejected
    expect(await hre.ethers.provider.getBalance(mallory.address)).to.equal(before + 1000n);
    // A status bit claiming consent does not verify: the circuit computes it from the owner.
    await (await s.state.connect(mallory).requestInference(modelId, dp, hre.ethers.ZeroAddress, { value: 1000n })).wait();
    const { plan, proof } = await provenNext(ledger);
    expect(plan.status).to.equal(0n);
    await expect(s.state.submitStateBatch(stateBatchArg({ ...plan, count: 1, status: 1n, proof }), plan.posted))
      .to.be.revertedWithCustomError(s.state, "FlavumInvalidStateProof");
    await (await submit(s, { plan, proof })).wait();
    // Common data points are anyone's to ask about.
    const common = await deposit(s, alice, 1, { common: true });
    const commonRequest = await s.state.connect(mallory).requestInference.staticCall(modelId, common, hre.ethers.ZeroAddress, { value: 1000n });
    await (await s.state.connect(mallory).requestInference(modelId, common, hre.ethers.ZeroAddress, { value: 1000n })).wait();
    expect((await stateBatch(ledger))!.status).to.equal(0b11n);
    expect((await d.rollup.requestOf(commonRequest)).status).to.equal(1n); // Pending: released to the model
  });

  it("refuses exits of common data points, of someone else's, claims by others, forged paths and second claims", async () => {
    const { s, ledger } = await fixture();
    const [, alice, mallory] = await hre.ethers.getSigners();
    const owned = await deposit(s, alice, 0, { value: parseEther("1") });
    const common = await deposit(s, alice, 1, { common: true });
    await expect(s.state.connect(alice).deposit(quantizedSample(2).values, quantizedSample(2).bits, true, { value: 1n }))
      .to.be.revertedWithCustomError(s.state, "FlavumCommonBalance");
    await expect(s.state.connect(alice).requestExit(common)).to.be.revertedWithCustomError(s.state, "FlavumNotDataPointOwner");
    await (await s.state.connect(mallory).requestExit(owned)).wait(); // queued, but proven invalid
    await (await s.state.connect(alice).requestExit(owned)).wait();
    const sb = (await stateBatch(ledger))!;
    expect(sb.status).to.equal(0b1011n); // deposit, deposit, mallory's exit refused, alice's exit
    const exit = (await rebuilt(ledger)).exits.get(owned)!;
    const args = (over: Partial<{ balance: bigint; path: bigint[]; slot: number }> = {}) =>
      [exit.stateBatch, over.slot ?? exit.slot, owned, exit.leaf.contentHash, hre.ethers.ZeroAddress, over.balance ?? exit.leaf.balance, over.path ?? exit.path] as const;
    await expect(s.state.connect(mallory).claim(...args())).to.be.revertedWithCustomError(s.state, "FlavumExitNotProven");
    await expect(s.state.connect(alice).claim(...args({ balance: parseEther("2") }))).to.be.revertedWithCustomError(s.state, "FlavumExitNotProven");
    await expect(s.state.connect(alice).claim(...args({ path: exit.path.map((x, i) => (i === 0 ? x + 1n : x)) }))).to.be.revertedWithCustomError(s.state, "FlavumExitNotProven");
    await expect(s.state.connect(alice).claim(...args({ slot: 2 }))).to.be.revertedWithCustomError(s.state, "FlavumExitNotProven");
    await (await s.state.connect(alice).claim(...args())).wait();
    await expect(s.state.connect(alice).claim(...args())).to.be.revertedWithCustomError(s.state, "FlavumAlreadyClaimed");
  });

  it("refuses a skipped or reordered deposit, even with a valid proof of the reordered batch, and a stale root", async () => {
    const { s, ledger } = await fixture();
    const [, alice, bob] = await hre.ethers.getSigners();
    await deposit(s, alice, 0, { value: 1n });
    await deposit(s, bob, 1, { value: 2n });
    const reordered = await provenNext(ledger, { reorder: true });
    await expect(submit(s, reordered)).to.be.revertedWithCustomError(s.state, "FlavumOpMismatch").withArgs(0n);
    // Skipping the first deposit: bob's alone, posted where alice's is queued.
    const skipped = { ...reordered.plan, ops: reordered.plan.ops.slice(0, 1), status: 1n, posted: encodeOps(reordered.plan.ops.slice(0, 1)) };
    await expect(submit(s, { plan: skipped, proof: reordered.proof })).to.be.revertedWithCustomError(s.state, "FlavumOpMismatch").withArgs(0n);
    // A batch proven from the state before another batch settled (a stale root) does not verify.
    const before = await rebuilt(ledger);
    const first = await provenNext(ledger, { count: 1 });
    await (await submit(s, first)).wait();
    const h = await ledger.history();
    const stalePlan = planStateBatch({
      tree: before.tree, ops: [h.ops[1]], opsPerBatch: STATE_TEST.opsPerBatch, firstOp: 1n, stateBatch: 1n, chainId: 31337n, stateContract: ledger.address,
    });
    await expect(submit(s, { plan: stalePlan, proof: await proveStatePlan(stalePlan) })).to.be.revertedWithCustomError(s.state, "FlavumInvalidStateProof").withArgs(1n);
    // The same proof replayed after its batch settled finds another operation at the head.
    await expect(submit(s, first)).to.be.revertedWithCustomError(s.state, "FlavumOpMismatch").withArgs(1n);
  });

  it("a sequencer that leaves an overdue operation behind cannot settle; exodus only once it is overdue, then no batches", async () => {
    const { d, s, ledger, store, modelId } = await fixture();
    const [, alice, bob] = await hre.ethers.getSigners();
    await deposit(s, alice, 0);
    await deposit(s, bob, 1);
    await mine(STATE_TEST.deadline);
    // A batch of one (not full) would leave bob's overdue deposit behind.
    const partial = await provenNext(ledger, { count: 1 });
    await expect(submit(s, partial)).to.be.revertedWithCustomError(s.state, "FlavumOverdueOp");
    // Inference batches stop too while a state operation is overdue.
    const seq = await openSequencer(hre, { store: copyStore(store), addresses: d.addresses });
    seq.request(modelId.toString(), [[...Array(30)].map(() => 0)]);
    await seq.proveNext();
    await expect(seq.submit()).to.be.rejectedWith(/FlavumOverdueOp|overdue/i);
    await (await s.state.activateExodus()).wait();
    await expect(s.state.activateExodus()).to.be.revertedWithCustomError(s.state, "FlavumExodusActive");
    const full = await provenNext(ledger);
    await expect(submit(s, full)).to.be.revertedWithCustomError(s.state, "FlavumExodusActive");
    await expect(s.state.connect(alice).deposit(quantizedSample(0).values, quantizedSample(0).bits, false)).to.be.revertedWithCustomError(s.state, "FlavumExodusActive");
    seq.store.close();
  });

  it("refuses exodus while nothing is overdue", async () => {
    const { s } = await fixture();
    const [, alice] = await hre.ethers.getSigners();
    await expect(s.state.activateExodus()).to.be.revertedWithCustomError(s.state, "FlavumNothingOverdue").withArgs(0n, 0n);
    await deposit(s, alice, 0);
    await mine(STATE_TEST.deadline - 3);
    await expect(s.state.activateExodus()).to.be.revertedWithCustomError(s.state, "FlavumNothingOverdue");
  });
});
