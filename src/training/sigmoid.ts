/**
 * The piecewise-linear sigmoid of training circuits and its exact integer twin: the clamp before
 * it (circuits/lib/RescaleClamp.circom) and the table it reads (circuits/lib/SigmoidPL.circom).
 * The input z (scale sz, bits bz) covers [-2^(bz-1), 2^(bz-1)) / 2^sz; 2^segBits segments of
 * 2^L inputs each (L = bz - segBits); the output is a probability at scale sp.
 */
import { roundShift } from "../quant/fixed";
import { SIGMOID_GUARD, TrainingSpec } from "./spec";

export interface SigmoidTable {
  bitsIn: number;
  segBits: number;
  lowBits: number;
  guard: number;
  bitsOut: number;
  /** Segment start values and rises at scale sp + guard. */
  A: bigint[];
  D: bigint[];
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const tables = new Map<string, SigmoidTable>();

export function sigmoidTable(s: TrainingSpec): SigmoidTable {
  const key = `${s.bz}/${s.sz}/${s.segBits}/${s.sp}/${s.bp}`;
  const hit = tables.get(key);
  if (hit) return hit;
  const lowBits = s.bz - s.segBits;
  const unit = 2 ** (s.sp + SIGMOID_GUARD);
  // Real input at the start of segment i.
  const at = (i: number) => sigmoid((i * 2 ** lowBits - 2 ** (s.bz - 1)) / 2 ** s.sz);
  const A: bigint[] = [];
  const D: bigint[] = [];
  for (let i = 0; i < 2 ** s.segBits; i++) {
    const a = BigInt(Math.round(at(i) * unit));
    A.push(a);
    D.push(BigInt(Math.round(at(i + 1) * unit)) - a);
  }
  const t: SigmoidTable = { bitsIn: s.bz, segBits: s.segBits, lowBits, guard: SIGMOID_GUARD, bitsOut: s.bp, A, D };
  tables.set(key, t);
  return t;
}

/** SigmoidPL on an input already in [-2^(bitsIn-1), 2^(bitsIn-1)). */
export function sigmoidInt(t: SigmoidTable, z: bigint): bigint {
  const u = z + (1n << BigInt(t.bitsIn - 1));
  const low = BigInt(t.lowBits);
  const seg = Number(u >> low);
  const frac = u & ((1n << low) - 1n);
  return roundShift((t.A[seg] << low) + t.D[seg] * frac, t.lowBits + t.guard);
}

/** RescaleClamp's clamp: v limited to [-2^(bits-1), 2^(bits-1) - 1]. */
export function clampSigned(v: bigint, bits: number): bigint {
  const h = 1n << BigInt(bits - 1);
  return v < -h ? -h : v >= h ? h - 1n : v;
}
