/**
 * Training inside the rollup, end to end with real proofs on the Hardhat network: the owner opens
 * the breast-cancer repository's rollup; four contributors train from its head with proofs bound to
 * the rollup and send their commits to the sequencer's inbox, next to a tampered proposal, one from
 * an account without a role and one whose proof is off the curve. The sequencer (a maintainer)
 * checks each proposal alone against the chain, sets the three bad ones aside with their reasons,
 * proves the FedAvg of the four good ones and settles them in one transaction. A contributor with an empty object store trains the next
 * round from the head the sequencer published, checked against the chain; a commit trained from the
 * old head is refused as stale; a settled proposal delivered again is recognised as settled; proofs
 * never cross between L1 and the rollup.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { EvmRepoRollupLedger } from "../../src/chain/evmRepoRollup";
import { ObjectStore } from "../../src/repos/objectStore";
import * as repos from "../../src/repos/workflow";
import { openRollup, pushToRollup, rollupStatus, settleRollupRound, trainForRollup, type RollupRepoContext } from "../../src/repos/rollupTraining";
import { commitWeights } from "../../src/training";
import { keyInVerifierCode, verifyingKeyHash, type BatchVerifyingKey } from "../../src/zk/batchVerifyingKey";
import { contexts, createCancerRepo, cancer, cancerDataFiles } from "../helpers/repos";
import { flavumRejection } from "../helpers/rejection";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-repo-rollup-"));
const dataFile = cancerDataFiles(tmp);
const train = cancer.split.train;
const inboxRoot = path.join(tmp, "inbox");
const SEQUENCER = 6;

/** A FlavumError with this code and a message matching `re`. */
async function refused(p: Promise<unknown>, code: string, re: RegExp) {
  const e = await flavumRejection(p);
  expect(e.code).to.equal(code);
  expect(e.message).to.match(re);
}
const OUTSIDER = 7;
/** BN254's base field: no curve coordinate is this large. */
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

describe("training inside the rollup (rounds of verified proofs)", function () {
  const objects = new ObjectStore(path.join(tmp, "objects"));
  const ctxFor = contexts(tmp, objects);

  async function rollupCtx(r: { address: string; rollupAddress: string }, i: number, store = objects): Promise<RollupRepoContext> {
    const base = await ctxFor(r.address, i);
    return { ...base, objects: store, rollup: await EvmRepoRollupLedger.connect(hre, r.rollupAddress, i), inboxRoot };
  }

  async function opened() {
    const r = await createCancerRepo(ctxFor, [1, 2, 3, 4, 5]);
    const signers = await hre.ethers.getSigners();
    await repos.invite(r.owner, "cancer", signers[SEQUENCER].address, "maintainer");
    const owner = await rollupCtx(r, 0);
    const open = await openRollup(owner, "cancer");
    return { r, owner, open, signers };
  }

  it("settles a round of four contributors with one batch check and a proven FedAvg; bad proposals are set aside, not blocking", async () => {
    const { r, owner, open, signers } = await loadFixture(opened);
    const initial = (await owner.ledger.commit(r.initial)).weightsHash;
    expect(open.head).to.equal(initial);
    await expect(openRollup(owner, "cancer")).to.be.rejectedWith(/already open/);
    const contributor = await rollupCtx(r, 1);
    await expect(openRollup(contributor, "cancer")).to.be.rejectedWith(/needs the owner role/);
    // The key the rollup checks is the L1 training verifier's: every constant is in its code, and not in another verifier's.
    const info = await owner.ledger.repository(r.repoId);
    const vk = await owner.rollup.contract.verifyingKey(r.repoId);
    const key = { alpha: vk.alpha, beta: vk.beta, gamma: vk.gamma, delta: vk.delta, ic: vk.ic } as unknown as BatchVerifyingKey;
    expect(verifyingKeyHash(key)).to.equal(open.keyHash);
    expect(keyInVerifierCode(key, await hre.ethers.provider.getCode(info.trainVerifier))).to.deep.equal([]);
    expect(keyInVerifierCode(key, await hre.ethers.provider.getCode(info.mergeVerifiers[0])).length).to.be.greaterThan(10);

    const rows = [train.slice(0, 16), train.slice(16, 48), train.slice(48, 64), train.slice(64, 80)];
    const cs = await Promise.all([1, 2, 3, 4].map((i) => rollupCtx(r, i)));
    const trained = [];
    for (const [i, ctx] of cs.entries()) trained.push(await trainForRollup(ctx, "cancer", dataFile(`r${i}`, rows[i])));
    expect(trained.map((t) => t.proofs)).to.deep.equal([1, 2, 1, 1]);
    // An L1 push of a rollup commit is refused before any transaction: its proofs name the rollup.
    await refused(repos.push(cs[0], "cancer", trained[0].id), "WRONG_BINDING", /proven for the repository's rollup/);
    for (const [i, ctx] of cs.entries()) await pushToRollup(ctx, "cancer", trained[i].id);

    // Bad proposals: contributor 5's with one public input changed after proving, and one from an account without a role.
    const c5 = await rollupCtx(r, 5);
    const t5 = await trainForRollup(c5, "cancer", dataFile("r5", train.slice(80, 96)));
    const p5 = await pushToRollup(c5, "cancer", t5.id);
    // A copy of it whose proof has a coordinate outside the base field: the batch library's refusal, not the rollup's.
    const offCurve = JSON.parse(fs.readFileSync(p5.file, "utf8"));
    offCurve.links[0].proof.a[0] = (Q + 1n).toString();
    const fq = "999999999999999-000000-off-curve.json";
    fs.writeFileSync(path.join(path.dirname(p5.file), fq), JSON.stringify(offCurve));
    const forged = JSON.parse(fs.readFileSync(p5.file, "utf8"));
    forged.links[0].publicSignals[3] = (BigInt(forged.links[0].publicSignals[3]) + 1n).toString(); // one more correct row
    fs.writeFileSync(p5.file, JSON.stringify(forged));
    const outsider = await rollupCtx(r, OUTSIDER);
    const t7 = await trainForRollup(outsider, "cancer", dataFile("r7", train.slice(96, 112)));
    const p7 = await pushToRollup(outsider, "cancer", t7.id);
    const [f5, f7] = [p5.file, p7.file].map((f) => path.basename(f));

    await expect(settleRollupRound(cs[0], "cancer")).to.be.rejectedWith(/needs the maintainer role/);
    const sequencer = await rollupCtx(r, SEQUENCER);
    const round = await settleRollupRound(sequencer, "cancer");
    expect(round.round).to.equal(1);
    expect(round.settled).to.equal(4);
    expect(round.proofs).to.equal(5);
    expect(round.merged).to.deep.equal(trained.map((t) => t.id));
    expect(round.commits!.map((c) => c.commit)).to.deep.equal(trained.map((t) => t.id));
    expect(round.commits!.map((c) => c.samples)).to.deep.equal([16, 32, 16, 16]);
    expect(round.rejected.map((x) => x.file)).to.deep.equal([f5, f7, fq]);
    expect(round.rejected[0].reason).to.match(/does not verify/);
    expect(round.rejected[1].reason).to.match(/needs the contributor role/);
    expect(round.rejected[2].reason).to.match(/proof 1 of the round has a coordinate \(\d+\) not below the BN254 base field's modulus/);
    expect(fs.readFileSync(path.join(inboxRoot, "cancer", "rejected", `${f5}.reason.txt`), "utf8")).to.match(/does not verify/);
    expect(round.pending).to.equal(0);
    console.log(`      round of 4 commits (5 proofs) + FedAvg of 4: ${round.gasUsed} gas, ${round.gasPerCommit} a commit`);

    // The head is the proven FedAvg, and the merged authors are credited their proven samples.
    const state = await sequencer.rollup.rollupOf(r.repoId);
    expect(state.head.toString()).to.equal(round.head);
    expect(state.head).to.not.equal(initial);
    const headFile = path.join(inboxRoot, "cancer", "heads", `${round.head}.json`);
    expect(await commitWeights(r.spec, JSON.parse(fs.readFileSync(headFile, "utf8")).weights.map(BigInt))).to.equal(state.head);
    const status = await rollupStatus(sequencer, "cancer");
    expect(status.round).to.equal(1);
    expect(status.commits).to.equal(4);
    expect(status.baseCommit).to.equal(r.initialId);
    expect(status.contributors.map((c) => [c.account, c.samples])).to.deep.equal([1, 2, 3, 4].map((i, k) => [signers[i].address, [16, 32, 16, 16][k]]));
    expect(await sequencer.rollup.samplesOf(r.repoId, signers[5].address)).to.equal(0n);
  });

  it("trains the next round from the published head on another machine; stale and repeated proposals never count twice", async () => {
    const { r } = await loadFixture(opened);
    const c1 = await rollupCtx(r, 1);
    const c3 = await rollupCtx(r, 3);
    const sequencer = await rollupCtx(r, SEQUENCER);
    const first = await trainForRollup(c1, "cancer", dataFile("a1", train.slice(0, 16)));
    const stale = await trainForRollup(c3, "cancer", dataFile("a3", train.slice(16, 32)));
    const p1 = await pushToRollup(c1, "cancer", first.id);
    const kept = fs.readFileSync(p1.file, "utf8");
    const one = await settleRollupRound(sequencer, "cancer");
    expect(one.merged).to.deep.equal([first.id]); // one commit: a fast-forward, no merge proof
    expect(one.head).to.equal((await commitWeights(r.spec, (await repos.loadWeights(c1, BigInt(one.head))))).toString());

    // Trained from the head round 1 replaced: refused when sent, and by the contract if delivered anyway.
    await refused(pushToRollup(c3, "cancer", stale.id), "STALE_PARENT", /round 1 moved the head/);

    // The same proposal delivered again (as after a crash between the transaction and the move): recognised, not re-settled.
    fs.writeFileSync(path.join(inboxRoot, "cancer", "pending", path.basename(p1.file)), kept);

    // A contributor with an empty object store trains from the head the sequencer published.
    const fresh = new ObjectStore(path.join(tmp, "objects-fresh"));
    const remote = await rollupCtx(r, 2, fresh);
    // The spec object is what a repo:pull brings; the head's weights come from the inbox's heads/.
    fresh.put(objects.get((await remote.ledger.repository(r.repoId)).architectureHash.replace(/^0x/, "")));
    const next = await trainForRollup(remote, "cancer", dataFile("a2", train.slice(32, 48)));
    expect(next.head).to.equal(one.head);
    const pn = await pushToRollup(remote, "cancer", next.id);
    const two = await settleRollupRound(sequencer, "cancer", { merge: "none" });
    expect(two.round).to.equal(2);
    expect(two.already).to.deep.equal([first.id]);
    expect(two.settled).to.equal(1);
    expect(two.merged).to.deep.equal([]);
    expect(two.head).to.equal(one.head); // proposals only: the head stays
    const signers = await hre.ethers.getSigners();
    expect(await sequencer.rollup.samplesOf(r.repoId, signers[2].address)).to.equal(0n);
    const settled = JSON.parse(fs.readFileSync(path.join(inboxRoot, "cancer", "settled", "round-2", path.basename(pn.file)), "utf8"));
    expect(await sequencer.rollup.trainingUse(r.repoId, BigInt(one.head), BigInt(settled.links[0].dataHash))).to.equal(2);

    // An L1 commit cannot go to the rollup.
    const l1 = await repos.train(c1, "cancer", dataFile("l1", train.slice(48, 64)));
    await refused(pushToRollup(c1, "cancer", l1.id), "WRONG_BINDING", /proven for ModelRepository on L1/);
  });
});
