import { expect } from "chai";
import hre from "hardhat";
import { keccak256, toBeHex, toUtf8Bytes, ZeroAddress, ZeroHash } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  CommitKind,
  CommitStatus,
  deployRepositories,
  mergePublicSignalNames,
  mergePublicSignals,
  RepoRole,
  TokenKind,
  trainingBinding,
  trainingPublicSignals,
} from "../../src/chain/deployRepos";
import { chainDataHash } from "../../src/repos/trainingChain";
import { initialCommitId, mergeCommitId, revertCommitId, trainCommitId } from "../../src/repos/commitIds";
import { DUMMY_PROOF, FIELD } from "./fixtures";
import type { MockRepositoryVerifier, MockStatementVerifier, ModelRepositoryHarness } from "../../typechain-types";
import type { IModelRepository } from "../../typechain-types/contracts/repos/ModelRepository";

/** A field element derived from a tag, as the bytes32 the contract takes. */
const fe = (tag: string) => toBeHex(BigInt(keccak256(toUtf8Bytes(tag))) % FIELD, 32);
const W0 = fe("weights:initial");
const ARCH = keccak256(toUtf8Bytes("arch:logreg-30"));
const REPO = 1n;
const INITIAL = 2n;
/** The commit dataHash of a chain whose links have these data hashes, as bytes32. */
const chainData = (...d: string[]) => toBeHex(chainDataHash(d), 32);
type Link = IModelRepository.TrainingLinkStruct;
/** Proof tags of MockStatementVerifier; above DUMMY_PROOF's a[0] = 1, so a dummy proof never verifies. */
let nextTag = 1000n;
const tagged = (tag: bigint) => ({ a: [tag, 0n] as [bigint, bigint], b: [[0n, 0n], [0n, 0n]] as [[bigint, bigint], [bigint, bigint]], c: [0n, 0n] as [bigint, bigint] });

describe("ModelRepository", function () {
  async function deployed() {
    const [deployer, owner, maintainer, alice, bob, carol, outsider] = await hre.ethers.getSigners();
    const { repository, address } = await deployRepositories(hre);
    const mock = async () => (await hre.ethers.deployContract("MockRepositoryVerifier")) as unknown as MockRepositoryVerifier;
    const train = (await hre.ethers.deployContract("MockStatementVerifier")) as unknown as MockStatementVerifier;
    const merge2 = await mock();
    const merge3 = await mock();
    const merge4 = await mock();
    const merge5 = await mock();
    const verifiers = {
      train: await train.getAddress(),
      // mergeVerifiers[k - 2] for k = 2 … 8; 6 to 8 left unsupported.
      merges: [await merge2.getAddress(), await merge3.getAddress(), await merge4.getAddress(), await merge5.getAddress(), ZeroAddress, ZeroAddress, ZeroAddress] as [string, string, string, string, string, string, string],
    };
    const { chainId } = await hre.ethers.provider.getNetwork();
    /** The training binding of `who` pushing to `repoId` here, computed as the workflow does (statement.ts). */
    const bindingOf = (who: { address: string }, repoId = REPO) => trainingBinding({ chainId, contract: address, repoId, author: who.address });
    return { repository, address, train, merge2, merge3, merge4, merge5, verifiers, deployer, owner, maintainer, alice, bob, carol, outsider, bindingOf };
  }

  /** Repository 1 ("digits", initial commit 2) with a maintainer, three contributors and their branches. */
  async function created() {
    const d = await deployed();
    const repo = d.repository.connect(d.owner);
    await repo.createRepository("digits", W0, ARCH, d.verifiers.train, d.verifiers.merges, "ipfs://digits");
    await repo.invite(REPO, d.maintainer.address, RepoRole.Maintainer);
    for (const c of [d.alice, d.bob, d.carol]) {
      await repo.invite(REPO, c.address, RepoRole.Contributor);
      await d.repository.connect(c).createBranch(REPO, c === d.alice ? "alice" : c === d.bob ? "bob" : "carol", INITIAL);
    }
    return d;
  }

  type D = Awaited<ReturnType<typeof deployed>>;

  /**
   * A chain link whose proof verifies for exactly its statement: trained from `from` to `w` on `data`,
   * made for `who` pushing to `repoId` (as a real training proof is bound to its statement).
   */
  async function link(d: D, who: HardhatEthersSigner, from: string, w: string, data: string, samples: number, correct: number, repoId = REPO): Promise<Link> {
    const tag = nextTag++;
    const pub = trainingPublicSignals({ parentWeightsHash: from, newWeightsHash: w, dataHash: data, correct, samples, binding: d.bindingOf(who, repoId) });
    await d.train.register(tag, pub as [bigint, bigint, bigint, bigint, bigint]);
    return { newWeightsHash: w, dataHash: data, samples, correct, proof: tagged(tag) };
  }

  /** `proofs` links from weights `from`, each of `samples` rows: weights w:<tag>[:i], data data:<tag>[:i]. */
  async function chainOf(d: D, who: HardhatEthersSigner, from: string, tag: string, proofs: number, samples: number, correct: number, repoId = REPO) {
    const links: Link[] = [];
    let w = from;
    for (let i = 0; i < proofs; i++) {
      const next = fe(i === proofs - 1 ? `w:${tag}` : `w:${tag}:${i}`);
      links.push(await link(d, who, w, next, fe(i === 0 ? `data:${tag}` : `data:${tag}:${i}`), samples, correct, repoId));
      w = next;
    }
    return links;
  }

  /** Pushes a training commit of `proofs` links (of `samples` rows, `correct` right, each) on `branch`; returns it. */
  async function push(d: D, who: HardhatEthersSigner, branch: string, parent: bigint, tag: string, samples: number, correct: number, proofs = 1) {
    const parentW = (await d.repository.commit(parent)).weightsHash;
    const links = await chainOf(d, who, parentW, tag, proofs, samples, correct);
    const r = d.repository.connect(who);
    const id = await r.pushCommit.staticCall(REPO, branch, parent, links, `ipfs://m/${tag}`);
    const tx = await r.pushCommit(REPO, branch, parent, links, `ipfs://m/${tag}`);
    const data = chainData(...links.map((l) => l.dataHash as string));
    const w = links[links.length - 1].newWeightsHash as string;
    return { id, w, data, links, samples: samples * proofs, tx, contentId: trainCommitId(REPO, parentW, data) };
  }

  /** Round 1: alice (16 samples) and bob (24) train from the initial commit on their branches. */
  async function round1() {
    const d = await created();
    const a = await push(d, d.alice, "alice", INITIAL, "a1", 16, 11);
    const b = await push(d, d.bob, "bob", INITIAL, "b1", 24, 15);
    return { ...d, a, b };
  }

  /** Round 1 merged into main by the maintainer (merge commit 5). */
  async function merged1() {
    const d = await round1();
    const W = fe("w:merge1");
    await d.merge2.expectInputs(mergePublicSignals(W, [{ weightsHash: d.a.w, samples: 16 }, { weightsHash: d.b.w, samples: 24 }]));
    await d.repository.connect(d.maintainer).merge(REPO, "main", [d.a.id, d.b.id], W, DUMMY_PROOF);
    return { ...d, merge1: 5n, W1: W };
  }

  describe("deployment and creation", function () {
    it("is the ERC-721 'Flavum Repository Commit' (FLVC), deployed by any signer", async () => {
      const { repository } = await loadFixture(deployed);
      expect(await repository.name()).to.equal("Flavum Repository Commit");
      expect(await repository.symbol()).to.equal("FLVC");
      expect(await repository.supportsInterface("0x80ac58cd")).to.equal(true); // ERC-721
      expect(await repository.supportsInterface("0x5b5e139f")).to.equal(true); // metadata
      expect(await repository.tokenCount()).to.equal(0n);
      const other = await deployRepositories(hre, { signerIndex: 2 });
      const [, , signer2] = await hre.ethers.getSigners();
      expect(other.repository.deploymentTransaction()!.from).to.equal(signer2.address);
      await expect(deployRepositories(hre, { signerIndex: 999 })).to.be.rejectedWith(/signer index 999/);
    });

    it("mints the repository (id 1) and its initial commit (id 2) on main to the creator", async () => {
      const { repository, owner, verifiers } = await loadFixture(deployed);
      const tx = repository
        .connect(owner)
        .createRepository("digits", W0, ARCH, verifiers.train, verifiers.merges, "ipfs://digits");
      await expect(tx)
        .to.emit(repository, "RepositoryCreated")
        .withArgs(REPO, owner.address, INITIAL, "digits", W0, ARCH, verifiers.train, verifiers.merges, "ipfs://digits")
        .and.to.emit(repository, "BranchCreated")
        .withArgs(REPO, INITIAL, owner.address, "main")
        .and.to.emit(repository, "HeadMoved")
        .withArgs(REPO, INITIAL, "main", 0n)
        .and.to.emit(repository, "Transfer")
        .withArgs(ZeroAddress, owner.address, REPO)
        .and.to.emit(repository, "Transfer")
        .withArgs(ZeroAddress, owner.address, INITIAL)
        .and.to.emit(repository, "CommitIdentified")
        .withArgs(REPO, INITIAL, initialCommitId(REPO, W0));

      expect(await repository.ownerOf(REPO)).to.equal(owner.address);
      expect(await repository.ownerOf(INITIAL)).to.equal(owner.address);
      expect(await repository.tokenKind(REPO)).to.equal(TokenKind.Repository);
      expect(await repository.tokenKind(INITIAL)).to.equal(TokenKind.Commit);
      expect(await repository.tokenKind(3n)).to.equal(TokenKind.None);
      expect(await repository.tokenURI(REPO)).to.equal("ipfs://digits");
      expect(await repository.tokenURI(INITIAL)).to.equal("");
      expect(await repository.repositoryByName("digits")).to.equal(REPO);
      expect(await repository.roleOf(REPO, owner.address)).to.equal(RepoRole.Owner);

      const r = await repository.repository(REPO);
      expect([r.name, r.architectureHash, r.trainVerifier, [...r.mergeVerifiers], r.initialCommit, r.uri]).to.deep.equal([
        "digits",
        ARCH,
        verifiers.train,
        verifiers.merges,
        INITIAL,
        "ipfs://digits",
      ]);
      const c = await repository.commit(INITIAL);
      expect([c.author, c.id, c.repoId, c.kind, c.status, c.weightsHash, c.dataHash, c.samples, c.correct, c.branch]).to.deep.equal([
        owner.address,
        INITIAL,
        REPO,
        BigInt(CommitKind.Initial),
        BigInt(CommitStatus.Accepted),
        W0,
        ZeroHash,
        0n,
        0n,
        "main",
      ]);
      expect([...c.parents]).to.deep.equal([]);
      // Its commit id, from its content (kind, repository, weights), resolves back to it.
      expect([c.contentId, c.proofs]).to.deep.equal([initialCommitId(REPO, W0), 0n]);
      expect(await repository.commitIdOf(c.contentId)).to.equal(INITIAL);
      expect(await repository.commitIdOf(fe("no such commit"))).to.equal(0n);
      expect(await repository.head(REPO, "main")).to.equal(INITIAL);
      const [names, heads, total] = await repository.branchesOf(REPO, 0, 10);
      expect([...names]).to.deep.equal(["main"]);
      expect([...heads]).to.deep.equal([INITIAL]);
      expect(total).to.equal(1n);
      expect([...(await repository.commitsOf(REPO, 0, 10))[0]]).to.deep.equal([INITIAL]);
      const main = await repository.branchInfo(REPO, "main");
      expect([main.head, main.creator]).to.deep.equal([INITIAL, owner.address]);
    });

    it("rejects duplicate or malformed names, non-field weights and verifiers without code", async () => {
      const { repository, owner, alice, verifiers } = await loadFixture(deployed);
      const r = repository.connect(owner);
      await r.createRepository("digits", W0, ARCH, verifiers.train, verifiers.merges, "");
      await expect(repository.connect(alice).createRepository("digits", W0, ARCH, verifiers.train, verifiers.merges, ""))
        .to.be.revertedWithCustomError(repository, "FlavumDuplicateName")
        .withArgs("digits", REPO);
      await expect(r.createRepository("", W0, ARCH, verifiers.train, verifiers.merges, ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidName")
        .withArgs("");
      const long = "x".repeat(65);
      await expect(r.createRepository(long, W0, ARCH, verifiers.train, verifiers.merges, ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidName")
        .withArgs(long);
      await expect(r.createRepository("b", toBeHex(FIELD, 32), ARCH, verifiers.train, verifiers.merges, ""))
        .to.be.revertedWithCustomError(repository, "FlavumNotFieldElement")
        .withArgs(FIELD);
      await expect(r.createRepository("b", W0, ARCH, alice.address, verifiers.merges, ""))
        .to.be.revertedWithCustomError(repository, "FlavumVerifierNotContract")
        .withArgs(alice.address);
      await expect(r.createRepository("b", W0, ARCH, verifiers.train, [verifiers.merges[0], alice.address, ZeroAddress, ZeroAddress, ZeroAddress, ZeroAddress, ZeroAddress], ""))
        .to.be.revertedWithCustomError(repository, "FlavumVerifierNotContract")
        .withArgs(alice.address);
      await expect(repository.repositoryByName("b"))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownRepositoryName")
        .withArgs("b");
      // Zero merge verifiers are allowed (those merge sizes are unsupported); names are exact, 64 bytes fit.
      await r.createRepository("x".repeat(64), W0, ARCH, verifiers.train, Array(7).fill(ZeroAddress), "");
      expect(await repository.repositoryByName("x".repeat(64))).to.equal(3n);
      expect(await repository.tokenKind(4n)).to.equal(TokenKind.Commit);
    });
  });

  describe("roles", function () {
    it("owners grant any role, maintainers grant and revoke contributors only", async () => {
      const { repository, owner, maintainer, alice, bob, outsider } = await loadFixture(created);
      expect(await repository.roleOf(REPO, maintainer.address)).to.equal(RepoRole.Maintainer);
      expect(await repository.roleOf(REPO, alice.address)).to.equal(RepoRole.Contributor);
      expect(await repository.roleOf(REPO, outsider.address)).to.equal(RepoRole.None);

      const m = repository.connect(maintainer);
      await expect(m.invite(REPO, outsider.address, RepoRole.Contributor))
        .to.emit(repository, "CollaboratorInvited")
        .withArgs(REPO, outsider.address, RepoRole.Contributor, maintainer.address);
      await expect(m.invite(REPO, outsider.address, RepoRole.Maintainer))
        .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
        .withArgs(REPO, maintainer.address, RepoRole.Owner);
      await expect(m.revoke(REPO, outsider.address))
        .to.emit(repository, "CollaboratorRevoked")
        .withArgs(REPO, outsider.address, RepoRole.Contributor, maintainer.address);
      await expect(m.revoke(REPO, outsider.address))
        .to.be.revertedWithCustomError(repository, "FlavumNoRole")
        .withArgs(REPO, outsider.address);

      // A maintainer can neither demote nor remove another maintainer or an owner.
      const o = repository.connect(owner);
      await o.invite(REPO, bob.address, RepoRole.Maintainer);
      await expect(m.invite(REPO, bob.address, RepoRole.Contributor))
        .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
        .withArgs(REPO, maintainer.address, RepoRole.Owner);
      await expect(m.revoke(REPO, bob.address))
        .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
        .withArgs(REPO, maintainer.address, RepoRole.Owner);

      // Contributors and outsiders manage nobody.
      for (const who of [alice, outsider]) {
        await expect(repository.connect(who).invite(REPO, who.address, RepoRole.Owner))
          .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
          .withArgs(REPO, who.address, RepoRole.Maintainer);
        await expect(repository.connect(who).revoke(REPO, alice.address))
          .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
          .withArgs(REPO, who.address, RepoRole.Maintainer);
      }

      // A second owner manages everyone but the token holder.
      await o.invite(REPO, alice.address, RepoRole.Owner);
      await expect(repository.connect(alice).revoke(REPO, bob.address))
        .to.emit(repository, "CollaboratorRevoked")
        .withArgs(REPO, bob.address, RepoRole.Maintainer, alice.address);
      await expect(repository.connect(alice).revoke(REPO, owner.address))
        .to.be.revertedWithCustomError(repository, "FlavumTokenHolderRole")
        .withArgs(REPO, owner.address);
      await expect(o.invite(REPO, owner.address, RepoRole.Contributor))
        .to.be.revertedWithCustomError(repository, "FlavumTokenHolderRole")
        .withArgs(REPO, owner.address);
      await expect(o.invite(REPO, bob.address, RepoRole.None))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidRole")
        .withArgs(RepoRole.None);
      await expect(o.invite(REPO, ZeroAddress, RepoRole.Contributor))
        .to.be.revertedWithCustomError(repository, "FlavumZeroAddress")
        .withArgs("account");
      await expect(o.invite(9n, bob.address, RepoRole.Contributor))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownRepository")
        .withArgs(9n);
      // A commit id is not a repository id.
      await expect(o.invite(INITIAL, bob.address, RepoRole.Contributor))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownRepository")
        .withArgs(INITIAL);
    });

    it("the repository token's holder is its owner: transferring it moves the seat", async () => {
      const { repository, owner, outsider } = await loadFixture(created);
      await repository.connect(owner).transferFrom(owner.address, outsider.address, REPO);
      expect(await repository.roleOf(REPO, outsider.address)).to.equal(RepoRole.Owner);
      expect(await repository.roleOf(REPO, owner.address)).to.equal(RepoRole.None);
      await expect(repository.connect(owner).invite(REPO, owner.address, RepoRole.Owner))
        .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
        .withArgs(REPO, owner.address, RepoRole.Maintainer);
      await expect(repository.connect(outsider).invite(REPO, owner.address, RepoRole.Maintainer)).to.emit(
        repository,
        "CollaboratorInvited",
      );
    });
  });

  describe("branches and pushes", function () {
    it("contributors branch from any non-rejected commit; names are unique per repository", async () => {
      const { repository, alice, outsider, carol } = await loadFixture(created);
      await expect(repository.connect(alice).createBranch(REPO, "alice/exp", INITIAL))
        .to.emit(repository, "BranchCreated")
        .withArgs(REPO, INITIAL, alice.address, "alice/exp");
      const [names, heads] = await repository.branchesOf(REPO, 0, 256);
      expect([...names]).to.deep.equal(["main", "alice", "bob", "carol", "alice/exp"]);
      expect([...heads]).to.deep.equal([INITIAL, INITIAL, INITIAL, INITIAL, INITIAL]);
      await expect(repository.connect(carol).createBranch(REPO, "alice", INITIAL))
        .to.be.revertedWithCustomError(repository, "FlavumBranchExists")
        .withArgs(REPO, "alice");
      await expect(repository.connect(carol).createBranch(REPO, "main", INITIAL))
        .to.be.revertedWithCustomError(repository, "FlavumBranchExists")
        .withArgs(REPO, "main");
      await expect(repository.connect(carol).createBranch(REPO, "", INITIAL))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidName")
        .withArgs("");
      await expect(repository.connect(outsider).createBranch(REPO, "mine", INITIAL))
        .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
        .withArgs(REPO, outsider.address, RepoRole.Contributor);
      await expect(repository.connect(carol).createBranch(REPO, "c2", 77n))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownCommit")
        .withArgs(REPO, 77n);
      await expect(repository.connect(carol).createBranch(REPO, "c2", REPO))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownCommit")
        .withArgs(REPO, REPO);
      await expect(repository.head(REPO, "nope"))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownBranch")
        .withArgs(REPO, "nope");
    });

    it("pushes a proven training commit: exact public signals, head moves, token minted to the author", async () => {
      const d = await loadFixture(created);
      const { repository, alice, train } = d;
      const w = fe("w:a1");
      const data = fe("data:a1");
      const binding = d.bindingOf(alice);
      expect(await repository.trainingBinding(REPO, alice.address)).to.equal(binding); // Solidity and statement.ts agree
      await train.register(7n, [BigInt(W0), BigInt(w), BigInt(data), 11n | (16n << 32n), binding]); // correct | samples << 32, binding
      const one: Link = { newWeightsHash: w, dataHash: data, samples: 16, correct: 11, proof: tagged(7n) };
      const commitData = chainData(data); // one proof: keccak256(d_1) mod p
      expect(await repository.chainDataHash([data])).to.equal(commitData);
      const id = trainCommitId(REPO, W0, commitData);
      const tx = repository.connect(alice).pushCommit(REPO, "alice", INITIAL, [one], "ipfs://m/a1");
      await expect(tx)
        .to.emit(repository, "CommitPushed")
        .withArgs(REPO, 3n, alice.address, "alice", INITIAL, w, commitData, 16, 11, 1, "ipfs://m/a1")
        .and.to.emit(repository, "CommitIdentified")
        .withArgs(REPO, 3n, id)
        .and.to.emit(repository, "HeadMoved")
        .withArgs(REPO, 3n, "alice", INITIAL)
        .and.to.emit(repository, "Transfer")
        .withArgs(ZeroAddress, alice.address, 3n);
      expect(await repository.ownerOf(3n)).to.equal(alice.address);
      expect(await repository.tokenURI(3n)).to.equal("ipfs://m/a1");
      expect(await repository.head(REPO, "alice")).to.equal(3n);
      expect(await repository.head(REPO, "main")).to.equal(INITIAL);
      const c = await repository.commit(3n);
      expect([c.author, c.id, c.repoId, c.kind, c.status, c.weightsHash, c.dataHash, c.samples, c.correct, c.branch, c.revertOf, c.proofs, c.contentId]).to.deep.equal([
        alice.address,
        3n,
        REPO,
        BigInt(CommitKind.Train),
        BigInt(CommitStatus.Proposed),
        w,
        commitData,
        16n,
        11n,
        "alice",
        0n,
        1n,
        id,
      ]);
      expect([...c.parents]).to.deep.equal([INITIAL]);
      expect([...(await repository.commitsOf(REPO, 0, 256))[0]]).to.deep.equal([INITIAL, 3n]);
      expect(await repository.trainingUse(REPO, W0, data)).to.equal(3n);
      expect(await repository.commitIdOf(id)).to.equal(3n);

      // The next push on the branch builds on the new head.
      const next = await push(d, alice, "alice", 3n, "a2", 16, 13);
      expect(next.id).to.equal(4n);
      expect([...(await repository.commit(4n)).parents]).to.deep.equal([3n]);
    });

    it("refuses a push whose proof does not verify for its public signals", async () => {
      const d = await loadFixture(created);
      const { repository, alice, train } = d;
      const tAddr = await train.getAddress();
      const w = fe("w:a1");
      const data = fe("data:a1");
      const good = await link(d, alice, W0, w, data, 16, 11);
      const r = repository.connect(alice);
      const as = (over: Partial<Link>): Link[] => [{ ...good, ...over }];
      // Another metric, other data, other weights: each is a different statement.
      for (const over of [{ correct: 12 }, { dataHash: fe("other data") }, { newWeightsHash: fe("other weights") }]) {
        await expect(r.pushCommit(REPO, "alice", INITIAL, as(over), ""))
          .to.be.revertedWithCustomError(repository, "FlavumInvalidTrainingProof")
          .withArgs(REPO, INITIAL, 0n, tAddr);
      }
      // Overstating the sample count (to weigh more in a merge) is another statement too.
      await expect(r.pushCommit(REPO, "alice", INITIAL, as({ samples: 64 }), ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidTrainingProof")
        .withArgs(REPO, INITIAL, 0n, tAddr);
      await train.setRevert(true);
      await expect(r.pushCommit(REPO, "alice", INITIAL, as({}), ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidTrainingProof")
        .withArgs(REPO, INITIAL, 0n, tAddr);
      await train.setRevert(false);
      await expect(r.pushCommit(REPO, "alice", INITIAL, as({ dataHash: toBeHex(FIELD + 1n, 32) }), ""))
        .to.be.revertedWithCustomError(repository, "FlavumNotFieldElement")
        .withArgs(FIELD + 1n);
      await expect(r.pushCommit(REPO, "alice", INITIAL, as({ samples: 0, correct: 0 }), ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidSamples")
        .withArgs(0n, 0, 0);
      await expect(r.pushCommit(REPO, "alice", INITIAL, as({ correct: 17 }), ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidSamples")
        .withArgs(0n, 16, 17);
      expect(await repository.tokenCount()).to.equal(INITIAL);
      await expect(r.pushCommit(REPO, "alice", INITIAL, as({}), "")).to.emit(repository, "CommitPushed");
    });

    it("enforces who pushes where, stale parents and known branches", async () => {
      const d = await loadFixture(created);
      const { repository, alice, bob, owner, maintainer, outsider } = d;
      const one: Link = { newWeightsHash: fe("w:x"), dataHash: fe("data:x"), samples: 8, correct: 4, proof: DUMMY_PROOF };
      const p = (who: HardhatEthersSigner, branch: string, parent = INITIAL, repoId = REPO) =>
        repository.connect(who).pushCommit(repoId, branch, parent, [one], "");
      await expect(p(outsider, "alice"))
        .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
        .withArgs(REPO, outsider.address, RepoRole.Contributor);
      await expect(p(alice, "main"))
        .to.be.revertedWithCustomError(repository, "FlavumBranchNotWritable")
        .withArgs(REPO, "main", alice.address);
      await expect(p(alice, "bob"))
        .to.be.revertedWithCustomError(repository, "FlavumBranchNotWritable")
        .withArgs(REPO, "bob", alice.address);
      await expect(p(alice, "nope"))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownBranch")
        .withArgs(REPO, "nope");
      await expect(p(alice, "alice", 9n, 9n))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownRepository")
        .withArgs(9n);

      const a = await push(d, alice, "alice", INITIAL, "a1", 16, 11);
      await expect(p(alice, "alice", INITIAL))
        .to.be.revertedWithCustomError(repository, "FlavumStaleParent")
        .withArgs(REPO, a.id, INITIAL);
      // Maintainers and owners push to main and to anyone's branch.
      await push(d, maintainer, "main", INITIAL, "m1", 32, 20);
      await push(d, owner, "bob", INITIAL, "o1", 8, 3);
      expect(await repository.ownerOf(5n)).to.equal(owner.address);
      expect((await repository.commit(5n)).author).to.equal(owner.address);
      await expect(p(bob, "bob", INITIAL))
        .to.be.revertedWithCustomError(repository, "FlavumStaleParent")
        .withArgs(REPO, 5n, INITIAL);
    });
  });

  describe("training chains", function () {
    it("verifies a chain of 4 proofs in one push: each from the weights the previous one produced", async () => {
      const d = await loadFixture(created);
      const { repository, alice } = d;
      const links = await chainOf(d, alice, W0, "c4", 4, 16, 10);
      expect(await repository.maxChainLength()).to.equal(64n);
      const data = chainData(...links.map((l) => l.dataHash as string));
      expect(await repository.chainDataHash(links.map((l) => l.dataHash))).to.equal(data);
      const id = trainCommitId(REPO, W0, data);
      const w4 = fe("w:c4");
      await expect(repository.connect(alice).pushCommit(REPO, "alice", INITIAL, links, "ipfs://m/c4"))
        .to.emit(repository, "CommitPushed")
        .withArgs(REPO, 3n, alice.address, "alice", INITIAL, w4, data, 64, 40, 4, "ipfs://m/c4")
        .and.to.emit(repository, "CommitIdentified")
        .withArgs(REPO, 3n, id);
      const c = await repository.commit(3n);
      // The last proof's weights; the sums of samples and correct (what a merge weighs it by); the chain's data hash.
      expect([c.weightsHash, c.dataHash, c.samples, c.correct, c.proofs, c.contentId, [...c.parents]]).to.deep.equal([w4, data, 64n, 40n, 4n, id, [INITIAL]]);
      expect(await repository.commitIdOf(id)).to.equal(3n);
      // Every link's (parent weights, data) pair is spent, in the commit's name; the intermediate weights are no commits.
      let from = W0;
      for (const l of links) {
        expect(await repository.trainingUse(REPO, from, l.dataHash)).to.equal(3n);
        from = l.newWeightsHash as string;
      }
      expect(await repository.tokenCount()).to.equal(3n);
      expect(await repository.head(REPO, "alice")).to.equal(3n);
    });

    it("refuses an empty chain and one longer than maxChainLength; takes exactly the maximum", async () => {
      const d = await loadFixture(created);
      const { repository, alice } = d;
      const r = repository.connect(alice);
      await expect(r.pushCommit(REPO, "alice", INITIAL, [], ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidChainLength")
        .withArgs(0n, 64n);
      await expect(repository.chainDataHash([])).to.be.revertedWithCustomError(repository, "FlavumInvalidChainLength").withArgs(0n, 64n);
      const links = await chainOf(d, alice, W0, "max", 65, 16, 8);
      await expect(r.pushCommit(REPO, "alice", INITIAL, links, ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidChainLength")
        .withArgs(65n, 64n);
      const max = links.slice(0, 64);
      const tx = await r.pushCommit(REPO, "alice", INITIAL, max, "");
      const gas = (await tx.wait())!.gasUsed;
      const c = await repository.commit(3n);
      expect([c.proofs, c.samples, c.correct, c.weightsHash]).to.deep.equal([64n, 1024n, 512n, max[63].newWeightsHash]);
      console.log(`      gas of a 64-proof push (mock verifier): ${gas}`);
      expect(gas).to.be.lessThan(5_000_000n);
    });

    it("refuses a broken chain: a proof made from other weights than the previous proof produced", async () => {
      const d = await loadFixture(created);
      const { repository, alice, train } = d;
      const links = await chainOf(d, alice, W0, "b", 4, 16, 10);
      // Link 2 replaced by a valid proof of training from other weights (another run's w1).
      const stray = await link(d, alice, fe("w:elsewhere"), fe("w:stray"), fe("data:stray"), 16, 10);
      const broken = [links[0], links[1], stray, links[3]];
      await expect(repository.connect(alice).pushCommit(REPO, "alice", INITIAL, broken, ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidTrainingProof")
        .withArgs(REPO, INITIAL, 2n, await train.getAddress());
      // A chain that does not start at the parent's weights (its first link dropped) is broken at link 0.
      await expect(repository.connect(alice).pushCommit(REPO, "alice", INITIAL, links.slice(1), ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidTrainingProof")
        .withArgs(REPO, INITIAL, 0n, await train.getAddress());
      // Nothing was spent by the failed pushes: the real chain goes through.
      await expect(repository.connect(alice).pushCommit(REPO, "alice", INITIAL, links, "")).to.emit(repository, "CommitPushed");
    });

    it("refuses a reordered chain: proofs verify only in the order they were trained", async () => {
      const d = await loadFixture(created);
      const { repository, alice, train } = d;
      const links = await chainOf(d, alice, W0, "r", 4, 16, 10);
      const r = repository.connect(alice);
      for (const [order, at] of [[[0, 2, 1, 3], 1n], [[1, 0, 2, 3], 0n], [[0, 1, 3, 2], 2n], [[3, 2, 1, 0], 0n]] as const) {
        await expect(r.pushCommit(REPO, "alice", INITIAL, order.map((i) => links[i]), ""))
          .to.be.revertedWithCustomError(repository, "FlavumInvalidTrainingProof")
          .withArgs(REPO, INITIAL, at, await train.getAddress());
      }
    });

    it("refuses a chain replaying any link used before, checked before any proof", async () => {
      const d = await loadFixture(created);
      const { repository, alice, bob } = d;
      const a = await push(d, alice, "alice", INITIAL, "a", 16, 10, 3);
      // Bob's first proof is his own (other rows, e.g. alice's in another order: other data, the same
      // weights w1), then he appends alice's second and third proofs, re-proven for himself.
      const w1 = a.links[0].newWeightsHash as string;
      const mine = await link(d, bob, W0, w1, fe("data:bob-reordered"), 16, 10);
      const replayed = await link(d, bob, w1, a.links[1].newWeightsHash as string, a.links[1].dataHash as string, 16, 10);
      await expect(repository.connect(bob).pushCommit(REPO, "bob", INITIAL, [mine, replayed], ""))
        .to.be.revertedWithCustomError(repository, "FlavumTrainingReused")
        .withArgs(REPO, w1, a.links[1].dataHash, a.id);
      // The replay is refused before any pairing is paid for: even with a first proof that would not verify.
      const bogus = { ...mine, proof: DUMMY_PROOF };
      await expect(repository.connect(bob).pushCommit(REPO, "bob", INITIAL, [bogus, replayed], ""))
        .to.be.revertedWithCustomError(repository, "FlavumTrainingReused")
        .withArgs(REPO, w1, a.links[1].dataHash, a.id);
      // A prefix of alice's chain is a chain of its own, but its links are spent.
      await repository.connect(alice).createBranch(REPO, "alice-prefix", INITIAL);
      await expect(repository.connect(alice).pushCommit(REPO, "alice-prefix", INITIAL, a.links.slice(0, 2), ""))
        .to.be.revertedWithCustomError(repository, "FlavumTrainingReused")
        .withArgs(REPO, W0, a.links[0].dataHash, a.id);
      // Without the replayed link, bob's own proof is a commit.
      await expect(repository.connect(bob).pushCommit(REPO, "bob", INITIAL, [mine], "")).to.emit(repository, "CommitPushed");
    });

    it("refuses a chain that repeats one of its own links (the weights came back to where they were)", async () => {
      const d = await loadFixture(created);
      const { repository, alice } = d;
      const A = fe("w:A");
      const l0 = await link(d, alice, W0, A, fe("data:0"), 16, 10);
      const back = await link(d, alice, A, W0, fe("data:1"), 16, 10);
      await expect(repository.connect(alice).pushCommit(REPO, "alice", INITIAL, [l0, back, l0], ""))
        .to.be.revertedWithCustomError(repository, "FlavumChainRepeatsLink")
        .withArgs(2n, W0, fe("data:0"));
    });

    it("checks every link: field elements, sample counts and their sum, the pusher", async () => {
      const d = await loadFixture(created);
      const { repository, alice, bob, train } = d;
      const links = await chainOf(d, alice, W0, "f", 3, 16, 10);
      const r = repository.connect(alice);
      const at2 = (over: Partial<Link>) => [links[0], links[1], { ...links[2], ...over }];
      await expect(r.pushCommit(REPO, "alice", INITIAL, at2({ newWeightsHash: toBeHex(FIELD, 32) }), ""))
        .to.be.revertedWithCustomError(repository, "FlavumNotFieldElement")
        .withArgs(FIELD);
      await expect(r.pushCommit(REPO, "alice", INITIAL, at2({ samples: 0, correct: 0 }), ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidSamples")
        .withArgs(2n, 0, 0);
      await expect(r.pushCommit(REPO, "alice", INITIAL, at2({ correct: 17 }), ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidSamples")
        .withArgs(2n, 16, 17);
      // Samples sum to what a merge proof can count (32 bits), even where every proof verifies.
      const max = 2 ** 32 - 1;
      const big1 = await link(d, alice, W0, fe("w:big1"), fe("data:big1"), max, 0);
      const big2 = await link(d, alice, fe("w:big1"), fe("w:big2"), fe("data:big2"), 1, 0);
      await expect(r.pushCommit(REPO, "alice", INITIAL, [big1, big2], ""))
        .to.be.revertedWithCustomError(repository, "FlavumTooManySamples")
        .withArgs(BigInt(max) + 1n);
      // Alice's chain pushed by bob: every proof was made for alice (binding), the first one fails.
      await expect(repository.connect(bob).pushCommit(REPO, "bob", INITIAL, links, ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidTrainingProof")
        .withArgs(REPO, INITIAL, 0n, await train.getAddress());
      await expect(r.pushCommit(REPO, "alice", INITIAL, [big1], "")).to.emit(repository, "CommitPushed");
    });
  });

  describe("replays", function () {
    it("a proof counts for its author only: another account replaying it (from the mempool) is refused", async () => {
      const d = await loadFixture(created);
      const { repository, alice, bob, maintainer, train } = d;
      const w = fe("w:a1");
      const data = fe("data:a1");
      // The verifier accepts exactly alice's statement, as a real proof made for alice does.
      const hers = await link(d, alice, W0, w, data, 16, 11);
      for (const [who, branch] of [[bob, "bob"], [maintainer, "main"]] as const) {
        await expect(repository.connect(who).pushCommit(REPO, branch, INITIAL, [hers], ""))
          .to.be.revertedWithCustomError(repository, "FlavumInvalidTrainingProof")
          .withArgs(REPO, INITIAL, 0n, await train.getAddress());
      }
      await expect(repository.connect(alice).pushCommit(REPO, "alice", INITIAL, [hers], "")).to.emit(repository, "CommitPushed");
      // Once it landed, the pair is spent: the replay fails before the verifier is even asked.
      await expect(repository.connect(bob).pushCommit(REPO, "bob", INITIAL, [hers], ""))
        .to.be.revertedWithCustomError(repository, "FlavumTrainingReused")
        .withArgs(REPO, W0, data, 3n);
    });

    it("a proof counts in its repository only, even where the spec, verifier and parent weights are the same", async () => {
      const d = await loadFixture(created);
      const { repository, owner, alice, train, verifiers } = d;
      await repository.connect(owner).createRepository("digits-fork", W0, ARCH, verifiers.train, verifiers.merges, "");
      const fork = 3n; // its initial commit is 4, with the same weights W0
      await repository.connect(owner).invite(fork, alice.address, RepoRole.Contributor);
      await repository.connect(alice).createBranch(fork, "alice", 4n);
      const a = await push(d, alice, "alice", INITIAL, "a1", 16, 11);
      await expect(repository.connect(alice).pushCommit(fork, "alice", 4n, a.links, ""))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidTrainingProof")
        .withArgs(fork, 4n, 0n, await train.getAddress());
      expect(d.bindingOf(alice, fork)).to.not.equal(d.bindingOf(alice));
      expect(await repository.trainingBinding(fork, alice.address)).to.equal(d.bindingOf(alice, fork));
      // Another deployment of the contract (or another chain) derives other bindings again.
      const other = await deployRepositories(hre);
      expect(await other.repository.trainingBinding(REPO, alice.address)).to.not.equal(d.bindingOf(alice));
    });

    it("a (repository, parent weights, data) pair is used once: not on a second branch, not from a revert to the same weights", async () => {
      const d = await loadFixture(created);
      const { repository, alice, maintainer } = d;
      const a = await push(d, alice, "alice", INITIAL, "a1", 16, 11);
      await repository.connect(alice).createBranch(REPO, "alice-again", INITIAL);
      await expect(repository.connect(alice).pushCommit(REPO, "alice-again", INITIAL, a.links, ""))
        .to.be.revertedWithCustomError(repository, "FlavumTrainingReused")
        .withArgs(REPO, W0, a.links[0].dataHash, a.id);
      // main moves on and is reverted to W0: the revert commit is another parent with the same weights.
      await push(d, maintainer, "main", INITIAL, "m1", 16, 10);
      const rv = await repository.connect(maintainer).revertTo.staticCall(REPO, "main", INITIAL);
      await repository.connect(maintainer).revertTo(REPO, "main", INITIAL);
      expect((await repository.commit(rv)).weightsHash).to.equal(W0);
      await repository.connect(alice).createBranch(REPO, "alice-rv", rv);
      await expect(repository.connect(alice).pushCommit(REPO, "alice-rv", rv, a.links, ""))
        .to.be.revertedWithCustomError(repository, "FlavumTrainingReused")
        .withArgs(REPO, W0, a.links[0].dataHash, a.id);
      // New data (in practice: the same rows under a fresh salt) from there is a new training.
      await push(d, alice, "alice-rv", rv, "a1-resalted", 16, 11);
      expect(await repository.trainingUse(REPO, W0, fe("data:unused"))).to.equal(0n);
    });
  });

  describe("lists", function () {
    it("pages branches and commits; a list of any length still reads (at most 256 entries a call)", async () => {
      const d = await loadFixture(created);
      const { repository, alice } = d;
      const r = repository.connect(alice);
      // A contributor growing the branch list far past one page.
      const extra = 300;
      for (let i = 0; i < extra; i++) await r.createBranch(REPO, `spam-${i}`, INITIAL);
      const total = BigInt(4 + extra);
      const [first, firstHeads, t1] = await repository.branchesOf(REPO, 0, 1000);
      expect([first.length, firstHeads.length, t1]).to.deep.equal([256, 256, total]);
      expect(first.slice(0, 5)).to.deep.equal(["main", "alice", "bob", "carol", "spam-0"]);
      const [rest, , t2] = await repository.branchesOf(REPO, 256, 1000);
      expect([rest.length, t2]).to.deep.equal([Number(total) - 256, total]);
      expect(rest[rest.length - 1]).to.equal(`spam-${extra - 1}`);
      const [mid, midHeads] = await repository.branchesOf(REPO, 2, 3);
      expect([...mid]).to.deep.equal(["bob", "carol", "spam-0"]);
      expect([...midHeads]).to.deep.equal([INITIAL, INITIAL, INITIAL]);
      const [none, , t3] = await repository.branchesOf(REPO, total, 10);
      expect([none.length, t3]).to.deep.equal([0, total]);
      expect((await repository.branchesOf(REPO, 0, 0))[0].length).to.equal(0);

      const a1 = await push(d, alice, "alice", INITIAL, "p1", 8, 4);
      const a2 = await push(d, alice, "alice", a1.id, "p2", 8, 4);
      expect([...(await repository.commitsOf(REPO, 0, 10))[0]]).to.deep.equal([INITIAL, a1.id, a2.id]);
      const [page, count] = await repository.commitsOf(REPO, 1, 1);
      expect([[...page], count]).to.deep.equal([[a1.id], 3n]);
      expect((await repository.commitsOf(REPO, 3, 10))[0].length).to.equal(0);
      await expect(repository.commitsOf(9n, 0, 1)).to.be.revertedWithCustomError(repository, "FlavumUnknownRepository").withArgs(9n);
      await expect(repository.branchesOf(9n, 0, 1)).to.be.revertedWithCustomError(repository, "FlavumUnknownRepository").withArgs(9n);
    });
  });

  describe("merges", function () {
    it("refuses to merge two commits with the same weights", async () => {
      const d = await loadFixture(created);
      const { repository, maintainer, merge2, alice, bob } = d;
      const a = await push(d, alice, "alice", INITIAL, "same", 16, 11);
      // Bob's data differs, his resulting weights are alice's (pushed with his own binding).
      const bobs = await link(d, bob, W0, a.w, fe("data:bob"), 16, 11);
      await repository.connect(bob).pushCommit(REPO, "bob", INITIAL, [bobs], "");
      const b = await repository.head(REPO, "bob");
      await merge2.setAccept(true);
      await expect(repository.connect(maintainer).merge(REPO, "main", [a.id, b], fe("w:avg"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumMergeDuplicateWeights")
        .withArgs(a.id, b, a.w);
    });

    it("refuses to merge two commits with the same data, should one-use triples ever let them through", async () => {
      // The harness plants what pushCommit refuses (FlavumTrainingReused): two commits from one parent on the same data.
      const d = await loadFixture(created);
      const h = (await hre.ethers.deployContract("ModelRepositoryHarness")) as unknown as ModelRepositoryHarness;
      const o = h.connect(d.owner);
      await o.createRepository("digits", W0, ARCH, d.verifiers.train, d.verifiers.merges, "");
      await o.createBranch(REPO, "x", INITIAL);
      await o.createBranch(REPO, "y", INITIAL);
      const data = fe("data:twice");
      await o.plantTrainCommit(REPO, "x", INITIAL, fe("w:x"), data, 16, 10);
      await o.plantTrainCommit(REPO, "y", INITIAL, fe("w:y"), data, 16, 10);
      await d.merge2.setAccept(true);
      await expect(o.merge(REPO, "main", [3n, 4n], fe("w:avg"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(h, "FlavumMergeDuplicateData")
        .withArgs(3n, 4n, data);
      await expect(o.merge(REPO, "main", [3n], fe("w:x"), DUMMY_PROOF)).to.emit(h, "Merged"); // one of them alone is fine
    });

    it("merges 2 commits with a proof of exactly [W, h_a, h_b, n_a, n_b]", async () => {
      const d = await loadFixture(round1);
      const { repository, maintainer, merge2, a, b } = d;
      const W = fe("w:merge1");
      expect(mergePublicSignalNames(2)).to.deep.equal(["newWeightsHash", "weightsHash_1", "weightsHash_2", "samples_1", "samples_2"]);
      await merge2.expectInputs([BigInt(W), BigInt(a.w), BigInt(b.w), 16n, 24n]);
      const m = repository.connect(maintainer);
      // Order matters: the public signals follow the order of `commits`.
      await expect(m.merge(REPO, "main", [b.id, a.id], W, DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidMergeProof")
        .withArgs(REPO, 2n, await merge2.getAddress());
      await expect(m.merge(REPO, "main", [a.id, b.id], fe("w:wrong"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidMergeProof")
        .withArgs(REPO, 2n, await merge2.getAddress());

      const mergeId = mergeCommitId(REPO, W, [a.contentId, b.contentId]);
      await expect(m.merge(REPO, "main", [a.id, b.id], W, DUMMY_PROOF))
        .to.emit(repository, "Merged")
        .withArgs(REPO, 5n, maintainer.address, "main", [a.id, b.id], W, 40n)
        .and.to.emit(repository, "CommitIdentified")
        .withArgs(REPO, 5n, mergeId)
        .and.to.emit(repository, "HeadMoved")
        .withArgs(REPO, 5n, "main", INITIAL)
        .and.to.emit(repository, "Transfer")
        .withArgs(ZeroAddress, maintainer.address, 5n);
      const c = await repository.commit(5n);
      expect([c.author, c.kind, c.status, c.weightsHash, c.samples, c.branch, c.dataHash]).to.deep.equal([
        maintainer.address,
        BigInt(CommitKind.Merge),
        BigInt(CommitStatus.Accepted),
        W,
        40n,
        "main",
        ZeroHash,
      ]);
      expect([...c.parents]).to.deep.equal([INITIAL, a.id, b.id]);
      // The merge's id: its weights and the merged commits' ids, as src/repos/commitIds.ts computes it.
      expect(c.contentId).to.equal(mergeId);
      expect(await repository.commitIdOf(mergeId)).to.equal(5n);
      expect((await repository.commit(a.id)).status).to.equal(BigInt(CommitStatus.Merged));
      expect((await repository.commit(b.id)).status).to.equal(BigInt(CommitStatus.Merged));
      expect(await repository.head(REPO, "main")).to.equal(5n);
      // Commit tokens stay with their authors; the merge commit is the merger's.
      expect(await repository.ownerOf(a.id)).to.equal(d.alice.address);
      expect(await repository.ownerOf(b.id)).to.equal(d.bob.address);
      expect(await repository.ownerOf(5n)).to.equal(maintainer.address);
      // Merged commits cannot be merged again.
      await expect(m.merge(REPO, "main", [a.id], a.w, DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumWrongCommitStatus")
        .withArgs(a.id, CommitStatus.Merged);
    });

    it("round 2: merges 3 commits trained from the merge with [W, h_1..h_3, n_1..n_3]", async () => {
      const d = await loadFixture(merged1);
      const { repository, maintainer, owner, merge3, alice, bob, carol, merge1 } = d;
      const ids: bigint[] = [];
      const ws: string[] = [];
      for (const [who, n] of [[alice, 10], [bob, 20], [carol, 30]] as const) {
        const name = `${who.address.slice(2, 8)}/r2`;
        await repository.connect(who).createBranch(REPO, name, merge1);
        const c = await push(d, who, name, merge1, `r2:${n}`, n, n - 3);
        ids.push(c.id);
        ws.push(c.w);
      }
      // A round-1 commit pushed after the merge is stale for main.
      const late = await push(d, carol, "carol", INITIAL, "late", 12, 6);
      const W = fe("w:merge2");
      await merge3.expectInputs([BigInt(W), ...ws.map(BigInt), 10n, 20n, 30n]);
      const m = repository.connect(owner);
      await expect(m.merge(REPO, "main", [...ids.slice(0, 2), late.id], W, DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumStaleParent")
        .withArgs(REPO, merge1, INITIAL);
      await expect(m.merge(REPO, "main", [ids[0], ids[1], ids[1]], W, DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumWrongCommitStatus")
        .withArgs(ids[1], CommitStatus.Merged);
      const mergeId = await m.merge.staticCall(REPO, "main", ids, W, DUMMY_PROOF);
      await expect(m.merge(REPO, "main", ids, W, DUMMY_PROOF))
        .to.emit(repository, "Merged")
        .withArgs(REPO, mergeId, owner.address, "main", ids, W, 60n);
      expect([...(await repository.commit(mergeId)).parents]).to.deep.equal([merge1, ...ids]);
      expect(await repository.ownerOf(mergeId)).to.equal(owner.address);
      expect(await repository.head(REPO, "main")).to.equal(mergeId);
      expect(maintainer.address).to.not.equal(owner.address);
    });

    it("merges 4 commits through the 4-commit verifier; fast-forwards one commit without a proof", async () => {
      const d = await loadFixture(created);
      const { repository, maintainer, merge4, alice, bob, carol, owner } = d;
      await repository.connect(maintainer).createBranch(REPO, "m", INITIAL);
      const cs = [
        await push(d, alice, "alice", INITIAL, "4a", 4, 1),
        await push(d, bob, "bob", INITIAL, "4b", 5, 2),
        await push(d, carol, "carol", INITIAL, "4c", 6, 3),
        await push(d, maintainer, "m", INITIAL, "4d", 7, 4),
      ];
      const W = fe("w:merge4");
      await merge4.expectInputs(mergePublicSignals(W, cs.map((c) => ({ weightsHash: c.w, samples: c.samples }))));
      const m = repository.connect(maintainer);
      await m.merge(REPO, "main", cs.map((c) => c.id), W, DUMMY_PROOF);
      const head = await repository.head(REPO, "main");
      expect((await repository.commit(head)).samples).to.equal(22n);

      // Fast-forward: one commit trained from the head becomes the head; no new token, no proof.
      const next = await push(d, owner, "main", head, "ff", 9, 9);
      const ownBranch = "ff-target";
      await repository.connect(owner).createBranch(REPO, ownBranch, head);
      const before = await repository.tokenCount();
      await expect(m.merge(REPO, ownBranch, [next.id], fe("w:not it"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumWeightsMismatch")
        .withArgs(next.id, next.w, fe("w:not it"));
      await expect(m.merge(REPO, ownBranch, [next.id], next.w, DUMMY_PROOF))
        .to.emit(repository, "Merged")
        .withArgs(REPO, next.id, maintainer.address, ownBranch, [next.id], next.w, 9n)
        .and.to.emit(repository, "HeadMoved")
        .withArgs(REPO, next.id, ownBranch, head)
        .and.not.to.emit(repository, "CommitIdentified");
      // The head is the fast-forwarded commit, under its own id.
      expect((await repository.commit(await repository.head(REPO, ownBranch))).contentId).to.equal(next.contentId);
      expect(await repository.tokenCount()).to.equal(before);
      expect(await repository.head(REPO, ownBranch)).to.equal(next.id);
      expect((await repository.commit(next.id)).status).to.equal(BigInt(CommitStatus.Merged));
    });

    it("merges 5 commits through a verifier no interface declares: the selector comes from k", async () => {
      const d = await loadFixture(created);
      const { repository, maintainer, merge5, alice, bob, carol, owner } = d;
      await repository.connect(maintainer).createBranch(REPO, "m", INITIAL);
      await repository.connect(owner).createBranch(REPO, "o", INITIAL);
      const cs = [
        await push(d, alice, "alice", INITIAL, "5a", 4, 1),
        await push(d, bob, "bob", INITIAL, "5b", 5, 2),
        await push(d, carol, "carol", INITIAL, "5c", 6, 3),
        await push(d, maintainer, "m", INITIAL, "5d", 7, 4),
        await push(d, owner, "o", INITIAL, "5e", 8, 5),
      ];
      const W = fe("w:merge5");
      await merge5.expectInputs(mergePublicSignals(W, cs.map((c) => ({ weightsHash: c.w, samples: c.samples }))));
      const m = repository.connect(maintainer);
      // The mock answers only the exact statement: another vector (a count changed) does not verify.
      await expect(m.merge(REPO, "main", cs.map((c) => c.id), fe("w:other"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidMergeProof")
        .withArgs(REPO, 5n, await merge5.getAddress());
      await m.merge(REPO, "main", cs.map((c) => c.id), W, DUMMY_PROOF);
      const head = await repository.head(REPO, "main");
      expect((await repository.commit(head)).samples).to.equal(30n);
      expect([...(await repository.commit(head)).parents]).to.deep.equal([INITIAL, ...cs.map((c) => c.id)]);
    });

    it("checks the caller, the count, the commits and the verifier", async () => {
      const d = await loadFixture(round1);
      const { repository, alice, outsider, maintainer, owner, a, b, verifiers } = d;
      for (const who of [alice, outsider]) {
        await expect(repository.connect(who).merge(REPO, "main", [a.id, b.id], fe("w"), DUMMY_PROOF))
          .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
          .withArgs(REPO, who.address, RepoRole.Maintainer);
      }
      const m = repository.connect(maintainer);
      await expect(m.merge(REPO, "main", [], fe("w"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidMergeCount")
        .withArgs(0n);
      await expect(m.merge(REPO, "main", [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n], fe("w"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumInvalidMergeCount")
        .withArgs(9n);
      await expect(m.merge(REPO, "main", [1n, 2n, 3n, 4n, 5n, 6n], fe("w"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumMergeVerifierNotSet")
        .withArgs(REPO, 6n);
      await expect(m.merge(REPO, "main", [a.id, 999n], fe("w"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownCommit")
        .withArgs(REPO, 999n);
      await expect(m.merge(REPO, "main", [a.id, INITIAL], fe("w"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumWrongCommitStatus")
        .withArgs(INITIAL, CommitStatus.Accepted);
      await expect(m.merge(REPO, "nope", [a.id, b.id], fe("w"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownBranch")
        .withArgs(REPO, "nope");
      await expect(m.merge(REPO, "main", [a.id, b.id], toBeHex(FIELD, 32), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumNotFieldElement")
        .withArgs(FIELD);
      // Trained from main's head, but a's branch head is a itself: stale for branch "alice".
      await expect(m.merge(REPO, "alice", [b.id], b.w, DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumStaleParent")
        .withArgs(REPO, a.id, INITIAL);

      // A second repository without merge verifiers: commits of repository 1 are unknown there.
      await repository.connect(owner).createRepository("bare", W0, ARCH, verifiers.train, Array(7).fill(ZeroAddress), "");
      const bare = 5n; // tokens 1..4 exist (repository, initial commit, a, b)
      expect(await repository.tokenKind(bare)).to.equal(TokenKind.Repository);
      const o = repository.connect(owner);
      await expect(o.merge(bare, "main", [a.id, b.id], fe("w"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumMergeVerifierNotSet")
        .withArgs(bare, 2n);
      await expect(o.merge(bare, "main", [a.id], a.w, DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownCommit")
        .withArgs(bare, a.id);
      await expect(repository.commit(999n)).to.be.revertedWithCustomError(repository, "FlavumUnknownCommit").withArgs(0n, 999n);
      await expect(repository.commit(REPO)).to.be.revertedWithCustomError(repository, "FlavumUnknownCommit").withArgs(0n, REPO);
    });
  });

  describe("reject and revert", function () {
    it("rejects Proposed commits only, and nothing builds on a rejected commit", async () => {
      const d = await loadFixture(round1);
      const { repository, maintainer, alice, outsider, a, b } = d;
      for (const who of [alice, outsider]) {
        await expect(repository.connect(who).reject(REPO, b.id, "no"))
          .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
          .withArgs(REPO, who.address, RepoRole.Maintainer);
      }
      const m = repository.connect(maintainer);
      await expect(m.reject(REPO, b.id, "accuracy dropped"))
        .to.emit(repository, "CommitRejected")
        .withArgs(REPO, b.id, maintainer.address, "accuracy dropped");
      expect((await repository.commit(b.id)).status).to.equal(BigInt(CommitStatus.Rejected));
      expect(await repository.ownerOf(b.id)).to.equal(d.bob.address); // history and token kept
      await expect(m.reject(REPO, b.id, "again"))
        .to.be.revertedWithCustomError(repository, "FlavumWrongCommitStatus")
        .withArgs(b.id, CommitStatus.Rejected);
      await expect(m.reject(REPO, INITIAL, "initial"))
        .to.be.revertedWithCustomError(repository, "FlavumWrongCommitStatus")
        .withArgs(INITIAL, CommitStatus.Accepted);
      await expect(m.reject(REPO, 999n, "?"))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownCommit")
        .withArgs(REPO, 999n);
      await expect(m.merge(REPO, "main", [a.id, b.id], fe("w"), DUMMY_PROOF))
        .to.be.revertedWithCustomError(repository, "FlavumWrongCommitStatus")
        .withArgs(b.id, CommitStatus.Rejected);
      const onRejected: Link = { newWeightsHash: fe("w"), dataHash: fe("d"), samples: 1, correct: 1, proof: DUMMY_PROOF };
      await expect(repository.connect(d.bob).pushCommit(REPO, "bob", b.id, [onRejected], ""))
        .to.be.revertedWithCustomError(repository, "FlavumRejectedBase")
        .withArgs(b.id);
      await expect(repository.connect(d.bob).createBranch(REPO, "bob2", b.id))
        .to.be.revertedWithCustomError(repository, "FlavumRejectedBase")
        .withArgs(b.id);
      await expect(m.revertTo(REPO, "main", b.id))
        .to.be.revertedWithCustomError(repository, "FlavumRejectedBase")
        .withArgs(b.id);
    });

    it("reverts a branch with a new forward commit carrying the old weights", async () => {
      const d = await loadFixture(merged1);
      const { repository, maintainer, owner, alice, outsider, merge1 } = d;
      for (const who of [alice, outsider]) {
        await expect(repository.connect(who).revertTo(REPO, "main", INITIAL))
          .to.be.revertedWithCustomError(repository, "FlavumMissingRole")
          .withArgs(REPO, who.address, RepoRole.Maintainer);
      }
      const m = repository.connect(maintainer);
      const id = await m.revertTo.staticCall(REPO, "main", INITIAL);
      const revertId = revertCommitId(REPO, "main", merge1, INITIAL);
      await expect(m.revertTo(REPO, "main", INITIAL))
        .to.emit(repository, "Reverted")
        .withArgs(REPO, id, maintainer.address, "main", INITIAL)
        .and.to.emit(repository, "CommitIdentified")
        .withArgs(REPO, id, revertId)
        .and.to.emit(repository, "HeadMoved")
        .withArgs(REPO, id, "main", merge1)
        .and.to.emit(repository, "Transfer")
        .withArgs(ZeroAddress, maintainer.address, id);
      const c = await repository.commit(id);
      expect([c.kind, c.status, c.weightsHash, c.revertOf, c.author, c.branch, c.samples]).to.deep.equal([
        BigInt(CommitKind.Revert),
        BigInt(CommitStatus.Accepted),
        W0,
        INITIAL,
        maintainer.address,
        "main",
        0n,
      ]);
      expect([...c.parents]).to.deep.equal([merge1]);
      expect([c.contentId, await repository.commitIdOf(revertId)]).to.deep.equal([revertId, id]);
      expect(await repository.head(REPO, "main")).to.equal(id);
      // History is kept: every commit is still there, in order.
      expect([...(await repository.commitsOf(REPO, 0, 256))[0]]).to.deep.equal([INITIAL, d.a.id, d.b.id, merge1, id]);
      await expect(m.revertTo(REPO, "main", id))
        .to.be.revertedWithCustomError(repository, "FlavumNothingToRevert")
        .withArgs(REPO, "main", id);
      // Any non-rejected commit of the repository may be restored, e.g. back to the merge.
      await expect(repository.connect(owner).revertTo(REPO, "main", merge1)).to.emit(repository, "Reverted");
      expect((await repository.commit(await repository.head(REPO, "main"))).weightsHash).to.equal(d.W1);
      await expect(m.revertTo(REPO, "main", 999n))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownCommit")
        .withArgs(REPO, 999n);
      await expect(m.revertTo(REPO, "dev", INITIAL))
        .to.be.revertedWithCustomError(repository, "FlavumUnknownBranch")
        .withArgs(REPO, "dev");
      // Training continues from the revert commit: it is a head like any other.
      const head = await repository.head(REPO, "main");
      await repository.connect(alice).createBranch(REPO, "alice/r3", head);
      const r3 = await push(d, alice, "alice/r3", head, "r3", 16, 12);
      await m.merge(REPO, "main", [r3.id], r3.w, DUMMY_PROOF);
      expect(await repository.head(REPO, "main")).to.equal(r3.id);
    });
  });

  it("reports gas of push and merge with mock verifiers", async () => {
    const d = await loadFixture(created);
    const a = await push(d, d.alice, "alice", INITIAL, "g1", 16, 11);
    const b = await push(d, d.bob, "bob", INITIAL, "g2", 16, 11);
    const c = await push(d, d.carol, "carol", INITIAL, "g3", 16, 11);
    const pushGas = (await a.tx.wait())!.gasUsed;
    const W = fe("w:g");
    await d.merge2.expectInputs(mergePublicSignals(W, [{ weightsHash: a.w, samples: 16 }, { weightsHash: b.w, samples: 16 }]));
    const m2 = await (await d.repository.connect(d.maintainer).merge(REPO, "main", [a.id, b.id], W, DUMMY_PROOF)).wait();
    const head = await d.repository.head(REPO, "main");
    const cs = [];
    for (const [who, br] of [[d.alice, "a2"], [d.bob, "b2"], [d.carol, "c2"]] as const) {
      await d.repository.connect(who).createBranch(REPO, br, head);
      cs.push(await push(d, who, br, head, `g:${br}`, 16, 11));
    }
    const W3 = fe("w:g3");
    await d.merge3.expectInputs(mergePublicSignals(W3, cs.map((x) => ({ weightsHash: x.w, samples: 16 }))));
    const pushGas2 = (await cs[0].tx.wait())!.gasUsed;
    const m3 = await (await d.repository.connect(d.maintainer).merge(REPO, "main", cs.map((x) => x.id), W3, DUMMY_PROOF)).wait();
    const rv = await (await d.repository.connect(d.maintainer).revertTo(REPO, "main", INITIAL)).wait();
    // Chains: the per-link overhead without the pairing (the mock's check is a storage read).
    const chainGas: bigint[] = [];
    for (const [i, proofs] of [1, 4, 16].entries()) {
      await d.repository.connect(d.alice).createBranch(REPO, `chain-${proofs}`, INITIAL);
      chainGas.push((await (await push(d, d.alice, `chain-${proofs}`, INITIAL, `chain${i}`, 16, 11, proofs)).tx.wait())!.gasUsed);
    }
    console.log(
      `      gas (mock verifiers): push ${pushGas} (author's first commit token; a later one: ${pushGas2}), ` +
        `merge of 2 ${m2!.gasUsed}, merge of 3 ${m3!.gasUsed}, revert ${rv!.gasUsed}; ` +
        `chains of 1/4/16 proofs ${chainGas.join("/")} (${(chainGas[2] - chainGas[1]) / 12n} a further link)`,
    );
    expect(pushGas).to.be.lessThan(400_000n);
    expect(m3!.gasUsed).to.be.lessThan(500_000n);
    expect((chainGas[2] - chainGas[1]) / 12n).to.be.lessThan(50_000n);
    void c;
  });
});
