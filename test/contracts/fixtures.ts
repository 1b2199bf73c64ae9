/**
 * Shared fixtures of the contract tests: the real deploy code (deployRollup) plus a registered model,
 * a mock batch verifier, and a small TypeScript Poseidon Merkle tree for inclusion paths.
 */
import hre from "hardhat";
import { keccak256, toUtf8Bytes } from "ethers";
import { deployRollup } from "../../src/chain/deployRollup";
import { poseidonHash } from "../../src/quant/commitment";
import type { IFlavumInference, IModelRegistry, MockBatchVerifier } from "../../typechain-types";

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
  outputBits: 16,
  outputCount: 10,
  hasLabel: true,
});

/** Accounts: deployer/admin, sequencer, model owner, users. */
export async function deployedRollup() {
  const [admin, sequencer, owner, alice, bob] = await hre.ethers.getSigners();
  const d = await deployRollup(hre, { sequencer: sequencer.address });
  return { ...d, admin, sequencer, owner, alice, bob };
}

/** A registered digits model (id 1) with a mock verifier for batch sizes 1, 8 and 32. */
export async function rollupWithModel() {
  const d = await deployedRollup();
  const reg = d.registry.connect(d.owner);
  await reg.register(commitment(), digitsShape(), "ipfs://digits-v1");
  const mock = (await hre.ethers.deployContract("MockBatchVerifier")) as unknown as MockBatchVerifier;
  for (const b of [1, 8, 32]) await reg.setVerifier(1n, b, await mock.getAddress());
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

/** `abi.encodePacked(uint64 requestId, uint256 inputHash, uint256 outputWord)` per entry. */
export function encodeTrace(entries: IFlavumInference.InferenceEntryStruct[]): string {
  return (
    "0x" +
    entries
      .map(
        (e) =>
          BigInt(e.requestId).toString(16).padStart(16, "0") +
          BigInt(e.inputHash).toString(16).padStart(64, "0") +
          BigInt(e.outputWord).toString(16).padStart(64, "0"),
      )
      .join("")
  );
}
