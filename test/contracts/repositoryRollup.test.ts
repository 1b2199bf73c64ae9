/**
 * RepositoryRollup with real proofs on the breast-cancer repository (n = 16, K = 1): opening (Owner
 * only, once, a 6-point key), honest rounds (a proven FedAvg of 4, proposals only, a fast-forward, a
 * 2-link commit, a second round from the merged head extending the accumulator), and the attacks a
 * sequencer or a contributor could try — tampered inputs, misattributed and cross-ledger proofs,
 * authors and callers without a role, replays within and across rounds, stale parents, malformed
 * rounds and merges, forged metrics, and a rollup proof pushed to L1. Every refusal must leave the
 * rollup exactly as it was, including the training uses of the round's good links.
 *
 * Proofs are made once, in `before`, bound to the fixture's addresses: every test restores the same
 * snapshot, so the rollup's address (and with it every binding) never changes.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { AbiCoder, keccak256, toBeHex, ZeroHash, type ContractTransactionResponse } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { RepoRole } from "../../src/chain/deployRepos";
import { ObjectStore } from "../../src/repos/objectStore";
import * as repos from "../../src/repos/workflow";
import { buildMergeCircuit, buildTrainingCircuit, mergeInput } from "../../src/repos/circuits";
import { chainDataHash, linkCalldata, planChain, proveChain, type StoredLink } from "../../src/repos/trainingChain";
import { trainCommitId } from "../../src/repos/commitIds";
import { commitWeights, newDataSalt, quantizeData, trainingBinding } from "../../src/training";
import { prove, shutdown, silent, solidityCalldata } from "../../src/zk";
import { verifyingKeyCalldata, verifyingKeyHash, type BatchVerifyingKey } from "../../src/zk/batchVerifyingKey";
import { FIELD_P } from "../../src/quant/fixed";
import { contexts, createCancerRepo, cancer } from "../helpers/repos";
import type { ModelRepository, RepositoryRollup } from "../../typechain-types";

const abi = AbiCoder.defaultAbiCoder();
const word = (v: bigint | string) => toBeHex(BigInt(v), 32);
type G1 = [bigint, bigint];
type Proof = { a: G1; b: [G1, G1]; c: G1 };
const NO_PROOF: Proof = { a: [0n, 0n], b: [[0n, 0n], [0n, 0n]], c: [0n, 0n] };
const PROPOSALS = { commits: [] as bigint[], weightsHash: ZeroHash, proof: NO_PROOF };
/** BN254's base field: negating a G1 point's y keeps it on the curve. */
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** A proven commit: its author and chain, and what the chain ends at. */
interface Proven {
  author: string;
  links: StoredLink[];
  weights: bigint[];
  weightsHash: bigint;
  dataHash: bigint;
  samples: number;
}

type Commit = { author: string; links: StoredLink[] };
type Merge = { commits: bigint[]; weightsHash: string; proof: Proof };

const g1 = (v: string[]): G1 => [BigInt(v[0]), BigInt(v[1])];
const proofOf = (l: StoredLink): Proof => ({ a: g1(l.proof.a), b: [g1(l.proof.b[0]), g1(l.proof.b[1])], c: g1(l.proof.c) });
const inputsOf = (l: StoredLink) => l.publicSignals.map(BigInt);

/** settleRound's commits, proofs and flat inputs for commits taken in this order. */
function roundArgs(cs: Commit[]) {
  return {
    commits: cs.map((c) => ({ author: c.author, links: c.links.length })),
    proofs: cs.flatMap((c) => c.links.map(proofOf)),
    inputs: cs.flatMap((c) => c.links.flatMap(inputsOf)),
  };
}

/** A copy of a link whose public input `i` is `v`, the proof left as it was. */
function withInput(l: StoredLink, i: number, v: bigint): StoredLink {
  const publicSignals = [...l.publicSignals];
  publicSignals[i] = v.toString();
  return { ...l, publicSignals };
}

describe("RepositoryRollup (repository training rounds settled as one batch of real proofs)", function () {
  this.timeout(30 * 60 * 1000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-repo-rollup-"));
  const objects = new ObjectStore(path.join(tmp, "objects"));
  const ctxFor = contexts(tmp, objects);

  /** The cancer repository with contributors 1..5, maintainer 6 (7 is an outsider); its rollup not opened yet. */
  async function deployed() {
    const r = await createCancerRepo(ctxFor, [1, 2, 3, 4, 5]);
    const s = await hre.ethers.getSigners();
    const repository = (await hre.ethers.getContractAt("ModelRepository", r.address)) as unknown as ModelRepository;
    const rollup = (await hre.ethers.getContractAt("RepositoryRollup", r.rollupAddress)) as unknown as RepositoryRollup;
    await (await repository.connect(s[0]).invite(r.repoId, s[6].address, RepoRole.Maintainer)).wait();
    const train = await buildTrainingCircuit(r.spec);
    const vk = verifyingKeyCalldata(JSON.parse(fs.readFileSync(train.vkey, "utf8")));
    const w0 = (await repository.commit(r.initial)).weightsHash;
    return {
      ...r, repository, rollup, train, vk, w0,
      owner: s[0], contributors: s.slice(1, 6), maintainer: s[6], outsider: s[7],
    };
  }
  type D = Awaited<ReturnType<typeof deployed>>;

  /** `deployed`, its rollup opened by the Owner (built on deployed's snapshot, so the addresses are the same). */
  async function opened() {
    const d = await loadFixture(deployed);
    await (await d.rollup.connect(d.owner).open(d.repoId, d.vk)).wait();
    return d;
  }

  let d: D;
  let P: {
    /** Signers 1..5, 16 rows each, from the initial weights. */
    A: Proven[];
    /** Signer 2, 32 rows in two chained proofs. */
    chain: Proven;
    /** Signer 4 on A[0]'s rows with another salt: the same weights as A[0], other data hash. */
    twin: Proven;
    /** Signer 3, bound to ModelRepository (L1), not to the rollup. */
    l1: Proven;
    /** Signer 5 from the FedAvg of A[0..3]. */
    next: Proven;
    merge: { weightsHash: bigint; proof: Proof };
  };

  before(async () => {
    d = await loadFixture(opened);
    const w0 = repos.loadWeights(await ctxFor(d.address, 0), BigInt(d.w0));
    const rows = cancer.split.train;
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;

    const proveRows = async (who: HardhatEthersSigner, idx: number[], parent: bigint[], contract: string): Promise<Proven> => {
      const q = quantizeData(d.spec, idx.map((i) => cancer.features[i]), idx.map((i) => cancer.labels[i]));
      const binding = trainingBinding({ chainId, contract, repoId: d.repoId, author: who.address });
      const c = await proveChain({
        spec: d.spec, circuit: d.train, parent, X: q.X, y: q.y, plan: planChain("rows", idx.length, d.spec), binding,
        salt: newDataSalt(), progress: silent,
      });
      return { author: who.address, links: c.links, weights: c.weights, weightsHash: c.weightsHash, dataHash: c.dataHash, samples: c.samples };
    };

    const [s1, s2, s3, , s5] = d.contributors;
    const A: Proven[] = [];
    for (const [i, who] of d.contributors.entries()) A.push(await proveRows(who, rows.slice(16 * i, 16 * i + 16), w0, d.rollupAddress));
    const chain = await proveRows(s2, rows.slice(80, 112), w0, d.rollupAddress);
    const twin = await proveRows(d.contributors[3], rows.slice(0, 16), w0, d.rollupAddress);
    const l1 = await proveRows(s3, rows.slice(112, 128), w0, d.address);

    const mergeCircuit = await buildMergeCircuit(d.spec, 4);
    const m = await mergeInput(d.spec, A.slice(0, 4).map((a) => a.weights), [16, 16, 16, 16]);
    const res = await prove(mergeCircuit.wasm, mergeCircuit.zkey, m.input);
    const cd = solidityCalldata(res.proof, res.publicSignals);
    const mergedHash = await commitWeights(d.spec, m.weights);
    expect(cd.pub[0]).to.equal(mergedHash);
    const next = await proveRows(s5, rows.slice(128, 144), m.weights, d.rollupAddress);
    P = { A, chain, twin, l1, next, merge: { weightsHash: mergedHash, proof: { a: cd.a, b: cd.b, c: cd.c } } };

    // What the attacks below rely on.
    expect(chain.links).to.have.length(2);
    expect(twin.weightsHash).to.equal(A[0].weightsHash);
    expect(twin.dataHash).to.not.equal(A[0].dataHash);
    expect(await d.rollup.trainingBinding(d.repoId, s1.address)).to.equal(BigInt(A[0].links[0].publicSignals[4]));
    expect(await d.repository.trainingBinding(d.repoId, s3.address)).to.equal(BigInt(l1.links[0].publicSignals[4]));
  });

  after(async () => {
    await shutdown();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  // ------------------------------------------------------------------ helpers over the fixture

  const settle = (by: HardhatEthersSigner, cs: Commit[], merge: Merge = PROPOSALS, args = roundArgs(cs)) =>
    d.rollup.connect(by).settleRound(d.repoId, args.commits, args.proofs, args.inputs, merge);

  const mergeOf = (indices: number[], weightsHash: bigint | string, proof: Proof = NO_PROOF): Merge => ({
    commits: indices.map(BigInt), weightsHash: word(weightsHash), proof,
  });
  const fastForward = (index: number, c: Proven) => mergeOf([index], c.weightsHash);

  const info = async () => [...(await d.rollup.rollupOf(d.repoId))];

  /** The (parent weights, data hash) pair of every link of `c` trained from `head`. */
  function uses(c: Commit, head: string) {
    let from = head;
    return c.links.map((l) => {
      const pair = [from, word(l.dataHash)] as const;
      from = word(l.newWeightsHash);
      return pair;
    });
  }

  /** Reverts must leave the rollup as it was: same state, no training use spent, no samples credited. */
  async function expectUnchanged(before: unknown[], cs: Commit[], head = d.w0) {
    expect(await info()).to.deep.equal(before);
    for (const c of cs) {
      for (const [from, data] of uses(c, head)) expect(await d.rollup.trainingUse(d.repoId, from, data)).to.equal(0n);
      expect(await d.rollup.samplesOf(d.repoId, c.author)).to.equal(0n);
    }
  }

  async function eventsOf(tx: ContractTransactionResponse, name: string) {
    const receipt = (await tx.wait())!;
    return receipt.logs
      .map((l) => d.rollup.interface.parseLog(l))
      .filter((e) => e?.name === name)
      .map((e) => [...e!.args].map((v) => (typeof v === "object" && v !== null ? [...(v as unknown[])] : v)));
  }

  const rootAfter = (prev: string, round: bigint, data: string) =>
    keccak256(abi.encode(["bytes32", "uint64", "bytes32"], [prev, round, keccak256(data)]));

  // ------------------------------------------------------------------ open

  describe("open", () => {
    it("is for the repository's Owner only, once, with a 6-point key; a round before it is refused", async () => {
      const d0 = await loadFixture(deployed);
      const { rollup, repoId, vk } = d0;
      for (const who of [d0.maintainer, d0.contributors[0], d0.outsider]) {
        await expect(rollup.connect(who).open(repoId, vk))
          .to.be.revertedWithCustomError(rollup, "FlavumRollupMissingRole").withArgs(repoId, who.address, RepoRole.Owner);
      }
      const seven: BatchVerifyingKey = { ...vk, ic: [...vk.ic, vk.ic[0]] };
      await expect(rollup.connect(d0.owner).open(repoId, seven)).to.be.revertedWithCustomError(rollup, "FlavumRollupWrongKeyShape").withArgs(7, 6);
      await expect(rollup.verifyingKey(repoId)).to.be.revertedWithCustomError(rollup, "FlavumRollupNotOpen").withArgs(repoId);
      const a = roundArgs([P.A[0]]);
      await expect(rollup.connect(d0.maintainer).settleRound(repoId, a.commits, a.proofs, a.inputs, PROPOSALS))
        .to.be.revertedWithCustomError(rollup, "FlavumRollupNotOpen").withArgs(repoId);

      const keyHash = verifyingKeyHash(vk);
      await expect(rollup.connect(d0.owner).open(repoId, vk))
        .to.emit(rollup, "RollupOpened").withArgs(repoId, d0.owner.address, d0.initial, d0.w0, keyHash);
      await expect(rollup.connect(d0.owner).open(repoId, vk)).to.be.revertedWithCustomError(rollup, "FlavumRollupAlreadyOpen").withArgs(repoId);

      const mainHead = await d0.repository.head(repoId, "main");
      expect(await info()).to.deep.equal([true, mainHead, (await d0.repository.commit(mainHead)).weightsHash, 0n, ZeroHash, keyHash]);
      const stored = await rollup.verifyingKey(repoId);
      const plain = (v: unknown): unknown => (Array.isArray(v) ? [...v].map(plain) : v);
      expect(plain([...stored])).to.deep.equal([vk.alpha, vk.beta, vk.gamma, vk.delta, vk.ic]);
      expect(await rollup.repository()).to.equal(d0.address);
    });
  });

  // ------------------------------------------------------------------ honest rounds

  describe("rounds", () => {
    it("settles 4 commits and their proven FedAvg of 4 in one transaction", async () => {
      await loadFixture(opened);
      const four = P.A.slice(0, 4);
      const tx = await settle(d.maintainer, four, mergeOf([0, 1, 2, 3], P.merge.weightsHash, P.merge.proof));
      const receipt = (await tx.wait())!;

      const settled = await eventsOf(tx, "CommitSettled");
      expect(settled).to.deep.equal(
        four.map((c, i) => {
          const data = chainDataHash(c.links.map((l) => l.dataHash));
          return [
            d.repoId, 1n, c.author, BigInt(i), trainCommitId(d.repoId, d.w0, data), d.w0, word(c.weightsHash), word(data),
            16n, BigInt(c.links[0].correct), 1n,
          ];
        }),
      );
      const root = rootAfter(ZeroHash, 1n, tx.data);
      expect(await eventsOf(tx, "RoundSettled")).to.deep.equal([
        [d.repoId, 1n, d.maintainer.address, 4n, [0n, 1n, 2n, 3n], word(P.merge.weightsHash), 64n, root],
      ]);
      const [open, base, , , , keyHash] = await info();
      expect(await info()).to.deep.equal([open, base, word(P.merge.weightsHash), 1n, root, keyHash]);
      for (const c of four) {
        expect(await d.rollup.samplesOf(d.repoId, c.author)).to.equal(16n);
        expect(await d.rollup.trainingUse(d.repoId, d.w0, word(c.links[0].dataHash))).to.equal(1n);
      }
      expect(await d.rollup.samplesOf(d.repoId, P.A[4].author)).to.equal(0n);

      console.log(
        `      rollup round of 4 commits (4 proofs) + FedAvg merge of 4: ${receipt.gasUsed} gas, ` +
          `${receipt.gasUsed / 4n} gas per commit, ${tx.data.length / 2 - 1} bytes of calldata`,
      );
    });

    it("takes a next round from the merged head and chains the accumulator", async () => {
      await loadFixture(opened);
      const t1 = await settle(d.maintainer, P.A.slice(0, 4), mergeOf([0, 1, 2, 3], P.merge.weightsHash, P.merge.proof));
      const t2 = await settle(d.maintainer, [P.next], fastForward(0, P.next));
      const receipt = (await t2.wait())!;
      const root1 = rootAfter(ZeroHash, 1n, t1.data);
      const info2 = await info();
      expect(info2.slice(2, 5)).to.deep.equal([word(P.next.weightsHash), 2n, rootAfter(root1, 2n, t2.data)]);
      expect(await d.rollup.trainingUse(d.repoId, word(P.merge.weightsHash), word(P.next.links[0].dataHash))).to.equal(2n);
      expect(await d.rollup.samplesOf(d.repoId, P.next.author)).to.equal(16n);
      console.log(`      rollup round of 1 commit (1 proof), fast-forwarded: ${receipt.gasUsed} gas`);
    });

    it("settles proposals only (k = 0): the head stays, nobody is credited, the round counts", async () => {
      await loadFixture(opened);
      const tx = await settle(d.maintainer, [P.A[0], P.A[1]]);
      const root = rootAfter(ZeroHash, 1n, tx.data);
      expect(await eventsOf(tx, "RoundSettled")).to.deep.equal([[d.repoId, 1n, d.maintainer.address, 2n, [], d.w0, 0n, root]]);
      expect((await info()).slice(2, 5)).to.deep.equal([d.w0, 1n, root]);
      for (const c of [P.A[0], P.A[1]]) {
        expect(await d.rollup.samplesOf(d.repoId, c.author)).to.equal(0n);
        expect(await d.rollup.trainingUse(d.repoId, d.w0, word(c.links[0].dataHash))).to.equal(1n);
      }
    });

    it("fast-forwards one commit (k = 1) to its weights, and only to its weights", async () => {
      await loadFixture(opened);
      const [a, b] = [P.A[0], P.A[1]];
      const before = await info();
      await expect(settle(d.maintainer, [a, b], mergeOf([1], a.weightsHash)))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupMergeWeights").withArgs(1, word(b.weightsHash), word(a.weightsHash));
      await expectUnchanged(before, [a, b]);

      await settle(d.maintainer, [a, b], fastForward(1, b));
      expect((await info()).slice(2, 4)).to.deep.equal([word(b.weightsHash), 1n]);
      expect(await d.rollup.samplesOf(d.repoId, b.author)).to.equal(16n);
      expect(await d.rollup.samplesOf(d.repoId, a.author)).to.equal(0n);
    });

    it("settles a 2-link commit along its chain (32 samples); its links out of order are refused", async () => {
      await loadFixture(opened);
      const c = P.chain;
      const [l1, l2] = c.links;
      const before = await info();
      await expect(settle(d.maintainer, [{ author: c.author, links: [l2, l1] }]))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupWrongParent").withArgs(0, 0, d.w0, word(l1.newWeightsHash));
      await expectUnchanged(before, [c]);

      const tx = await settle(d.maintainer, [c], fastForward(0, c));
      const data = chainDataHash([l1.dataHash, l2.dataHash]);
      expect(await eventsOf(tx, "CommitSettled")).to.deep.equal([[
        d.repoId, 1n, c.author, 0n, trainCommitId(d.repoId, d.w0, data), d.w0, word(c.weightsHash), word(data),
        32n, BigInt(l1.correct + l2.correct), 2n,
      ]]);
      expect(await d.rollup.samplesOf(d.repoId, c.author)).to.equal(32n);
      expect((await info())[2]).to.equal(word(c.weightsHash));
      for (const [from, dh] of uses(c, d.w0)) expect(await d.rollup.trainingUse(d.repoId, from, dh)).to.equal(1n);
    });
  });

  // ------------------------------------------------------------------ attacks

  describe("attacks", () => {
    it("a tampered public input fails the batch check (weights or data hash of one link)", async () => {
      await loadFixture(opened);
      const [a, b] = [P.A[0], P.A[1]];
      const before = await info();
      for (const [i, what] of [[1, "newWeightsHash"], [2, "dataHash"]] as const) {
        const l = b.links[0];
        const forged = { author: b.author, links: [withInput(l, i, (BigInt(l.publicSignals[i]) + 1n) % FIELD_P)] };
        await expect(settle(d.maintainer, [a, forged]), what)
          .to.be.revertedWithCustomError(d.rollup, "FlavumRollupInvalidProofs").withArgs(d.repoId, 1);
        // a's statement passed every check and was spent in storage before the pairing: the revert undoes it.
        await expectUnchanged(before, [a, b, forged]);
      }
    });

    it("a proof credited to another author, or made for L1, has the wrong binding", async () => {
      await loadFixture(opened);
      const [a, b] = [P.A[0], P.A[1]];
      const other = d.contributors[1].address;
      const before = await info();
      await expect(settle(d.maintainer, [b, { author: other, links: a.links }]))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupWrongBinding")
        .withArgs(1, 0, await d.rollup.trainingBinding(d.repoId, other), await d.rollup.trainingBinding(d.repoId, a.author));
      await expectUnchanged(before, [b]);

      await expect(settle(d.maintainer, [P.l1]))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupWrongBinding")
        .withArgs(0, 0, await d.rollup.trainingBinding(d.repoId, P.l1.author), await d.repository.trainingBinding(d.repoId, P.l1.author));
      await expectUnchanged(before, [P.l1]);
    });

    it("an author without a role is refused: an outsider, or a revoked contributor", async () => {
      await loadFixture(opened);
      const a = P.A[0];
      const before = await info();
      await expect(settle(d.maintainer, [{ author: d.outsider.address, links: a.links }]))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupMissingRole").withArgs(d.repoId, d.outsider.address, RepoRole.Contributor);
      await (await d.repository.connect(d.owner).revoke(d.repoId, a.author)).wait();
      await expect(settle(d.maintainer, [P.A[1], a]))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupMissingRole").withArgs(d.repoId, a.author, RepoRole.Contributor);
      await expectUnchanged(before, [a, P.A[1]]);
    });

    it("only a Maintainer or the Owner settles a round", async () => {
      await loadFixture(opened);
      const a = P.A[0];
      const before = await info();
      for (const who of [d.contributors[0], d.outsider]) {
        await expect(settle(who, [a], fastForward(0, a)))
          .to.be.revertedWithCustomError(d.rollup, "FlavumRollupMissingRole").withArgs(d.repoId, who.address, RepoRole.Maintainer);
      }
      await expectUnchanged(before, [a]);
      await settle(d.owner, [a], fastForward(0, a));
      expect((await info())[3]).to.equal(1n);
    });

    it("a replay in a later round: training reused while the head stays, wrong parent once it moved", async () => {
      await loadFixture(opened);
      const a = P.A[0];
      await settle(d.maintainer, [a]);
      const afterProposal = await info();
      await expect(settle(d.maintainer, [a]))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupTrainingReused").withArgs(d.repoId, d.w0, word(a.links[0].dataHash), 1);
      // ... nor can it be merged now that it is on record: a later round would have to carry it again.
      await expect(settle(d.maintainer, [a], fastForward(0, a)))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupTrainingReused").withArgs(d.repoId, d.w0, word(a.links[0].dataHash), 1);
      expect(await info()).to.deep.equal(afterProposal);

      await loadFixture(opened);
      await settle(d.maintainer, [a], fastForward(0, a));
      const afterMerge = await info();
      await expect(settle(d.maintainer, [a], fastForward(0, a)))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupWrongParent").withArgs(0, 0, word(a.weightsHash), d.w0);
      expect(await info()).to.deep.equal(afterMerge);
      expect(await d.rollup.samplesOf(d.repoId, a.author)).to.equal(16n);
    });

    it("the same commit twice in one round is training reused", async () => {
      await loadFixture(opened);
      const a = P.A[0];
      const before = await info();
      await expect(settle(d.maintainer, [a, P.A[1], a]))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupTrainingReused").withArgs(d.repoId, d.w0, word(a.links[0].dataHash), 1);
      await expectUnchanged(before, [a, P.A[1]]);
    });

    it("a commit trained from a head the rollup has left is a wrong parent", async () => {
      await loadFixture(opened);
      await settle(d.maintainer, P.A.slice(0, 4), mergeOf([0, 1, 2, 3], P.merge.weightsHash, P.merge.proof));
      const before = await info();
      const stale = P.A[4];
      await expect(settle(d.maintainer, [P.next, stale]))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupWrongParent").withArgs(1, 0, word(P.merge.weightsHash), d.w0);
      expect(await info()).to.deep.equal(before);
      expect(await d.rollup.trainingUse(d.repoId, word(P.merge.weightsHash), word(P.next.links[0].dataHash))).to.equal(0n);
      expect(await d.rollup.trainingUse(d.repoId, d.w0, word(stale.links[0].dataHash))).to.equal(0n);
    });

    it("malformed rounds: proofs or inputs not matching the links, no commit, too many, a commit of no link", async () => {
      await loadFixture(opened);
      const [a, b] = [P.A[0], P.A[1]];
      const before = await info();
      const good = roundArgs([a, b]);
      const r = d.rollup;
      const expectShape = (args: ReturnType<typeof roundArgs>, error: string, ...withArgs: unknown[]) =>
        expect(settle(d.maintainer, [], PROPOSALS, args)).to.be.revertedWithCustomError(r, error).withArgs(...withArgs);

      await expectShape({ ...good, proofs: good.proofs.slice(0, 1), inputs: good.inputs.slice(0, 5) }, "FlavumRollupProofCount", 2, 1, 64);
      await expectShape({ ...good, commits: [{ author: a.author, links: 2 }, good.commits[1]] }, "FlavumRollupProofCount", 3, 2, 64);
      await expectShape({ ...good, inputs: good.inputs.slice(0, 9) }, "FlavumRollupInputCount", 9, 10);
      await expectShape({ ...good, inputs: [...good.inputs, 0n] }, "FlavumRollupInputCount", 11, 10);
      await expectShape({ commits: [], proofs: [], inputs: [] }, "FlavumRollupRoundSize", 0, 32);
      const many = roundArgs(Array.from({ length: 33 }, () => a));
      await expectShape(many, "FlavumRollupRoundSize", 33, 32);
      await expectShape({ ...good, commits: [good.commits[0], { author: b.author, links: 0 }] }, "FlavumRollupEmptyCommit", 1);
      await expectUnchanged(before, [a, b]);
    });

    it("malformed merges: indices, count, merged weights, proof, size without a verifier, twin weights, non-field hash", async () => {
      await loadFixture(opened);
      const four = P.A.slice(0, 4);
      const r = d.rollup;
      const before = await info();
      const mergeVerifier4 = (await d.repository.repository(d.repoId)).mergeVerifiers[2];
      const refused = async (cs: Commit[], merge: Merge, error: string, ...withArgs: unknown[]) => {
        await expect(settle(d.maintainer, cs, merge), error).to.be.revertedWithCustomError(r, error).withArgs(...withArgs);
        await expectUnchanged(before, cs);
      };

      const w = P.merge.weightsHash;
      await refused(four, mergeOf([0, 1, 3, 2], w, P.merge.proof), "FlavumRollupMergeIndex", 3, 2, 4);
      await refused(four, mergeOf([0, 1, 1, 2], w, P.merge.proof), "FlavumRollupMergeIndex", 2, 1, 4);
      await refused(four, mergeOf([0, 1, 2, 4], w, P.merge.proof), "FlavumRollupMergeIndex", 3, 4, 4);
      await refused(four, mergeOf([4], w), "FlavumRollupMergeIndex", 0, 4, 4);
      await refused(four, mergeOf([0, 1, 2, 3, 4, 5, 6, 7, 8], w), "FlavumRollupMergeCount", 9);
      await refused(four, mergeOf([0, 1, 2, 3], w + 1n, P.merge.proof), "FlavumRollupInvalidMergeProof", d.repoId, 4, mergeVerifier4);
      // -A is on the curve, so the verifier runs its pairing rather than failing on a malformed point.
      const p = P.merge.proof;
      const negA: Proof = { ...p, a: [p.a[0], Q - p.a[1]] };
      await refused(four, mergeOf([0, 1, 2, 3], w, negA), "FlavumRollupInvalidMergeProof", d.repoId, 4, mergeVerifier4);
      // The proof of A0..A3 says nothing about the same commits in another order.
      await refused([four[1], four[0], four[2], four[3]], mergeOf([0, 1, 2, 3], w, p), "FlavumRollupInvalidMergeProof", d.repoId, 4, mergeVerifier4);
      await refused(P.A, mergeOf([0, 1, 2, 3, 4], w, p), "FlavumRollupNoMergeVerifier", d.repoId, 5);
      await refused([P.A[0], P.twin], mergeOf([0, 1], w, p), "FlavumRollupMergeDuplicate", 0, 1);
      await refused([P.A[0], P.A[1]], mergeOf([0, 1], FIELD_P, p), "FlavumRollupNotField", word(FIELD_P));
    });

    it("forged metrics are refused before any pairing: no samples, correct above samples, samples of 2^32", async () => {
      await loadFixture(opened);
      const a = P.A[0];
      const l = a.links[0];
      const before = await info();
      for (const metrics of [0n, 5n, (16n << 32n) | 17n, 1n << 64n]) {
        await expect(settle(d.maintainer, [{ author: a.author, links: [withInput(l, 3, metrics)] }]))
          .to.be.revertedWithCustomError(d.rollup, "FlavumRollupInvalidMetrics").withArgs(0, 0, metrics);
      }
      // Each link within bounds, their sum not: a commit's samples must fit 32 bits.
      const most = 0xffffffffn << 32n;
      const c = P.chain;
      await expect(settle(d.maintainer, [{ author: c.author, links: c.links.map((x) => withInput(x, 3, most)) }]))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupTooManySamples").withArgs(0, 2n * 0xffffffffn);
      await expectUnchanged(before, [a, c]);
    });

    it("a rollup proof pushed to L1 does not verify there; the L1 proof does (the binding names the contract)", async () => {
      await loadFixture(opened);
      const a = P.A[0];
      const [s1, , s3] = d.contributors;
      const trainVerifier = (await d.repository.repository(d.repoId)).trainVerifier;
      const pushed = (who: HardhatEthersSigner, c: Proven, branch: string) => {
        const links = c.links.map(linkCalldata).map((x) => ({ ...x, newWeightsHash: word(x.newWeightsHash), dataHash: word(x.dataHash) }));
        return d.repository.connect(who).pushCommit(d.repoId, branch, d.initial, links, "");
      };
      await (await d.repository.connect(s1).createBranch(d.repoId, "s1", d.initial)).wait();
      await expect(pushed(s1, a, "s1"))
        .to.be.revertedWithCustomError(d.repository, "FlavumInvalidTrainingProof").withArgs(d.repoId, d.initial, 0, trainVerifier);

      await (await d.repository.connect(s3).createBranch(d.repoId, "s3", d.initial)).wait();
      const receipt = (await (await pushed(s3, P.l1, "s3")).wait())!;
      console.log(`      L1 ModelRepository.pushCommit of 1 commit (1 proof), for comparison: ${receipt.gasUsed} gas`);
    });
  });

  describe("atomicity", () => {
    it("a round refused at its merge leaves no statement spent and no sample credited", async () => {
      await loadFixture(opened);
      const four = P.A.slice(0, 4);
      const before = await info();
      // Every statement and the batch pairing pass; only the merged weights are wrong.
      await expect(settle(d.maintainer, four, mergeOf([0, 1, 2, 3], P.A[0].weightsHash, P.merge.proof)))
        .to.be.revertedWithCustomError(d.rollup, "FlavumRollupInvalidMergeProof");
      await expectUnchanged(before, four);
      // The very same round then settles: nothing of the failed attempt was left behind.
      await settle(d.maintainer, four, mergeOf([0, 1, 2, 3], P.merge.weightsHash, P.merge.proof));
      expect((await info()).slice(2, 4)).to.deep.equal([word(P.merge.weightsHash), 1n]);
    });
  });
});
