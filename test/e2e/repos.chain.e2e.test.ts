/**
 * Every row counts: a training commit is a chain of real training proofs over all rows of the
 * contributor's file, epoch after epoch, verified in one pushCommit transaction (logistic regression
 * on the breast-cancer data, n·K = 16 rows a proof). A 64-row commit (4 proofs) and a 2-epoch
 * commit of 32 rows (4 proofs) are pushed and merged, under the ids repo:train gave them; a file
 * whose rows do not fill whole chunks is refused before anything is proven; and the contract
 * refuses a chain that is broken (a proof from other weights), reordered, or replays a link.
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
import { mergeCommitId, shortId, trainCommitId } from "../../src/repos/commitIds";
import { chainDataHash, linkCalldata, StoredLink } from "../../src/repos/trainingChain";
import { commitWeights, quantizeData, trainCommit } from "../../src/training";
import { InputError } from "../../src/errors";
import * as repos from "../../src/repos/workflow";
import { onnxPath, usePtauDir } from "../helpers/fixtures";
import { contexts, countObjects, createCancerRepo, cancer, cancerDataFiles } from "../helpers/repos";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-chains-"));
const dataFile = cancerDataFiles(tmp);
const train = cancer.split.train;
const aliceRows = train.slice(0, 64);
const bobRows = train.slice(64, 96);
const aliceMore = train.slice(96, 112);
const testFile = dataFile("test", cancer.split.test);

interface Record {
  weights: string;
  weightsHash: string;
  dataHash: string;
  samples: number;
  rows: number;
  epochs: number;
  links: StoredLink[];
}

describe("model repositories: a commit is a chain of proofs over every row", function () {
  const objectsDir = path.join(tmp, "objects");
  const objects = new ObjectStore(objectsDir);

  const ctxFor = contexts(tmp, objects);
  const created = () => createCancerRepo(ctxFor, [1, 2]);

  /**
   * Alice: 64 rows, one epoch (4 proofs); bob: 32 rows, two epochs (4 proofs); alice again: 16 other
   * rows (1 proof), and her first 16 rows in reverse order (1 proof: other data, the same weights).
   */
  async function trained() {
    const c = await created();
    const aliceLog: string[] = [];
    const alice = await ctxFor(c.address, 1, aliceLog);
    const bob = await ctxFor(c.address, 2);
    const ta = await repos.train(alice, "cancer", dataFile("alice-64", aliceRows));
    const tb = await repos.train(bob, "cancer", dataFile("bob-32", bobRows), { epochs: 2 });
    const tc = await repos.train(alice, "cancer", dataFile("alice-16", aliceMore));
    const tr = await repos.train(alice, "cancer", dataFile("alice-16-reversed", aliceRows.slice(0, 16).reverse()));
    const rec = (ctx: repos.RepoContext, id: string) => objects.getJson<Record>(ctx.index.find(id).record);
    return { ...c, ta, tb, tc, aliceLog, recA: rec(alice, ta.id), recB: rec(bob, tb.id), recC: rec(alice, tc.id), recR: rec(alice, tr.id) };
  }

  it("trains 64 rows as 4 chained proofs and 32 rows × 2 epochs as 4 more; pushes and merges them under one id each", async () => {
    const d = await loadFixture(trained);
    const { ta, tb, recA, recB, repoId, initialId, spec } = d;
    const [owner, alice, bob] = await Promise.all([ctxFor(d.address, 0), ctxFor(d.address, 1), ctxFor(d.address, 2)]);

    expect(ta).to.include({ rows: 64, epochs: 1, proofs: 4, samples: 64, parent: initialId });
    expect(tb).to.include({ rows: 32, epochs: 2, proofs: 4, samples: 64, parent: initialId });
    // One progress line per proof, over consecutive chunks of the file.
    const lines = d.aliceLog.filter((l) => /^proof \d+\/4 /.test(l));
    expect(lines.map((l) => /rows (\d+–\d+)/.exec(l)![1])).to.deep.equal(["1–16", "17–32", "33–48", "49–64"]);
    expect(lines.every((l) => /^proof \d\/4 \(epoch 1\/1, rows \d+–\d+\): \d+\/16 right before their step, proven in [\d.]+ s$/.test(l))).to.equal(true);

    // The chain: parent → w1 → … → w4, each proof from the weights the previous one produced.
    const w0 = (await owner.ledger.commit(d.initial)).weightsHash;
    expect(recA.links.length).to.equal(4);
    recA.links.forEach((l, i) => expect(BigInt(l.publicSignals[0])).to.equal(i === 0 ? w0 : BigInt(recA.links[i - 1].newWeightsHash)));
    expect(recA.weightsHash).to.equal(recA.links[3].newWeightsHash);
    expect(BigInt(recA.dataHash)).to.equal(chainDataHash(recA.links.map((l) => l.dataHash)));
    expect(BigInt(recA.dataHash)).to.equal(await owner.ledger.chainDataHash(recA.links.map((l) => BigInt(l.dataHash)))); // the contract's formula
    expect(ta.id).to.equal(trainCommitId(repoId, w0, recA.dataHash));
    // Its weights are plain SGD over the 4 chunks in order, as the executor computes it.
    const q = quantizeData(spec, aliceRows.map((i) => cancer.features[i]), aliceRows.map((i) => cancer.labels[i]));
    let w = objects.getJson<{ weights: string[] }>(objects.resolve(w0)).weights.map(BigInt);
    for (let k = 0; k < 4; k++) w = trainCommit(spec, w, q.X.slice(16 * k, 16 * k + 16), q.y.slice(16 * k, 16 * k + 16)).weights;
    expect(await commitWeights(spec, w)).to.equal(BigInt(recA.weightsHash));

    // Two epochs over 32 rows: chunk i keeps its data commitment across epochs, the weights move on.
    expect(recB).to.include({ rows: 32, epochs: 2, samples: 64 });
    expect([recB.links[2].dataHash, recB.links[3].dataHash]).to.deep.equal([recB.links[0].dataHash, recB.links[1].dataHash]);
    expect(recB.links[2].publicSignals[0]).to.equal(recB.links[1].newWeightsHash);
    expect(recB.links[2].newWeightsHash).to.not.equal(recB.links[0].newWeightsHash);

    // repo:push takes the id repo:train printed (here shortened) and the contract records that id.
    const pa = await repos.push(alice, "cancer", shortId(ta.id));
    const pb = await repos.push(bob, "cancer", tb.id);
    expect([pa.commit, pa.proofs, pb.commit, pb.proofs]).to.deep.equal([ta.id, 4, tb.id, 4]);
    expect(await owner.ledger.commitIdOf(ta.id)).to.equal(pa.commitId);
    const onChain = await owner.ledger.commit(pa.commitId);
    expect([onChain.contentId, onChain.proofs, onChain.samples, onChain.weightsHash, onChain.dataHash]).to.deep.equal([
      ta.id, 4, 64, BigInt(recA.weightsHash), BigInt(recA.dataHash),
    ]);
    console.log(`      pushCommit gas: 4 proofs ${pa.gasUsed} (alice, first commit token), ${pb.gasUsed} (bob)`);

    // A proven FedAvg of the two, each weighed by its 64 samples; every output names commits by their ids.
    const m = await repos.merge(owner, "cancer", [ta.id, shortId(tb.id)]);
    const merged = await owner.ledger.commit(m.commitId);
    expect(m.commit).to.equal(mergeCommitId(repoId, merged.weightsHash, [ta.id, tb.id]));
    const log = await repos.log(owner, "cancer");
    const byId = new Map(log.commits.map((c) => [c.id, c]));
    expect(byId.get(ta.id)).to.deep.include({ kind: "train", status: "merged", proofs: 4, parents: [initialId] });
    expect(byId.get(ta.id)!.metrics.samples).to.equal(64);
    expect(byId.get(tb.id)!.metrics.samples).to.equal(64);
    expect(byId.get(m.commit)).to.deep.include({ kind: "merge", parents: [initialId, ta.id, tb.id] });
    expect(byId.get(m.commit)!.metrics.samples).to.equal(128);
    expect(log.branches.find((b) => b.name === "main")!.head).to.equal(m.commit);
    expect(log.unpushed).to.deep.equal([]);
    const e = await repos.evalCommit(owner, "cancer", shortId(m.commit), testFile);
    expect(Object.keys(e).sort()).to.deep.equal(["accuracy", "commit", "loss", "rows"]);
    expect(e.commit).to.equal(m.commit);
    expect(e.accuracy).to.be.greaterThan(0.9);
  });

  it("refuses a broken, a reordered or a replayed chain in the contract", async () => {
    const d = await loadFixture(trained);
    const { repoId, initial, recA, recC } = d;
    const alice = await ctxFor(d.address, 1);
    const a = recA.links.map(linkCalldata);
    const other = linkCalldata(recC.links[0]); // alice's proof of 16 other rows, also from the initial weights
    await alice.ledger.createBranch(repoId, "alice-forged", initial);
    const send = (links: typeof a) => alice.ledger.pushCommit(repoId, "alice-forged", initial, links, "");
    // Broken: proof 2 replaced by a valid proof that trained from other weights (the initial ones).
    await expect(send([a[0], other, a[2], a[3]])).to.be.rejectedWith(/training proof does not verify: proof 2 of the chain/);
    // Broken: a proof left out, so proof 3 no longer starts from what proof 2 produced.
    await expect(send([a[0], a[1], a[3]])).to.be.rejectedWith(/training proof does not verify: proof 3 of the chain/);
    // Reordered: the same four proofs in another order.
    await expect(send([a[1], a[0], a[2], a[3]])).to.be.rejectedWith(/training proof does not verify: proof 1 of the chain/);
    await expect(send([a[0], a[2], a[1], a[3]])).to.be.rejectedWith(/training proof does not verify: proof 2 of the chain/);
    // Nothing was spent: the real chain still goes through.
    const pushed = await repos.push(alice, "cancer", d.ta.id);

    // Replayed: the first two proofs again as a commit of their own (any branch, same parent).
    await expect(send(a.slice(0, 2))).to.be.rejectedWith(new RegExp(`already pushed: commit ${shortId(pushed.commit)}`));
    // Replayed further down the chain: her first 16 rows reversed are a new proof (other data) reaching
    // the same weights w1, so the pushed chain's second proof fits after it — and is refused as spent.
    const reversed = linkCalldata(d.recR.links[0]);
    expect(reversed.newWeightsHash).to.equal(a[0].newWeightsHash);
    expect(reversed.dataHash).to.not.equal(a[0].dataHash);
    await expect(send([reversed, a[1]])).to.be.rejectedWith(new RegExp(`already pushed: commit ${shortId(pushed.commit)}`));
    // On its own, the reversed proof is a training commit like any other.
    expect((await send([reversed])).commitId).to.be.greaterThan(0n);
    // A commit trained here but not pushed is named as such wherever a commit is taken.
    await expect(repos.evalCommit(alice, "cancer", shortId(d.tc.id), testFile)).to.be.rejectedWith(
      new RegExp(`commit ${shortId(d.tc.id)} was trained here but is not on chain yet: push it first`),
    );
    // The workflow says so before sending: a copy of the record is the same commit, already on chain.
    const copy = objects.putJson({ ...objects.getJson<Record>(alice.index.find(d.ta.id).record), createdAt: "copy" });
    alice.index.add(copy, "cancer");
    expect(await repos.push(alice, "cancer", copy)).to.include({ commit: d.ta.id, already: true });
  });

  it("refuses a file whose rows do not fill whole chunks, saying which row counts work, before proving anything", async () => {
    const d = await loadFixture(created);
    const log: string[] = [];
    const alice = await ctxFor(d.address, 1, log);
    const before = { objects: countObjects(objectsDir), unpushed: alice.index.unpushed("cancer").length };
    await expect(repos.train(alice, "cancer", dataFile("alice-70", train.slice(0, 70)))).to.be.rejectedWith(
      InputError, /data shape mismatch: .*alice-70\.json has 70 rows, not a whole number of the 16-row chunks each training proof takes \(1 step\(s\) of 16; .*\): use 64 \(drop 6\) or 80 rows \(add 10\), or any multiple of 16/,
    );
    await expect(repos.train(alice, "cancer", dataFile("alice-8", train.slice(0, 8)))).to.be.rejectedWith(InputError, /has 8 rows, .*: use 16 rows \(add 8\)/);
    const sixteen = dataFile("first-16", train.slice(0, 16));
    await expect(repos.train(alice, "cancer", sixteen, { epochs: 65 })).to.be.rejectedWith(
      InputError, /16 rows × 65 epoch\(s\) make 65 training proofs of 16 rows, but a commit chains at most 64: use at most 64 epochs/,
    );
    await expect(repos.train(alice, "cancer", sixteen, { epochs: 0 })).to.be.rejectedWith(InputError, /--epochs must be a whole number of at least 1/);
    expect(log.some((l) => /proof|training from/.test(l))).to.equal(false);
    expect({ objects: countObjects(objectsDir), unpushed: alice.index.unpushed("cancer").length }).to.deep.equal(before);
  });
});
