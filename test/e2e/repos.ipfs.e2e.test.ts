/**
 * A repository shared over IPFS with no shared folder: four "machines" (an object store and an IPFS
 * node each, on 127.0.0.1) around one ModelRepository on the Hardhat network, with real proofs.
 * The owner creates the repository and serves it; two contributors pull the spec and the initial
 * weights from the owner's node, train and push (their commits' URIs name their objects' CIDs) and
 * serve their commits; the owner pulls both commits from them and merges them with a proven FedAvg;
 * a fourth machine pulls main's head — a merge, which records no objects — by fetching the merged
 * commits and recomputing the aggregate, checked against the merge commit's weights commitment.
 * A peer that serves other weights for a commit is refused.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ObjectStore } from "../../src/repos/objectStore";
import * as repos from "../../src/repos/workflow";
import { pullWeights, serveRepository } from "../../src/repos/ipfsSync";
import { cidFromCommitUri, publishCommitObjects } from "../../src/repos/ipfsObjects";
import { connect, IpfsNode, startIpfsNode, stopIpfsNode } from "../../src/traceStore/ipfs";
import { contexts, createCancerRepo, cancer, cancerDataFiles } from "../helpers/repos";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-ipfs-repo-"));
const dataFile = cancerDataFiles(tmp);

describe("a repository shared over IPFS (no shared folder)", function () {
  // One object store per machine: nothing passes between them but the chain and IPFS.
  const stores = [0, 1, 2, 3, 4].map((i) => new ObjectStore(path.join(tmp, `machine-${i}`, "objects")));
  const ctxOn = (machine: number) => contexts(path.join(tmp, `machine-${machine}`), stores[machine]);
  const nodes: IpfsNode[] = [];
  const node = async () => {
    const n = await startIpfsNode();
    nodes.push(n);
    return n;
  };
  after(async () => {
    await Promise.all(nodes.map((n) => stopIpfsNode(n)));
  });
  async function created() {
    fs.mkdirSync(path.join(tmp, "machine-0"), { recursive: true });
    return createCancerRepo(ctxOn(0), [1, 2]);
  }

  it("contributors pull, train, push and serve; the owner merges what it pulled; a newcomer pulls the merged head", async () => {
    const { address } = await loadFixture(created);
    const owner = await ctxOn(0)(address, 0);
    const [alice, bob] = await Promise.all([ctxOn(1)(address, 1), ctxOn(2)(address, 2)]);
    const ownerNode = await node();
    expect((await serveRepository(owner, ownerNode, "cancer")).served.length).to.equal(1);

    // Each contributor's machine has nothing but the chain: it pulls main from the owner's node.
    const trained: string[] = [];
    const contributorNodes: IpfsNode[] = [];
    for (const [i, ctx] of [alice, bob].entries()) {
      const n = await node();
      await connect(n, ownerNode);
      await expect(repos.pull(ctx, "cancer")).to.be.rejected; // no spec or weights here yet
      const head = await ctx.ledger.head(await ctx.ledger.repoIdByName("cancer"), "main");
      await pullWeights(ctx, n, "cancer", head, { timeoutMs: 20_000 });
      const t = await repos.train(ctx, "cancer", dataFile(`c${i}`, cancer.split.train.slice(i * 16, i * 16 + 16)));
      const p = await repos.push(ctx, "cancer", t.id);
      // The commit's URI names its objects on IPFS.
      expect(cidFromCommitUri(await ctx.ledger.tokenURI(p.commitId))).to.match(/^bafkrei/);
      await serveRepository(ctx, n, "cancer");
      contributorNodes.push(n);
      trained.push(t.id);
    }

    // The owner pulls both commits from their authors' nodes and proves their FedAvg.
    for (const n of contributorNodes) await connect(ownerNode, n);
    const repoId = await owner.ledger.repoIdByName("cancer");
    for (const id of trained) await pullWeights(owner, ownerNode, "cancer", await owner.ledger.commitIdOf(id), { timeoutMs: 20_000 });
    const m = await repos.merge(owner, "cancer", trained);

    // A newcomer connected to the contributors only: the merge's weights are recomputed from theirs.
    const carol = await ctxOn(3)(address, 3);
    const n3 = await node();
    for (const n of contributorNodes) await connect(n3, n);
    const head = await carol.ledger.head(repoId, "main");
    expect((await carol.ledger.commit(head)).contentId).to.equal(m.commit);
    const pulled = await pullWeights(carol, n3, "cancer", head, { timeoutMs: 20_000 });
    const p = await repos.pull(carol, "cancer");
    expect(p.head).to.equal(m.commit);
    expect(pulled).to.deep.equal(stores[0].getJson<{ weights: string[] }>(stores[0].resolve((await owner.ledger.commit(head)).weightsHash)).weights.map(BigInt));
  });

  it("refuses a peer that serves other weights under a commit's CID", async () => {
    const { address } = await loadFixture(created);
    // A machine that has never seen the repository (the others' stores outlive the chain's snapshot).
    const alice = await ctxOn(4)(address, 1);
    const evil = await node();
    const victim = await node();
    await connect(victim, evil);
    // The attacker publishes the repository's spec with other initial weights: another manifest CID,
    // which the chain's repository URI does not name — so the pull waits for the real one and times out.
    const owner = await ctxOn(0)(address, 0);
    const { spec } = await repos.pull(owner, "cancer");
    const weights = stores[0].getJson<{ weights: string[] }>(stores[0].resolve((await owner.ledger.commit(1n + (await owner.ledger.repoIdByName("cancer")))).weightsHash)).weights.map(BigInt);
    await publishCommitObjects(evil, { spec, weights: weights.map((w) => (w === 0n ? 1n : 0n)) });
    const repoId = await alice.ledger.repoIdByName("cancer");
    await expect(pullWeights(alice, victim, "cancer", await alice.ledger.head(repoId, "main"), { timeoutMs: 1500 })).to.be.rejectedWith(/was not found within 1500 ms/);
  });
});
