/**
 * The training statement: what a training proof says, in the one form the circuit generator
 * (./circuit.ts), the workflow (src/repos/workflow.ts), the bench, the tests and — mirrored in
 * Solidity — ModelRepository.pushCommit share. Five public inputs, in this order:
 *
 *   parentWeightsHash  PackedHash(parent weights, bw)
 *   newWeightsHash     PackedHash(weights after K SGD steps, bw), computed inside the circuit
 *   dataHash           Poseidon(dataDigest, salt), dataDigest = Poseidon(PackedHash(x, bx),
 *                      PackedHash(y, labelBits)) over the n·K rows; `salt` is a private field
 *                      element the contributor draws and keeps, so a low-entropy row set cannot be
 *                      confirmed by hashing guesses
 *   metrics            correct | samples << 32: correct = rows, over all n·K, whose class before
 *                      their step equals the label (0 for linear); samples = n·K, fixed by the circuit
 *   binding            keccak256(abi.encode(chainId, repository contract, repoId, author)) mod p
 *
 * The contract computes `binding` from block.chainid, address(this), the repository id and
 * msg.sender — never from the caller's word — so a proof verifies for one author, one repository,
 * one chain and one contract only: a proof seen in the mempool or on chain cannot be replayed by
 * another account, on another repository with the same spec (which shares the verifier), or on a
 * fork or a redeployment. The circuit squares `binding` so that it sits in a constraint of its own:
 * a proof is then bound to it by the verifying key whatever the prover back end (snarkjs binds every
 * public input anyway; an optimizer or another back end need not keep an unused one).
 */
import { AbiCoder, keccak256 } from "ethers";
import crypto from "crypto";
import { FIELD_P } from "../quant/fixed";

/** The training verifier's public signals, in the order ModelRepository passes them (`uint256[5]`). */
export const TRAINING_PUBLIC_SIGNALS = ["parentWeightsHash", "newWeightsHash", "dataHash", "metrics", "binding"] as const;

/** Who, where and on which chain a training proof may be pushed. */
export interface TrainingContext {
  chainId: bigint | number;
  /** The ModelRepository contract's address. */
  contract: string;
  repoId: bigint | number;
  /** The account that will send pushCommit (and be minted the commit). */
  author: string;
}

/** The fifth public input, exactly as ModelRepository._binding computes it. */
export function trainingBinding(c: TrainingContext): bigint {
  const enc = AbiCoder.defaultAbiCoder().encode(["uint256", "address", "uint256", "address"], [BigInt(c.chainId), c.contract, BigInt(c.repoId), c.author]);
  return BigInt(keccak256(enc)) % FIELD_P;
}

/** The fourth public input: a commit's correct count and sample count in one field element. */
export function packMetrics(correct: bigint | number, samples: bigint | number): bigint {
  const c = BigInt(correct);
  const n = BigInt(samples);
  if (c < 0n || n < 0n || c >= 1n << 32n || n >= 1n << 32n) throw new RangeError(`metrics: correct ${c} and samples ${n} must each fit 32 bits`);
  return c | (n << 32n);
}

export function unpackMetrics(metrics: bigint): { correct: number; samples: number } {
  return { correct: Number(metrics & 0xffffffffn), samples: Number(metrics >> 32n) };
}

export interface TrainingStatement {
  parentWeightsHash: bigint | string;
  newWeightsHash: bigint | string;
  dataHash: bigint | string;
  correct: bigint | number;
  samples: bigint | number;
  binding: bigint | string;
}

/** The public-signal vector, in TRAINING_PUBLIC_SIGNALS order (as pushCommit builds it). */
export function trainingPublicSignals(s: TrainingStatement): bigint[] {
  return [BigInt(s.parentWeightsHash), BigInt(s.newWeightsHash), BigInt(s.dataHash), packMetrics(s.correct, s.samples), BigInt(s.binding)];
}

/** Reads a proof's public signals back (TRAINING_PUBLIC_SIGNALS order). */
export function decodeTrainingStatement(signals: readonly (string | bigint)[]) {
  if (signals.length !== TRAINING_PUBLIC_SIGNALS.length)
    throw new RangeError(`a training proof has ${TRAINING_PUBLIC_SIGNALS.length} public signals, got ${signals.length}`);
  const v = signals.map((x) => BigInt(x));
  return { parentWeightsHash: v[0], newWeightsHash: v[1], dataHash: v[2], ...unpackMetrics(v[3]), binding: v[4] };
}

/**
 * A fresh data salt: 248 uniform bits (31 bytes, below p, so no reduction bias). Whoever learns it
 * can test guesses of the rows against the on-chain dataHash: it stays with the contributor.
 */
export function newDataSalt(): bigint {
  return BigInt("0x" + crypto.randomBytes(31).toString("hex"));
}
