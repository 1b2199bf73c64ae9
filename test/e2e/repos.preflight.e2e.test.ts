/**
 * Issue 7 on model repositories, with real training proofs on the Hardhat network:
 * - a merge the contract would refuse (a commit already merged, listed twice, stale, unknown, or a
 *   caller without the maintainer role) fails in seconds, before the FedAvg is proven: no "proving"
 *   progress, no new object in the store;
 * - training features outside the fixed-point range are reported per value (row, feature, value,
 *   clamped value, range) and refused with strict, with nothing written; evaluation likewise.
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
import { InputError } from "../../src/errors";
import * as repos from "../../src/repos/workflow";
import { shortId } from "../../src/repos/commitIds";
import { onnxPath, usePtauDir } from "../helpers/fixtures";
import { contexts, countObjects, createCancerRepo } from "../helpers/repos";
import { REPO } from "../helpers/circuit";

const cancer = JSON.parse(fs.readFileSync(path.join(REPO, "fixtures/data/breast_cancer.json"), "utf8")) as {
  features: number[][];
  labels: number[];
  split: { train: number[]; test: number[] };
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-preflight-"));
function dataFile(name: string, rows: number[], edit?: (f: number[][]) => void): string {
  const features = rows.map((i) => [...cancer.features[i]]);
  edit?.(features);
  const f = path.join(tmp, `${name}.json`);
  fs.writeFileSync(f, JSON.stringify({ features, labels: rows.map((i) => cancer.labels[i]) }));
  return f;
}
const rowsOf = (c: number) => cancer.split.train.slice(c * 16, c * 16 + 16);
// Row 3, feature 2 far above the range training features are clamped into ([-8, 7.9375] by default).
const wide = dataFile("wide", rowsOf(0), (f) => (f[3][2] = 12));
const narrow = dataFile("narrow", rowsOf(1));

describe("model repositories: checks before proving, and clamped features", function () {
  const objectsDir = path.join(tmp, "objects");
  const objects = new ObjectStore(objectsDir);

  const ctxFor = contexts(tmp, objects);

  // Alice's and Bob's commits, both trained from the initial commit; Alice's is then fast-forwarded into main.
  async function twoProposedOneMerged() {
    const { address, owner, ...r } = await createCancerRepo(ctxFor, [1, 2]);
    const aliceLog: string[] = [];
    const [alice, bob] = [await ctxFor(address, 1, aliceLog), await ctxFor(address, 2)];
    const ta = await repos.train(alice, "cancer", wide);
    const a = (await repos.push(alice, "cancer", ta.id)).commit;
    const b = (await repos.push(bob, "cancer", (await repos.train(bob, "cancer", narrow)).id)).commit;
    await repos.merge(owner, "cancer", [a]);
    return { address, initial: r.initialId, a, b, aliceLog, clamped: ta.clamped };
  }

  it("reports each clamped training feature with its row, feature, value and range", async () => {
    const { aliceLog, clamped } = await loadFixture(twoProposedOneMerged);
    expect(clamped).to.equal(1);
    expect(aliceLog).to.include("warning: row 3, feature 2: 12 was clamped to 7.9375 (training features lie in [-8, 7.9375] at scale 2^-4)");
    expect(aliceLog.some((l) => /data file .*wide\.json: 1 value\(s\) not taken as given \(1 clamped into range\); --strict refuses/.test(l))).to.equal(true);
  });

  it("refuses clamped features with strict, before proving and writing anything", async () => {
    const { address } = await loadFixture(twoProposedOneMerged);
    const log: string[] = [];
    const alice = await ctxFor(address, 1, log);
    const before = { objects: countObjects(objectsDir), unpushed: alice.index.unpushed("cancer").length };
    await expect(repos.train(alice, "cancer", wide, { strict: true })).to.be.rejectedWith(
      InputError, /--strict: data file .*wide\.json has 1 value\(s\) the model cannot take as given: row 3, feature 2: 12 was clamped to 7\.9375 \(training features lie in \[-8, 7\.9375\]/,
    );
    expect(log.some((l) => /proving|training \d+ step/.test(l))).to.equal(false);
    expect(countObjects(objectsDir)).to.equal(before.objects);
    expect(alice.index.unpushed("cancer").length).to.equal(before.unpushed);
  });

  it("evaluation reports features outside the training range, and refuses them with strict", async () => {
    const { address, a } = await loadFixture(twoProposedOneMerged);
    const log: string[] = [];
    const owner = await ctxFor(address, 0, log);
    const e = await repos.evalCommit(owner, "cancer", a, wide);
    expect(e.rows).to.equal(16);
    expect(log).to.include("warning: row 3, feature 2: 12 is outside the range (training features lie in [-8, 7.9375] at scale 2^-4; used as given)");
    await expect(repos.evalCommit(owner, "cancer", a, wide, { strict: true })).to.be.rejectedWith(InputError, /--strict: .*row 3, feature 2: 12 is outside/);
  });

  it("refuses to merge an already merged commit in seconds, without proving the FedAvg", async () => {
    const { address, a, b } = await loadFixture(twoProposedOneMerged);
    const log: string[] = [];
    const owner = await ctxFor(address, 0, log);
    const objectsBefore = countObjects(objectsDir);
    const t0 = Date.now();
    await expect(repos.merge(owner, "cancer", [a, b])).to.be.rejectedWith(new RegExp(`commit ${shortId(a)} is not in a state that allows this \\(status merged\\)`));
    expect(Date.now() - t0).to.be.below(3000);
    expect(log.some((l) => /FedAvg|prov/i.test(l))).to.equal(false);
    expect(countObjects(objectsDir)).to.equal(objectsBefore);
  });

  it("checks the other preconditions first too, with the contract's messages", async () => {
    const { address, initial, a, b } = await loadFixture(twoProposedOneMerged);
    const log: string[] = [];
    const owner = await ctxFor(address, 0, log);
    const bob = await ctxFor(address, 2, log);
    const signers = await hre.ethers.getSigners();
    await expect(repos.merge(owner, "cancer", [b, b])).to.be.rejectedWith(InputError, new RegExp(`commit ${shortId(b)} is listed twice`));
    // The same commit by id and by a prefix of it is still listed twice.
    await expect(repos.merge(owner, "cancer", [b, shortId(b)])).to.be.rejectedWith(InputError, new RegExp(`commit ${shortId(b)} is listed twice`));
    await expect(repos.merge(owner, "cancer", [b])).to.be.rejectedWith(
      new RegExp(`stale parent: the branch head is commit ${shortId(a)}, but the commit was made from ${shortId(initial)}`),
    );
    await expect(repos.merge(owner, "cancer", [b, 999n])).to.be.rejectedWith(/unknown commit 999/);
    await expect(repos.merge(bob, "cancer", [b, a])).to.be.rejectedWith(
      new RegExp(`no permission: ${signers[2].address} needs the maintainer role in repository`),
    );
    await expect(repos.merge(owner, "cancer", [b, a], "nope")).to.be.rejectedWith(/unknown branch "nope"/);
    expect(log.some((l) => /FedAvg|prov/i.test(l))).to.equal(false);
  });
});
