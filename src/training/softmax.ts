/**
 * The fixed-point softmax of training circuits (circuits/lib/SoftmaxPL.circom) and its exact
 * integer twin. For one row's logits z_0 … z_{k-1} (integers at scale sz, already clamped into bz
 * signed bits):
 *   a = the first index of the largest z (ties: the smallest index), m = z_a
 *   e_c = m - z_c in [0, 2^bz): the max-subtracted logit, e_c / 2^sz >= 0 in real units
 *   exp_c = 0 if e_c >= 2^be, else H[e_c >> lo] · T[e_c mod 2^lo]        (lo = be - expSeg)
 *           H[s] = round(2^se · exp(-s·2^lo / 2^sz)), T[t] = round(2^se · exp(-t / 2^sz)):
 *           a piecewise exponential, exact within each segment up to the rounding of its two
 *           table entries (exp(-(u+v)) = exp(-u)·exp(-v)), at scale 2^(2·se); exp_a = 2^(2·se) exactly
 *   S = Σ_c exp_c (>= 2^(2·se)), p_c = round(exp_c · 2^sp / S), ties up: floor((2·exp_c·2^sp + S) / 2S),
 *           the division RoundDiv proves, so Σ p_c is 2^sp within k/2 units.
 * The gradient of softmax cross-entropy is p - onehot(y): err_c = p_c - [c = y]·2^sp.
 */
import { InputError } from "../errors";
import { TrainingSpec } from "./spec";

export interface SoftmaxTable {
  k: number;
  /** Logit bits (bz) and scale (sz). */
  bitsIn: number;
  sz: number;
  /** Bits of the gap e the tables cover ([0, 2^bitsE)), of which the top segBits pick H's entry. */
  bitsE: number;
  segBits: number;
  lowBits: number;
  /** Scale of H and T entries: exp_c is at scale 2^(2·se). */
  se: number;
  /** Probability scale and bits (sp, bp). */
  sp: number;
  bitsOut: number;
  /** Bits of the denominator Σ exp (< k·2^(2·se) + 1). */
  sumBits: number;
  H: bigint[];
  T: bigint[];
}

const tables = new Map<string, SoftmaxTable>();

export function softmaxTable(s: TrainingSpec): SoftmaxTable {
  if (s.k === undefined || s.be === undefined || s.expSeg === undefined || s.se === undefined)
    throw new InputError(`softmax table: the spec has no softmax head (k, be, expSeg, se)`);
  const key = `${s.k}/${s.bz}/${s.sz}/${s.be}/${s.expSeg}/${s.se}/${s.sp}/${s.bp}`;
  const hit = tables.get(key);
  if (hit) return hit;
  const lowBits = s.be - s.expSeg;
  const unit = 2 ** s.se;
  const H = Array.from({ length: 2 ** s.expSeg }, (_, i) => BigInt(Math.round(unit * Math.exp(-(i * 2 ** lowBits) / 2 ** s.sz))));
  const T = Array.from({ length: 2 ** lowBits }, (_, i) => BigInt(Math.round(unit * Math.exp(-i / 2 ** s.sz))));
  const t: SoftmaxTable = {
    k: s.k, bitsIn: s.bz, sz: s.sz, bitsE: s.be, segBits: s.expSeg, lowBits, se: s.se, sp: s.sp, bitsOut: s.bp,
    sumBits: 2 * s.se + BigInt(s.k).toString(2).length, H, T,
  };
  tables.set(key, t);
  return t;
}

/** exp(-e / 2^sz) at scale 2^(2·se) for a gap e >= 0: the two-table product, 0 from 2^bitsE on. */
export function expNegInt(t: SoftmaxTable, e: bigint): bigint {
  if (e < 0n) throw new InputError(`expNegInt: the gap must be >= 0, got ${e}`);
  if (e >= 1n << BigInt(t.bitsE)) return 0n;
  const lo = BigInt(t.lowBits);
  return t.H[Number(e >> lo)] * t.T[Number(e & ((1n << lo) - 1n))];
}

/** round(a / b) ties toward +inf for b > 0: floor((2a + b) / 2b), RoundDiv's arithmetic. */
function roundDivPos(a: bigint, b: bigint): bigint {
  const num = 2n * a + b;
  const den = 2n * b;
  const q = num / den;
  return num % den !== 0n && num < 0n ? q - 1n : q;
}

export interface SoftmaxResult {
  /** Probabilities at scale sp. */
  p: bigint[];
  /** First index of the largest logit. */
  arg: number;
  /** exp_c at scale 2^(2·se) and their sum. */
  exps: bigint[];
  sum: bigint;
}

/** The integer softmax of logits already clamped into the table's bitsIn signed bits. */
export function softmaxInt(t: SoftmaxTable, z: readonly bigint[]): SoftmaxResult {
  if (z.length !== t.k) throw new InputError(`softmax: expected ${t.k} logits, got ${z.length}`);
  const lim = 1n << BigInt(t.bitsIn - 1);
  let arg = 0;
  z.forEach((v, c) => {
    if (v < -lim || v >= lim) throw new InputError(`softmax: logit ${c} = ${v} is outside the clamped range of ${t.bitsIn} signed bits`);
    if (v > z[arg]) arg = c;
  });
  const exps = z.map((v) => expNegInt(t, z[arg] - v));
  const sum = exps.reduce((a, b) => a + b, 0n);
  const p = exps.map((v) => roundDivPos(v << BigInt(t.sp), sum));
  return { p, arg, exps, sum };
}

/** The float softmax (max-subtracted), the yardstick. */
export function softmaxFloat(z: readonly number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
