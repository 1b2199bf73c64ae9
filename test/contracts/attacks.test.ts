/**
 * One adversarial test (or a few) per attack on the rollup's contract logic (DESIGN.md, "Trust
 * model"). Verifiers are mocks: an accept-all one stands for a malicious model owner's verifier, and
 * one in expect-inputs mode stands for a real proof, which verifies for exactly one statement.
 */
import { expect } from "chai";
import hre from "hardhat";
import { concat, getBytes, hexlify, type Interface, toBeHex, zeroPadValue } from "ethers";
import { loadFixture, mine } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { nextSlot, packOutputWord, TREE_DEPTH, unpackMeta } from "../../src/protocol/batch";
import { FIELD_P } from "../../src/protocol/traceBinding";
import {
  abiInput,
  batchIdOf,
  buildSubtree,
  commitment,
  digitsInput,
  digitsShape,
  DUMMY_PROOF,
  encodeTrace,
  type Entry,
  leafHash,
  offchainEntries,
  offchainId,
  rollupWithModel,
  statementFor,
  Status,
  submitEntries,
} from "./fixtures";
import type { FlavumRollup, MockBatchVerifier } from "../../typechain-types";

const { a, b, c } = DUMMY_PROOF;
const FEE = hre.ethers.parseEther("0.01");
const LEAVES = 1n << BigInt(TREE_DEPTH);
const word = (label: number) => packOutputWord(label, Array.from({ length: 10 }, (_, i) => BigInt(i === label ? 900 : -100 * i)), 16);

/** `n` fee-paying requests of `modelId` by `who`, with distinct well-formed inputs. */
async function request(rollup: FlavumRollup, who: Parameters<FlavumRollup["connect"]>[0], n: number, seed = 0, modelId = 1n) {
  const made: { id: bigint; inputHash: bigint; due: bigint }[] = [];
  for (let i = 0; i < n; i++) {
    const x = await digitsInput(seed + i);
    await rollup.connect(who).requestInference(modelId, x.inputHash, x.input, hre.ethers.ZeroAddress, { value: FEE });
    const id = await rollup.requestCount();
    const r = await rollup.requestOf(id);
    made.push({ id, inputHash: x.inputHash, due: r.createdBlock + (await rollup.inclusionDelay()) });
  }
  return made;
}

/** The entry a batch of model 1 proves for an on-chain request. */
const answer = (req: { id: bigint; inputHash: bigint }, label = 7, modelId = 1n): Entry => ({
  modelId,
  requestId: req.id,
  inputHash: req.inputHash,
  outputWord: word(label),
});

/** Model 1 (owner's, mock verifier) with a request fee. */
async function feeRollup() {
  const f = await rollupWithModel();
  await f.rollup.setRequestFee(FEE);
  return f;
}

/**
 * Finds where the rollup stores model `modelId`'s packed trace word by probing mapping slots: its low
 * 128 bits are nextLeaf (32) | epoch << 32 (32) | batches << 64 (64), above them the queue's head and tail.
 * The root lives in another mapping, which must hold `modelTrace`'s root.
 */
async function traceSlot(rollup: FlavumRollup, modelId: bigint) {
  const addr = await rollup.getAddress();
  const [root, nextLeaf, batches, epoch] = await rollup.modelTrace(modelId);
  const counters = nextLeaf | (epoch << 32n) | (batches << 64n);
  const traces: bigint[] = [];
  const roots: bigint[] = [];
  for (let k = 0n; k < 16n; k++) {
    const at = BigInt(hre.ethers.solidityPackedKeccak256(["uint256", "uint256"], [modelId, k]));
    const v = BigInt(await hre.ethers.provider.getStorage(addr, at));
    if ((v & ((1n << 128n) - 1n)) === counters) traces.push(at);
    if (v === root) roots.push(at);
  }
  expect(traces, "exactly one mapping slot holds the model's counters").to.have.length(1);
  expect(roots, "exactly one mapping slot holds the model's root").to.have.length(1);
  return traces[0];
}

describe("Attacks on the rollup contracts", function () {
  describe("1. forging another model's output", () => {
    /** The victim's model 1 (owner, mock bound to honest statements) and bob's pending request; alice's model 2 accepts anything. */
    async function victimAndAttacker() {
      const f = await rollupWithModel();
      const evil = (await hre.ethers.deployContract("MockBatchVerifier")) as unknown as MockBatchVerifier; // accept-all
      await f.registry.connect(f.alice).register(commitment("evil"), digitsShape(), "", [8], [await evil.getAddress()]);
      const [victimReq] = await request(f.rollup, f.bob, 1);
      return { ...f, evil, victim: 1n, attacker: 2n, victimReq };
    }

    it("a batch of the attacker's model naming the victim's model proves nothing for the victim", async () => {
      const f = await loadFixture(victimAndAttacker);
      const { rollup, sequencer, mock, victim, attacker, victimReq, emptyRoot } = f;
      const seq = rollup.connect(sequencer);
      await mock.setAccept(false); // nothing of the victim settles unless its statement is proven

      // Entries that claim the victim's model labelled bob's input a 3.
      const forged: Entry[] = [answer(victimReq, 3, victim), ...offchainEntries(victim, 3)];
      const forgedTree = await buildSubtree(forged, 8);
      // The victim's on-chain request cannot be named in another model's batch: it is not in that queue.
      await expect(seq.submitBatch(attacker, 8, 4, 1n, forgedTree.root, a, b, c, encodeTrace(forged)))
        .to.be.revertedWithCustomError(rollup, "FlavumRequestOutOfOrder")
        .withArgs(attacker, 0n, victimReq.id, 0n);
      // The accept-all verifier lets the attacker post the forged subtree under any trace.
      const decoy = offchainEntries(attacker, 4);
      await expect(seq.submitBatch(attacker, 8, 4, 1n, forgedTree.root, a, b, c, encodeTrace(decoy)))
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(batchIdOf(attacker, 0), attacker, 0n, 0n, 4n, 8n, emptyRoot, 1n, forgedTree.root);

      for (let i = 0; i < forged.length; i++)
        expect(await rollup.verifyInference(batchIdOf(attacker, 0), forged[i], i, forgedTree.path(i))).to.equal(false);
      await expect(rollup.fulfill(victimReq.id, forged[0], 0, forgedTree.path(0)))
        .to.be.revertedWithCustomError(rollup, "FlavumWrongRequestStatus")
        .withArgs(victimReq.id, Status.Pending);
      expect(await rollup.modelTrace(victim)).to.deep.equal([emptyRoot, 0n, 0n, 0n]);
      expect(await rollup.nextPendingRequest(victim)).to.deep.equal([victimReq.id, victimReq.due]);

      // The victim's honest batch still lands at its own batch 0, leaf 0, empty root.
      const honest: Entry[] = [answer(victimReq, 7, victim), ...offchainEntries(victim, 2, 10)];
      const tree = await buildSubtree(honest, 8);
      const trace = encodeTrace(honest);
      const { pub } = await statementFor(rollup, { modelId: victim, batchSize: 8, count: 3, newRoot: 99n, batchRoot: tree.root, trace });
      expect(pub[0]).to.equal(emptyRoot);
      expect(unpackMeta(pub[3])).to.include({ modelId: victim, batchNumber: 0n, firstLeaf: 0n, count: 3 });
      await mock.expectInputs(pub);
      const victimBatch = batchIdOf(victim, 0);
      await expect(seq.submitBatch(victim, 8, 3, 99n, tree.root, a, b, c, trace))
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(victimBatch, victim, 0n, 0n, 3n, 8n, emptyRoot, 99n, tree.root)
        .and.to.emit(rollup, "InferenceIncluded")
        .withArgs(victimReq.id, victimBatch, sequencer.address, FEE);
      expect(await rollup.verifyInference(victimBatch, honest[0], 0, tree.path(0))).to.equal(true);
      expect(await rollup.verifyInference(victimBatch, forged[0], 0, tree.path(0))).to.equal(false);
      await expect(rollup.fulfill(victimReq.id, honest[0], 0, tree.path(0)))
        .to.emit(rollup, "InferenceFulfilled")
        .withArgs(victimReq.id, victimBatch, victim, honest[0].outputWord);
    });

    it("posting the victim's own batch root under the attacker's model does not make it the attacker's", async () => {
      const f = await loadFixture(victimAndAttacker);
      const { rollup, victim, attacker } = f;
      const entries = offchainEntries(victim, 2);
      const { tree, batchId } = await submitEntries(f, victim, entries); // the victim's batch 0, mock accepts
      // Same subtree root, settled again as a batch of the attacker's model.
      await rollup.connect(f.sequencer).submitBatch(attacker, 8, 1, 5n, tree.root, a, b, c, encodeTrace(offchainEntries(attacker, 1)));
      const attackerBatch = batchIdOf(attacker, 0);
      expect(await rollup.batchCommitment(batchId)).to.not.equal(await rollup.batchCommitment(attackerBatch));
      expect(await rollup.verifyInference(batchId, entries[0], 0, tree.path(0))).to.equal(true);
      expect(await rollup.verifyInference(attackerBatch, entries[0], 0, tree.path(0))).to.equal(false);
      expect(await rollup.verifyInference(attackerBatch, { ...entries[0], modelId: attacker }, 0, tree.path(0))).to.equal(false);
    });
  });

  describe("2. swapping a verifier after registration", () => {
    it("offers no way to add or replace a verifier, for the owner or a later token holder", async () => {
      const f = await loadFixture(rollupWithModel);
      const { registry, owner, alice, mock, modelId } = f;
      const writes = registry.interface.fragments
        .filter((x) => x.type === "function")
        .map((x) => x as unknown as { name: string; stateMutability: string })
        .filter((x) => x.stateMutability !== "view" && x.stateMutability !== "pure")
        .map((x) => x.name)
        .sort();
      expect(writes).to.deep.equal(["approve", "publish", "register", "safeTransferFrom", "safeTransferFrom", "setApprovalForAll", "setMetadataURI", "transferFrom"]);
      expect((registry.interface as Interface).getFunction("setVerifier")).to.equal(null);

      const v = await mock.getAddress();
      const other = await (await hre.ethers.deployContract("MockBatchVerifier")).getAddress();
      // Registering again makes a new model; the first one's verifiers stay.
      await registry.connect(owner).register(commitment(), digitsShape(), "ipfs://digits-v1", [1, 8, 32, 16], [other, other, other, other]);
      await registry.connect(owner).transferFrom(owner.address, alice.address, modelId);
      for (const size of [1, 8, 32]) expect(await registry.verifierOf(modelId, size)).to.equal(v);
      await expect(registry.verifierOf(modelId, 16)).to.be.revertedWithCustomError(registry, "FlavumVerifierNotSet").withArgs(modelId, 16);
      expect(await registry.batchSizesOf(modelId)).to.deep.equal([1n, 8n, 32n]);
      expect(await registry.verifierOf(2n, 16)).to.equal(other);
    });

    it("refuses duplicate batch sizes, mismatched arrays and verifiers without code", async () => {
      const f = await loadFixture(rollupWithModel);
      const { registry, alice, mock } = f;
      const reg = registry.connect(alice);
      const v = await mock.getAddress();
      await expect(reg.register(commitment(), digitsShape(), "", [8, 1, 8], [v, v, v]))
        .to.be.revertedWithCustomError(registry, "FlavumDuplicateBatchSize")
        .withArgs(8);
      await expect(reg.register(commitment(), digitsShape(), "", [8, 16], [v]))
        .to.be.revertedWithCustomError(registry, "FlavumVerifierCount")
        .withArgs(2, 1);
      await expect(reg.register(commitment(), digitsShape(), "", [8], [v, v]))
        .to.be.revertedWithCustomError(registry, "FlavumVerifierCount")
        .withArgs(1, 2);
      await expect(reg.register(commitment(), digitsShape(), "", [], []))
        .to.be.revertedWithCustomError(registry, "FlavumVerifierCount")
        .withArgs(0, 0);
      for (const eoa of [alice.address, hre.ethers.ZeroAddress])
        await expect(reg.register(commitment(), digitsShape(), "", [8, 16], [v, eoa]))
          .to.be.revertedWithCustomError(registry, "FlavumVerifierNotContract")
          .withArgs(eoa);
      expect(await registry.modelCount()).to.equal(1n);
    });

    it("records each verifier's code hash: VerifierSet carries it and verifierCodeHashOf equals extcodehash", async () => {
      const f = await loadFixture(rollupWithModel);
      const { registry, alice, rollup } = f;
      const mock = await (await hre.ethers.deployContract("MockBatchVerifier")).getAddress();
      const consumer = await (await hre.ethers.deployContract("RevertingConsumer", [1])).getAddress(); // any other code
      const codeHash = async (x: string) => hre.ethers.keccak256(await hre.ethers.provider.getCode(x));
      const tx = registry.connect(alice).register(commitment(), digitsShape(), "", [4, 2], [mock, consumer]);
      await expect(tx).to.emit(registry, "VerifierSet").withArgs(2n, 4, mock, await codeHash(mock));
      await expect(tx).to.emit(registry, "VerifierSet").withArgs(2n, 2, consumer, await codeHash(consumer));
      expect(await registry.verifierCodeHashOf(2n, 4)).to.equal(await codeHash(mock));
      expect(await registry.verifierCodeHashOf(2n, 2)).to.equal(await codeHash(consumer));
      expect(await codeHash(mock)).to.not.equal(await codeHash(consumer));
      expect(await registry.verifierCodeHashOf(2n, 8)).to.equal(hre.ethers.ZeroHash);
      expect(await registry.verifierCodeHashOf(1n, 8)).to.equal(await codeHash(await f.mock.getAddress()));
      // The rollup can change no verifier either.
      expect((rollup.interface as Interface).getFunction("setVerifier")).to.equal(null);
    });
  });

  describe("4. a posted trace not bound to the proven entries", () => {
    async function provenBatch() {
      const f = await rollupWithModel();
      const entries = offchainEntries(f.modelId, 3);
      const tree = await buildSubtree(entries, 8);
      const trace = encodeTrace(entries);
      const s = { modelId: f.modelId, batchSize: 8, count: 3, newRoot: 4242n, batchRoot: tree.root, trace };
      const { pub } = await statementFor(f.rollup, s);
      await f.mock.expectInputs(pub);
      return { ...f, entries, tree, trace, s, pub };
    }

    it("a trace whose bytes differ from the proven entries changes r and h, and the proof is refused", async () => {
      const f = await loadFixture(provenBatch);
      const { rollup, sequencer, mock, modelId, entries, s, pub } = f;
      const seq = rollup.connect(sequencer);
      const variants: Record<string, string> = {
        "another output word": encodeTrace([entries[0], { ...entries[1], outputWord: BigInt(entries[1].outputWord) ^ 1n }, entries[2]]),
        "another input hash": encodeTrace([entries[0], entries[1], { ...entries[2], inputHash: 7n }]),
        "another request id": encodeTrace([{ ...entries[0], requestId: offchainId(77) }, entries[1], entries[2]]),
        "entries swapped": encodeTrace([entries[1], entries[0], entries[2]]),
        "the same values in wider words": encodeTrace(entries, 22),
      };
      for (const [what, trace] of Object.entries(variants)) {
        const tampered = (await statementFor(rollup, { ...s, trace })).pub;
        expect(tampered.slice(0, 4), what).to.deep.equal(pub.slice(0, 4));
        expect(tampered[4], `${what}: r`).to.not.equal(pub[4]);
        expect(tampered[5], `${what}: h`).to.not.equal(pub[5]);
        await expect(seq.submitBatch(modelId, 8, 3, s.newRoot, s.batchRoot, a, b, c, trace), what)
          .to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof")
          .withArgs(modelId, batchIdOf(modelId, 0), await mock.getAddress());
      }
      await expect(seq.submitBatch(modelId, 8, 3, s.newRoot, s.batchRoot, a, b, c, f.trace)).to.emit(rollup, "BatchSubmitted");
    });

    it("the statement-bound mock checks all six inputs (h included)", async () => {
      const { rollup, sequencer, mock, modelId, s, pub, trace } = await loadFixture(provenBatch);
      for (let i = 0; i < 6; i++) {
        const off = [...pub] as typeof pub;
        off[i] = (off[i] + 1n) % FIELD_P;
        await mock.expectInputs(off);
        await expect(rollup.connect(sequencer).submitBatch(modelId, 8, 3, s.newRoot, s.batchRoot, a, b, c, trace), `input ${i}`)
          .to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof");
      }
    });

    it("refuses malformed traces with named errors", async () => {
      const { rollup, sequencer, modelId, entries } = await loadFixture(provenBatch);
      const submit = (count: number, trace: string) => rollup.connect(sequencer).submitBatch(modelId, 8, count, 1n, 2n, a, b, c, trace);
      const good = getBytes(encodeTrace(entries.slice(0, 2))); // 1 + 2 * 61 bytes
      await expect(submit(1, "0x")).to.be.revertedWithCustomError(rollup, "FlavumInvalidTraceWord").withArgs(0);
      await expect(submit(2, hexlify(concat(["0x00", good.slice(1)])))).to.be.revertedWithCustomError(rollup, "FlavumInvalidTraceWord").withArgs(0);
      await expect(submit(2, hexlify(concat(["0x20", good.slice(1)])))).to.be.revertedWithCustomError(rollup, "FlavumInvalidTraceWord").withArgs(32);
      await expect(submit(3, hexlify(good))).to.be.revertedWithCustomError(rollup, "FlavumInvalidTraceLength").withArgs(123, 184, 3);
      await expect(submit(1, hexlify(good))).to.be.revertedWithCustomError(rollup, "FlavumInvalidTraceLength").withArgs(123, 62, 1);
      await expect(submit(2, hexlify(concat([good, "0x00"])))).to.be.revertedWithCustomError(rollup, "FlavumInvalidTraceLength").withArgs(124, 123, 2);
      await expect(submit(2, hexlify(good.slice(0, 122)))).to.be.revertedWithCustomError(rollup, "FlavumInvalidTraceLength").withArgs(122, 123, 2);
      // An input hash of p or above (encodeTrace refuses to write one, so patch the bytes).
      for (const [index, value] of [[0, FIELD_P], [1, (1n << 256n) - 1n]] as const) {
        const bad = Uint8Array.from(good);
        bad.set(getBytes(zeroPadValue(toBeHex(value), 32)), 1 + index * 61 + 8);
        await expect(submit(2, hexlify(bad))).to.be.revertedWithCustomError(rollup, "FlavumTraceNotFieldElement").withArgs(index, value);
      }
    });

    it("hands the verifier r and h exactly as src/protocol computes them, for edge-case traces (TypeScript twin)", async () => {
      const f = await loadFixture(provenBatch);
      const { rollup, sequencer, mock, modelId } = f;
      await mock.setReveal(true);
      const [req] = await request(rollup, f.alice, 1);
      const cases: [Entry[], number][] = [
        [[answer(req), ...offchainEntries(modelId, 2)], 21],
        [[{ modelId, requestId: (1n << 64n) - 1n, inputHash: FIELD_P - 1n, outputWord: (1n << 248n) - 1n }], 31],
        [[{ modelId, requestId: offchainId(0), inputHash: 0n, outputWord: 0n }, { modelId, requestId: offchainId(1), inputHash: 1n, outputWord: 255n }], 1],
      ];
      for (const [entries, w] of cases) {
        const trace = encodeTrace(entries, w);
        const s = { modelId, batchSize: 8, count: entries.length, newRoot: FIELD_P - 1n, batchRoot: 12345n, trace };
        const { pub } = await statementFor(rollup, s);
        await expect(rollup.connect(sequencer).submitBatch(modelId, 8, s.count, s.newRoot, s.batchRoot, a, b, c, trace))
          .to.be.revertedWithCustomError(mock, "MockVerifierCalled")
          .withArgs(pub);
      }
    });
  });

  describe("5/6. malformed requests, fees and censorship", () => {
    it("rejects a malformed request at requestInference with a named error", async () => {
      const { rollup, alice, modelId } = await loadFixture(feeRollup);
      const r = rollup.connect(alice);
      const ask = (input: string, id = modelId, inputHash = 5n, value = FEE) => r.requestInference(id, inputHash, input, hre.ethers.ZeroAddress, { value });
      const good = await digitsInput(3);
      const values = good.values;
      await expect(ask(good.input, 2n)).to.be.revertedWithCustomError(rollup, "FlavumUnknownRequestModel").withArgs(2n);
      await expect(ask(good.input, 1n << 64n)).to.be.revertedWithCustomError(rollup, "FlavumUnknownRequestModel").withArgs(1n << 64n);
      await expect(ask(good.input, modelId, 5n, FEE - 1n)).to.be.revertedWithCustomError(rollup, "FlavumInsufficientFee").withArgs(FEE - 1n, FEE);
      await expect(ask(good.input, modelId, FIELD_P)).to.be.revertedWithCustomError(rollup, "FlavumNotFieldElement").withArgs(FIELD_P);
      // A payment wider than the escrow's 128 bits would be truncated: refused instead.
      const huge = 1n << 128n;
      await hre.network.provider.send("hardhat_setBalance", [alice.address, toBeHex(huge * 2n)]);
      await expect(ask(good.input, modelId, 5n, huge)).to.be.revertedWithCustomError(rollup, "FlavumFeeTooLarge").withArgs(huge);
      // Not abi.encode(int256[]): empty, raw packed values, a moved offset, truncated, trailing bytes.
      const bytes = getBytes(good.input);
      const packed = hexlify(concat(values.map((v) => zeroPadValue(toBeHex(BigInt.asUintN(256, v)), 32))));
      const movedOffset = hexlify(concat([zeroPadValue("0x40", 32), bytes.slice(32)]));
      for (const bad of ["0x", "0x01", packed, movedOffset, hexlify(bytes.slice(0, bytes.length - 1)), hexlify(concat([bytes, "0x00"]))])
        await expect(ask(bad)).to.be.revertedWithCustomError(rollup, "FlavumMalformedInput").withArgs(getBytes(bad).length);
      // Well-formed arrays of the wrong length name both lengths.
      await expect(ask(abiInput(values.slice(0, 63)))).to.be.revertedWithCustomError(rollup, "FlavumInvalidInputLength").withArgs(modelId, 63, 64);
      await expect(ask(abiInput([...values, 0n]))).to.be.revertedWithCustomError(rollup, "FlavumInvalidInputLength").withArgs(modelId, 65, 64);
      await expect(ask(abiInput([]))).to.be.revertedWithCustomError(rollup, "FlavumInvalidInputLength").withArgs(modelId, 0, 64);
      // Six signed bits: [-32, 32).
      for (const [i, v] of [[0, 32n], [63, -33n], [5, 1n << 200n], [9, -(1n << 255n)]] as const) {
        const out = [...values];
        out[i] = v;
        await expect(ask(abiInput(out))).to.be.revertedWithCustomError(rollup, "FlavumInputOutOfRange").withArgs(i, v, 6);
      }
      expect(await rollup.requestCount()).to.equal(0n);
      const edge = [...values];
      edge[0] = -32n;
      edge[1] = 31n;
      await expect(ask(abiInput(edge))).to.emit(rollup, "InferenceRequested").withArgs(1n, modelId, 5n, abiInput(edge), hre.ethers.ZeroAddress);
    });

    it("holds each fee for its request: only the requester cancels, from inclusionDelay blocks on, for exactly the fee", async () => {
      const { rollup, alice, bob, modelId } = await loadFixture(feeRollup);
      const x = await digitsInput(1);
      await rollup.connect(alice).requestInference(modelId, x.inputHash, x.input, hre.ethers.ZeroAddress, { value: 2n * FEE });
      const from = (await rollup.requestOf(1n)).createdBlock + 256n;
      expect((await rollup.requestOf(1n)).fee).to.equal(2n * FEE);
      await expect(rollup.connect(bob).cancelRequest(1n)).to.be.revertedWithCustomError(rollup, "FlavumNotRequester").withArgs(1n, alice.address);
      await expect(rollup.connect(alice).cancelRequest(2n)).to.be.revertedWithCustomError(rollup, "FlavumUnknownRequest").withArgs(2n);
      await expect(rollup.connect(alice).cancelRequest(1n)).to.be.revertedWithCustomError(rollup, "FlavumCancelTooEarly").withArgs(1n, from);
      await mine(from - BigInt(await hre.ethers.provider.getBlockNumber()) - 2n);
      // Mined in block from - 1: still too early.
      await expect(rollup.connect(alice).cancelRequest(1n)).to.be.revertedWithCustomError(rollup, "FlavumCancelTooEarly").withArgs(1n, from);
      expect(BigInt(await hre.ethers.provider.getBlockNumber())).to.equal(from - 1n);
      const cancel = rollup.connect(alice).cancelRequest(1n);
      await expect(cancel).to.emit(rollup, "RequestCancelled").withArgs(1n, 2n * FEE);
      await expect(cancel).to.changeEtherBalances([rollup, alice], [-2n * FEE, 2n * FEE]);
      const req = await rollup.requestOf(1n);
      expect([req.status, req.fee]).to.deep.equal([Status.Cancelled, 0n]);
      await expect(rollup.connect(alice).cancelRequest(1n)).to.be.revertedWithCustomError(rollup, "FlavumWrongRequestStatus").withArgs(1n, Status.Cancelled);
      expect(await hre.ethers.provider.getBalance(await rollup.getAddress())).to.equal(0n);
    });

    it("lets only the sequencer reject a request, refunding its fee; a requester refusing ether is credited", async () => {
      const { rollup, alice, sequencer, modelId } = await loadFixture(feeRollup);
      const [req] = await request(rollup, alice, 1);
      await expect(rollup.connect(alice).rejectRequest(req.id, "no"))
        .to.be.revertedWithCustomError(rollup, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, await rollup.SEQUENCER_ROLE());
      const reject = rollup.connect(sequencer).rejectRequest(req.id, "input does not hash to its commitment");
      await expect(reject).to.emit(rollup, "RequestRejected").withArgs(req.id, "input does not hash to its commitment", FEE);
      await expect(reject).to.changeEtherBalances([rollup, alice, sequencer], [-FEE, FEE, 0n]);
      await expect(rollup.connect(sequencer).rejectRequest(req.id, "again"))
        .to.be.revertedWithCustomError(rollup, "FlavumWrongRequestStatus")
        .withArgs(req.id, Status.Rejected);
      await expect(rollup.connect(alice).cancelRequest(req.id)).to.be.revertedWithCustomError(rollup, "FlavumWrongRequestStatus");

      const refuser = await hre.ethers.deployContract("RevertingConsumer", [1]);
      const x = await digitsInput(9);
      await refuser.request(await rollup.getAddress(), modelId, x.inputHash, x.input, { value: FEE });
      await expect(rollup.connect(sequencer).rejectRequest(2n, "out of range")).to.emit(rollup, "RequestRejected").withArgs(2n, "out of range", FEE);
      expect(await rollup.earningsOf(await refuser.getAddress())).to.equal(FEE);
      expect(await rollup.earningsOf(sequencer.address)).to.equal(0n);
    });

    it("gives the admin no way to take the fees held for requests", async () => {
      const { rollup, admin, alice, sequencer } = await loadFixture(feeRollup);
      const writes = rollup.interface.fragments
        .filter((x) => x.type === "function")
        .map((x) => x as unknown as { name: string; stateMutability: string })
        .filter((x) => x.stateMutability !== "view" && x.stateMutability !== "pure")
        .map((x) => x.name)
        .sort();
      expect(writes).to.deep.equal([
        "advanceQueue", "attachRevenue", "attachState", "cancelRequest", "fulfill", "fulfillFromBatch", "grantRole", "openDataPointRequest", "refuseDataPointRequest",
        "registerSettlement", "rejectRequest", "releaseDataPointRequest", "renounceRole", "requestInference", "revokeRole", "rotateSequencer",
        "setRequestFee", "submitBatch", "submitBatchBlob", "submitBatchIpfs", "withdrawEarnings", "withdrawModelRevenue",
      ]);
      expect((rollup.interface as Interface).getFunction("withdrawFees")).to.equal(null);
      const [req] = await request(rollup, alice, 1);
      await expect(rollup.connect(admin).withdrawEarnings(admin.address)).to.be.revertedWithCustomError(rollup, "FlavumNothingToWithdraw").withArgs(admin.address);
      // The contributors' cut of published models' fees: only the revenue contract attached at deploy
      // withdraws it, and the admin cannot attach another.
      await expect(rollup.connect(admin).withdrawModelRevenue(1n)).to.be.revertedWithCustomError(rollup, "FlavumNotRevenueContract");
      await expect(rollup.connect(admin).attachRevenue(admin.address)).to.be.revertedWithCustomError(rollup, "FlavumRevenueAlreadyAttached");
      await expect(rollup.connect(admin).cancelRequest(req.id)).to.be.revertedWithCustomError(rollup, "FlavumNotRequester");
      // The state contract's hooks answer only the attached state contract, and refuse only its own requests.
      // One at a time: sent together, a revert not yet awaited surfaces as an uncaught error.
      for (const call of [
        () => rollup.connect(admin).refuseDataPointRequest(req.id, "x"),
        () => rollup.connect(admin).releaseDataPointRequest(req.id),
        () => rollup.connect(admin).openDataPointRequest(1n, 1n, 1n, admin.address, admin.address),
      ])
        await expect(call()).to.be.revertedWithCustomError(rollup, "FlavumNotStateContract");
      // A calldata batch's requests were served when it settled: no second payout through fulfillFromBatch.
      await expect(rollup.fulfillFromBatch(0n, { modelId: 1n, requestId: req.id, inputHash: (await rollup.requestOf(req.id)).inputHash, outputWord: 0n }, 0, []))
        .to.be.revertedWithCustomError(rollup, "FlavumNotPostedBatch");
      // A new fee applies to new requests only.
      await rollup.connect(admin).setRequestFee(FEE * 10n);
      expect((await rollup.requestOf(req.id)).fee).to.equal(FEE);
      // Even holding the sequencer role, rejecting refunds the requester, not the admin.
      await rollup.connect(admin).grantRole(await rollup.SEQUENCER_ROLE(), admin.address);
      await expect(rollup.connect(admin).rejectRequest(req.id, "x")).to.changeEtherBalances([rollup, alice, admin], [-FEE, FEE, 0n]);
      expect(await rollup.earningsOf(admin.address)).to.equal(0n);
      expect(await rollup.earningsOf(sequencer.address)).to.equal(0n);
    });

    it("pays a sequencer a request's fee only when its batch includes the request", async () => {
      const f = await loadFixture(feeRollup);
      const { rollup, alice, bob, sequencer, admin, mock, modelId } = f;
      const [r1] = await request(rollup, alice, 1);
      const x = await digitsInput(5);
      await rollup.connect(bob).requestInference(modelId, x.inputHash, x.input, hre.ethers.ZeroAddress, { value: 2n * FEE });
      const r2 = { id: 2n, inputHash: x.inputHash };
      await submitEntries(f, modelId, offchainEntries(modelId, 2));
      expect(await rollup.earningsOf(sequencer.address)).to.equal(0n);
      await mock.setAccept(false);
      await expect(submitEntries(f, modelId, [answer(r1)])).to.be.revertedWithCustomError(rollup, "FlavumInvalidBatchProof");
      expect(await rollup.earningsOf(sequencer.address)).to.equal(0n);
      await mock.setAccept(true);
      await expect((await submitEntries(f, modelId, [...offchainEntries(modelId, 1, 5), answer(r1)])).tx)
        .to.emit(rollup, "InferenceIncluded")
        .withArgs(r1.id, batchIdOf(modelId, 1), sequencer.address, FEE);
      const inc = await rollup.requestOf(r1.id);
      expect([inc.status, inc.batchId]).to.deep.equal([Status.Included, batchIdOf(modelId, 1)]);
      expect(await rollup.earningsOf(sequencer.address)).to.equal(FEE);
      await expect(rollup.connect(alice).cancelRequest(r1.id)).to.be.revertedWithCustomError(rollup, "FlavumWrongRequestStatus").withArgs(r1.id, Status.Included);
      await expect(rollup.connect(sequencer).rejectRequest(r1.id, "late")).to.be.revertedWithCustomError(rollup, "FlavumWrongRequestStatus");

      // Earnings stay with the account that did the work, across a rotation.
      await rollup.rotateSequencer(sequencer.address, bob.address);
      await rollup.connect(bob).submitBatch(modelId, 1, 1, 9n, 9n, a, b, c, encodeTrace([answer(r2)]));
      expect(await rollup.earningsOf(bob.address)).to.equal(2n * FEE);
      await expect(rollup.connect(sequencer).withdrawEarnings(hre.ethers.ZeroAddress)).to.be.revertedWithCustomError(rollup, "FlavumZeroAddress").withArgs("to");
      const w = rollup.connect(sequencer).withdrawEarnings(admin.address);
      await expect(w).to.emit(rollup, "EarningsWithdrawn").withArgs(sequencer.address, admin.address, FEE);
      await expect(w).to.changeEtherBalances([rollup, admin], [-FEE, FEE]);
      await expect(rollup.connect(sequencer).withdrawEarnings(sequencer.address))
        .to.be.revertedWithCustomError(rollup, "FlavumNothingToWithdraw")
        .withArgs(sequencer.address);
      expect(await hre.ethers.provider.getBalance(await rollup.getAddress())).to.equal(2n * FEE);
    });

    it("forces inclusion: on-chain requests in order, with their input, overdue ones before anything else", async () => {
      const f = await loadFixture(feeRollup);
      const { rollup, alice, sequencer, mock, modelId } = f;
      const [r1, r2, r3] = await request(rollup, alice, 3);
      const off = (n: number, from = 100) => offchainEntries(modelId, n, from);
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([r1.id, r1.due]);
      await expect(submitEntries(f, modelId, [answer(r2)])).to.be.revertedWithCustomError(rollup, "FlavumRequestOutOfOrder").withArgs(modelId, 0n, r2.id, r1.id);
      await expect(submitEntries(f, modelId, [...off(1), answer(r1), answer(r1)]))
        .to.be.revertedWithCustomError(rollup, "FlavumRequestOutOfOrder")
        .withArgs(modelId, 2n, r1.id, r2.id);
      await expect(submitEntries(f, modelId, [answer(r1), answer(r3)])).to.be.revertedWithCustomError(rollup, "FlavumRequestOutOfOrder").withArgs(modelId, 1n, r3.id, r2.id);
      await expect(submitEntries(f, modelId, [...off(1), { ...answer(r1), inputHash: r2.inputHash }]))
        .to.be.revertedWithCustomError(rollup, "FlavumRequestInputMismatch")
        .withArgs(1n, r1.id, r2.inputHash);
      await expect((await submitEntries(f, modelId, [...off(2), answer(r1)])).tx).to.emit(rollup, "InferenceIncluded").withArgs(r1.id, batchIdOf(modelId, 0), sequencer.address, FEE);
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([r2.id, r2.due]);
      await rollup.connect(sequencer).rejectRequest(r2.id, "unprovable");
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([r3.id, r3.due]);

      // r3 becomes overdue: a batch that leaves it behind reverts; one that serves it passes.
      await mine(r3.due - BigInt(await hre.ethers.provider.getBlockNumber()) - 2n);
      await submitEntries(f, modelId, off(1, 200)); // mined at due - 1: not yet overdue
      await expect(submitEntries(f, modelId, off(1, 300))).to.be.revertedWithCustomError(rollup, "FlavumOverdueRequest").withArgs(modelId, r3.id, r3.due);
      await expect((await submitEntries(f, modelId, [...off(3, 400), answer(r3)])).tx).to.emit(rollup, "InferenceIncluded").withArgs(r3.id, batchIdOf(modelId, 2), sequencer.address, FEE);
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([0n, 0n]);

      // A cancelled request is skipped; so is a rejected one (r2 above).
      const [r4] = await request(rollup, alice, 1, 10);
      await mine(256);
      await rollup.connect(alice).cancelRequest(r4.id);
      const [r5, r6] = await request(rollup, alice, 2, 20);
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([r5.id, r5.due]);
      await expect(submitEntries(f, modelId, [answer(r4)])).to.be.revertedWithCustomError(rollup, "FlavumRequestOutOfOrder").withArgs(modelId, 0n, r4.id, r5.id);
      await submitEntries(f, modelId, off(1, 500));

      // Both overdue: serving one in a partly empty batch is not enough, a batch full of on-chain requests is.
      await mine(256);
      await expect(submitEntries(f, modelId, [answer(r5)])).to.be.revertedWithCustomError(rollup, "FlavumOverdueRequest").withArgs(modelId, r6.id, r6.due);
      await rollup.connect(sequencer).submitBatch(modelId, 1, 1, 1n, 1n, a, b, c, encodeTrace([answer(r5)]));
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([r6.id, r6.due]);

      // Queues are per model: another model's batches are not held up by model 1's overdue request.
      await f.registry.connect(alice).register(commitment("b"), digitsShape(), "", [8], [await mock.getAddress()]);
      await expect((await submitEntries(f, 2n, offchainEntries(2n, 1))).tx).to.emit(rollup, "BatchSubmitted");
      await expect((await submitEntries(f, modelId, [answer(r6), ...off(1, 600)])).tx).to.emit(rollup, "InferenceIncluded").withArgs(r6.id, batchIdOf(modelId, 5), sequencer.address, FEE);
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([0n, 0n]);
    });

    it("does not take request id 0 for 'no pending request'", async () => {
      const f = await loadFixture(feeRollup);
      const { rollup, alice, modelId } = f;
      const ghost: Entry = { modelId, requestId: 0n, inputHash: 0n, outputWord: word(1) };
      await expect(submitEntries(f, modelId, [ghost])).to.be.revertedWithCustomError(rollup, "FlavumRequestOutOfOrder").withArgs(modelId, 0n, 0n, 0n);
      // The queue still serves the next request in order.
      const [r1] = await request(rollup, alice, 1);
      await expect((await submitEntries(f, modelId, [answer(r1)])).tx).to.emit(rollup, "InferenceIncluded");
      expect((await rollup.requestOf(0n)).status).to.equal(Status.None);
    });
  });

  describe("5b. a backlog of closed requests", () => {
    const DELAY = 4;
    /** Model 1 on a rollup whose requests fall due DELAY blocks after they are made. */
    const shortDelayRollup = () => rollupWithModel(DELAY);

    it("a batch steps over at most 64 closed requests; advanceQueue (anyone) clears more, and forced inclusion works again", async () => {
      const f = await loadFixture(shortDelayRollup);
      const { rollup, alice, bob, sequencer, modelId } = f;
      expect(await rollup.inclusionDelay()).to.equal(BigInt(DELAY));
      const off = (n: number, from: number) => offchainEntries(modelId, n, from);
      // 65 requests cancelled in a row (queue positions 0..64), then one left pending (position 65).
      const closed = await request(rollup, alice, 65);
      const [last] = await request(rollup, alice, 1, 100);
      await mine(DELAY);
      for (const r of closed) await rollup.connect(alice).cancelRequest(r.id);
      expect(BigInt(await hre.ethers.provider.getBlockNumber())).to.be.greaterThanOrEqual(last.due);

      // A batch must look past all 65 to find the pending one (to serve it, or to see it is overdue): it
      // reverts at position 64, whether it serves the request or not; so does the view.
      for (const entries of [off(1, 0), [answer(last)], [answer(last), ...off(7, 10)]])
        await expect(submitEntries(f, modelId, entries)).to.be.revertedWithCustomError(rollup, "FlavumQueueBacklog").withArgs(modelId, 64n);
      await expect(rollup.nextPendingRequest(modelId)).to.be.revertedWithCustomError(rollup, "FlavumQueueBacklog").withArgs(modelId, 64n);

      // Anyone may step the head; over one request, 64 closed ones are left, which a batch steps over itself.
      await expect(rollup.connect(bob).advanceQueue(modelId, 1)).to.emit(rollup, "QueueAdvanced").withArgs(modelId, 0n, 1n);
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([last.id, last.due]);
      // Forced inclusion holds again: the overdue request must be served...
      await expect(submitEntries(f, modelId, off(1, 20))).to.be.revertedWithCustomError(rollup, "FlavumOverdueRequest").withArgs(modelId, last.id, last.due);
      // ... and serving it settles, the batch moving the head past the 64 closed requests and the served one.
      await expect((await submitEntries(f, modelId, [answer(last), ...off(1, 30)])).tx)
        .to.emit(rollup, "InferenceIncluded")
        .withArgs(last.id, batchIdOf(modelId, 0), sequencer.address, FEE);
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([0n, 0n]);
      await expect(rollup.connect(bob).advanceQueue(modelId, 10)).to.emit(rollup, "QueueAdvanced").withArgs(modelId, 66n, 66n);
    });

    it("advanceQueue stops at the first pending request and after maxSteps, and skips rejected requests too", async () => {
      const f = await loadFixture(shortDelayRollup);
      const { rollup, alice, bob, sequencer, modelId } = f;
      const made = await request(rollup, alice, 70);
      const [pending] = await request(rollup, alice, 1, 200);
      await mine(DELAY);
      // 70 closed in a row: cancelled, with every seventh rejected by the sequencer instead.
      for (const [i, r] of made.entries()) {
        if (i % 7 === 0) await rollup.connect(sequencer).rejectRequest(r.id, "unprovable");
        else await rollup.connect(alice).cancelRequest(r.id);
      }
      await expect(rollup.nextPendingRequest(modelId)).to.be.revertedWithCustomError(rollup, "FlavumQueueBacklog").withArgs(modelId, 64n);
      await expect(rollup.connect(bob).advanceQueue(modelId, 0)).to.emit(rollup, "QueueAdvanced").withArgs(modelId, 0n, 0n);
      await expect(rollup.connect(bob).advanceQueue(modelId, 30)).to.emit(rollup, "QueueAdvanced").withArgs(modelId, 0n, 30n);
      await expect(rollup.connect(alice).advanceQueue(modelId, 1000)).to.emit(rollup, "QueueAdvanced").withArgs(modelId, 30n, 70n);
      expect(await rollup.nextPendingRequest(modelId)).to.deep.equal([pending.id, pending.due]);
      expect((await rollup.requestOf(pending.id)).status).to.equal(Status.Pending);
      // Another model's queue is its own.
      await expect(rollup.connect(bob).advanceQueue(2n, 1000)).to.emit(rollup, "QueueAdvanced").withArgs(2n, 0n, 0n);
      await expect((await submitEntries(f, modelId, [answer(pending)])).tx).to.emit(rollup, "InferenceIncluded").withArgs(pending.id, batchIdOf(modelId, 0), sequencer.address, FEE);
    });
  });

  describe("7. fulfilment", () => {
    it("is permissionless once included, happens once, and only with the path of the request's own batch", async () => {
      const f = await loadFixture(feeRollup);
      const { rollup, alice, bob, modelId } = f;
      const [r1, r2] = await request(rollup, alice, 2);
      const e1 = answer(r1, 4);
      const e2 = answer(r2, 6);
      await expect(rollup.connect(bob).fulfill(r1.id, e1, 0, [])).to.be.revertedWithCustomError(rollup, "FlavumWrongRequestStatus").withArgs(r1.id, Status.Pending);
      const b0 = await submitEntries(f, modelId, [e1, ...offchainEntries(modelId, 1)]);
      // Batch 1 puts r2 at index 0, like e1 in batch 0.
      const b1 = await submitEntries(f, modelId, [e2]);
      expect([b0.batchId, b1.batchId]).to.deep.equal([batchIdOf(modelId, 0), batchIdOf(modelId, 1)]);
      await expect(rollup.connect(bob).fulfill(r2.id, e2, 0, b0.tree.path(0))).to.be.revertedWithCustomError(rollup, "FlavumInclusionNotProven").withArgs(r2.id, b1.batchId);
      await expect(rollup.connect(bob).fulfill(r2.id, { ...e2, outputWord: word(7) }, 0, b1.tree.path(0)))
        .to.be.revertedWithCustomError(rollup, "FlavumInclusionNotProven")
        .withArgs(r2.id, b1.batchId);
      // e1's own batch and path, but a claim that it answers r2.
      await expect(rollup.connect(bob).fulfill(r2.id, { ...e1, requestId: r2.id }, 0, b0.tree.path(0))).to.be.revertedWithCustomError(rollup, "FlavumEntryMismatch");

      // bob is neither requester nor sequencer.
      await expect(rollup.connect(bob).fulfill(r1.id, e1, 0, b0.tree.path(0))).to.emit(rollup, "InferenceFulfilled").withArgs(r1.id, b0.batchId, modelId, e1.outputWord);
      await expect(rollup.connect(alice).fulfill(r1.id, e1, 0, b0.tree.path(0))).to.be.revertedWithCustomError(rollup, "FlavumWrongRequestStatus").withArgs(r1.id, Status.Fulfilled);
      await expect(rollup.connect(bob).fulfill(r2.id, e2, 0, b1.tree.path(0))).to.emit(rollup, "InferenceFulfilled").withArgs(r2.id, b1.batchId, modelId, e2.outputWord);
      expect((await rollup.requestOf(r2.id)).status).to.equal(Status.Fulfilled);
    });
  });

  describe("10. paths, counts and the tree's end", () => {
    it("pins the inclusion path to log2(batchSize): a root of another depth proves nothing", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, sequencer, modelId } = f;
      const entries = offchainEntries(modelId, 8);
      const tree = await buildSubtree(entries, 8);
      const seq = rollup.connect(sequencer);
      // The accept-all mock lets a batch of 1 claim an 8-leaf subtree's root, and a batch of 8 a single leaf.
      await seq.submitBatch(modelId, 1, 1, 1n, tree.root, a, b, c, encodeTrace(entries.slice(0, 1)));
      await seq.submitBatch(modelId, 8, 1, 2n, await leafHash(entries[0]), a, b, c, encodeTrace(entries.slice(0, 1)));
      const id = (n: number) => batchIdOf(modelId, n);
      for (let i = 0; i < 8; i++) expect(await rollup.verifyInference(id(0), entries[i], i, tree.path(i))).to.equal(false);
      expect(await rollup.verifyInference(id(1), entries[0], 0, [])).to.equal(false);
      // The same subtree as a batch of 8 proves every entry, with exactly three siblings.
      await seq.submitBatch(modelId, 8, 8, 3n, tree.root, a, b, c, encodeTrace(entries));
      for (let i = 0; i < 8; i++) expect(await rollup.verifyInference(id(2), entries[i], i, tree.path(i))).to.equal(true);
      expect(await rollup.verifyInference(id(2), entries[0], 0, tree.path(0).slice(0, 2))).to.equal(false);
      expect(await rollup.verifyInference(id(2), entries[0], 0, [...tree.path(0), 0n])).to.equal(false);
      // An index the path cannot address.
      expect(await rollup.verifyInference(id(2), entries[0], 8, tree.path(0))).to.equal(false);
    });

    it("refuses a count of 0 or above the batch size, for every size", async () => {
      const { rollup, sequencer, modelId } = await loadFixture(rollupWithModel);
      for (const size of [1, 8, 32]) {
        for (const count of [0, size + 1])
          await expect(rollup.connect(sequencer).submitBatch(modelId, size, count, 1n, 2n, a, b, c, encodeTrace(offchainEntries(modelId, count))))
            .to.be.revertedWithCustomError(rollup, "FlavumInvalidCount")
            .withArgs(count, size);
      }
      await expect(rollup.connect(sequencer).submitBatch(modelId, 1, 1, 1n, 2n, a, b, c, encodeTrace(offchainEntries(modelId, 1)))).to.emit(rollup, "BatchSubmitted");
    });

    it("nextSlot aligns to the batch size and rolls over exactly when B more leaves do not fit", () => {
      const cases: [bigint, number, bigint, boolean][] = [
        [0n, 8, 0n, false],
        [3n, 8, 8n, false],
        [8n, 8, 8n, false],
        [9n, 32, 32n, false],
        [LEAVES - 8n, 8, LEAVES - 8n, false],
        [LEAVES - 12n, 8, LEAVES - 8n, false],
        [LEAVES - 12n, 32, 0n, true],
        [LEAVES - 7n, 8, 0n, true],
        [LEAVES - 1n, 1, LEAVES - 1n, false],
        [LEAVES, 1, 0n, true],
        [LEAVES - 256n, 256, LEAVES - 256n, false],
        [LEAVES - 255n, 256, 0n, true],
      ];
      for (const [nextLeaf, size, firstLeaf, rollover] of cases)
        expect(nextSlot(nextLeaf, size), `${nextLeaf}/${size}`).to.deep.equal({ firstLeaf, rollover });
      let seed = 12345n; // a fixed LCG, so a failure reproduces
      for (let k = 0; k <= 8; k++) {
        const size = 1 << k;
        for (let t = 0; t < 50; t++) {
          seed = (seed * 6364136223846793005n + 1442695040888963407n) % (1n << 64n);
          const nextLeaf = (seed >> 20n) % (LEAVES + 1n);
          const s = nextSlot(nextLeaf, size);
          expect(s.firstLeaf % BigInt(size)).to.equal(0n);
          expect(s.firstLeaf + BigInt(size) <= LEAVES).to.equal(true);
          if (!s.rollover) expect(s.firstLeaf >= nextLeaf && s.firstLeaf - nextLeaf < BigInt(size)).to.equal(true);
          else expect(s.firstLeaf).to.equal(0n);
        }
      }
    });

    it("lands where nextSlot says and rolls a full tree over to the empty root (nextLeaf set by storage)", async () => {
      const f = await loadFixture(rollupWithModel);
      const { rollup, sequencer, mock, modelId, emptyRoot } = f;
      const seq = rollup.connect(sequencer);
      const first = await submitEntries(f, modelId, offchainEntries(modelId, 2), 8, 111n);
      const slot = await traceSlot(rollup, modelId);
      const addr = await rollup.getAddress();
      // nextLeaf is the low 32 bits of the model's packed trace word; the other fields stay as they are.
      const setNextLeaf = async (nextLeaf: bigint) => {
        const word = BigInt(await hre.ethers.provider.getStorage(addr, slot));
        const patched = (word & ~0xffffffffn) | nextLeaf;
        await hre.network.provider.send("hardhat_setStorageAt", [addr, toBeHex(slot), zeroPadValue(toBeHex(patched), 32)]);
        expect((await rollup.modelTrace(modelId)).slice(1)).to.deep.equal([nextLeaf, 1n, 0n]);
      };

      // The contract picks the slot nextSlot picks, for each size at the tree's end (reveal mode).
      await mock.setReveal(true);
      for (const [nextLeaf, size] of [[LEAVES - 12n, 8], [LEAVES - 12n, 32], [LEAVES - 1n, 1], [LEAVES, 1], [LEAVES - 7n, 8]] as const) {
        await setNextLeaf(nextLeaf);
        const trace = encodeTrace(offchainEntries(modelId, 1));
        const expected = nextSlot(nextLeaf, size);
        const { pub, firstLeaf, rollover } = await statementFor(rollup, { modelId, batchSize: size, count: 1, newRoot: 5n, batchRoot: 6n, trace });
        expect({ firstLeaf, rollover }).to.deep.equal(expected);
        expect(pub[0]).to.equal(rollover ? emptyRoot : 111n);
        await expect(seq.submitBatch(modelId, size, 1, 5n, 6n, a, b, c, trace)).to.be.revertedWithCustomError(mock, "MockVerifierCalled").withArgs(pub);
      }
      await mock.setReveal(false);

      // The last leaf of the tree still fits a batch of one.
      await setNextLeaf(LEAVES - 1n);
      const last = offchainEntries(modelId, 1, 10);
      const lastTree = await buildSubtree(last, 1);
      const s1 = { modelId, batchSize: 1, count: 1, newRoot: 222n, batchRoot: lastTree.root, trace: encodeTrace(last) };
      await mock.expectInputs((await statementFor(rollup, s1)).pub);
      await expect(seq.submitBatch(modelId, 1, 1, 222n, lastTree.root, a, b, c, s1.trace))
        .to.emit(rollup, "BatchSubmitted")
        .withArgs(batchIdOf(modelId, 1), modelId, 1n, LEAVES - 1n, 1n, 1n, 111n, 222n, lastTree.root)
        .and.not.to.emit(rollup, "TraceTreeRolledOver");
      expect(await rollup.modelTrace(modelId)).to.deep.equal([222n, LEAVES, 2n, 0n]);

      // The next batch starts tree epoch 1 from the empty root, at leaf 0.
      const next = offchainEntries(modelId, 3, 20);
      const nextTree = await buildSubtree(next, 8);
      const s8 = { modelId, batchSize: 8, count: 3, newRoot: 333n, batchRoot: nextTree.root, trace: encodeTrace(next) };
      const st = await statementFor(rollup, s8);
      expect([st.pub[0], st.firstLeaf, st.rollover]).to.deep.equal([emptyRoot, 0n, true]);
      await mock.expectInputs(st.pub);
      await expect(seq.submitBatch(modelId, 8, 3, 333n, nextTree.root, a, b, c, s8.trace))
        .to.emit(rollup, "TraceTreeRolledOver")
        .withArgs(modelId, 2n, 1n)
        .and.to.emit(rollup, "BatchSubmitted")
        .withArgs(batchIdOf(modelId, 2), modelId, 2n, 0n, 3n, 8n, emptyRoot, 333n, nextTree.root);
      expect(await rollup.modelTrace(modelId)).to.deep.equal([333n, 8n, 3n, 1n]);
      expect(BigInt(await hre.ethers.provider.getStorage(addr, slot)) & ((1n << 128n) - 1n)).to.equal(8n | (1n << 32n) | (3n << 64n));

      // Results of the old tree stay readable (reads check batch commitments, not the tree root).
      const oldEntries = offchainEntries(modelId, 2);
      expect(await rollup.verifyInference(first.batchId, oldEntries[1], 1, first.tree.path(1))).to.equal(true);
      expect(await rollup.verifyInference(batchIdOf(modelId, 1), last[0], 0, [])).to.equal(true);
      expect(await rollup.verifyInference(batchIdOf(modelId, 2), next[2], 2, nextTree.path(2))).to.equal(true);
    });
  });
});
