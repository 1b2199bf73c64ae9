/**
 * The commitments a training commit is bound to, computed exactly as the training and merge
 * circuits compute them (circuits/lib/PackedHash.circom, Poseidon from circomlib):
 *   weights: PackedHash(weights in the training layout, bw)
 *   data:    Poseidon(dataDigest, salt), dataDigest = Poseidon(PackedHash(X row-major, bx),
 *            PackedHash(y, labelBits)), labelBits = 2 for 0/1 labels, bp for linear targets.
 * The digest alone is a deterministic function of the rows: published, it would let anyone confirm
 * a guessed row set (a handful of patients, binary features) by hashing candidates. Only the salted
 * form goes on chain; the salt stays with the contributor (see statement.ts).
 */
import { InputError } from "../errors";
import { FIELD_P } from "../quant/fixed";
import { packedHash, poseidonHash } from "../quant/commitment";
import { checkData, checkWeights } from "./executor";
import { dataShape, labelBits, TrainingSpec } from "./spec";

export async function commitWeights(spec: TrainingSpec, weights: readonly bigint[]): Promise<bigint> {
  checkWeights(spec, weights);
  return packedHash(weights, spec.bw);
}

/** The unsalted digest of the n·K rows of one commit (or any row count given as `rows`): never published. */
export async function dataDigest(spec: TrainingSpec, X: readonly (readonly bigint[])[], y: readonly bigint[], rows = X.length): Promise<bigint> {
  checkData(spec, X, y, rows);
  // The committed rows: the features at bx bits, or a frozen trunk's raw inputs at its input bits.
  const hx = await packedHash(X.flat(), dataShape(spec).bits);
  const hy = await packedHash(y, labelBits(spec));
  return poseidonHash([hx, hy]);
}

/** The on-chain data commitment: the rows' digest hidden by `salt` (a field element). */
export async function commitData(spec: TrainingSpec, X: readonly (readonly bigint[])[], y: readonly bigint[], salt: bigint, rows = X.length): Promise<bigint> {
  if (typeof salt !== "bigint" || salt < 0n || salt >= FIELD_P) throw new InputError(`data salt must be a field element (a bigint in [0, p)), got ${String(salt)}`);
  return poseidonHash([await dataDigest(spec, X, y, rows), salt]);
}
