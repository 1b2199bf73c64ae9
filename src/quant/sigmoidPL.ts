/**
 * The piecewise-linear sigmoid of circuits/lib/SigmoidPL.circom, shared by inference (quantize.ts,
 * intExec.ts) and training (src/training/sigmoid.ts): its table and its exact integer evaluation.
 * The input, signed in `bitsIn` bits at scale 2^-inScale, is cut into 2^segBits segments of
 * 2^lowBits values; A[s] and D[s] are segment s's start value and rise at scale 2^-(outScale+guard).
 */
import { roundShift } from "./fixed";

export interface SigmoidSegments {
  bitsIn: number;
  segBits: number;
  lowBits: number;
  guard: number;
  A: bigint[];
  D: bigint[];
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function sigmoidSegments(bitsIn: number, inScale: number, segBits: number, outScale: number, guard: number): SigmoidSegments {
  const lowBits = bitsIn - segBits;
  const unit = 2 ** (outScale + guard);
  // The real input at the start of segment i.
  const at = (i: number) => sigmoid((i * 2 ** lowBits - 2 ** (bitsIn - 1)) / 2 ** inScale);
  const A: bigint[] = [];
  const D: bigint[] = [];
  for (let i = 0; i < 2 ** segBits; i++) {
    const a = BigInt(Math.round(at(i) * unit));
    A.push(a);
    D.push(BigInt(Math.round(at(i + 1) * unit)) - a);
  }
  return { bitsIn, segBits, lowBits, guard, A, D };
}

/** SigmoidPL on an input already in [-2^(bitsIn-1), 2^(bitsIn-1)): out = round((A·2^L + D·t) / 2^(L+guard)). */
export function evalSigmoidPL(t: SigmoidSegments, z: bigint): bigint {
  const u = z + (1n << BigInt(t.bitsIn - 1));
  const low = BigInt(t.lowBits);
  const seg = Number(u >> low);
  const frac = u & ((1n << low) - 1n);
  return roundShift((t.A[seg] << low) + t.D[seg] * frac, t.lowBits + t.guard);
}
