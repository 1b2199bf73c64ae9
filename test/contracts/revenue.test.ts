/**
 * Repositories joined to the rollup: publishing a repository commit as a served model (ModelRegistry.publish),
 * batches proven with the commit's weights (the 7-input verifier path of FlavumRollup), and the
 * contributors' cut of its inference fees shared by proven samples (ContributorRevenue).
 */
import { expect } from "chai";
import hre from "hardhat";
import { keccak256, toBeHex, toUtf8Bytes, ZeroAddress, type ContractTransactionResponse } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployRollup, traceStoreConfig } from "../../src/chain/deployRollup";
import { CommitStatus, deployRepositories, RepoRole } from "../../src/chain/deployRepos";
import { deployRevenue } from "../../src/chain/deployRevenue";
import { encodeSignatures, signAvailability } from "../../src/traceStore/dac";
import {
  batchIdOf,
  buildSubtree,
  commitment,
  digitsInput,
  digitsShape,
  DUMMY_PROOF,
  encodeTrace,
  FIELD,
  statementFor,
  submitEntries,
  type Entry,
} from "./fixtures";
import type {
  ContributorRevenue,
  FlavumRollup,
  MockBatchVerifier,
  MockCommittedBatchVerifier,
  MockRepositoryVerifier,
  ModelRegistry,
  ModelRepository,
  ModelRepositoryHarness,
} from "../../typechain-types";

/** A field element derived from a tag, as the bytes32 the contracts take. */
const fe = (tag: string) => toBeHex(BigInt(keccak256(toUtf8Bytes(tag))) % FIELD, 32);
const W0 = fe("weights:initial");
const ARCH = keccak256(toUtf8Bytes("arch:digits-mlp"));
const REPO = 1n;
const INITIAL = 2n;
const BATCH = 16;
/** An odd fee, so the cuts round. */
const FEE = 1_000_000_000_000_003n;
const BPS = 5000n;
const WEIGHTS_BOUND = 1n << 17n;
const DIGITS_LAYOUT_WORD = 16n | (10n << 8n) | (1n << 16n);
const { a, b, c } = DUMMY_PROOF;

/** Deploys a rollup (calldata or IPFS traces), the repositories and the revenue contract, with the real deploy code. */
async function deployAll(opts: { ipfs?: boolean; harness?: boolean } = {}) {
  const s = await hre.ethers.getSigners();
  const [admin, sequencer, owner, alice, bob, carol, dave, maintainer, user, outsider, member] = s;
  const d = await deployRollup(hre, {
    sequencer: sequencer.address,
    ...(opts.ipfs ? { traceStore: "ipfs" as const, dac: [member.address], dacThreshold: 1 } : {}),
  });
  // The harness is a ModelRepository with a back door for planting commits cheaply.
  const repository: ModelRepository = opts.harness
    ? ((await hre.ethers.deployContract("ModelRepositoryHarness")) as unknown as ModelRepository)
    : (await deployRepositories(hre)).repository;
  // deployRollup may already deploy and attach the revenue contract (through deployRevenue); otherwise do it here.
  const attached = await d.rollup.revenueContract();
  const revenueAddress =
    attached !== ZeroAddress ? attached : (await deployRevenue(hre, { registry: d.addresses.registry, rollup: d.addresses.rollup })).revenue;
  const revenue = (await hre.ethers.getContractAt("ContributorRevenue", revenueAddress)) as unknown as ContributorRevenue;
  const verifier = (await hre.ethers.deployContract("MockRepositoryVerifier")) as unknown as MockRepositoryVerifier;
  const v = await verifier.getAddress();
  const merges = [v, v, v, ZeroAddress, ZeroAddress, ZeroAddress, ZeroAddress] as [string, string, string, string, string, string, string];
  await repository.connect(owner).createRepository("digits", W0, ARCH, v, merges, "ipfs://digits");
  await repository.connect(owner).invite(REPO, maintainer.address, RepoRole.Maintainer);
  for (const who of [alice, bob, carol, dave]) await repository.connect(owner).invite(REPO, who.address, RepoRole.Contributor);
  await d.rollup.connect(admin).setRequestFee(FEE);
  return {
    ...d, repository, repoAddress: await repository.getAddress(), revenue, revenueAddress, verifier, merges,
    admin, sequencer, owner, alice, bob, carol, dave, maintainer, user, outsider, member,
  };
}
type D = Awaited<ReturnType<typeof deployAll>>;
/** deployAll on a rollup whose traces go to IPFS, attested by a one-member committee. */
const ipfsWorld = () => deployAll({ ipfs: true });
/** deployAll on a ModelRepositoryHarness. */
const harnessWorld = () => deployAll({ harness: true });

/** Pushes a one-proof training commit of `samples` rows; returns its id and weights. */
async function push(d: D, who: HardhatEthersSigner, branch: string, parent: bigint, tag: string, samples: number) {
  const link = { newWeightsHash: fe(`w:${tag}`), dataHash: fe(`data:${tag}`), samples, correct: samples >> 1, proof: DUMMY_PROOF };
  const r = d.repository.connect(who);
  const id = await r.pushCommit.staticCall(REPO, branch, parent, [link], "");
  await r.pushCommit(REPO, branch, parent, [link], "");
  return { id, w: link.newWeightsHash };
}

async function mergeInto(d: D, commits: bigint[], w: string) {
  const m = d.repository.connect(d.maintainer);
  const id = await m.merge.staticCall(REPO, "main", commits, w, DUMMY_PROOF);
  await m.merge(REPO, "main", commits, w, DUMMY_PROOF);
  return id;
}

/**
 * The issue's history on main: alice (16 samples) and bob (32) merged (k = 2) as M, then carol (48)
 * trained from M and fast-forwarded, so main's head is carol's commit C. dave's commit (8) was rejected;
 * his second one (from C) is still Proposed. A second repository exists beside it.
 */
async function history(d: D) {
  for (const [who, name] of [[d.alice, "alice"], [d.bob, "bob"], [d.dave, "dave"]] as const)
    await d.repository.connect(who).createBranch(REPO, name, INITIAL);
  const A = await push(d, d.alice, "alice", INITIAL, "a", 16);
  const B = await push(d, d.bob, "bob", INITIAL, "b", 32);
  const D1 = await push(d, d.dave, "dave", INITIAL, "d", 8);
  await d.repository.connect(d.maintainer).reject(REPO, D1.id, "poisoned");
  const WM = fe("w:merge");
  const M = await mergeInto(d, [A.id, B.id], WM);
  await d.repository.connect(d.carol).createBranch(REPO, "carol", M);
  const C = await push(d, d.carol, "carol", M, "c", 48);
  expect(await mergeInto(d, [C.id], C.w)).to.equal(C.id);
  await d.repository.connect(d.dave).createBranch(REPO, "dave2", C.id);
  const D2 = await push(d, d.dave, "dave2", C.id, "d2", 8);
  const other = await d.repository.connect(d.owner).createRepository.staticCall("other", fe("w:other"), ARCH, await d.verifier.getAddress(), d.merges, "");
  await d.repository.connect(d.owner).createRepository("other", fe("w:other"), ARCH, await d.verifier.getAddress(), d.merges, "");
  return { A, B, D1, M, WM, C, D2, other, otherInitial: other + 1n };
}

/** Publishes commit `commitId` (weights `w`) of REPO as a digits model served at batch size 16 by `verifier`. */
async function publish(d: D, commitId: bigint, w: string, verifier: string, bps = BPS, who = d.maintainer) {
  const reg = d.registry.connect(who);
  const args: Parameters<ModelRegistry["publish"]> = [
    { ...commitment("published"), weightsHash: w },
    digitsShape(),
    "ipfs://published",
    [BATCH],
    [verifier],
    { repository: d.repoAddress, repoId: REPO, commitId, contributorBps: bps },
  ];
  const modelId = await reg.publish.staticCall(...args);
  const tx = await reg.publish(...args);
  return { modelId, tx };
}

const committedVerifier = async (w: string | bigint) =>
  (await hre.ethers.deployContract("MockCommittedBatchVerifier", [BigInt(w)])) as unknown as MockCommittedBatchVerifier;

/** The history, a plain registered model (id 1, six-input mock) and carol's head published with 5000 bps (id 2). */
async function published() {
  const d = await deployAll();
  const h = await history(d);
  const plainVerifier = (await hre.ethers.deployContract("MockBatchVerifier")) as unknown as MockBatchVerifier;
  const registerTx = await d.registry.connect(d.owner).register(commitment("plain"), digitsShape(), "ipfs://published", [BATCH], [await plainVerifier.getAddress()]);
  const bound = await committedVerifier(h.C.w);
  const { modelId, tx } = await publish(d, h.C.id, h.C.w, await bound.getAddress());
  return { ...d, ...h, plain: 1n, plainVerifier, bound, modelId, publishTx: tx, registerTx };
}

/** `n` paid on-chain requests of `modelId` from `who`, answered as trace entries. */
async function requests(rollup: FlavumRollup, who: HardhatEthersSigner, modelId: bigint, n: number, seed = 0): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const x = await digitsInput(seed + i);
    await rollup.connect(who).requestInference(modelId, x.inputHash, x.input, ZeroAddress, { value: FEE });
    entries.push({ modelId, requestId: await rollup.requestCount(), inputHash: x.inputHash, outputWord: 0x100n * BigInt(seed + i + 1) + 3n });
  }
  return entries;
}

const gasOf = async (tx: ContractTransactionResponse | Promise<ContractTransactionResponse>) => (await (await tx).wait())!.gasUsed;
/** Gas of the receipts the tests measure, printed once at the end. */
const gas: Record<string, bigint> = {};
const floorShare = (total: bigint, shares: bigint, totalShares: bigint) => (total * shares) / totalShares;

describe("Published models and contributor revenue", function () {
  after(() => {
    if (Object.keys(gas).length) console.log(`      gas: ${Object.entries(gas).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  });

  describe("ModelRegistry.publish", () => {
    it("refuses a caller without the Maintainer role, another repository's commit, unaccepted commits, other weights and bps > 10000", async () => {
      const d = await loadFixture(deployAll);
      const h = await history(d);
      const v = await (await committedVerifier(h.C.w)).getAddress();
      const { registry, repoAddress } = d;
      for (const who of [d.outsider, d.alice])
        await expect(publish(d, h.C.id, h.C.w, v, BPS, who))
          .to.be.revertedWithCustomError(registry, "FlavumNotRepositoryMaintainer")
          .withArgs(repoAddress, REPO, who.address);
      await expect(publish(d, h.otherInitial, fe("w:other"), v))
        .to.be.revertedWithCustomError(registry, "FlavumCommitNotInRepository")
        .withArgs(h.otherInitial, h.other, REPO);
      await expect(publish(d, h.D2.id, h.D2.w, v))
        .to.be.revertedWithCustomError(registry, "FlavumCommitNotPublishable")
        .withArgs(h.D2.id, CommitStatus.Proposed);
      await expect(publish(d, h.D1.id, h.D1.w, v))
        .to.be.revertedWithCustomError(registry, "FlavumCommitNotPublishable")
        .withArgs(h.D1.id, CommitStatus.Rejected);
      await expect(publish(d, h.C.id, h.WM, v))
        .to.be.revertedWithCustomError(registry, "FlavumWeightsNotCommit")
        .withArgs(h.C.id, h.C.w, h.WM);
      await expect(publish(d, h.C.id, h.C.w, v, 10001n)).to.be.revertedWithCustomError(registry, "FlavumInvalidContributorBps").withArgs(10001);
      const noCode = { repository: d.outsider.address, repoId: REPO, commitId: h.C.id, contributorBps: 0 };
      await expect(registry.connect(d.maintainer).publish({ ...commitment(), weightsHash: h.C.w }, digitsShape(), "", [BATCH], [v], noCode))
        .to.be.revertedWithCustomError(registry, "FlavumRepositoryNotContract")
        .withArgs(d.outsider.address);
      // register's own checks apply too.
      await expect(
        registry.connect(d.maintainer).publish({ ...commitment(), weightsHash: h.C.w, proofSystem: hre.ethers.ZeroHash }, digitsShape(), "", [BATCH], [v], { ...noCode, repository: repoAddress }),
      ).to.be.revertedWithCustomError(registry, "FlavumMissingProofSystem");
      expect(await registry.modelCount()).to.equal(0n);
      // Accepted (a merge commit, the initial commit) and Merged commits publish; 10000 bps is the whole fee.
      await expect((await publish(d, h.M, h.WM, v, 10000n)).tx).to.emit(registry, "ModelPublished");
      await expect((await publish(d, INITIAL, W0, v, 0n, d.owner)).tx).to.emit(registry, "ModelPublished");
      await expect((await publish(d, h.A.id, h.A.w, v)).tx).to.emit(registry, "ModelPublished");
    });

    it("mints the model, records its provenance, flags its layout word and answers isPublishedHead / latestPublished", async () => {
      const f = await loadFixture(published);
      const { registry, repository, repoAddress, modelId, maintainer, C } = f;
      await expect(f.publishTx)
        .to.emit(registry, "ModelPublished")
        .withArgs(modelId, repoAddress, REPO, C.id, C.w, BPS)
        .and.to.emit(registry, "ModelRegistered")
        .and.to.emit(registry, "Transfer")
        .withArgs(ZeroAddress, maintainer.address, modelId);
      expect(await registry.ownerOf(modelId)).to.equal(maintainer.address);
      expect(await registry.provenanceOf(modelId)).to.deep.equal([repoAddress, REPO, C.id, BPS]);
      expect(await registry.provenanceOf(f.plain)).to.deep.equal([ZeroAddress, 0n, 0n, 0n]);
      expect(await registry.weightsBindingOf(modelId)).to.deep.equal([C.w, BPS]);
      expect(await registry.weightsBindingOf(f.plain)).to.deep.equal([hre.ethers.ZeroHash, 0n]);
      // Bit 17 of the layout word: the verifiers take the weights hash as a seventh input.
      expect(await registry.servingOf(modelId, BATCH)).to.deep.equal([await f.bound.getAddress(), DIGITS_LAYOUT_WORD | WEIGHTS_BOUND]);
      expect(await registry.servingOf(f.plain, BATCH)).to.deep.equal([await f.plainVerifier.getAddress(), DIGITS_LAYOUT_WORD]);
      expect(await registry.outputLayoutOf(modelId)).to.deep.equal([16n, 10n, true]);

      expect(await registry.latestPublished(repoAddress, REPO)).to.deep.equal([modelId, C.id]);
      expect(await registry.latestPublished(repoAddress, f.other)).to.deep.equal([0n, 0n]);
      expect(await registry.isPublishedHead(modelId, repoAddress, REPO)).to.deep.equal([true, C.id]);
      expect(await registry.isPublishedHead(modelId, repoAddress, f.other)).to.deep.equal([false, 0n]);
      expect(await registry.isPublishedHead(modelId, f.outsider.address, REPO)).to.deep.equal([false, 0n]);
      expect(await registry.isPublishedHead(f.plain, repoAddress, REPO)).to.deep.equal([false, 0n]);

      // main moves on (a revert to M): the model is no longer the published head, and still names its commit.
      const R = await repository.connect(maintainer).revertTo.staticCall(REPO, "main", f.M);
      await repository.connect(maintainer).revertTo(REPO, "main", f.M);
      expect(await registry.isPublishedHead(modelId, repoAddress, REPO)).to.deep.equal([false, C.id]);
      const next = await publish(f, R, f.WM, await (await committedVerifier(f.WM)).getAddress());
      expect(await registry.latestPublished(repoAddress, REPO)).to.deep.equal([next.modelId, R]);
      expect(await registry.isPublishedHead(next.modelId, repoAddress, REPO)).to.deep.equal([true, R]);
    });
  });

  describe("FlavumRollup", () => {
    it("verifies a published model's batches with seven inputs, the seventh the registry's weightsHash; other models' path is unchanged", async () => {
      const f = await loadFixture(published);
      const { rollup, registry, sequencer, modelId, C } = f;
      const seq = rollup.connect(sequencer);
      const entries = await requests(rollup, f.user, modelId, 3);
      const tree = await buildSubtree(entries, BATCH);
      const trace = encodeTrace(entries);
      // The first six inputs are exactly the six-input statement: bit 17 stays out of meta.
      const { pub } = await statementFor(rollup, { modelId, batchSize: BATCH, count: 3, newRoot: 7n, batchRoot: tree.root, trace });
      await f.bound.expectInputs(pub);
      await expect(seq.submitBatch(modelId, BATCH, 3, 7n, tree.root, a, b, c, trace)).to.emit(rollup, "BatchSubmitted");

      // A verifier of the same circuit for other weights refuses the batch.
      const wrong = await committedVerifier(f.WM);
      const { modelId: second } = await publish(f, C.id, C.w, await wrong.getAddress());
      const e2 = await requests(rollup, f.user, second, 1, 50);
      await expect(submitEntries(f, second, e2, BATCH))
        .to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof")
        .withArgs(second, batchIdOf(second, 0), await wrong.getAddress());
      expect((await rollup.modelTrace(second))[2]).to.equal(0n);

      // The plain model: its six-input verifier, bound to today's statement, and the whole fee to the sequencer.
      const p = await requests(rollup, f.user, f.plain, 2, 100);
      const ptree = await buildSubtree(p, BATCH);
      const ptrace = encodeTrace(p);
      await f.plainVerifier.expectInputs((await statementFor(rollup, { modelId: f.plain, batchSize: BATCH, count: 2, newRoot: 9n, batchRoot: ptree.root, trace: ptrace })).pub);
      const before = await rollup.earningsOf(sequencer.address);
      await expect(seq.submitBatch(f.plain, BATCH, 2, 9n, ptree.root, a, b, c, ptrace)).to.emit(rollup, "BatchSubmitted").and.not.to.emit(rollup, "ModelRevenueAccrued");
      expect((await rollup.earningsOf(sequencer.address)) - before).to.equal(2n * FEE);
      expect(await rollup.modelRevenueOf(f.plain)).to.equal(0n);
      expect(await registry.weightsBindingOf(f.plain)).to.deep.equal([hre.ethers.ZeroHash, 0n]);

      // Steady state (every slot already non-zero), both verifiers bound to their statement: 10 requests each.
      const settle = async (id: bigint, v: MockBatchVerifier | MockCommittedBatchVerifier, seed: number) => {
        const e = await requests(rollup, f.user, id, 10, seed);
        const t = await buildSubtree(e, BATCH);
        const tr = encodeTrace(e);
        await v.expectInputs((await statementFor(rollup, { modelId: id, batchSize: BATCH, count: 10, newRoot: 11n, batchRoot: t.root, trace: tr })).pub);
        return gasOf(seq.submitBatch(id, BATCH, 10, 11n, t.root, a, b, c, tr));
      };
      gas["submitBatch published, steady state"] = await settle(modelId, f.bound, 300);
      gas["submitBatch unpublished, steady state"] = await settle(f.plain, f.plainVerifier, 400);
    });

    it("splits fees fulfilled from posted (IPFS) batches per request, and verifies those batches with the weights too", async () => {
      const d = await loadFixture(ipfsWorld);
      const h = await history(d);
      const bound = await committedVerifier(h.C.w);
      const bps = 3333n;
      const { modelId } = await publish(d, h.C.id, h.C.w, await bound.getAddress(), bps);
      const entries = await requests(d.rollup, d.user, modelId, 3);
      const tree = await buildSubtree(entries, BATCH);
      const batchId = batchIdOf(modelId, 0);
      const digest = keccak256(toUtf8Bytes("trace"));
      const { chainId } = await hre.ethers.provider.getNetwork();
      const rollupAddress = await d.rollup.getAddress();
      const signatures = encodeSignatures([await signAvailability(d.member, { rollup: rollupAddress, chainId, batchId, digest })]);
      const posted = { modelId, batchSize: BATCH, count: 3, newRoot: 5n, batchRoot: tree.root, a, b, c, h: 1n };
      const seq = d.rollup.connect(d.sequencer);
      // A posted batch of other weights is refused like a calldata one.
      const wrong = await committedVerifier(h.WM);
      const { modelId: other } = await publish(d, h.C.id, h.C.w, await wrong.getAddress(), bps);
      const otherSig = encodeSignatures([await signAvailability(d.member, { rollup: rollupAddress, chainId, batchId: batchIdOf(other, 0), digest })]);
      await expect(seq.submitBatchIpfs({ ...posted, modelId: other }, digest, [d.member.address], otherSig))
        .to.be.revertedWithCustomError(d.rollup, "FlavumInvalidBatchProof")
        .withArgs(other, batchIdOf(other, 0), await wrong.getAddress());
      await seq.submitBatchIpfs(posted, digest, [d.member.address], signatures);

      const cut = (FEE * bps) / 10000n;
      for (let i = 0; i < entries.length; i++)
        await expect(d.rollup.connect(d.outsider).fulfillFromBatch(batchId, entries[i], i, tree.path(i)))
          .to.emit(d.rollup, "ModelRevenueAccrued")
          .withArgs(modelId, cut)
          .and.to.emit(d.rollup, "InferenceIncluded")
          .withArgs(entries[i].requestId, batchId, d.sequencer.address, FEE);
      // Rounded down per request: 3 * floor(fee * bps / 10000), the sequencer keeping the rest.
      expect(await d.rollup.modelRevenueOf(modelId)).to.equal(3n * cut);
      expect(await d.rollup.earningsOf(d.sequencer.address)).to.equal(3n * (FEE - cut));
      await d.revenue.open(modelId);
      await expect(d.revenue.release(modelId, d.carol.address)).to.changeEtherBalance(d.carol, floorShare(3n * cut, 48n, 96n));
    });

    it("lets only the admin attach a revenue contract, once; only it withdraws model revenue", async () => {
      const f = await loadFixture(published);
      const { rollup, admin, outsider, revenueAddress } = f;
      expect(await rollup.revenueContract()).to.equal(revenueAddress);
      await expect(rollup.connect(admin).attachRevenue(outsider.address))
        .to.be.revertedWithCustomError(rollup, "FlavumRevenueAlreadyAttached")
        .withArgs(revenueAddress);
      await expect(rollup.connect(outsider).attachRevenue(outsider.address))
        .to.be.revertedWithCustomError(rollup, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await rollup.DEFAULT_ADMIN_ROLE());
      for (const who of [outsider, admin, f.sequencer])
        await expect(rollup.connect(who).withdrawModelRevenue(f.modelId))
          .to.be.revertedWithCustomError(rollup, "FlavumNotRevenueContract")
          .withArgs(who.address, revenueAddress);

      // A bare rollup on the same registry, with no revenue contract yet.
      const bare = (await hre.ethers.deployContract("FlavumRollup", [
        f.addresses.registry, f.addresses.poseidon2, f.addresses.poseidon4, admin.address, f.emptyRoot, 256, traceStoreConfig(), { domain: 1n, chainTag: 0 },
      ])) as unknown as FlavumRollup;
      const bareAddress = await bare.getAddress();
      expect(await bare.revenueContract()).to.equal(ZeroAddress);
      await expect(bare.attachRevenue(ZeroAddress)).to.be.revertedWithCustomError(bare, "FlavumZeroAddress").withArgs("revenue");
      // Before any attachment nobody withdraws.
      await expect(bare.connect(outsider).withdrawModelRevenue(1n))
        .to.be.revertedWithCustomError(bare, "FlavumNotRevenueContract")
        .withArgs(outsider.address, ZeroAddress);
      const { revenue, contract } = await deployRevenue(hre, { registry: f.addresses.registry, rollup: bareAddress });
      expect(await bare.revenueContract()).to.equal(revenue);
      expect((await bare.queryFilter(bare.filters.RevenueAttached())).map((e) => e.args.revenue)).to.deep.equal([revenue]);
      expect([await contract.registry(), await contract.rollup()]).to.deep.equal([f.addresses.registry, bareAddress]);
      await expect(bare.attachRevenue(outsider.address)).to.be.revertedWithCustomError(bare, "FlavumRevenueAlreadyAttached").withArgs(revenue);
    });
  });

  describe("ContributorRevenue", () => {
    it("shares a published head's fees among its contributors by proven samples (the issue's scenario)", async () => {
      const f = await loadFixture(published);
      const { rollup, revenue, registry, modelId, sequencer, outsider, alice, bob, carol, dave } = f;
      gas["publish"] = (await f.publishTx.wait())!.gasUsed;
      gas["register of the same model"] = (await f.registerTx.wait())!.gasUsed;

      // 10 paid requests, settled in one batch through the 7-input verifier.
      const entries = await requests(rollup, f.user, modelId, 10);
      const settled = await submitEntries(f, modelId, entries, BATCH);
      gas["submitBatch published, 1st batch of 10 requests"] = await gasOf(settled.tx);
      const total = 10n * FEE;
      // One cut on the batch's sum, rounded down; the sequencer keeps the rest.
      const cut = (total * BPS) / 10000n;
      await expect(settled.tx).to.emit(rollup, "ModelRevenueAccrued").withArgs(modelId, cut);
      expect(await rollup.modelRevenueOf(modelId)).to.equal(cut);
      expect(await rollup.earningsOf(sequencer.address)).to.equal(total - cut);

      // The same batch of the plain model, for the gas comparison.
      gas["submitBatch unpublished, 1st batch of 10 requests (sequencer earnings already non-zero)"] = await gasOf(
        (await submitEntries(f, f.plain, await requests(rollup, f.user, f.plain, 10, 200), BATCH)).tx,
      );
      expect(await rollup.earningsOf(sequencer.address)).to.equal(total - cut + total);

      await expect(revenue.release(modelId, carol.address)).to.be.revertedWithCustomError(revenue, "FlavumRevenueNotOpen").withArgs(modelId);
      const openTx = revenue.connect(outsider).open(modelId);
      await expect(openTx)
        .to.emit(revenue, "RevenueOpened")
        .withArgs(modelId, f.repoAddress, REPO, f.C.id, [carol.address, alice.address, bob.address], [48n, 16n, 32n]);
      gas["open (3 commits + 2 merged fetched, 3 payees)"] = await gasOf(openTx);
      expect(await revenue.isOpen(modelId)).to.equal(true);
      expect(await revenue.payees(modelId)).to.deep.equal([[carol.address, alice.address, bob.address], [48n, 16n, 32n]]);
      expect(await revenue.totalShares(modelId)).to.equal(96n);
      expect(await revenue.shares(modelId, dave.address)).to.equal(0n);
      await expect(revenue.open(modelId)).to.be.revertedWithCustomError(revenue, "FlavumRevenueAlreadyOpen").withArgs(modelId);
      // Still accrued in the rollup: counted as received, releasable.
      expect(await revenue.totalReceived(modelId)).to.equal(cut);
      expect(await revenue.releasable(modelId, alice.address)).to.equal(floorShare(cut, 16n, 96n));

      // The rejected contributor earns nothing.
      expect(await revenue.releasable(modelId, dave.address)).to.equal(0n);
      await expect(revenue.release(modelId, dave.address)).to.be.revertedWithCustomError(revenue, "FlavumNotPayee").withArgs(modelId, dave.address);

      // outsider releases for each contributor, so their balances move by exactly their due.
      const byOutsider = revenue.connect(outsider);
      const carolBefore = await hre.ethers.provider.getBalance(carol.address);
      const firstRelease = byOutsider.release(modelId, carol.address);
      await expect(firstRelease)
        .to.emit(revenue, "RevenueCollected")
        .withArgs(modelId, cut)
        .and.to.emit(rollup, "ModelRevenueWithdrawn")
        .withArgs(modelId, f.revenueAddress, cut)
        .and.to.emit(revenue, "RevenueReleased")
        .withArgs(modelId, carol.address, floorShare(cut, 48n, 96n));
      gas["release (first, with collect)"] = await gasOf(firstRelease);
      expect((await hre.ethers.provider.getBalance(carol.address)) - carolBefore).to.equal(floorShare(cut, 48n, 96n));
      expect(await rollup.modelRevenueOf(modelId)).to.equal(0n);
      for (const [who, samples] of [[alice, 16n], [bob, 32n]] as const)
        await expect(byOutsider.release(modelId, who.address)).to.changeEtherBalance(who, floorShare(cut, samples, 96n));
      for (const [who, samples] of [[carol, 48n], [alice, 16n], [bob, 32n]] as const)
        expect(await revenue.released(modelId, who.address)).to.equal(floorShare(cut, samples, 96n));
      // A second release pays nothing more.
      await expect(byOutsider.release(modelId, carol.address)).to.be.revertedWithCustomError(revenue, "FlavumNothingToRelease").withArgs(modelId, carol.address);
      expect(await revenue.releasable(modelId, carol.address)).to.equal(0n);
      // Only rounding dust stays behind.
      const dust = cut - floorShare(cut, 48n, 96n) - floorShare(cut, 16n, 96n) - floorShare(cut, 32n, 96n);
      expect(await hre.ethers.provider.getBalance(f.revenueAddress)).to.equal(dust);
      expect(dust < 3n).to.equal(true);

      await expect(rollup.connect(outsider).withdrawModelRevenue(modelId)).to.be.revertedWithCustomError(rollup, "FlavumNotRevenueContract");

      // More fees after the releases are shared again, on the running totals.
      const more = await requests(rollup, f.user, modelId, 3, 10);
      await submitEntries(f, modelId, more, BATCH, 0x5678n);
      const cut2 = (3n * FEE * BPS) / 10000n;
      expect(await revenue.totalReceived(modelId)).to.equal(cut + cut2);
      for (const [who, samples] of [[carol, 48n], [alice, 16n], [bob, 32n]] as const) {
        const due = floorShare(cut + cut2, samples, 96n) - floorShare(cut, samples, 96n);
        expect(await revenue.releasable(modelId, who.address)).to.equal(due);
        await expect(byOutsider.release(modelId, who.address)).to.changeEtherBalance(who, due);
        expect(await revenue.released(modelId, who.address)).to.equal(floorShare(cut + cut2, samples, 96n));
      }
      expect(await rollup.earningsOf(sequencer.address)).to.equal(total - cut + total + (3n * FEE - cut2));
      expect(await registry.isPublishedHead(modelId, f.repoAddress, REPO)).to.deep.equal([true, f.C.id]);

    });

    it("follows a revert to the weights it restored, not to its parent", async () => {
      const f = await loadFixture(published);
      const { repository, revenue, maintainer, alice, bob, carol } = f;
      const R = await repository.connect(maintainer).revertTo.staticCall(REPO, "main", f.M);
      await repository.connect(maintainer).revertTo(REPO, "main", f.M);
      const c = await repository.commit(R);
      expect([c.parents[0], c.revertOf]).to.deep.equal([f.C.id, f.M]);
      const { modelId } = await publish(f, R, f.WM, await (await committedVerifier(f.WM)).getAddress());
      await expect(revenue.open(modelId))
        .to.emit(revenue, "RevenueOpened")
        .withArgs(modelId, f.repoAddress, REPO, R, [alice.address, bob.address], [16n, 32n]);
      // carol's commit, reverted away, earns nothing from this model.
      expect(await revenue.shares(modelId, carol.address)).to.equal(0n);
      // Carol still holds her shares of the model published before the revert.
      await revenue.open(f.modelId);
      expect(await revenue.shares(f.modelId, carol.address)).to.equal(48n);
    });

    it("pays untrained weights to the repository's holder; credits nothing for never-merged commits on the line", async () => {
      const d = await loadFixture(deployAll);
      const { repository, revenue, owner, maintainer, carol } = d;
      const v = await (await committedVerifier(W0)).getAddress();
      const { modelId } = await publish(d, INITIAL, W0, v, BPS, owner);
      await expect(revenue.open(modelId)).to.emit(revenue, "RevenueOpened").withArgs(modelId, d.repoAddress, REPO, INITIAL, [owner.address], [1n]);

      // A maintainer pushes straight to main (a Proposed commit P, never mergeable), carol trains on top
      // and is merged; P is rejected later. The walk passes P and credits only carol.
      const P = await push(d, maintainer, "main", INITIAL, "p", 20);
      await repository.connect(carol).createBranch(REPO, "carol", P.id);
      const C = await push(d, carol, "carol", P.id, "c", 12);
      await mergeInto(d, [C.id], C.w);
      await repository.connect(maintainer).reject(REPO, P.id, "late");
      const { modelId: m2 } = await publish(d, C.id, C.w, await (await committedVerifier(C.w)).getAddress());
      await expect(revenue.open(m2)).to.emit(revenue, "RevenueOpened").withArgs(m2, d.repoAddress, REPO, C.id, [carol.address], [12n]);

      await expect(revenue.open(99n)).to.be.revertedWithCustomError(revenue, "FlavumModelNotPublished").withArgs(99n);
      await expect(revenue.collect(99n)).to.be.revertedWithCustomError(revenue, "FlavumRevenueNotOpen").withArgs(99n);
      expect(await revenue.collect.staticCall(modelId)).to.equal(0n);
      await expect(d.outsider.sendTransaction({ to: d.revenueAddress, value: 1n }))
        .to.be.revertedWithCustomError(revenue, "FlavumNotRollup")
        .withArgs(d.outsider.address);
      expect([await revenue.registry(), await revenue.rollup(), await revenue.MAX_HISTORY()]).to.deep.equal([d.addresses.registry, d.addresses.rollup, 512n]);
      const F = await hre.ethers.getContractFactory("ContributorRevenue");
      const otherRegistry = await (await hre.ethers.deployContract("ModelRegistry")).getAddress();
      await expect(F.deploy(otherRegistry, d.addresses.rollup))
        .to.be.revertedWithCustomError(F, "FlavumRegistryMismatch")
        .withArgs(otherRegistry, d.addresses.registry);
      await expect(F.deploy(ZeroAddress, d.addresses.rollup)).to.be.revertedWithCustomError(F, "FlavumZeroAddress").withArgs("registry");
    });

    it("reads at most MAX_HISTORY commits", async () => {
      const d = await loadFixture(harnessWorld);
      const repo = d.repository as unknown as ModelRepositoryHarness;
      await repo.connect(d.owner).createBranch(REPO, "long", INITIAL);
      /** Plants `n` commits on branch "long" and reverts main to the last: a walk of n + 2 reads. */
      let head = INITIAL;
      const grow = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const next = await repo.plantTrainCommit.staticCall(REPO, "long", head, fe(`w:long:${head}`), fe(`d:long:${head}`), 4, 1);
          await repo.plantTrainCommit(REPO, "long", head, fe(`w:long:${head}`), fe(`d:long:${head}`), 4, 1);
          head = next;
        }
        const R = await repo.connect(d.owner).revertTo.staticCall(REPO, "main", head);
        await repo.connect(d.owner).revertTo(REPO, "main", head);
        const w = (await repo.commit(head)).weightsHash;
        return (await publish(d, R, w, await (await committedVerifier(w)).getAddress(), BPS, d.owner)).modelId;
      };
      const fits = await grow(510); // revert + 510 planted + initial = 512 reads
      const openTx = d.revenue.open(fits);
      await expect(openTx).to.emit(d.revenue, "RevenueOpened").withArgs(fits, d.repoAddress, REPO, (x: bigint) => x > 0n, [d.owner.address], [1n]);
      const tooLong = await grow(1);
      await expect(d.revenue.open(tooLong)).to.be.revertedWithCustomError(d.revenue, "FlavumHistoryTooLong").withArgs(tooLong, 512n);
      gas["open of a 512-commit walk"] = await gasOf(openTx);
    });
  });
});
