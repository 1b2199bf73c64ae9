/**
 * Proven robust merges: coordinate-wise trimmed mean and median of k commits' weights.
 *
 * trimmed_j = round(mean of the k - 2t middle values of coordinate j), ties toward +inf, i.e.
 * floor((2·Σ middle + m) / 2m) with m = k - 2t (roundDiv, the FedAvg merge's rounding). The median is
 * the trimmed mean with t = floor((k-1)/2): the middle value for odd k, the rounded mean of the two
 * middle values for even k, so one circuit family proves both.
 *
 * Sample counts are public (the same signal layout as the FedAvg merge, so the repository's
 * verifier interface is the same: newHash, hashes[0..k-1], counts[0..k-1]) and range-checked to
 * MERGE_COUNT_BITS, but they do not weigh the result: a robust rule must not let a contributor buy
 * influence by claiming a large count.
 *
 * Per coordinate the circuit proves the sort with circuits/lib/TrimmedMean.circom (a permutation
 * matrix support argument plus k-1 range checks, see SortedPermutation.circom for why that and not a
 * sorting network) and the division by the constant m with RoundDivConst.circom; the result's
 * range check, which RoundDivConst relies on, is the PackedHash of the result.
 */
import { InputError } from "../errors";
import { toField } from "../quant/fixed";
import { commitWeights } from "./commitment";
import { checkWeights } from "./executor";
import { MAX_MERGE, MERGE_COUNT_BITS, GeneratedMergeCircuit, roundDiv } from "./merge";
import { paramCount, TrainingSpec } from "./spec";
import { packedHashCost } from "./cost";

/** The trim that makes the trimmed mean the median of k values. */
export function medianTrim(k: number): number {
  return Math.floor((k - 1) / 2);
}

function checkTrim(k: number, trim: number): void {
  if (!Number.isInteger(trim) || trim < 0 || 2 * trim >= k)
    throw new InputError(`robust merge: trim must be an integer with 0 <= 2·trim < k = ${k}, got ${trim}`);
}

function checkVectors(weightsList: readonly (readonly bigint[])[], spec?: TrainingSpec): number {
  if (weightsList.length === 0) throw new InputError(`robust merge: nothing to merge`);
  const P = weightsList[0].length;
  weightsList.forEach((w, i) => {
    if (w.length !== P) throw new InputError(`robust merge: weight vector ${i} has ${w.length} parameters, vector 0 has ${P}`);
    if (spec) checkWeights(spec, w, `robust merge input ${i}`);
  });
  return P;
}

/** Input indices of coordinate j in sorted order; a stable sort, so ties keep the input order. */
function sortedOrder(weightsList: readonly (readonly bigint[])[], j: number): number[] {
  return weightsList.map((_, i) => i).sort((a, b) => {
    const x = weightsList[a][j];
    const y = weightsList[b][j];
    return x < y ? -1 : x > y ? 1 : a - b;
  });
}

/** Coordinate-wise trimmed mean, exactly as the robust merge circuit computes it. */
export function trimmedMean(weightsList: readonly (readonly bigint[])[], trim: number, spec?: TrainingSpec): bigint[] {
  const P = checkVectors(weightsList, spec);
  const k = weightsList.length;
  checkTrim(k, trim);
  const m = BigInt(k - 2 * trim);
  const out: bigint[] = [];
  for (let j = 0; j < P; j++) {
    const order = sortedOrder(weightsList, j);
    let sum = 0n;
    for (let r = trim; r < k - trim; r++) sum += weightsList[order[r]][j];
    out.push(roundDiv(sum, m));
  }
  // The result lies within [min, max] of each coordinate, so it fits bw whenever the inputs do.
  return out;
}

/** Coordinate-wise median: the trimmed mean with trim = floor((k-1)/2). */
export function coordinateMedian(weightsList: readonly (readonly bigint[])[], spec?: TrainingSpec): bigint[] {
  return trimmedMean(weightsList, medianTrim(weightsList.length), spec);
}

function checkK(k: number, trim: number): void {
  if (!Number.isInteger(k) || k < 2 || k > MAX_MERGE) throw new InputError(`robust merge: k must be an integer in [2, ${MAX_MERGE}], got ${k}`);
  checkTrim(k, trim);
}

export function generateRobustMergeCircuit(spec: TrainingSpec, k: number, trim: number): GeneratedMergeCircuit {
  checkK(k, trim);
  const P = paramCount(spec);
  const bw = spec.bw;
  const m = k - 2 * trim;
  const name = `FlavumRobustMerge_${spec.kind}_P${P}_k${k}_t${trim}`;
  // trim = 0 keeps every value: the plain mean needs no sort, only the division of Σ w by k.
  const sortedInputs = trim === 0 ? "" : `
    // Private witness per coordinate j: s[j] the k values sorted, perm[j] the top-left (k-1)x(k-1)
    // block of the permutation matrix (TrimmedMean proves both).
    signal input s[${P}][${k}];
    signal input perm[${P}][${k - 1}][${k - 1}];`;
  const perCoordinate = trim === 0 ? `
        var sum = 0;
        for (var i = 0; i < ${k}; i++) { sum += w[i][j]; }
        agg[j] = RoundDivConst(${k});
        agg[j].num <== sum;` : `
        agg[j] = TrimmedMean(${k}, ${trim}, ${bw});
        for (var i = 0; i < ${k}; i++) { agg[j].in[i] <== w[i][j]; agg[j].s[i] <== s[j][i]; }
        for (var a = 0; a < ${k - 1}; a++) {
            for (var b = 0; b < ${k - 1}; b++) { agg[j].perm[a][b] <== perm[j][a][b]; }
        }`;
  const source = `pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";
include "PackedHash.circom";
include "${trim === 0 ? "RoundDivConst" : "TrimmedMean"}.circom";

// Generated by src/training/robustMerge.ts: coordinate-wise ${trim === medianTrim(k) ? "median" : `trimmed mean (trim ${trim})`}
// of ${k} commits of ${P} weights (bw=${bw}), the mean of the ${m} middle values rounded half up.
// Sample counts are range-checked public inputs that do not weigh the result.
template ${name}() {
    signal input newHash;
    signal input hashes[${k}];
    signal input counts[${k}];
    signal input w[${k}][${P}];${sortedInputs}

    // Each input's PackedHash also range-checks its weights to bw bits (TrimmedMean's precondition).
    component hin[${k}];
    component cnt[${k}];
    for (var i = 0; i < ${k}; i++) {
        hin[i] = PackedHash(${P}, ${bw});
        for (var j = 0; j < ${P}; j++) { hin[i].in[j] <== w[i][j]; }
        hashes[i] === hin[i].out;
        cnt[i] = Num2Bits(${MERGE_COUNT_BITS});
        cnt[i].in <== counts[i];
    }

    // The result's PackedHash range-checks it to bw bits, which the constant division relies on.
    component agg[${P}];
    component hout = PackedHash(${P}, ${bw});
    for (var j = 0; j < ${P}; j++) {${perCoordinate}
        hout.in[j] <== agg[j].out;
    }
    newHash === hout.out;
}

component main {public [newHash, hashes, counts]} = ${name}();
`;
  const publicSignals = ["newHash", ...Array.from({ length: k }, (_, i) => `hashes[${i}]`), ...Array.from({ length: k }, (_, i) => `counts[${i}]`)];
  return { source, templateName: name, publicSignals };
}

export interface RobustMergeWitnessInput {
  newHash: string;
  hashes: string[];
  counts: string[];
  w: string[][];
  /** trim >= 1 only: per coordinate, the sorted values and the permutation matrix's (k-1)x(k-1) block. */
  s?: string[][];
  perm?: string[][][];
}

export async function robustMergeCircuitInput(
  spec: TrainingSpec, weightsList: readonly (readonly bigint[])[], counts: readonly (number | bigint)[], trim: number,
): Promise<{ input: RobustMergeWitnessInput; weights: bigint[]; publicSignals: bigint[] }> {
  const k = weightsList.length;
  checkK(k, trim);
  if (counts.length !== k) throw new InputError(`robust merge: ${k} weight vectors but ${counts.length} sample counts`);
  // The circuit only range-checks the counts (a zero count is fine: counts do not divide anything).
  const c = counts.map((v, i) => {
    const b = BigInt(v);
    if (b < 0n || b >= 1n << BigInt(MERGE_COUNT_BITS)) throw new InputError(`robust merge: sample count ${i} = ${v} must be in [0, 2^${MERGE_COUNT_BITS})`);
    return b;
  });
  const weights = trimmedMean(weightsList, trim, spec);
  const hashes = await Promise.all(weightsList.map((w) => commitWeights(spec, w)));
  const newHash = await commitWeights(spec, weights);
  const input: RobustMergeWitnessInput = {
    newHash: newHash.toString(), hashes: hashes.map(String), counts: c.map(String),
    w: weightsList.map((w) => w.map((v) => toField(v).toString())),
  };
  if (trim > 0) {
    const P = weights.length;
    input.s = [];
    input.perm = [];
    for (let j = 0; j < P; j++) {
      const order = sortedOrder(weightsList, j);
      input.s.push(order.map((i) => toField(weightsList[i][j]).toString()));
      // M[r][i] = 1 iff sorted position r holds input i; the circuit derives the last row and column.
      input.perm.push(order.slice(0, k - 1).map((src) => Array.from({ length: k - 1 }, (_, i) => (src === i ? "1" : "0"))));
    }
  }
  return { input, weights, publicSignals: [newHash, ...hashes, ...c] };
}

/** RoundDivConst(m): the remainder's range check(s), none for m = 1. */
export function roundDivConstCost(m: number): number {
  if (m === 1) return 0;
  let b = 0;
  while (2 ** b < 2 * m) b++;
  return 2 ** b === 2 * m ? b : 2 * b;
}

export interface RobustMergeCost {
  /** The whole circuit (--O2). */
  constraints: number;
  /** One coordinate: the sort proof and the division. */
  perCoordinate: number;
  /** The k + 1 PackedHashes and the k count range checks. */
  fixed: number;
}

/** The robust merge circuit's constraint count, from the templates' stated costs (nothing compiled). */
export function robustMergeCost(spec: TrainingSpec, k: number, trim: number): RobustMergeCost {
  checkK(k, trim);
  const P = paramCount(spec);
  const sort = trim === 0 ? 0 : k * k + (k - 1) * spec.bw;
  const perCoordinate = sort + roundDivConstCost(k - 2 * trim);
  const fixed = (k + 1) * packedHashCost(P, spec.bw) + k * MERGE_COUNT_BITS;
  return { constraints: fixed + P * perCoordinate, perCoordinate, fixed };
}
