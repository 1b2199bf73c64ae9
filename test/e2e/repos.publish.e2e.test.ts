/**
 * From repository to rollup, end to end with real proofs on the Hardhat network: three contributors
 * train the breast-cancer repository with different proven sample counts (16, 32 and 48 rows: one,
 * two and three chained proofs), two are merged with a proven FedAvg, the third fast-forwarded on
 * top, and a fourth contributor's commit is rejected. Main's head is published: its batch circuit
 * takes the commit's weights as private input bound to the registry's weightsHash, which the registry
 * took from the commit itself. Ten on-chain inference requests pay fees; the batches settle with real
 * proofs; half of every fee goes to the contributors, who each claim exactly their share of proven
 * samples, once; the rejected contributor gets nothing. The provenance audit re-verifies every proof
 * of the history from the original calldata, and dApps see the model as the repository's head until
 * main moves on. Publishing is refused for a rejected commit, a non-maintainer, and (by the
 * contract) a model whose weights are not the commit's.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployRollup } from "../../src/chain/deployRollup";
import { ObjectStore } from "../../src/repos/objectStore";
import * as repos from "../../src/repos/workflow";
import { publishCommit } from "../../src/repos/publish";
import { claimAll, modelShares, publishedModels, revenueContracts } from "../../src/repos/revenue";
import { auditProvenance } from "../../src/audit/provenance";
import { openSequencer } from "../../src/rollup/service";
import { encodeInput, readInputLayout } from "../../src/sdk/encodeInput";
import { unpackOutputWord } from "../../src/protocol/batch";
import { loadModel } from "../../src/model/artifacts";
import { runInt, quantizeInput } from "../../src/quant/intExec";
import { contexts, createCancerRepo, cancer, cancerDataFiles } from "../helpers/repos";
import { tmpStore } from "../helpers/rollup";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-publish-"));
const dataFile = cancerDataFiles(tmp);
const train = cancer.split.train;
const B = 4;
// 10 fees of 6·10^14 wei, half to contributors: 3·10^15 shared 16 : 32 : 48, exactly.
const FEE = 600_000_000_000_000n;
const BPS = 5000;

describe("publishing a repository commit to the rollup", function () {
  const objects = new ObjectStore(path.join(tmp, "objects"));
  const ctxFor = contexts(tmp, objects);

  async function trained() {
    const d = await deployRollup(hre);
    await (await d.rollup.setRequestFee(FEE)).wait();
    const r = await createCancerRepo(ctxFor, [1, 2, 3, 4]);
    const owner = await ctxFor(r.address, 0);
    const [c1, c2, c3, c4] = await Promise.all([1, 2, 3, 4].map((i) => ctxFor(r.address, i)));
    // Round 1: 16 and 32 rows from main, merged with a proven FedAvg of two.
    const t1 = await repos.train(c1, "cancer", dataFile("c1", train.slice(0, 16)));
    const t2 = await repos.train(c2, "cancer", dataFile("c2", train.slice(16, 48)));
    for (const [ctx, t] of [[c1, t1], [c2, t2]] as const) await repos.push(ctx, "cancer", t.id);
    const m1 = (await repos.merge(owner, "cancer", [t1.id, t2.id])).commit;
    // Round 2: 48 rows from the merge, fast-forwarded; a fourth contributor's commit is rejected.
    const t3 = await repos.train(c3, "cancer", dataFile("c3", train.slice(48, 96)));
    const t4 = await repos.train(c4, "cancer", dataFile("c4", train.slice(96, 112)));
    const p3 = await repos.push(c3, "cancer", t3.id);
    await repos.push(c4, "cancer", t4.id);
    await repos.reject(owner, "cancer", t4.id, "not reviewed in time");
    await repos.merge(owner, "cancer", [t3.id]);
    return { d, r, owner, m1, t3, t4, headToken: p3.commitId };
  }

  it("publishes main's head, serves 10 paid requests with real proofs and pays each contributor its share once", async () => {
    const { d, r, owner, m1, t3, t4, headToken } = await loadFixture(trained);
    const signers = await hre.ethers.getSigners();
    const repository = r.address;

    // Refused before anything is built: a rejected commit, a contributor publishing.
    const seq = await openSequencer(hre, { store: tmpStore("publish"), addresses: d.addresses });
    try {
      await expect(publishCommit(owner, seq, "cancer", t4.id, { batch: B, contributorBps: BPS })).to.be.rejectedWith(/is Rejected: only a merged or accepted commit/);
      const c1 = await ctxFor(repository, 1);
      await expect(publishCommit(c1, seq, "cancer", t3.id, { batch: B, contributorBps: BPS })).to.be.rejectedWith(/is Contributor in cancer: publishing needs a Maintainer/);

      const pub = await publishCommit(owner, seq, "cancer", t3.id, { batch: B, contributorBps: BPS, name: "cancer_head" });
      expect(pub.commit).to.equal(t3.id);
      const modelId = pub.modelId;

      // The registry holds the commit's weights commitment and the provenance; dApps see the head.
      const commit = await owner.ledger.commit(headToken);
      expect(BigInt((await d.registry.commitmentOf(modelId)).weightsHash)).to.equal(commit.weightsHash);
      const prov = await d.registry.provenanceOf(modelId);
      expect([prov.repository, prov.repoId, prov.commitId, Number(prov.contributorBps)]).to.deep.equal([repository, r.repoId, headToken, BPS]);
      const [isHead, headCommit] = await d.registry.isPublishedHead(modelId, repository, r.repoId);
      expect([isHead, headCommit]).to.deep.equal([true, headToken]);

      // Ten on-chain requests with the fee, on held-out rows, settled in batches of 4 with real proofs.
      const layout = await readInputLayout(d.registry, modelId);
      const rows = cancer.split.test.slice(0, 10);
      const ids: bigint[] = [];
      for (const [i, row] of rows.entries()) {
        const enc = await encodeInput(layout, cancer.features[row]);
        const who = signers[5 + (i % 3)];
        ids.push(await d.rollup.connect(who).requestInference.staticCall(modelId, enc.inputHash, enc.input, hre.ethers.ZeroAddress, { value: FEE }));
        await (await d.rollup.connect(who).requestInference(modelId, enc.inputHash, enc.input, hre.ethers.ZeroAddress, { value: FEE })).wait();
      }
      await seq.syncOnchainRequests();
      let settled = 0;
      while (settled < 10) {
        const b = await seq.proveNext();
        expect(b, "a batch to prove").to.not.equal(undefined);
        settled += (await seq.submit())!.inferences;
      }
      // Every request is served with the model the commit trained: the proven label is the executor's.
      const q = loadModel("cancer_head").q;
      for (const [i, id] of ids.entries()) {
        const req = await d.rollup.requestOf(id);
        expect(req.status).to.equal(2n); // Included
        const t = await seq.trace(id);
        expect(t.verified).to.equal(true);
        const word = unpackOutputWord(BigInt(t.outputWord!), 1, q.tensors[q.output].bits);
        expect(word.out[0]).to.equal(runInt(q, quantizeInput(q, cancer.features[rows[i]])).output[0]);
      }

      // The fees' contributor half, shared by proven samples: 16 : 32 : 48.
      const c = await revenueContracts(hre, 0, { registry: d.addresses.registry, revenue: d.addresses.revenue });
      const [m] = await publishedModels(c, repository, r.repoId);
      expect(m.modelId).to.equal(modelId);
      const shares = await modelShares(c, m, { open: true });
      const pool = (FEE * 10n * BigInt(BPS)) / 10_000n;
      const expected = new Map([[signers[1].address, 16n], [signers[2].address, 32n], [signers[3].address, 48n]]);
      expect(shares.contributors.map((x) => x.account)).to.have.members([...expected.keys()]);
      for (const x of shares.contributors) {
        expect(BigInt(x.samples)).to.equal(expected.get(x.account));
        expect(BigInt(x.claimable)).to.equal((pool * expected.get(x.account)!) / 96n);
        expect(x.share).to.be.closeTo(Number(expected.get(x.account)!) / 96, 1e-6);
      }
      expect(await d.rollup.earningsOf(signers[0].address)).to.equal(FEE * 10n - pool);

      // Each contributor claims exactly its share, once; the rejected contributor gets nothing.
      for (const i of [1, 2, 3]) {
        const ctx = await ctxFor(repository, i);
        const before = await hre.ethers.provider.getBalance(signers[i].address);
        const claimed = await claimAll(await revenueContracts(hre, i, { registry: d.addresses.registry, revenue: d.addresses.revenue }), repository, r.repoId, ctx.ledger.account);
        expect(claimed.map((x) => BigInt(x.amount))).to.deep.equal([(pool * expected.get(signers[i].address)!) / 96n]);
        let gas = 0n;
        for (const x of claimed) {
          const rc = (await hre.ethers.provider.getTransactionReceipt(x.txHash))!;
          gas += rc.gasUsed * rc.gasPrice;
        }
        expect(await hre.ethers.provider.getBalance(signers[i].address)).to.equal(before + BigInt(claimed[0].amount) - gas);
        expect(await claimAll(await revenueContracts(hre, i, { registry: d.addresses.registry, revenue: d.addresses.revenue }), repository, r.repoId, ctx.ledger.account)).to.deep.equal([]);
      }
      expect(await claimAll(c, repository, r.repoId, signers[4].address)).to.deep.equal([]);
      expect(await c.revenue.releasable(modelId, signers[4].address)).to.equal(0n);

      // The provenance audit walks head → merge (and its two commits) → initial, re-verifying each proof.
      const audit = await auditProvenance(hre, d.addresses.registry, modelId, { objects });
      expect(audit.ok, JSON.stringify(audit.checks.filter((x) => !x.ok))).to.equal(true);
      expect(audit.chain.map((s) => s.kind)).to.deep.equal(["train", "merge", "train (merged)", "train (merged)", "initial"]);
      expect(audit.chain[1].contentId).to.equal(m1);
      expect(audit.checks.find((x) => x.name === "the served circuit is the commit's model")!.ok).to.equal(true);

      // Once main moves on, the model is no longer the published head (its commit is still named).
      await repos.revert(owner, "cancer", m1);
      expect(await d.registry.isPublishedHead(modelId, repository, r.repoId)).to.deep.equal([false, headToken]);
    } finally {
      seq.store.close();
    }
  });

  it("the registry refuses a published model whose weights are not the commit's", async () => {
    const { d, r, headToken } = await loadFixture(trained);
    const commitment = {
      weightsHash: hre.ethers.toBeHex(12345n, 32), architectureHash: hre.ethers.ZeroHash, circuitHash: hre.ethers.ZeroHash,
      vkHash: hre.ethers.ZeroHash, proofSystem: hre.ethers.id("groth16-bn254"),
    };
    const shape = { inputShape: [30], outputShape: [1], inputScale: 8, outputScale: 8, inputBits: 12, outputBits: 16, outputCount: 1, hasLabel: false };
    const verifier = await (await hre.ethers.deployContract("MockCommittedBatchVerifier", [12345n])).getAddress();
    await expect(d.registry.publish(commitment, shape, "x", [B], [verifier], { repository: r.address, repoId: r.repoId, commitId: headToken, contributorBps: BPS }))
      .to.be.revertedWithCustomError(d.registry, "FlavumWeightsNotCommit");

    // The commit's weights with another program: the registry cannot tell, the provenance audit can.
    const commit = await (await ctxFor(r.address, 0)).ledger.commit(headToken);
    const weightsHash = hre.ethers.toBeHex(commit.weightsHash, 32);
    const honest = await (await hre.ethers.deployContract("MockCommittedBatchVerifier", [commit.weightsHash])).getAddress();
    await (await d.registry.publish({ ...commitment, weightsHash, circuitHash: hre.ethers.id("another program") }, shape, "flavum://models/cancer_head", [B], [honest],
      { repository: r.address, repoId: r.repoId, commitId: headToken, contributorBps: BPS })).wait();
    const audit = await auditProvenance(hre, d.addresses.registry, await d.registry.modelCount(), { objects });
    const program = audit.checks.find((x) => x.name === "the served circuit is the commit's model")!;
    expect([audit.ok, program.ok]).to.deep.equal([false, false]);
    expect(audit.checks.filter((x) => !x.ok)).to.have.length(1);
  });
});
