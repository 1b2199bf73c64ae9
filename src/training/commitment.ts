/**
 * The commitments a training commit is bound to, computed exactly as the training and merge
 * circuits compute them (circuits/lib/PackedHash.circom, Poseidon from circomlib):
 *   weights: PackedHash(weights in the training layout, bw)
 *   data:    Poseidon(PackedHash(X row-major, bx), PackedHash(y, labelBits)), labelBits = 2 for
 *            0/1 labels, bp for linear targets.
 */
import { packedHash, poseidonHash } from "../quant/commitment";
import { checkData, checkWeights } from "./executor";
import { labelBits, TrainingSpec } from "./spec";

export async function commitWeights(spec: TrainingSpec, weights: readonly bigint[]): Promise<bigint> {
  checkWeights(spec, weights);
  return packedHash(weights, spec.bw);
}

/** Commitment to the n·K rows of one commit (or any row count given as `rows`). */
export async function commitData(spec: TrainingSpec, X: readonly (readonly bigint[])[], y: readonly bigint[], rows = X.length): Promise<bigint> {
  checkData(spec, X, y, rows);
  const hx = await packedHash(X.flat(), spec.bx);
  const hy = await packedHash(y, labelBits(spec));
  return poseidonHash([hx, hy]);
}
