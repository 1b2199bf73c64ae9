/**
 * The piecewise-linear sigmoid of training circuits and its exact integer twin: the clamp before
 * it (circuits/lib/RescaleClamp.circom) and the table it reads (circuits/lib/SigmoidPL.circom).
 * The input z (scale sz, bits bz) covers [-2^(bz-1), 2^(bz-1)) / 2^sz; 2^segBits segments of
 * 2^L inputs each (L = bz - segBits); the output is a probability at scale sp.
 */
import { evalSigmoidPL, sigmoidSegments, SigmoidSegments } from "../quant/sigmoidPL";
import { SIGMOID_GUARD, TrainingSpec } from "./spec";

/** The inference sigmoid's segments (src/quant/sigmoidPL.ts), at output scale sp, plus the output bits. */
export interface SigmoidTable extends SigmoidSegments {
  bitsOut: number;
}

const tables = new Map<string, SigmoidTable>();

export function sigmoidTable(s: TrainingSpec): SigmoidTable {
  const key = `${s.bz}/${s.sz}/${s.segBits}/${s.sp}/${s.bp}`;
  const hit = tables.get(key);
  if (hit) return hit;
  const t: SigmoidTable = { ...sigmoidSegments(s.bz, s.sz, s.segBits, s.sp, SIGMOID_GUARD), bitsOut: s.bp };
  tables.set(key, t);
  return t;
}

/** SigmoidPL on an input already in [-2^(bitsIn-1), 2^(bitsIn-1)). */
export function sigmoidInt(t: SigmoidTable, z: bigint): bigint {
  return evalSigmoidPL(t, z);
}

/** RescaleClamp's clamp: v limited to [-2^(bits-1), 2^(bits-1) - 1]. */
export function clampSigned(v: bigint, bits: number): bigint {
  const h = 1n << BigInt(bits - 1);
  return v < -h ? -h : v >= h ? h - 1n : v;
}
