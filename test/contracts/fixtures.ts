/**
 * Shared fixtures of the contract tests: the real deploy code (deployRollup) plus a registered model,
 * a mock batch verifier, and a small TypeScript Poseidon Merkle tree for inclusion paths.
 */
import hre from "hardhat";
import { AbiCoder, getBytes, hexlify, keccak256, toUtf8Bytes } from "ethers";
import {
  decodeTrace,
  encodeTrace as encodeCompactTrace,
  traceChallenge,
  traceElements,
  traceRlc,
} from "../../src/protocol/traceBinding";
import { nextSlot, OFFCHAIN_REQUEST_BASE, packMeta, type OutputLayout } from "../../src/protocol/batch";
import { deployRollup } from "../../src/chain/deployRollup";
import { poseidonHash } from "../../src/quant/commitment";
import { encodeQuantized } from "../../src/sdk/encodeInput";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { FlavumRollup, IFlavumInference, IModelRegistry, MockBatchVerifier } from "../../typechain-types";

export const PROOF_SYSTEM = keccak256(toUtf8Bytes("groth16-bn254"));
export const FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
/** A syntactically fine proof; the mock verifier ignores the points. */
export const DUMMY_PROOF = {
  a: [1n, 2n] as [bigint, bigint],
  b: [[3n, 4n], [5n, 6n]] as [[bigint, bigint], [bigint, bigint]],
  c: [7n, 8n] as [bigint, bigint],
};

export const commitment = (tag = "mlp"): IModelRegistry.ModelCommitmentStruct => ({
  weightsHash: keccak256(toUtf8Bytes(`${tag}:weights`)),
  architectureHash: keccak256(toUtf8Bytes(`${tag}:arch`)),
  circuitHash: keccak256(toUtf8Bytes(`${tag}:circuit`)),
  vkHash: keccak256(toUtf8Bytes(`${tag}:vk`)),
  proofSystem: PROOF_SYSTEM,
});

/** The digits MLP: 10 logits of 16 bits each after the label byte. */
export const digitsShape = (): IModelRegistry.ModelShapeStruct => ({
  inputShape: [1, 64],
  outputShape: [1, 10],
  inputScale: 0,
  outputScale: 6,
  inputBits: 6,
  outputBits: 16,
  outputCount: 10,
  hasLabel: true,
});

/** Accounts: deployer/admin, sequencer, model owner, users. `inclusionDelay` defaults to deployRollup's 256. */
export async function deployedRollup(inclusionDelay?: number) {
  const [admin, sequencer, owner, alice, bob] = await hre.ethers.getSigners();
  const d = await deployRollup(hre, { sequencer: sequencer.address, inclusionDelay });
  return { ...d, admin, sequencer, owner, alice, bob };
}

/** A registered digits model (id 1) with a mock verifier for batch sizes 1, 8 and 32, fixed at registration. */
export async function rollupWithModel(inclusionDelay?: number) {
  const d = await deployedRollup(inclusionDelay);
  const reg = d.registry.connect(d.owner);
  const mock = (await hre.ethers.deployContract("MockBatchVerifier")) as unknown as MockBatchVerifier;
  const v = await mock.getAddress();
  await reg.register(commitment(), digitsShape(), "ipfs://digits-v1", [1, 8, 32], [v, v, v]);
  return { ...d, mock, modelId: 1n };
}

export const leafHash = (e: IFlavumInference.InferenceEntryStruct) =>
  poseidonHash([BigInt(e.modelId), BigInt(e.requestId), BigInt(e.inputHash), BigInt(e.outputWord)]);

/**
 * A batch subtree of `size` leaves (a power of two): the entries' Poseidon leaves, then zero padding.
 * `path(i)` lists the siblings from leaf i up to the root.
 */
export async function buildSubtree(entries: IFlavumInference.InferenceEntryStruct[], size: number) {
  const levels: bigint[][] = [[...(await Promise.all(entries.map(leafHash))), ...Array(size - entries.length).fill(0n)]];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const up: bigint[] = [];
    for (let i = 0; i < below.length; i += 2) up.push(await poseidonHash([below[i], below[i + 1]]));
    levels.push(up);
  }
  const root = levels[levels.length - 1][0];
  const path = (index: number) => levels.slice(0, -1).map((lvl, k) => lvl[(index >> k) ^ 1]);
  return { root, path, leaves: levels[0] };
}

/** The compact trace of src/protocol/traceBinding.ts (word size for the digits layout: 21 bytes). */
export function encodeTrace(entries: IFlavumInference.InferenceEntryStruct[], wordBytes = 21): string {
  const items = entries.map((e) => ({ requestId: BigInt(e.requestId), inputHash: BigInt(e.inputHash), outputWord: BigInt(e.outputWord) }));
  return hexlify(encodeCompactTrace(items, wordBytes));
}

export type Entry = IFlavumInference.InferenceEntryStruct;

/** The output layout digitsShape registers, as the batch statement packs it. */
export const DIGITS_LAYOUT: OutputLayout = { outputBits: 16, outputCount: 10, hasLabel: true };
export const DIGITS_INPUT = { inputSize: 64, inputScale: 0, inputBits: 6 };

/** Request ids the sequencer gives off-chain requests: the rollup's queue ignores them. */
export const offchainId = (i: number | bigint) => OFFCHAIN_REQUEST_BASE + BigInt(i);

/** RequestStatus of IFlavumInference. */
export const Status = { None: 0n, Pending: 1n, Included: 2n, Fulfilled: 3n, Cancelled: 4n, Rejected: 5n } as const;

/** `abi.encode(int256[] values)`, the encoding requestInference accepts. */
export const abiInput = (values: readonly bigint[]) => AbiCoder.defaultAbiCoder().encode(["int256[]"], [values]);

/** A well-formed digits input (64 six-bit values derived from `seed`) and its PackedHash commitment. */
export async function digitsInput(seed = 0) {
  const values = Array.from({ length: 64 }, (_, i) => BigInt(((i * 7 + seed * 13) % 64) - 32));
  return encodeQuantized(DIGITS_INPUT, values);
}

/** The id of model `modelId`'s batch `modelBatch`, as FlavumRollup.batchIdOf computes it: modelId << 64 | modelBatch. */
export const batchIdOf = (modelId: bigint, modelBatch: bigint | number) => (modelId << 64n) | BigInt(modelBatch);

/** keccak256(abi.encode(batchRoot, modelId, log2(batchSize))): what the rollup stores per batch. */
export function batchCommitmentOf(batchRoot: bigint, modelId: bigint, batchSize: number) {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint256", "uint256"], [batchRoot, modelId, Math.log2(batchSize)]));
}

/**
 * The six public inputs a proof of the model's next batch must be for, computed from src/protocol
 * and the model's on-chain trace state only: what a real prover would prove.
 */
export async function statementFor(
  rollup: FlavumRollup,
  s: { modelId: bigint; batchSize: number; count: number; newRoot: bigint; batchRoot: bigint; trace: string; layout?: OutputLayout },
) {
  const [root, nextLeaf, batches] = await rollup.modelTrace(s.modelId);
  const { firstLeaf, rollover } = nextSlot(nextLeaf, s.batchSize);
  const oldRoot = rollover ? await rollup.emptyRoot() : root;
  const meta = packMeta({
    modelId: s.modelId,
    batchNumber: batches,
    firstLeaf,
    count: s.count,
    layout: s.layout ?? DIGITS_LAYOUT,
    batchSize: s.batchSize,
  });
  const bytes = getBytes(s.trace);
  const r = traceChallenge({ domain: await rollup.domain(), oldRoot, newRoot: s.newRoot, batchRoot: s.batchRoot, meta }, bytes);
  const h = traceRlc(traceElements(decodeTrace(bytes).items), r);
  const pub: [bigint, bigint, bigint, bigint, bigint, bigint] = [oldRoot, s.newRoot, s.batchRoot, meta, r, h];
  return { pub, firstLeaf, rollover, batchNumber: batches, batchId: batchIdOf(s.modelId, batches) };
}

/** `n` off-chain entries of `modelId` with distinct ids, input commitments and output words. */
export function offchainEntries(modelId: bigint, n: number, from = 0): Entry[] {
  return Array.from({ length: n }, (_, i) => ({
    modelId,
    requestId: offchainId(from + i),
    inputHash: 1000n + BigInt(from + i),
    outputWord: 0x100n * BigInt(from + i + 1) + BigInt((from + i) % 10),
  }));
}

/**
 * Submits `entries` as the next batch of `modelId` (size `batchSize`) through whatever mode the
 * model's mock is in, with the entries' real subtree root; returns the batch id (the model's next
 * batch, `batchIdOf(modelId, batches)`) and the subtree.
 */
export async function submitEntries(
  f: { rollup: FlavumRollup; sequencer: HardhatEthersSigner },
  modelId: bigint,
  entries: Entry[],
  batchSize = 8,
  newRoot = 0x1234n,
) {
  const tree = await buildSubtree(entries, batchSize);
  const seq = f.rollup.connect(f.sequencer);
  const [, , batches] = await f.rollup.modelTrace(modelId);
  const batchId = await f.rollup.batchIdOf(modelId, batches);
  const tx = await seq.submitBatch(modelId, batchSize, entries.length, newRoot, tree.root, DUMMY_PROOF.a, DUMMY_PROOF.b, DUMMY_PROOF.c, encodeTrace(entries));
  return { batchId, tree, tx };
}
