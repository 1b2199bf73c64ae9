/**
 * Model repositories end to end, with real training and merge proofs on the Hardhat network: an
 * owner and three contributors on a split of the breast-cancer data, two rounds of training, proven
 * FedAvg merges, a commit rejected on review, a forged commit refused by the contract, a stale
 * parent, a revert — and every commit an NFT owned by its author, named everywhere by the one id
 * repo:train gave it. Replays: a contributor's proof pushed by another account, or on another
 * repository of the same spec (same verifier, same initial weights), or a second time, is refused;
 * so is a merge of the same rows re-ordered. (Chains of several proofs: repos.chain.e2e.test.ts.)
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployRepositories } from "../../src/chain/deployRepos";
import { EvmRepoLedger } from "../../src/chain/evmRepos";
import { ObjectStore } from "../../src/repos/objectStore";
import { LocalIndex } from "../../src/repos/localIndex";
import { shortId } from "../../src/repos/commitIds";
import { chunkSalt, linkCalldata, StoredLink } from "../../src/repos/trainingChain";
import * as repos from "../../src/repos/workflow";
import { onnxPath, usePtauDir } from "../helpers/fixtures";
import { contexts, createCancerRepo } from "../helpers/repos";
import { REPO } from "../helpers/circuit";

const cancer = JSON.parse(fs.readFileSync(path.join(REPO, "fixtures/data/breast_cancer.json"), "utf8")) as {
  features: number[][];
  labels: number[];
  split: { train: number[]; test: number[] };
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-repos-"));
function dataFile(name: string, rows: number[], flip = false): string {
  const f = path.join(tmp, `${name}.json`);
  fs.writeFileSync(f, JSON.stringify({ features: rows.map((i) => cancer.features[i]), labels: rows.map((i) => (flip ? 1 - cancer.labels[i] : cancer.labels[i])) }));
  return f;
}
// Each contributor holds a private slice of the training split; a commit trains on 16 rows.
const slices = [0, 1, 2].map((c) => cancer.split.train.slice(c * 96, c * 96 + 96));
const roundData = (c: number, round: number) => dataFile(`c${c}-r${round}`, slices[c].slice(round * 16, round * 16 + 16));
const testFile = dataFile("test", cancer.split.test);

describe("model repositories end to end", function () {
  const objects = new ObjectStore(path.join(tmp, "objects"));

  const ctxFor = contexts(tmp, objects);
  const created = () => createCancerRepo(ctxFor, [1, 2, 3]);

  it("runs two federated rounds with proven commits and merges, a rejection and a revert", async () => {
    const { address, initialId } = await loadFixture(created);
    const owner = await ctxFor(address, 0);
    const contributors = await Promise.all([1, 2, 3].map((i) => ctxFor(address, i)));
    const signers = await hre.ethers.getSigners();

    // Round 1: three contributors train from main; the third trained on flipped labels.
    const pushed: string[] = [];
    for (const [c, ctx] of contributors.entries()) {
      const file = c === 2 ? dataFile("poisoned", slices[2].slice(0, 16), true) : roundData(c, 0);
      const t = await repos.train(ctx, "cancer", file);
      expect(t.parent).to.equal(initialId);
      const p = await repos.push(ctx, "cancer", t.id);
      // The id repo:train gave is the id the contract recorded.
      expect(p.commit).to.equal(t.id);
      pushed.push(p.commit);
    }
    // A maintainer reviews: the poisoned commit is rejected, the others merged with a proven FedAvg.
    await repos.reject(owner, "cancer", pushed[2], "trained on flipped labels");
    const m1 = (await repos.merge(owner, "cancer", pushed.slice(0, 2))).commit;
    await expect(repos.merge(owner, "cancer", [pushed[2]])).to.be.rejectedWith(/stale parent|not in a state/);

    // Round 2 from the merged head, all three contributors, merged as three.
    const round2: string[] = [];
    const tokens: bigint[] = [];
    for (const [c, ctx] of contributors.entries()) {
      const t = await repos.train(ctx, "cancer", roundData(c, 1));
      expect(t.parent).to.equal(m1);
      const p = await repos.push(ctx, "cancer", t.id);
      round2.push(p.commit);
      tokens.push(p.commitId);
    }
    const m2 = (await repos.merge(owner, "cancer", round2)).commit;

    // Revert main to round 1's merge: a new commit with those weights, history kept.
    const rv = (await repos.revert(owner, "cancer", m1)).commit;

    const log = await repos.log(owner, "cancer");
    const byId = new Map(log.commits.map((c) => [c.id, c]));
    expect(byId.get(pushed[2])!.status).to.equal("rejected");
    expect(byId.get(m1)!.kind).to.equal("merge");
    expect(byId.get(m1)!.parents).to.deep.equal([initialId, pushed[0], pushed[1]]);
    expect(byId.get(m2)!.metrics.samples).to.equal(48);
    expect(byId.get(rv)!.revertOf).to.equal(m1);
    expect(byId.get(rv)!.weightsHash).to.equal(byId.get(m1)!.weightsHash);
    expect(log.branches.find((b) => b.name === "main")!.head).to.equal(rv);
    expect(log.commits.every((c) => c.verified)).to.equal(true);

    // Every accepted commit is a token its author holds, minted by the contract.
    for (const [c, token] of tokens.entries()) expect(await owner.ledger.ownerOf(token)).to.equal(signers[c + 1].address);
    expect(await owner.ledger.ownerOf(BigInt(byId.get(m2)!.token))).to.equal(signers[0].address);

    // The merged models still classify the held-out split well; diff shows which layer moved.
    const e2 = await repos.evalCommit(owner, "cancer", m2, testFile);
    expect(e2.accuracy).to.be.greaterThan(0.9);
    const d = await repos.diff(owner, m1, m2);
    expect(d.map((l) => l.layer)).to.include.members(["w", "b"]);
    expect(d.find((l) => l.layer === "w")!.l2).to.be.greaterThan(0);
  });

  it("refuses weights not produced by the rule, a stale parent and a non-member", async () => {
    const { address, initialId } = await loadFixture(created);
    const [alice, bob] = await Promise.all([ctxFor(address, 1), ctxFor(address, 2)]);
    const t = await repos.train(alice, "cancer", roundData(0, 0));
    // Tamper with the record: other weights than the proof computed.
    const rec = objects.getJson<Record<string, unknown> & { links: StoredLink[] }>(alice.index.find(t.id).record);
    const tampered = (over: Partial<StoredLink>) => {
      const forged = objects.putJson({ ...rec, links: [{ ...rec.links[0], ...over }] });
      alice.index.add(forged, "cancer");
      return forged;
    };
    const bump = (v: string) => (BigInt(v) + 1n).toString();
    await expect(repos.push(alice, "cancer", tampered({ newWeightsHash: bump(rec.links[0].newWeightsHash) }))).to.be.rejectedWith(/training proof does not verify/);
    // Other data than committed: the same proof with another data hash.
    await expect(repos.push(alice, "cancer", tampered({ dataHash: bump(rec.links[0].dataHash) }))).to.be.rejectedWith(/training proof does not verify/);

    // Bob trains, main moves on (a merge), then Bob's commit from the old head is stale for main.
    const b1 = await repos.train(bob, "cancer", roundData(1, 0));
    const a1 = (await repos.push(alice, "cancer", t.id)).commit;
    const owner = await ctxFor(address, 0);
    await repos.merge(owner, "cancer", [a1]); // fast-forward
    const stale = (await repos.push(bob, "cancer", b1.id)).commit; // fine on Bob's own branch
    await expect(repos.merge(owner, "cancer", [stale])).to.be.rejectedWith(
      new RegExp(`stale parent: the branch head is commit ${shortId(a1)}, but the commit was made from ${shortId(initialId)}`),
    );

    const outsider = await ctxFor(address, 5);
    await expect(repos.reject(outsider, "cancer", a1, "no")).to.be.rejectedWith(/no permission/);
  });

  it("refuses a proof replayed by another account, on another repository of the same spec, or twice", async () => {
    const { address, repoId, initial } = await loadFixture(created);
    const [alice, bob] = await Promise.all([ctxFor(address, 1), ctxFor(address, 2)]);
    const owner = await ctxFor(address, 0);
    const t = await repos.train(alice, "cancer", roundData(0, 0));
    const entry = alice.index.find(t.id);
    const rec = objects.getJson<{ weightsHash: string; dataHash: string; samples: number; correct: number; links: StoredLink[] }>(entry.record);
    // The salt stays in alice's local index, never in the shareable record nor on chain.
    const salt = alice.index.salt(t.id)!;
    expect(salt > 0n).to.equal(true);
    expect(JSON.stringify(rec)).to.not.include(salt.toString());
    expect(JSON.stringify(rec)).to.not.include(chunkSalt(salt, 0).toString());
    const send = (ctx: repos.RepoContext, repo: bigint, branch: string, parent: bigint) =>
      ctx.ledger.pushCommit(repo, branch, parent, rec.links.map(linkCalldata), "");

    // Bob lifts alice's proof from the mempool before it lands and sends it as his own.
    bob.index.add(t.id, "cancer", undefined, entry.record);
    await expect(repos.push(bob, "cancer", t.id)).to.be.rejectedWith(/was proven for 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 and counts only when that account pushes it/);
    await bob.ledger.createBranch(repoId, "bob", initial);
    await expect(send(bob, repoId, "bob", initial)).to.be.rejectedWith(/training proof does not verify: proof 1 of the chain.*a proof counts only for the account, repository, chain and contract/);

    const a1 = (await repos.push(alice, "cancer", t.id)).commit;
    // Pushed again by alice herself, on a second branch from the same parent: the pair is spent.
    await alice.ledger.createBranch(repoId, "alice-again", initial);
    await expect(send(alice, repoId, "alice-again", initial)).to.be.rejectedWith(new RegExp(`already pushed: commit ${shortId(a1)} of repository ${repoId}`));
    // The same record under another local entry is the same commit: already on chain.
    const copy = objects.putJson({ ...objects.getJson<Record<string, unknown>>(entry.record), createdAt: "again" });
    alice.index.add(copy, "cancer");
    expect(await repos.push(alice, "cancer", copy)).to.include({ commit: a1, already: true });

    // A second repository of the same spec sharing the deployed verifier (as repo:create does on a
    // persistent network) and the same initial weights: the audit's cross-repository replay.
    const info = await owner.ledger.repository(repoId);
    const w0 = (await owner.ledger.commit(initial)).weightsHash;
    const fork = await owner.ledger.createRepository("cancer-fork", w0, info.architectureHash, info.trainVerifier, info.mergeVerifiers, "");
    await repos.invite(owner, "cancer-fork", alice.ledger.account, "contributor");
    await alice.ledger.createBranch(fork.repoId, "alice", fork.initialCommit);
    await expect(send(alice, fork.repoId, "alice", fork.initialCommit)).to.be.rejectedWith(/training proof does not verify/);

    // Bob's rows are alice's in reverse order: another data commitment, the same gradient, the same
    // weights. Merging both would count those 16 samples twice.
    const reversed = dataFile("c0-r0-reversed", slices[0].slice(0, 16).reverse());
    const tb = await repos.train(bob, "cancer", reversed);
    const pb = await repos.push(bob, "cancer", tb.id);
    const b1 = pb.commit;
    const tokenA = await owner.ledger.commitIdOf(a1);
    const [ca, cb] = await Promise.all([owner.ledger.commit(tokenA), owner.ledger.commit(pb.commitId)]);
    expect(cb.weightsHash).to.equal(ca.weightsHash);
    expect(cb.dataHash).to.not.equal(ca.dataHash);
    await expect(repos.merge(owner, "cancer", [a1, b1])).to.be.rejectedWith(new RegExp(`commits ${shortId(a1)} and ${shortId(b1)} have the same weights`));
    // The contract refuses it too, whatever the proof (the check comes before the verifier).
    const anyProof = linkCalldata(rec.links[0]).proof;
    await expect(owner.ledger.merge(repoId, "main", [tokenA, pb.commitId], ca.weightsHash, anyProof)).to.be.rejectedWith(/FlavumMergeDuplicateWeights|have the same weights/);

    // And the log reads accuracy as correct over the commit's rows.
    const logged = (await repos.log(owner, "cancer")).commits.find((c) => c.id === a1)!;
    expect(logged.metrics.trainAccuracy).to.equal(rec.correct / 16);
  });

  it("gives clear errors for bad data and unknown commits", async () => {
    const { address } = await loadFixture(created);
    const alice = await ctxFor(address, 1);
    const short = path.join(tmp, "short.json");
    fs.writeFileSync(short, JSON.stringify({ features: cancer.features.slice(0, 4), labels: cancer.labels.slice(0, 4) }));
    await expect(repos.train(alice, "cancer", short)).to.be.rejectedWith(/data shape mismatch: .*short\.json has 4 rows, not a whole number of the 16-row chunks each training proof takes \(1 step\(s\) of 16.*\): use 16 rows \(add 12\)/);
    const narrow = path.join(tmp, "narrow.json");
    fs.writeFileSync(narrow, JSON.stringify({ features: cancer.features.slice(0, 16).map((r) => r.slice(0, 5)), labels: cancer.labels.slice(0, 16) }));
    await expect(repos.train(alice, "cancer", narrow)).to.be.rejectedWith(/row 0 has 5 features, the model expects d=30/);
    await expect(repos.push(alice, "cancer", "deadbeef00")).to.be.rejectedWith(/unknown commit deadbeef00/);
    await expect(repos.evalCommit(alice, "cancer", 999n, testFile)).to.be.rejectedWith(/unknown commit 999/);
    await expect(repos.evalCommit(alice, "cancer", "0x" + "ab".repeat(32), testFile)).to.be.rejectedWith(/unknown commit 0xabab/);
    await expect(repos.evalCommit(alice, "cancer", "zz", testFile)).to.be.rejectedWith(/neither a commit id .* nor a token number/);
  });
});
