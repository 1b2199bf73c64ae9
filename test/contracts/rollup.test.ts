import { expect } from "chai";
import hre from "hardhat";
import { randomBytes } from "crypto";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { alignLeaf, packCtx, packMeta } from "../../src/rollup/layout";
import { deployedRollup, DUMMY_PROOF, rollupWithModel } from "./fixtures";
import type { FlavumRollup } from "../../typechain-types";

const { a, b, c } = DUMMY_PROOF;

describe("FlavumRollup batches", function () {
  const chainId = async () => (await hre.ethers.provider.getNetwork()).chainId;

  /** The five public inputs layout.ts says the circuit sees for the rollup's next batch. */
  async function expectedInputs(f: Awaited<ReturnType<typeof rollupWithModel>>, batchSize: number, count: number, newRoot: bigint, batchRoot: bigint) {
    const { rollup, modelId } = f;
    return [
      await rollup.stateRoot(),
      newRoot,
      batchRoot,
      packCtx(await rollup.getAddress(), await chainId()),
      packMeta({ modelId, batchNumber: await rollup.batchCount(), firstLeaf: alignLeaf(await rollup.nextLeaf(), batchSize), count }),
    ];
  }

  describe("access control", () => {
    it("gives the deployer the admin role and the chosen sequencer the sequencer role", async () => {
      const { rollup, admin, sequencer, registry, poseidon2, poseidon4 } = await loadFixture(deployedRollup);
      expect(await rollup.hasRole(await rollup.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await rollup.hasRole(await rollup.SEQUENCER_ROLE(), sequencer.address)).to.equal(true);
      expect(await rollup.hasRole(await rollup.SEQUENCER_ROLE(), admin.address)).to.equal(false);
      expect(await rollup.registry()).to.equal(await registry.getAddress());
      expect(await rollup.poseidon2()).to.equal(await poseidon2.getAddress());
      expect(await rollup.poseidon4()).to.equal(await poseidon4.getAddress());
    });

    it("lets only the sequencer submit", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, admin, alice, sequencer, modelId } = f;
      for (const who of [admin, alice])
        await expect(rollup.connect(who).submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, "0x"))
          .to.be.revertedWithCustomError(rollup, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, await rollup.SEQUENCER_ROLE());
      await expect(rollup.connect(sequencer).submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, "0x")).to.emit(rollup, "BatchSubmitted");
    });

    it("lets the admin rotate the sequencer, and nobody else", async () => {
      const { rollup, sequencer, alice, bob, modelId } = await loadFixture(rollupWithModel);
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
      await expect(rollup.connect(sequencer).submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, "0x")).to.be.revertedWithCustomError(
        rollup,
        "AccessControlUnauthorizedAccount",
      );
      await expect(rollup.connect(alice).submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, "0x")).to.emit(rollup, "BatchSubmitted");
      // Plain grant/revoke work too.
      await rollup.revokeRole(await rollup.SEQUENCER_ROLE(), alice.address);
      await expect(rollup.connect(alice).submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, "0x")).to.be.reverted;
    });

    it("hands the admin role to another account when deployRollup is told to", async () => {
      const [deployer, , , alice, bob] = await hre.ethers.getSigners();
      const { deployRollup } = await import("../../src/chain/deployRollup");
      const { rollup } = await deployRollup(hre, { admin: alice.address, sequencer: bob.address });
      const adminRole = await rollup.DEFAULT_ADMIN_ROLE();
      expect(await rollup.hasRole(adminRole, alice.address)).to.equal(true);
      expect(await rollup.hasRole(adminRole, deployer.address)).to.equal(false);
      expect(await rollup.hasRole(await rollup.SEQUENCER_ROLE(), bob.address)).to.equal(true);
    });
  });

  describe("submitBatch", () => {
    it("hands the verifier exactly the public inputs of src/rollup/layout.ts", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, sequencer, mock, modelId } = f;
      const seq = rollup.connect(sequencer);
      await mock.setReveal(true);
      for (const [batchSize, count] of [[8, 3], [32, 32], [1, 1], [8, 8]] as const) {
        const newRoot = BigInt(hre.ethers.hexlify(randomBytes(31)));
        const batchRoot = BigInt(hre.ethers.hexlify(randomBytes(31)));
        const expected = await expectedInputs(f, batchSize, count, newRoot, batchRoot);
        await expect(seq.submitBatch(modelId, batchSize, count, newRoot, batchRoot, a, b, c, "0x"))
          .to.be.revertedWithCustomError(mock, "MockVerifierCalled")
          .withArgs(expected);
        // Then settle it for real so the next batch starts from a new root, number and leaf.
        await mock.setReveal(false);
        await seq.submitBatch(modelId, batchSize, count, newRoot, batchRoot, a, b, c, "0x");
        await mock.setReveal(true);
      }
    });

    it("aligns each batch to its size, counts batches and records roots", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, sequencer, modelId, emptyRoot } = f;
      const seq = rollup.connect(sequencer);
      await expect(seq.submitBatch(modelId, 8, 3, 11n, 101n, a, b, c, "0x"))
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(0n, modelId, 0n, 3n, 8n, emptyRoot, 11n, 101n);
      expect([await rollup.nextLeaf(), await rollup.batchCount(), await rollup.stateRoot()]).to.deep.equal([8n, 1n, 11n]);
      await expect(seq.submitBatch(modelId, 32, 5, 12n, 102n, a, b, c, "0x"))
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(1n, modelId, 32n, 5n, 32n, 11n, 12n, 102n);
      await expect(seq.submitBatch(modelId, 1, 1, 13n, 103n, a, b, c, "0x"))
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(2n, modelId, 64n, 1n, 1n, 12n, 13n, 103n);
      await expect(seq.submitBatch(modelId, 8, 1, 14n, 104n, a, b, c, "0x"))
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(3n, modelId, 72n, 1n, 8n, 13n, 14n, 104n);
      expect(await rollup.nextLeaf()).to.equal(80n);
      expect(await rollup.batchCount()).to.equal(4n);
      expect([await rollup.batchRoot(0n), await rollup.batchRoot(1n), await rollup.batchRoot(3n), await rollup.batchRoot(4n)]).to.deep.equal([
        101n, 102n, 104n, 0n,
      ]);
    });

    it("requires 1 <= count <= batchSize", async () => {
      const { rollup, sequencer, modelId } = await loadFixture(rollupWithModel);
      const seq = rollup.connect(sequencer);
      await expect(seq.submitBatch(modelId, 8, 0, 1n, 2n, a, b, c, "0x"))
        .to.be.revertedWithCustomError(rollup, "FlavumInvalidCount")
        .withArgs(0, 8);
      await expect(seq.submitBatch(modelId, 8, 9, 1n, 2n, a, b, c, "0x"))
        .to.be.revertedWithCustomError(rollup, "FlavumInvalidCount")
        .withArgs(9, 8);
      await expect(seq.submitBatch(modelId, 8, 8, 1n, 2n, a, b, c, "0x")).to.emit(rollup, "BatchSubmitted");
    });

    it("needs the model's verifier for that batch size", async () => {
      const { rollup, registry, sequencer, modelId } = await loadFixture(rollupWithModel);
      const seq = rollup.connect(sequencer);
      await expect(seq.submitBatch(modelId, 16, 4, 1n, 2n, a, b, c, "0x"))
        .to.be.revertedWithCustomError(registry, "FlavumVerifierNotSet")
        .withArgs(modelId, 16);
      await expect(seq.submitBatch(7n, 8, 4, 1n, 2n, a, b, c, "0x"))
        .to.be.revertedWithCustomError(registry, "FlavumVerifierNotSet")
        .withArgs(7n, 8);
      await expect(seq.submitBatch(1n << 64n, 8, 4, 1n, 2n, a, b, c, "0x"))
        .to.be.revertedWithCustomError(rollup, "FlavumModelIdTooLarge")
        .withArgs(1n << 64n);
    });

    it("reverts with FlavumInvalidBatchProof when the verifier says no, and changes nothing", async () => {
      const { rollup, sequencer, mock, modelId, emptyRoot } = await loadFixture(rollupWithModel);
      await mock.setAccept(false);
      await expect(rollup.connect(sequencer).submitBatch(modelId, 8, 2, 1n, 2n, a, b, c, "0x"))
        .to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof")
        .withArgs(modelId, 0n, await mock.getAddress());
      expect([await rollup.stateRoot(), await rollup.nextLeaf(), await rollup.batchCount()]).to.deep.equal([emptyRoot, 0n, 0n]);
    });

    it("does not accept a proof twice, nor on another rollup (statement-bound verifier)", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, registry, poseidon2, poseidon4, admin, sequencer, mock, modelId, emptyRoot } = f;
      const seq = rollup.connect(sequencer);
      const stmt = await expectedInputs(f, 8, 4, 21n, 22n);
      await mock.expectInputs(stmt as [bigint, bigint, bigint, bigint, bigint]);
      // A second rollup on the same registry and verifier, same root, batch 0, leaf 0: only ctx differs.
      const other = (await hre.ethers.deployContract("FlavumRollup", [
        await registry.getAddress(), await poseidon2.getAddress(), await poseidon4.getAddress(), admin.address, emptyRoot,
      ])) as unknown as FlavumRollup;
      await other.grantRole(await other.SEQUENCER_ROLE(), sequencer.address);
      await expect(other.connect(sequencer).submitBatch(modelId, 8, 4, 21n, 22n, a, b, c, "0x")).to.be.revertedWithCustomError(
        other,
        "FlavumInvalidBatchProof",
      );
      // Another count or other roots are other statements.
      await expect(seq.submitBatch(modelId, 8, 5, 21n, 22n, a, b, c, "0x")).to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof");
      await expect(seq.submitBatch(modelId, 8, 4, 21n, 23n, a, b, c, "0x")).to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof");
      await seq.submitBatch(modelId, 8, 4, 21n, 22n, a, b, c, "0x");
      // Replaying the same statement fails: the old root, batch number and first leaf moved on.
      await expect(seq.submitBatch(modelId, 8, 4, 21n, 22n, a, b, c, "0x")).to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof");
    });

    it("keeps nextLeaf, batchCount and the deploy block in one slot, and refuses a batch past the 2^20-leaf tree", async () => {
      const { rollup, sequencer, modelId } = await loadFixture(rollupWithModel);
      const seq = rollup.connect(sequencer);
      const deployBlock = await rollup.deployBlock();
      expect(deployBlock).to.be.greaterThan(0n); // never zero: the first batch only updates the slot
      await seq.submitBatch(modelId, 8, 1, 1n, 2n, a, b, c, "0x");
      // Slot 0: AccessControl's roles; slot 1: the state root; slot 2: nextLeaf | batchCount << 64 | deployBlock << 128.
      const addr = await rollup.getAddress();
      const high = deployBlock << 128n;
      expect(BigInt(await hre.ethers.provider.getStorage(addr, 1))).to.equal(1n);
      expect(BigInt(await hre.ethers.provider.getStorage(addr, 2))).to.equal(8n | (1n << 64n) | high);
      const nearlyFull = (1n << 20n) - 12n; // aligns to 2^20 - 8 for a batch of 8
      await hre.network.provider.send("hardhat_setStorageAt", [addr, "0x2", hre.ethers.toBeHex(nearlyFull | (1n << 64n) | high, 32)]);
      await expect(seq.submitBatch(modelId, 32, 1, 3n, 4n, a, b, c, "0x"))
        .to.be.revertedWithCustomError(rollup, "FlavumTreeFull")
        .withArgs(1n << 20n, 32);
      await expect(seq.submitBatch(modelId, 8, 1, 3n, 4n, a, b, c, "0x"))
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(1n, modelId, (1n << 20n) - 8n, 1n, 8n, 1n, 3n, 4n);
      await expect(seq.submitBatch(modelId, 1, 1, 5n, 6n, a, b, c, "0x"))
        .to.be.revertedWithCustomError(rollup, "FlavumTreeFull")
        .withArgs(1n << 20n, 1);
    });

    it("refuses zero addresses and a non-field initial root at deployment", async () => {
      const { registry, poseidon2, poseidon4, admin } = await loadFixture(deployedRollup);
      const F = await hre.ethers.getContractFactory("FlavumRollup");
      const [r, p2, p4] = [await registry.getAddress(), await poseidon2.getAddress(), await poseidon4.getAddress()];
      await expect(F.deploy(hre.ethers.ZeroAddress, p2, p4, admin.address, 1n))
        .to.be.revertedWithCustomError(F, "FlavumZeroAddress")
        .withArgs("registry");
      await expect(F.deploy(r, p2, p4, hre.ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(F, "FlavumZeroAddress").withArgs("admin");
      await expect(F.deploy(r, p2, p4, admin.address, 1n << 255n))
        .to.be.revertedWithCustomError(F, "FlavumNotFieldElement")
        .withArgs(1n << 255n);
    });
  });

  describe("gas", () => {
    /** Calldata pricing: standard (EIP-2028) and the EIP-7623 floor that Prague+ charges when execution is small. */
    function calldataCost(data: string) {
      const bytes = hre.ethers.getBytes(data);
      const zero = bytes.filter((x) => x === 0).length;
      const nonzero = bytes.length - zero;
      return { bytes: bytes.length, standard: BigInt(4 * zero + 16 * nonzero), floor: 21_000n + BigInt(10 * (zero + 4 * nonzero)) };
    }

    it("costs little besides verification: batch of 32 with a 32-entry trace (mock verifier)", async () => {
      const { rollup, sequencer, modelId } = await loadFixture(rollupWithModel);
      const seq = rollup.connect(sequencer);
      const field = (n: number) => BigInt(hre.ethers.hexlify(randomBytes(n)));
      const submit = async (trace: string) => {
        const tx = await seq.submitBatch(modelId, 32, 32, field(31), field(31), a, b, c, trace);
        const gasUsed = (await tx.wait())!.gasUsed;
        const cd = calldataCost(tx.data);
        const floored = gasUsed === cd.floor;
        return { gasUsed, ...cd, floored, execution: floored ? undefined : gasUsed - 21_000n - cd.standard };
      };
      const entries = Array.from({ length: 32 }, (_, i) => ({
        modelId, requestId: (1n << 63n) + BigInt(i), inputHash: field(31), outputWord: field(20),
      }));
      const { encodeTrace } = await import("./fixtures");
      const first = await submit(encodeTrace(entries));
      const empty = await submit("0x");
      const real72 = await submit(encodeTrace(entries));
      const random73 = await submit(hre.ethers.hexlify(randomBytes(32 * 73)));
      const traceCost = (x: typeof real72) => x.standard - empty.standard;
      console.log(
        [
          `      submitBatch(B=32, count=32, mock verifier), steady state (first batch: ${first.gasUsed}):`,
          `        no trace: ${empty.gasUsed} gas = 21000 tx + ${empty.standard} calldata (${empty.bytes} B) + ${empty.execution} execution`,
          `        32 x 72-byte entries: ${real72.gasUsed} gas${real72.floored ? " (EIP-7623 floor)" : ""}; trace calldata at 16/4 gas: ${traceCost(real72)}`,
          `        32 x 73 random bytes: ${random73.gasUsed} gas${random73.floored ? " (EIP-7623 floor)" : ""}; trace calldata at 16/4 gas: ${traceCost(random73)}`,
          `        with a real verifier (execution >> calldata, no floor): ~${empty.gasUsed + traceCost(random73)} + verification`,
        ].join("\n"),
      );
      // Execution besides verification (storage, registry lookup, event, the mock's own reads) stays small.
      expect(empty.execution!).to.be.lessThan(60_000n);
    });
  });
});
