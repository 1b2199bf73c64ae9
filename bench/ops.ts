/**
 * Error of every elementwise table and exact operator against float64, on every input value a
 * 16-bit tensor can hold over a typical calibrated range: what one node contributes to a model's
 * error before any other rounding. Tables interpolate up to 2^10 segments on small tensors, 2^8 up
 * to 512 elements, 2^6 above; DivRound and SqrtRound are exact roundings (at most half a step).
 */
import { PWL_FUNCTIONS, evalPwlFloat } from "../src/onnx/pwlFunctions";
import { pwlTable } from "../src/quant/quantizeKinds";
import { scaleFor } from "../src/quant/quantize";
import { evalPiecewise, divRound, sqrtRound } from "../src/quant/intOps";
import { dequantize, quantizeValue } from "../src/quant/fixed";
import type { QTensor } from "../src/quant/qgraph";

export interface OpError {
  op: string;
  /** The real input range the table covers (the calibrated range; the table spans twice it). */
  range: [number, number];
  segments: number;
  maxAbsErr: number;
  /** maxAbsErr in units of the output's step 2^-scale. */
  steps: number;
}

const BITS = 16;
const HEADROOM = 1;

/** Calibrated input ranges and parameters as the corpus models use them. */
const CASES: { fn: string; params: number[]; lo: number; hi: number }[] = [
  { fn: "sigmoid", params: [], lo: -8, hi: 8 },
  { fn: "tanh", params: [], lo: -4, hi: 4 },
  { fn: "erf", params: [], lo: -4, hi: 4 },
  { fn: "gelu", params: [], lo: -4, hi: 4 },
  { fn: "exp", params: [], lo: -8, hi: 0 },
  { fn: "log", params: [1], lo: 1, hi: 16 },
  { fn: "softplus", params: [], lo: -4, hi: 4 },
  { fn: "elu", params: [1], lo: -4, hi: 4 },
  { fn: "selu", params: [1.6732632, 1.0507009], lo: -4, hi: 4 },
  { fn: "sin", params: [], lo: -3, hi: 3 },
  { fn: "cos", params: [], lo: -3, hi: 3 },
  { fn: "tan", params: [], lo: -1, hi: 1 },
  { fn: "asin", params: [], lo: -1, hi: 1 },
  { fn: "acos", params: [], lo: -1, hi: 1 },
  { fn: "atan", params: [], lo: -4, hi: 4 },
  { fn: "pow", params: [0.7], lo: 0, hi: 4 },
];

function tensor(scale: number, bits = BITS): QTensor {
  return { name: "x", shape: [1], size: 1, scale, bits };
}

export function benchOps(): OpError[] {
  const out: OpError[] = [];
  // A tensor of 16 elements gets 2^10 segments, one of 512 elements 2^8 (src/quant/quantizeKinds.ts).
  for (const elements of [16, 512]) for (const c of CASES) {
    if (!PWL_FUNCTIONS[c.fn]) continue;
    const inScale = scaleFor(Math.max(Math.abs(c.lo), Math.abs(c.hi)), BITS, HEADROOM);
    let fMax = 0;
    const xs: bigint[] = [];
    for (let v = quantizeValue(c.lo, inScale); v <= quantizeValue(c.hi, inScale); v++) {
      xs.push(v);
      fMax = Math.max(fMax, Math.abs(evalPwlFloat(c.fn, c.params, dequantize(v, inScale))));
    }
    const outScale = scaleFor(fMax, BITS, HEADROOM);
    const t = pwlTable(c.fn, c.params, tensor(inScale), outScale, BITS, elements);
    let err = 0;
    for (const v of xs) {
      const q = dequantize(evalPiecewise(t, v), outScale);
      err = Math.max(err, Math.abs(q - evalPwlFloat(c.fn, c.params, dequantize(v, inScale))));
    }
    out.push({ op: c.fn, range: [c.lo, c.hi], segments: 2 ** t.segBits, maxAbsErr: err, steps: err * 2 ** outScale });
  }
  // a / b for a in [-4, 4], b in [0.5, 4] (both signs), at 16-bit scales; the quotient at its own scale.
  {
    const sa = scaleFor(4, BITS, HEADROOM);
    const sb = scaleFor(4, BITS, HEADROOM);
    const so = scaleFor(8, BITS, HEADROOM);
    let err = 0;
    for (let a = -4; a <= 4; a += 0.013) {
      for (let b = 0.5; b <= 4; b += 0.037) {
        for (const sign of [1, -1]) {
          const qa = quantizeValue(a, sa);
          const qb = quantizeValue(sign * b, sb);
          const q = dequantize(divRound(qa, qb, so - sa + sb), so);
          err = Math.max(err, Math.abs(q - dequantize(qa, sa) / dequantize(qb, sb)));
        }
      }
    }
    out.push({ op: "div (DivRound)", range: [-4, 4], segments: 0, maxAbsErr: err, steps: err * 2 ** so });
  }
  {
    const sx = scaleFor(16, BITS, HEADROOM);
    const so = scaleFor(4, BITS, HEADROOM);
    let err = 0;
    for (let v = 0n; v <= quantizeValue(16, sx); v++) {
      const q = dequantize(sqrtRound(v, 2 * so - sx), so);
      err = Math.max(err, Math.abs(q - Math.sqrt(dequantize(v, sx))));
    }
    out.push({ op: "sqrt (SqrtRound)", range: [0, 16], segments: 0, maxAbsErr: err, steps: err * 2 ** so });
  }
  return out;
}
