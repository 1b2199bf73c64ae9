/**
 * The elementwise functions a `pwl` node may name, in float64. Quantization samples them at the
 * segment ends of a piecewise-linear table (src/quant/piecewise.ts), so each must be finite on the
 * whole input range it is given: functions with a restricted domain clamp their argument to it.
 */
import { FlavumError } from "../errors";

export type PwlImpl = (x: number, params: number[]) => number;

/** Abramowitz–Stegun 7.1.26 is too coarse next to a 16-bit table; this series/continued fraction is exact to ~1e-15. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges fast for |x| < 2.5 (terms fall below 1e-17 within ~40 steps).
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc by Lentz's continued fraction, accurate for |x| >= 2.5.
  const tiny = 1e-300;
  let f = ax, c = ax, d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d; d = d === 0 ? tiny : d; d = 1 / d;
    c = ax + an / c; c = c === 0 ? tiny : c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export const PWL_FUNCTIONS: Record<string, PwlImpl> = {
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
  erf: (x) => erf(x),
  exp: (x) => Math.exp(x),
  // log and reciprocal-like functions see their argument clamped to the smallest positive step.
  log: (x, [eps]) => Math.log(Math.max(x, eps ?? 1e-6)),
  softplus: (x) => (x > 30 ? x : Math.log1p(Math.exp(x))),
  elu: (x, [alpha]) => (x >= 0 ? x : alpha * (Math.exp(x) - 1)),
  selu: (x, [alpha, gamma]) => gamma * (x > 0 ? x : alpha * (Math.exp(x) - 1)),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  sin: (x) => Math.sin(x),
  cos: (x) => Math.cos(x),
  tan: (x) => Math.tan(x),
  asin: (x) => Math.asin(clamp(x, -1, 1)),
  acos: (x) => Math.acos(clamp(x, -1, 1)),
  atan: (x) => Math.atan(x),
  sinh: (x) => Math.sinh(x),
  cosh: (x) => Math.cosh(x),
  asinh: (x) => Math.asinh(x),
  /**
   * x^p for a constant non-integer p, on x >= 0 (a negative base clamps to 0, where ONNX gives NaN);
   * for p < 0 the base clamps to the smallest positive step instead, so the value stays finite at 0.
   */
  pow: (x, [p, eps]) => Math.pow(p < 0 ? Math.max(x, eps ?? 1e-6) : Math.max(x, 0), p),
  /** x^p for a constant integer p (sign kept for negative bases); for p < 0, |x| clamps to the smallest step. */
  powi: (x, [p, eps]) => {
    const e = eps ?? 1e-6;
    const b = p < 0 && Math.abs(x) < e ? (x < 0 ? -e : e) : x;
    return Math.pow(b, p);
  },
  celu: (x, [alpha]) => (x >= 0 ? x : alpha * (Math.exp(x / alpha) - 1)),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
  softsign: (x) => x / (1 + Math.abs(x)),
  hardswish: (x) => x * clamp(x / 6 + 0.5, 0, 1),
  mish: (x) => x * Math.tanh(x > 30 ? x : Math.log1p(Math.exp(x))),
  reciprocal: (x, [eps]) => 1 / (Math.abs(x) < (eps ?? 1e-6) ? (x < 0 ? -(eps ?? 1e-6) : (eps ?? 1e-6)) : x),
};

export function pwlImpl(fn: string): PwlImpl {
  const f = PWL_FUNCTIONS[fn];
  if (!f) throw new FlavumError(`no piecewise-linear function "${fn}" (known: ${Object.keys(PWL_FUNCTIONS).join(", ")})`);
  return f;
}

export function evalPwlFloat(fn: string, params: number[], x: number): number {
  return pwlImpl(fn)(x, params);
}
