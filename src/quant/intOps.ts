/**
 * Exact integer twins of the operator templates in circuits/lib: PiecewiseLinear, DivRound,
 * SqrtRound, CompareZero and RoundToInt. Each returns exactly what the circuit's witness holds for
 * an input the circuit accepts (bigints throughout); range checks of the outputs are the caller's
 * (the integer executor's) business, as with the other twins.
 */
import { fitsSigned } from "./fixed";
import { evalSigmoidPL, type SigmoidSegments } from "./sigmoidPL";

/**
 * A PiecewiseLinear table: 2^segBits segments of 2^lowBits inputs, starts A[s] and rises D[s];
 * lowBits = 0 makes it an exact lookup (one entry per input). The same shape as SigmoidPL's.
 */
export type PiecewiseTable = SigmoidSegments;

/**
 * PiecewiseLinear on z in [-2^(bitsIn-1), 2^(bitsIn-1)): with u = z + 2^(bitsIn-1), s = u >> L,
 * t = u mod 2^L (L = lowBits), out = round((A[s]·2^L + D[s]·t) / 2^(L+guard)), ties toward +inf.
 */
export function evalPiecewise(t: PiecewiseTable, z: bigint): bigint {
  if (t.segBits < 1 || t.lowBits !== t.bitsIn - t.segBits)
    throw new Error(`evalPiecewise: bad table shape (bitsIn ${t.bitsIn}, segBits ${t.segBits}, lowBits ${t.lowBits})`);
  if (t.A.length !== 2 ** t.segBits || t.D.length !== 2 ** t.segBits)
    throw new Error(`evalPiecewise: tables need 2^${t.segBits} entries (A has ${t.A.length}, D has ${t.D.length})`);
  if (!fitsSigned(z, t.bitsIn)) throw new Error(`evalPiecewise: input ${z} does not fit ${t.bitsIn} signed bits`);
  return evalSigmoidPL(t, z);
}

/** floor(n / d) for d > 0 (BigInt `/` truncates toward zero). */
function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d !== 0n && n < 0n ? q - 1n : q;
}

/**
 * DivRound: round(a·2^k / b), ties toward +inf, i.e. floor((2·a·2^k·sign(b) + |b|) / (2·|b|)).
 * Throws on b = 0 (the circuit has no witness).
 */
export function divRound(a: bigint, b: bigint, k: number): bigint {
  if (b === 0n) throw new Error("divRound: division by zero (b = 0 has no witness)");
  if (k < 0) throw new Error(`divRound: k must be >= 0, got ${k}`);
  const m = b < 0n ? -b : b;
  const n = (b < 0n ? -a : a) << BigInt(k + 1);
  return floorDiv(n + m, 2n * m);
}

/** floor(sqrt(n)) for n >= 0, exact (Newton's method on bigints). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new Error(`isqrt: negative argument ${n}`);
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2)); // >= sqrt(n)
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * SqrtRound: round(sqrt(x·2^e)), the real square root rounded half up, as
 * floor((floor(sqrt(x·2^(e+2))) + 1) / 2). e may be negative. Throws on x < 0 (no witness).
 */
export function sqrtRound(x: bigint, e: number): bigint {
  if (x < 0n) throw new Error(`sqrtRound: negative input ${x} (no witness)`);
  const E = e + 2;
  // floor(sqrt(floor(y))) = floor(sqrt(y)) for real y >= 0, so a flooring shift is exact.
  const z = E >= 0 ? isqrt(x << BigInt(E)) : isqrt(x >> BigInt(-E));
  return (z + 1n) >> 1n;
}

/** CompareZero ops: 0 x > 0, 1 x >= 0, 2 x == 0, 3 x != 0. */
export const COMPARE_GT = 0;
export const COMPARE_GE = 1;
export const COMPARE_EQ = 2;
export const COMPARE_NE = 3;

/** CompareZero: 1n when the comparison of x with zero holds, else 0n. */
export function compareZero(x: bigint, op: number): bigint {
  switch (op) {
    case COMPARE_GT:
      return x > 0n ? 1n : 0n;
    case COMPARE_GE:
      return x >= 0n ? 1n : 0n;
    case COMPARE_EQ:
      return x === 0n ? 1n : 0n;
    case COMPARE_NE:
      return x !== 0n ? 1n : 0n;
    default:
      throw new Error(`compareZero: unknown op ${op} (0 gt, 1 ge, 2 eq, 3 ne)`);
  }
}

/** RoundToInt modes: 0 half to even (ONNX Round), 1 floor, 2 ceil, 3 toward zero (Cast). */
export const ROUND_HALF_EVEN = 0;
export const ROUND_FLOOR = 1;
export const ROUND_CEIL = 2;
export const ROUND_TRUNC = 3;

/** RoundToInt: the integer x / 2^shift (shift >= 1) rounded by mode. */
export function roundToInt(x: bigint, shift: number, mode: number): bigint {
  if (!Number.isInteger(shift) || shift < 1) throw new Error(`roundToInt: shift must be an integer >= 1, got ${shift}`);
  const s = BigInt(shift);
  const fl = x >> s; // flooring shift
  const f = x - (fl << s); // 0 <= f < 2^shift
  switch (mode) {
    case ROUND_HALF_EVEN: {
      const half = 1n << (s - 1n);
      if (f > half) return fl + 1n;
      if (f < half) return fl;
      return fl + (fl & 1n); // a tie: to the even neighbour
    }
    case ROUND_FLOOR:
      return fl;
    case ROUND_CEIL:
      return f === 0n ? fl : fl + 1n;
    case ROUND_TRUNC:
      return f !== 0n && x < 0n ? fl + 1n : fl;
    default:
      throw new Error(`roundToInt: unknown mode ${mode} (0 half-even, 1 floor, 2 ceil, 3 toward zero)`);
  }
}
