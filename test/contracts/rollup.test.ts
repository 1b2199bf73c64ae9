import { traceStoreConfig } from "../../src/chain/deployRollup";
import { expect } from "chai";
import hre from "hardhat";
import { randomBytes } from "crypto";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { META, unpackMeta } from "../../src/protocol/batch";
import {
  batchCommitmentOf,
  batchIdOf,
  buildSubtree,
  commitment,
  deployedRollup,
  digitsInput,
  digitsShape,
  DUMMY_PROOF,
  encodeTrace,
  FIELD,
  offchainEntries,
  rollupWithModel,
  statementFor,
  submitEntries,
} from "./fixtures";
import type { FlavumRollup, MockBatchVerifier } from "../../typechain-types";

const { a, b, c } = DUMMY_PROOF;
const field = () => BigInt(hre.ethers.hexlify(randomBytes(32))) % FIELD;
/** One off-chain entry: the smallest trace a batch can carry. */
const oneEntry = (modelId: bigint) => encodeTrace(offchainEntries(modelId, 1));

describe("FlavumRollup batches", function () {
  describe("access control", () => {
    it("gives the deployer the admin role and the chosen sequencer the sequencer role", async () => {
      const { rollup, admin, sequencer, registry, poseidon2, poseidon4 } = await loadFixture(deployedRollup);
      expect(await rollup.hasRole(await rollup.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await rollup.hasRole(await rollup.SEQUENCER_ROLE(), sequencer.address)).to.equal(true);
      expect(await rollup.hasRole(await rollup.SEQUENCER_ROLE(), admin.address)).to.equal(false);
      expect(await rollup.registry()).to.equal(await registry.getAddress());
      expect(await rollup.poseidon2()).to.equal(await poseidon2.getAddress());
      expect(await rollup.poseidon4()).to.equal(await poseidon4.getAddress());
      expect(await rollup.inclusionDelay()).to.equal(256n);
    });

    it("lets only the sequencer submit", async () => {
      const { rollup, admin, alice, sequencer, modelId } = await loadFixture(rollupWithModel);
      const trace = oneEntry(modelId);
      for (const who of [admin, alice])
        await expect(rollup.connect(who).submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, trace))
          .to.be.revertedWithCustomError(rollup, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, await rollup.SEQUENCER_ROLE());
      await expect(rollup.connect(sequencer).submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, trace)).to.emit(rollup, "BatchSubmitted");
    });

    it("lets the admin rotate the sequencer, and nobody else", async () => {
      const { rollup, sequencer, alice, bob, modelId } = await loadFixture(rollupWithModel);
      const trace = oneEntry(modelId);
      await expect(rollup.connect(alice).rotateSequencer(sequencer.address, alice.address))
        .to.be.revertedWithCustomError(rollup, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, await rollup.DEFAULT_ADMIN_ROLE());
      await expect(rollup.rotateSequencer(bob.address, alice.address))
        .to.be.revertedWithCustomError(rollup, "FlavumNotSequencer")
        .withArgs(bob.address);
      await expect(rollup.rotateSequencer(sequencer.address, hre.ethers.ZeroAddress))
        .to.be.revertedWithCustomError(rollup, "FlavumZeroAddress")
        .withArgs("sequencer");
      await expect(rollup.rotateSequencer(sequencer.address, alice.address))
        .to.emit(rollup, "SequencerRotated")
        .withArgs(sequencer.address, alice.address)
        .and.to.emit(rollup, "RoleRevoked")
        .and.to.emit(rollup, "RoleGranted");
      await expect(rollup.connect(sequencer).submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, trace)).to.be.revertedWithCustomError(
        rollup,
        "AccessControlUnauthorizedAccount",
      );
      await expect(rollup.connect(alice).submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, trace)).to.emit(rollup, "BatchSubmitted");
      // Plain grant/revoke work too.
      await rollup.revokeRole(await rollup.SEQUENCER_ROLE(), alice.address);
      await expect(rollup.connect(alice).submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, trace)).to.be.revertedWithCustomError(
        rollup,
        "AccessControlUnauthorizedAccount",
      );
    });

    it("hands the admin role to another account when deployRollup is told to", async () => {
      const [deployer, , , alice, bob] = await hre.ethers.getSigners();
      const { deployRollup } = await import("../../src/chain/deployRollup");
      const { rollup } = await deployRollup(hre, { admin: alice.address, sequencer: bob.address, inclusionDelay: 5 });
      const adminRole = await rollup.DEFAULT_ADMIN_ROLE();
      expect(await rollup.hasRole(adminRole, alice.address)).to.equal(true);
      expect(await rollup.hasRole(adminRole, deployer.address)).to.equal(false);
      expect(await rollup.hasRole(await rollup.SEQUENCER_ROLE(), bob.address)).to.equal(true);
      expect(await rollup.inclusionDelay()).to.equal(5n);
    });
  });

  describe("submitBatch", () => {
    it("hands the verifier the six public inputs src/protocol computes for the model's next batch", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, sequencer, mock, modelId } = f;
      const seq = rollup.connect(sequencer);
      let from = 0;
      for (const [batchSize, count] of [[8, 3], [32, 32], [1, 1], [8, 8]] as const) {
        const entries = offchainEntries(modelId, count, from);
        from += count;
        const trace = encodeTrace(entries);
        const newRoot = field();
        const batchRoot = field();
        const { pub } = await statementFor(rollup, { modelId, batchSize, count, newRoot, batchRoot, trace });
        await mock.setReveal(true);
        await expect(seq.submitBatch(modelId, batchSize, count, newRoot, batchRoot, a, b, c, trace))
          .to.be.revertedWithCustomError(mock, "MockVerifierCalled")
          .withArgs(pub);
        // Settle it with a verifier bound to exactly that statement, so the next batch starts from a
        // new root, batch number and leaf.
        await mock.setReveal(false);
        await mock.expectInputs(pub);
        await seq.submitBatch(modelId, batchSize, count, newRoot, batchRoot, a, b, c, trace);
      }
    });

    it("aligns each batch to its size in the model's tree, counts batches and records commitments", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, modelId, emptyRoot } = f;
      const seq = rollup.connect(f.sequencer);
      const submit = (batchSize: number, count: number, newRoot: bigint, batchRoot: bigint) =>
        seq.submitBatch(modelId, batchSize, count, newRoot, batchRoot, a, b, c, encodeTrace(offchainEntries(modelId, count)));
      const id = (n: number) => batchIdOf(modelId, n);
      // (batchId, modelId, modelBatch, firstLeaf, count, batchSize, oldRoot, newRoot, batchRoot)
      await expect(submit(8, 3, 11n, 101n)).to.emit(rollup, "BatchSubmitted").withArgs(id(0), modelId, 0n, 0n, 3n, 8n, emptyRoot, 11n, 101n);
      expect(await rollup.modelTrace(modelId)).to.deep.equal([11n, 8n, 1n, 0n]);
      await expect(submit(32, 5, 12n, 102n)).to.emit(rollup, "BatchSubmitted").withArgs(id(1), modelId, 1n, 32n, 5n, 32n, 11n, 12n, 102n);
      await expect(submit(1, 1, 13n, 103n)).to.emit(rollup, "BatchSubmitted").withArgs(id(2), modelId, 2n, 64n, 1n, 1n, 12n, 13n, 103n);
      await expect(submit(8, 1, 14n, 104n)).to.emit(rollup, "BatchSubmitted").withArgs(id(3), modelId, 3n, 72n, 1n, 8n, 13n, 14n, 104n);
      expect(await rollup.modelTrace(modelId)).to.deep.equal([14n, 80n, 4n, 0n]);
      const commitments = await Promise.all([0, 1, 2, 3].map((n) => rollup.batchCommitment(id(n))));
      expect(commitments).to.deep.equal([
        batchCommitmentOf(101n, modelId, 8),
        batchCommitmentOf(102n, modelId, 32),
        batchCommitmentOf(103n, modelId, 1),
        batchCommitmentOf(104n, modelId, 8),
      ]);
      expect(await rollup.batchCommitment(id(4))).to.equal(hre.ethers.ZeroHash);
      // Bare batch numbers are not batch ids (0..3 would be model 0's batches).
      for (const n of [0n, 1n, 2n, 3n]) expect(await rollup.batchCommitment(n)).to.equal(hre.ethers.ZeroHash);
    });

    it("keeps one trace tree and batch counter per model; batch ids are per model", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, registry, alice, mock, modelId, emptyRoot } = f;
      await registry.connect(alice).register(commitment("second"), digitsShape(), "", [8], [await mock.getAddress()]);
      const second = 2n;
      await expect((await submitEntries(f, modelId, offchainEntries(modelId, 2), 8, 21n)).tx)
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(batchIdOf(modelId, 0), modelId, 0n, 0n, 2n, 8n, emptyRoot, 21n, (x: bigint) => x > 0n);
      // The second model starts from its own empty tree, batch 0, leaf 0.
      await expect((await submitEntries(f, second, offchainEntries(second, 3), 8, 31n)).tx)
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(batchIdOf(second, 0), second, 0n, 0n, 3n, 8n, emptyRoot, 31n, (x: bigint) => x > 0n);
      await expect((await submitEntries(f, modelId, offchainEntries(modelId, 1), 8, 22n)).tx)
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(batchIdOf(modelId, 1), modelId, 1n, 8n, 1n, 8n, 21n, 22n, (x: bigint) => x > 0n);
      expect(await rollup.modelTrace(modelId)).to.deep.equal([22n, 16n, 2n, 0n]);
      expect(await rollup.modelTrace(second)).to.deep.equal([31n, 8n, 1n, 0n]);
      expect(await rollup.modelTrace(3n)).to.deep.equal([emptyRoot, 0n, 0n, 0n]);
    });

    it("requires 1 <= count <= batchSize", async () => {
      const { rollup, sequencer, modelId } = await loadFixture(rollupWithModel);
      const seq = rollup.connect(sequencer);
      await expect(seq.submitBatch(modelId, 8, 0, 1n, 2n, a, b, c, encodeTrace([])))
        .to.be.revertedWithCustomError(rollup, "FlavumInvalidCount")
        .withArgs(0, 8);
      await expect(seq.submitBatch(modelId, 8, 9, 1n, 2n, a, b, c, encodeTrace(offchainEntries(modelId, 9))))
        .to.be.revertedWithCustomError(rollup, "FlavumInvalidCount")
        .withArgs(9, 8);
      await expect(seq.submitBatch(modelId, 8, 8, 1n, 2n, a, b, c, encodeTrace(offchainEntries(modelId, 8)))).to.emit(rollup, "BatchSubmitted");
    });

    it("needs the model's verifier for that batch size", async () => {
      const { rollup, registry, sequencer, modelId } = await loadFixture(rollupWithModel);
      const seq = rollup.connect(sequencer);
      const trace = encodeTrace(offchainEntries(modelId, 4));
      await expect(seq.submitBatch(modelId, 16, 4, 1n, 2n, a, b, c, trace))
        .to.be.revertedWithCustomError(registry, "FlavumVerifierNotSet")
        .withArgs(modelId, 16);
      await expect(seq.submitBatch(7n, 8, 4, 1n, 2n, a, b, c, trace))
        .to.be.revertedWithCustomError(registry, "FlavumVerifierNotSet")
        .withArgs(7n, 8);
      await expect(seq.submitBatch(1n << 64n, 8, 4, 1n, 2n, a, b, c, trace))
        .to.be.revertedWithCustomError(rollup, "FlavumModelIdTooLarge")
        .withArgs(1n << 64n);
    });

    it("reverts with FlavumInvalidBatchProof when the verifier says no, and changes nothing", async () => {
      const { rollup, sequencer, mock, modelId, emptyRoot } = await loadFixture(rollupWithModel);
      await mock.setAccept(false);
      await expect(rollup.connect(sequencer).submitBatch(modelId, 8, 2, 1n, 2n, a, b, c, encodeTrace(offchainEntries(modelId, 2))))
        .to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof")
        .withArgs(modelId, batchIdOf(modelId, 0), await mock.getAddress());
      expect(await rollup.modelTrace(modelId)).to.deep.equal([emptyRoot, 0n, 0n, 0n]);
      expect(await rollup.batchCommitment(batchIdOf(modelId, 0))).to.equal(hre.ethers.ZeroHash);
    });

    it("does not accept a proof twice, nor on another rollup (statement-bound verifier)", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, registry, poseidon2, poseidon4, admin, sequencer, mock, modelId, emptyRoot } = f;
      const seq = rollup.connect(sequencer);
      const trace = encodeTrace(offchainEntries(modelId, 4));
      const { pub } = await statementFor(rollup, { modelId, batchSize: 8, count: 4, newRoot: 21n, batchRoot: 22n, trace });
      await mock.expectInputs(pub);
      // A second rollup on the same registry and verifier, same empty root, batch 0, leaf 0: only r differs.
      const other = (await hre.ethers.deployContract("FlavumRollup", [
        await registry.getAddress(), await poseidon2.getAddress(), await poseidon4.getAddress(), admin.address, emptyRoot, 256, traceStoreConfig(),
        { domain: (await rollup.domain()) + 1n, chainTag: 0 },
      ])) as unknown as FlavumRollup;
      await other.grantRole(await other.SEQUENCER_ROLE(), sequencer.address);
      await expect(other.connect(sequencer).submitBatch(modelId, 8, 4, 21n, 22n, a, b, c, trace)).to.be.revertedWithCustomError(
        other,
        "FlavumInvalidBatchProof",
      );
      // Another count or other roots are other statements.
      await expect(seq.submitBatch(modelId, 8, 3, 21n, 22n, a, b, c, encodeTrace(offchainEntries(modelId, 3)))).to.be.revertedWithCustomError(
        rollup,
        "FlavumInvalidBatchProof",
      );
      await expect(seq.submitBatch(modelId, 8, 4, 21n, 23n, a, b, c, trace)).to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof");
      await expect(seq.submitBatch(modelId, 8, 4, 20n, 22n, a, b, c, trace)).to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof");
      await seq.submitBatch(modelId, 8, 4, 21n, 22n, a, b, c, trace);
      // Replaying the same statement fails: the model's root, batch number and first leaf moved on.
      await expect(seq.submitBatch(modelId, 8, 4, 21n, 22n, a, b, c, trace)).to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof");
    });

    it("checks the output layout the registry fixed: a statement for another layout is refused", async () => {
      const { rollup, sequencer, mock, modelId } = await loadFixture(rollupWithModel);
      const trace = encodeTrace(offchainEntries(modelId, 1));
      const s = { modelId, batchSize: 8, count: 1, newRoot: 5n, batchRoot: 6n, trace };
      const { pub } = await statementFor(rollup, { ...s, layout: { outputBits: 16, outputCount: 10, hasLabel: false } });
      await mock.expectInputs(pub);
      await expect(rollup.connect(sequencer).submitBatch(modelId, 8, 1, 5n, 6n, a, b, c, trace)).to.be.revertedWithCustomError(
        rollup,
        "FlavumInvalidBatchProof",
      );
      await mock.expectInputs((await statementFor(rollup, s)).pub);
      await expect(rollup.connect(sequencer).submitBatch(modelId, 8, 1, 5n, 6n, a, b, c, trace)).to.emit(rollup, "BatchSubmitted");
    });

    it("keeps each model's root in one slot and its counters and queue packed in one other; the deploy block is immutable", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, alice, modelId } = f;
      const addr = await rollup.getAddress();
      const at = (slot: bigint) => hre.ethers.provider.getStorage(addr, slot).then(BigInt);
      const mapSlot = (key: bigint, slot: bigint) => BigInt(hre.ethers.solidityPackedKeccak256(["uint256", "uint256"], [key, slot]));
      // The deploy block is where the rollup's code appeared (an immutable: it takes no storage).
      const deployBlock = await rollup.deployBlock();
      expect(await hre.ethers.provider.getCode(addr, Number(deployBlock) - 1)).to.equal("0x");
      expect(await hre.ethers.provider.getCode(addr, Number(deployBlock))).to.not.equal("0x");
      // Slot 0 is AccessControl's roles, then _roots (1) and _traces (2) by model; _queued is slot 7.
      // _traces[modelId] = nextLeaf | epoch << 32 | batches << 64 | head << 128 | tail << 192.
      const packed = (nextLeaf: bigint, epoch: bigint, batches: bigint, head: bigint, tail: bigint) =>
        nextLeaf | (epoch << 32n) | (batches << 64n) | (head << 128n) | (tail << 192n);
      const [x1, x2] = [await digitsInput(1), await digitsInput(2)];
      await rollup.connect(alice).requestInference(modelId, x1.inputHash, x1.input, hre.ethers.ZeroAddress);
      await rollup.connect(alice).requestInference(modelId, x2.inputHash, x2.input, hre.ethers.ZeroAddress);
      expect(await at(mapSlot(modelId, 2n))).to.equal(packed(0n, 0n, 0n, 0n, 2n));
      const queueBase = mapSlot(modelId, 7n);
      expect([await at(mapSlot(0n, queueBase)), await at(mapSlot(1n, queueBase))]).to.deep.equal([1n, 2n]);

      await submitEntries(f, modelId, offchainEntries(modelId, 1), 8, 77n);
      expect(await at(mapSlot(modelId, 1n))).to.equal(77n);
      expect(await at(mapSlot(modelId, 2n))).to.equal(packed(8n, 0n, 1n, 0n, 2n));
      // Serving request 1 moves the head in the same slot.
      await submitEntries(f, modelId, [{ modelId, requestId: 1n, inputHash: x1.inputHash, outputWord: 5n }], 8, 78n);
      expect(await at(mapSlot(modelId, 1n))).to.equal(78n);
      expect(await at(mapSlot(modelId, 2n))).to.equal(packed(16n, 0n, 2n, 1n, 2n));
      // Nothing of model 1 lives in the plain slots after the roles.
      for (const k of [1n, 2n, 3n]) expect(await at(k)).to.equal(0n);
    });

    it("binds the batch size: a statement for B = 8 does not settle as B = 32, even through one verifier", async () => {
      const { rollup, registry, sequencer, mock, modelId, emptyRoot } = await loadFixture(rollupWithModel);
      const v = await mock.getAddress();
      expect([await registry.verifierOf(modelId, 8), await registry.verifierOf(modelId, 32)]).to.deep.equal([v, v]);
      const seq = rollup.connect(sequencer);
      const trace = encodeTrace(offchainEntries(modelId, 3));
      const submit = (size: number) => seq.submitBatch(modelId, size, 3, 41n, 42n, a, b, c, trace);
      /** The public inputs the rollup hands the verifier for a batch of `size` (reveal mode). */
      const revealed = async (size: number) => {
        try {
          await submit(size).then((tx) => tx.wait());
        } catch (e) {
          const data = (e as { data?: string }).data;
          const parsed = data ? mock.interface.parseError(data) : null;
          if (parsed?.name === "MockVerifierCalled") return (parsed.args[0] as bigint[]).map(BigInt);
          throw e;
        }
        throw new Error("the verifier was not called");
      };
      await mock.setReveal(true);
      const [pub8, pub32] = [await revealed(8), await revealed(32)];
      await mock.setReveal(false);
      // Same slot (leaf 0 of batch 0), same roots and trace: meta differs in its levels field only.
      expect(pub8.slice(0, 3)).to.deep.equal(pub32.slice(0, 3));
      expect(pub8[3] ^ pub32[3]).to.equal((3n ^ 5n) << META.levelsShift);
      const [m8, m32] = [unpackMeta(pub8[3]), unpackMeta(pub32[3])];
      expect([m8.batchSize, m32.batchSize]).to.deep.equal([8, 32]);
      expect({ ...m8, batchSize: 0 }).to.deep.equal({ ...m32, batchSize: 0 });
      // r hashes meta, so the challenge and the trace binding differ too.
      expect(pub8[4]).to.not.equal(pub32[4]);
      expect(pub8[5]).to.not.equal(pub32[5]);
      const s = { modelId, count: 3, newRoot: 41n, batchRoot: 42n, trace };
      expect(pub8).to.deep.equal((await statementFor(rollup, { ...s, batchSize: 8 })).pub);
      expect(pub32).to.deep.equal((await statementFor(rollup, { ...s, batchSize: 32 })).pub);

      // A proof of the B = 8 statement, offered as a batch of 32 to the very same verifier, is refused.
      await mock.expectInputs(pub8 as [bigint, bigint, bigint, bigint, bigint, bigint]);
      await expect(submit(32)).to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof").withArgs(modelId, batchIdOf(modelId, 0), v);
      expect(await rollup.modelTrace(modelId)).to.deep.equal([emptyRoot, 0n, 0n, 0n]);
      await expect(submit(8)).to.emit(rollup, "BatchSubmitted").withArgs(batchIdOf(modelId, 0), modelId, 0n, 0n, 3n, 8n, emptyRoot, 41n, 42n);
      expect(await rollup.batchCommitment(batchIdOf(modelId, 0))).to.equal(batchCommitmentOf(42n, modelId, 8));
    });

    it("gives each model's batches their own ids: batchIdOf, no collisions, no shift when another model settles", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, registry, alice, bob, sequencer, modelId, emptyRoot } = f;
      const max = (1n << 64n) - 1n;
      for (const [m, n] of [[0n, 0n], [1n, 0n], [1n, 5n], [2n, 0n], [max, max]])
        expect(await rollup.batchIdOf(m, n), `${m}/${n}`).to.equal((m << 64n) | n);

      // A second model whose verifier accepts exactly one statement, like a real proof.
      const bound = (await hre.ethers.deployContract("MockBatchVerifier")) as unknown as MockBatchVerifier;
      await registry.connect(alice).register(commitment("second"), digitsShape(), "", [8], [await bound.getAddress()]);
      const second = 2n;
      // bob's on-chain request of the second model, answered in its batch 0: proven and read back by that batch's id.
      const x = await digitsInput(4);
      await rollup.connect(bob).requestInference(second, x.inputHash, x.input, hre.ethers.ZeroAddress);
      const requestId = await rollup.requestCount();
      const e2 = { modelId: second, requestId, inputHash: x.inputHash, outputWord: 0x4242n };
      const tree2 = await buildSubtree([e2], 8);
      const s2 = { modelId: second, batchSize: 8, count: 1, newRoot: 51n, batchRoot: tree2.root, trace: encodeTrace([e2]) };
      const st2 = await statementFor(rollup, s2);
      expect(st2.batchId).to.equal(await rollup.batchIdOf(second, 0n));
      await bound.expectInputs(st2.pub);

      // Model 1 settles two batches first: they take model 1's ids, and the second model's statement and id stand.
      const firsts = [];
      for (let k = 0; k < 2; k++) {
        const entries = offchainEntries(modelId, 2, 10 * k);
        const { batchId, tree, tx } = await submitEntries(f, modelId, entries);
        expect(batchId).to.equal(await rollup.batchIdOf(modelId, k));
        await expect(tx).to.emit(rollup, "BatchSubmitted").withArgs(batchId, modelId, k, 8n * BigInt(k), 2n, 8n, (x: bigint) => x > 0n, 0x1234n, tree.root);
        firsts.push({ batchId, tree, entries });
      }
      expect((await statementFor(rollup, s2)).pub).to.deep.equal(st2.pub);
      await expect(rollup.connect(sequencer).submitBatch(second, 8, 1, 51n, tree2.root, a, b, c, s2.trace))
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(st2.batchId, second, 0n, 0n, 1n, 8n, emptyRoot, 51n, tree2.root)
        .and.to.emit(rollup, "InferenceIncluded")
        .withArgs(requestId, st2.batchId, sequencer.address, 0n);
      expect((await rollup.requestOf(requestId)).batchId).to.equal(st2.batchId);
      await expect(rollup.fulfill(requestId, e2, 0, tree2.path(0)))
        .to.emit(rollup, "InferenceFulfilled")
        .withArgs(requestId, st2.batchId, second, e2.outputWord);

      // Model 1's next batch is still its batch 2: the second model's batch moved none of model 1's ids.
      const third = await submitEntries(f, modelId, offchainEntries(modelId, 1, 50));
      expect(third.batchId).to.equal(batchIdOf(modelId, 2));
      await expect(third.tx).to.emit(rollup, "BatchSubmitted").withArgs(third.batchId, modelId, 2n, 16n, 1n, 8n, 0x1234n, 0x1234n, third.tree.root);
      const ids = [...firsts.map((x) => x.batchId), st2.batchId, third.batchId];
      expect(new Set(ids).size).to.equal(ids.length);
      // Each id reads its own batch only.
      for (const x of firsts) {
        expect(await rollup.verifyInference(x.batchId, x.entries[1], 1, x.tree.path(1))).to.equal(true);
        expect(await rollup.verifyInference(st2.batchId, x.entries[1], 1, x.tree.path(1))).to.equal(false);
      }
      expect(await rollup.verifyInference(st2.batchId, e2, 0, tree2.path(0))).to.equal(true);
      expect(await rollup.verifyInference(batchIdOf(modelId, 0), e2, 0, tree2.path(0))).to.equal(false);
      expect(await rollup.batchCommitment(batchIdOf(second, 1))).to.equal(hre.ethers.ZeroHash);
    });

    it("refuses zero addresses and a non-field empty root at deployment", async () => {
      const { registry, poseidon2, poseidon4, admin } = await loadFixture(deployedRollup);
      const F = await hre.ethers.getContractFactory("FlavumRollup");
      const CALLDATA = traceStoreConfig();
      const CHAIN = { domain: 1n, chainTag: 0 };
      const [r, p2, p4] = [await registry.getAddress(), await poseidon2.getAddress(), await poseidon4.getAddress()];
      const zero = hre.ethers.ZeroAddress;
      for (const [args, what] of [
        [[zero, p2, p4, admin.address], "registry"],
        [[r, zero, p4, admin.address], "poseidon2"],
        [[r, p2, zero, admin.address], "poseidon4"],
        [[r, p2, p4, zero], "admin"],
      ] as const)
        await expect(F.deploy(...args, 1n, 256, CALLDATA, CHAIN)).to.be.revertedWithCustomError(F, "FlavumZeroAddress").withArgs(what);
      await expect(F.deploy(r, p2, p4, admin.address, FIELD, 256, CALLDATA, CHAIN)).to.be.revertedWithCustomError(F, "FlavumNotFieldElement").withArgs(FIELD);
      // The domain's own checks: test/contracts/rollupDomain.test.ts.
    });
  });
});
