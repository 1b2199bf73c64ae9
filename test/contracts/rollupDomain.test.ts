/**
 * One rollup on several chains, at the contract: a batch statement binds the rollup's domain, so the
 * same statement settles on every FlavumRollup of the domain and on no other; on-chain request ids
 * carry their chain's tag and each contract serves only its own; every contract keeps the same
 * settlement history for the same batches; the admin lists the domain's settlements. Two contracts
 * on the in-process chain stand in for two chains (rollup:deploy --chains deploys them the same way).
 * The verifiers here are mocks bound to one statement; test/e2e/rollup.e2e.test.ts settles one real
 * Groth16 proof on two contracts of a domain, and test/e2e/chains.rollup.e2e.test.ts runs two chains.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployRollup, traceStoreConfig } from "../../src/chain/deployRollup";
import { historyTransitions } from "../../src/protocol/history";
import { OFFCHAIN_REQUEST_BASE, onchainRequestId, requestChainTag } from "../../src/protocol/batch";
import type { FlavumRollup, MockBatchVerifier } from "../../typechain-types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  buildSubtree, commitment, digitsInput, digitsShape, DUMMY_PROOF, encodeTrace, Entry, FIELD, offchainEntries, rollupWithModel, statementFor, Status,
} from "./fixtures";

/** Chain tag 1's first requests. */
const T1 = (n: bigint) => onchainRequestId(1, n);

describe("FlavumRollup across the chains of one domain", function () {
  /** Registers the digits model (id 1 on a fresh registry) with one mock verifier for sizes 1, 8, 32. */
  async function withModel(d: Awaited<ReturnType<typeof deployRollup>>, owner: HardhatEthersSigner, tag = "mlp") {
    const mock = (await hre.ethers.deployContract("MockBatchVerifier")) as unknown as MockBatchVerifier;
    const v = await mock.getAddress();
    await d.registry.connect(owner).register(commitment(tag), digitsShape(), `ipfs://digits-${tag}`, [1, 8, 32], [v, v, v]);
    return mock;
  }

  /** The domain's first chain (tag 0, rollupWithModel), its second (same domain, tag 1), and a rollup of another domain. */
  async function twoChainsAndAStranger() {
    const f = await rollupWithModel();
    const domain = await f.rollup.domain();
    // The domain's second chain: its own registry with the same model (id 1), its own tag.
    const sibling = await deployRollup(hre, { sequencer: f.sequencer.address, domain, chainTag: 1 });
    const mock2 = await withModel(sibling, f.owner);
    // A rollup of another domain (deployRollup's default: a new one), same model.
    const stranger = await deployRollup(hre, { sequencer: f.sequencer.address });
    const mock3 = await withModel(stranger, f.owner);
    return { ...f, domain, sibling, mock2, stranger, mock3 };
  }

  /** Sends one batch (same statement, same proof points, same trace wherever it goes) of `modelId`. */
  const send = (rollup: FlavumRollup, signer: HardhatEthersSigner, entries: Entry[], batchRoot: bigint, newRoot = 0x77n, modelId = 1n) =>
    rollup.connect(signer).submitBatch(modelId, 8, entries.length, newRoot, batchRoot, DUMMY_PROOF.a, DUMMY_PROOF.b, DUMMY_PROOF.c, encodeTrace(entries));

  /** The request ids a transaction included, in the order it included them. */
  async function included(rollup: FlavumRollup, tx: Promise<{ wait(): Promise<unknown> }>) {
    const receipt = (await (await tx).wait()) as { logs: { topics: readonly string[]; data: string }[] };
    return receipt.logs
      .map((l) => rollup.interface.parseLog(l))
      .filter((e) => e?.name === "InferenceIncluded")
      .map((e) => e!.args.requestId as bigint);
  }

  it("settles the same statement on both chains of the domain and refuses it on another domain", async () => {
    const f = await loadFixture(twoChainsAndAStranger);
    expect(await f.sibling.rollup.domain()).to.equal(f.domain);
    expect(await f.sibling.rollup.chainTag()).to.equal(1n);
    expect(await f.stranger.rollup.domain()).to.not.equal(f.domain);
    const entries = offchainEntries(1n, 3);
    const tree = await buildSubtree(entries, 8);
    const s = { modelId: 1n, batchSize: 8, count: 3, newRoot: 0x77n, batchRoot: tree.root, trace: encodeTrace(entries) };
    const { pub } = await statementFor(f.rollup, s);
    // The sibling derives the very same statement (r included): one proof serves both.
    expect((await statementFor(f.sibling.rollup, s)).pub).to.deep.equal(pub);
    expect((await statementFor(f.stranger.rollup, s)).pub[4]).to.not.equal(pub[4]);
    // Every verifier accepts exactly the first chain's statement, as a real proof of it would.
    for (const m of [f.mock, f.mock2, f.mock3]) await m.expectInputs(pub);
    await expect(send(f.rollup, f.sequencer, entries, tree.root)).to.emit(f.rollup, "BatchSubmitted");
    await expect(send(f.sibling.rollup, f.sequencer, entries, tree.root)).to.emit(f.sibling.rollup, "BatchSubmitted");
    await expect(send(f.stranger.rollup, f.sequencer, entries, tree.root))
      .to.be.revertedWithCustomError(f.stranger.rollup, "FlavumInvalidBatchProof")
      .withArgs(1n, 1n << 64n, await f.mock3.getAddress());
    // Replayed on a chain that holds it, the batch is another statement (its old root has moved).
    await expect(send(f.sibling.rollup, f.sequencer, entries, tree.root)).to.be.revertedWithCustomError(f.sibling.rollup, "FlavumInvalidBatchProof");
    await expect(send(f.rollup, f.sequencer, entries, tree.root)).to.be.revertedWithCustomError(f.rollup, "FlavumInvalidBatchProof");
  });

  it("numbers each chain's requests under its tag and serves only its own, each in its own queue order", async () => {
    const f = await loadFixture(twoChainsAndAStranger);
    const [x1, x2, x3] = [await digitsInput(1), await digitsInput(2), await digitsInput(3)];
    const ask = (r: FlavumRollup, x: typeof x1) => r.connect(f.alice).requestInference(1n, x.inputHash, x.input, hre.ethers.ZeroAddress);
    await ask(f.rollup, x1); // 1
    await ask(f.sibling.rollup, x2); // T1(1)
    await ask(f.rollup, x3); // 2
    await ask(f.sibling.rollup, x1); // T1(2)
    expect(T1(1n)).to.equal((1n << 47n) + 1n);
    expect((await f.rollup.requestOf(1n)).inputHash).to.equal(x1.inputHash);
    expect((await f.rollup.requestOf(2n)).inputHash).to.equal(x3.inputHash);
    expect((await f.sibling.rollup.requestOf(T1(1n))).inputHash).to.equal(x2.inputHash);
    expect((await f.sibling.rollup.requestOf(1n)).requester).to.equal(hre.ethers.ZeroAddress);
    expect(await f.sibling.rollup.requestCount()).to.equal(2n);
    expect((await f.sibling.rollup.nextPendingRequest(1n))[0]).to.equal(T1(1n));

    // One batch for both chains: chain 1's first, chain 0's two, an off-chain one in between.
    const entries: Entry[] = [
      { modelId: 1n, requestId: T1(1n), inputHash: x2.inputHash, outputWord: 6n },
      { modelId: 1n, requestId: 1n, inputHash: x1.inputHash, outputWord: 5n },
      ...offchainEntries(1n, 1),
      { modelId: 1n, requestId: 2n, inputHash: x3.inputHash, outputWord: 7n },
    ];
    const tree = await buildSubtree(entries, 8);
    expect(await included(f.rollup, send(f.rollup, f.sequencer, entries, tree.root))).to.deep.equal([1n, 2n]);
    expect(await included(f.sibling.rollup, send(f.sibling.rollup, f.sequencer, entries, tree.root))).to.deep.equal([T1(1n)]);
    expect((await f.rollup.requestOf(2n)).status).to.equal(Status.Included);
    expect((await f.sibling.rollup.requestOf(T1(1n))).status).to.equal(Status.Included);
    expect((await f.sibling.rollup.requestOf(T1(2n))).status).to.equal(Status.Pending);
    // Each chain fulfils its own from the shared batch.
    const batchId = 1n << 64n;
    await expect(f.rollup.fulfill(1n, entries[1], 1, tree.path(1))).to.emit(f.rollup, "InferenceFulfilled").withArgs(1n, batchId, 1n, 5n);
    await expect(f.sibling.rollup.fulfill(T1(1n), entries[0], 0, tree.path(0))).to.emit(f.sibling.rollup, "InferenceFulfilled");

    // The other chain's request is unknown here, whichever way it is addressed.
    const foreign = entries[0];
    await expect(f.rollup.fulfill(T1(1n), foreign, 0, tree.path(0))).to.be.revertedWithCustomError(f.rollup, "FlavumUnknownRequest").withArgs(T1(1n));
    await expect(f.rollup.fulfillFromBatch(batchId, foreign, 0, tree.path(0))).to.be.revertedWithCustomError(f.rollup, "FlavumUnknownRequest").withArgs(T1(1n));
    await expect(f.rollup.connect(f.alice).cancelRequest(T1(2n))).to.be.revertedWithCustomError(f.rollup, "FlavumUnknownRequest").withArgs(T1(2n));
    await expect(f.rollup.connect(f.sequencer).rejectRequest(T1(2n), "wrong chain")).to.be.revertedWithCustomError(f.rollup, "FlavumUnknownRequest");
    await expect(f.sibling.rollup.fulfill(2n, entries[3], 3, tree.path(3))).to.be.revertedWithCustomError(f.sibling.rollup, "FlavumUnknownRequest").withArgs(2n);

    // Its own requests still go in queue order: skipping T1(2) for a later one is refused.
    await ask(f.sibling.rollup, x3); // T1(3)
    const skip: Entry[] = [{ modelId: 1n, requestId: T1(3n), inputHash: x3.inputHash, outputWord: 1n }];
    await expect(send(f.sibling.rollup, f.sequencer, skip, (await buildSubtree(skip, 8)).root, 0x78n))
      .to.be.revertedWithCustomError(f.sibling.rollup, "FlavumRequestOutOfOrder")
      .withArgs(1n, 0n, T1(3n), T1(2n));
    // On chain 0 the same entries are a foreign chain's, out of order or not: plain trace entries.
    const both: Entry[] = [...skip, { modelId: 1n, requestId: T1(2n), inputHash: x1.inputHash, outputWord: 2n }];
    expect(await included(f.rollup, send(f.rollup, f.sequencer, both, (await buildSubtree(both, 8)).root, 0x78n))).to.deep.equal([]);
  });

  it("keeps the same settlement history on both chains over interleaved models, the one the events give", async () => {
    const f = await loadFixture(twoChainsAndAStranger);
    // A second model (id 2) on both chains.
    await withModel(f, f.owner, "two");
    await withModel(f.sibling, f.owner, "two");
    expect(await f.rollup.history()).to.deep.equal([0n, 0n]);
    const order = [1n, 2n, 1n, 1n, 2n];
    for (const [i, modelId] of order.entries()) {
      const entries = offchainEntries(modelId, 2, 2 * i);
      const tree = await buildSubtree(entries, 8);
      await send(f.rollup, f.sequencer, entries, tree.root, 0x90n + BigInt(i), modelId);
      await send(f.sibling.rollup, f.sequencer, entries, tree.root, 0x90n + BigInt(i), modelId);
    }
    const events = (await f.rollup.queryFilter(f.rollup.filters.BatchSubmitted())).map((e) => e.args);
    expect(events.map((a) => a.modelId)).to.deep.equal(order);
    const t = historyTransitions(events.map((a) => ({ batchId: a.batchId, oldRoot: a.oldRoot, newRoot: a.newRoot, batchRoot: a.batchRoot })));
    const last = t[t.length - 1].newRoot;
    expect(await f.rollup.history()).to.deep.equal([last, BigInt(order.length)]);
    expect(await f.sibling.rollup.history()).to.deep.equal([last, BigInt(order.length)]);
    // A chain that settled another batch holds another history.
    const other = offchainEntries(1n, 1, 50);
    await send(f.stranger.rollup, f.sequencer, other, (await buildSubtree(other, 8)).root);
    const [strangerRoot, strangerBatches] = await f.stranger.rollup.history();
    expect(strangerBatches).to.equal(1n);
    expect(strangerRoot).to.not.equal(t[0].newRoot);
  });

  it("lists the domain's settlements: its own at deployment, others by the admin only, each chain and tag once", async () => {
    const f = await loadFixture(twoChainsAndAStranger);
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const own = await f.sibling.rollup.getAddress();
    const list = async () => (await f.sibling.rollup.settlements()).map((s) => [s.chainId, s.rollup, s.tag]);
    expect(await list()).to.deep.equal([[chainId, own, 1n]]);
    expect((await f.rollup.settlements()).map((s) => s.tag)).to.deep.equal([0n]);
    await expect(f.sibling.rollup.registerSettlement(777n, await f.rollup.getAddress(), 0))
      .to.emit(f.sibling.rollup, "SettlementRegistered").withArgs(777n, await f.rollup.getAddress(), 0);
    expect(await list()).to.deep.equal([[chainId, own, 1n], [777n, await f.rollup.getAddress(), 0n]]);
    await expect(f.sibling.rollup.connect(f.alice).registerSettlement(778n, f.alice.address, 2))
      .to.be.revertedWithCustomError(f.sibling.rollup, "AccessControlUnauthorizedAccount")
      .withArgs(f.alice.address, await f.sibling.rollup.DEFAULT_ADMIN_ROLE());
    // The sequencer is not the admin either.
    await expect(f.sibling.rollup.connect(f.sequencer).registerSettlement(778n, f.alice.address, 2))
      .to.be.revertedWithCustomError(f.sibling.rollup, "AccessControlUnauthorizedAccount");
    await expect(f.sibling.rollup.registerSettlement(777n, f.alice.address, 2))
      .to.be.revertedWithCustomError(f.sibling.rollup, "FlavumSettlementTaken").withArgs(777n, 2, 777n, 0);
    await expect(f.sibling.rollup.registerSettlement(779n, f.alice.address, 1))
      .to.be.revertedWithCustomError(f.sibling.rollup, "FlavumSettlementTaken").withArgs(779n, 1, chainId, 1);
    await expect(f.sibling.rollup.registerSettlement(779n, hre.ethers.ZeroAddress, 2))
      .to.be.revertedWithCustomError(f.sibling.rollup, "FlavumZeroAddress").withArgs("rollup");
    expect(await list()).to.have.length(2);
  });

  it("takes any nonzero BN254 scalar as the domain and any 16-bit tag, and nothing else", async () => {
    const f = await loadFixture(twoChainsAndAStranger);
    const F = await hre.ethers.getContractFactory("FlavumRollup");
    const args = [f.addresses.registry, f.addresses.poseidon2, f.addresses.poseidon4, f.admin.address, f.emptyRoot, 256, traceStoreConfig()] as const;
    for (const domain of [0n, FIELD, FIELD + 1n, (1n << 256n) - 1n])
      await expect(F.deploy(...args, { domain, chainTag: 0 })).to.be.revertedWithCustomError(F, "FlavumInvalidDomain").withArgs(domain);
    // The largest tag still gives on-chain ids below the off-chain range.
    const top = (await F.deploy(...args, { domain: FIELD - 1n, chainTag: 0xffff })) as unknown as FlavumRollup;
    expect(await top.domain()).to.equal(FIELD - 1n);
    expect(await top.chainTag()).to.equal(0xffffn);
    const x = await digitsInput(4);
    await top.connect(f.alice).requestInference(1n, x.inputHash, x.input, hre.ethers.ZeroAddress);
    const id = onchainRequestId(0xffff, 1n);
    expect((await top.requestOf(id)).requester).to.equal(f.alice.address);
    expect(id < OFFCHAIN_REQUEST_BASE).to.equal(true);
    expect(requestChainTag(id)).to.equal(0xffff);
    // deployRollup checks the same before it sends anything.
    await expect(deployRollup(hre, { chainTag: 65536 })).to.be.rejectedWith(/a chain tag is 0\.\.65535, got 65536/);
    await expect(deployRollup(hre, { domain: 0n })).to.be.rejectedWith(/a rollup domain is a nonzero BN254 scalar, got 0/);
    await expect(deployRollup(hre, { domain: FIELD })).to.be.rejectedWith(/a rollup domain is a nonzero BN254 scalar/);
  });
});
