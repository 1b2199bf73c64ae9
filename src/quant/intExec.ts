/**
 * The integer executor: bit-for-bit the arithmetic of the generated circuit. A value that leaves
 * its calibrated range has no witness, so it is reported here, before any proving starts.
 */
import { InputError, RangeOverflowError } from "../errors";
import { fitsSigned, quantizeValue, roundShift, dequantize } from "./fixed";
import { evalSigmoidPL } from "./sigmoidPL";
import { compareZero, divRound, evalPiecewise, roundToInt, sqrtRound } from "./intOps";
import type { QGraph, QNode, QTensor } from "./qgraph";
import type { ValueAdjustment } from "./adjustments";

export type IntTensors = Map<string, bigint[]>;

export interface IntResult {
  tensors: IntTensors;
  input: bigint[];
  output: bigint[];
  argmax: number;
}

/** Float sample → quantized input, refusing shapes and values the circuit cannot take. */
export function quantizeInput(q: QGraph, sample: readonly number[]): bigint[] {
  const t = q.input;
  if (sample.length !== t.size)
    throw new InputError(
      `input has ${sample.length} values, expected ${t.size} (shape [${t.shape.join(", ")}], row-major)`,
    );
  return sample.map((x, i) => {
    if (typeof x !== "number" || !Number.isFinite(x))
      throw new InputError(`input value ${i} is ${x}, expected a finite number`);
    const v = quantizeValue(x, t.scale);
    const port = q.inputs?.find((p) => i >= p.offset && i < p.offset + p.shape.reduce((a, b) => a * b, 1));
    if (port?.elem === "bool" && x !== 0 && x !== 1)
      throw new InputError(`input value ${i} = ${x} is for the boolean input "${port.name}", expected 0 or 1 (or false/true)`);
    if (!fitsSigned(v, t.bits)) {
      const lim = dequantize(1n << BigInt(t.bits - 1), t.scale);
      throw new RangeOverflowError(
        `input value ${i} = ${x} is outside the calibrated input range [-${lim}, ${lim}); ` +
          `recompile with calibration data that covers it`,
      );
    }
    return v;
  });
}

/**
 * The values of one sample that quantizeInput rounds to a coarser grid than the one they were given
 * on. Only inputs of scale 2^0 or coarser (models calibrated on integers: pixels, counts) are
 * reported: there a fractional value is a wrong input, while at a finer scale rounding to the
 * model's resolution is the quantization itself. Values outside the range are not listed here:
 * quantizeInput refuses them.
 */
export function inputAdjustments(q: QGraph, sample: readonly number[], sampleIndex: number): ValueAdjustment[] {
  const t = q.input;
  if (t.scale > 0) return [];
  const lim = dequantize(1n << BigInt(t.bits - 1), t.scale);
  const step = 2 ** -t.scale;
  const allowed = `the model takes ${step === 1 ? "integers" : `multiples of ${step}`} in [-${lim}, ${lim}), input scale 2^${t.scale}`;
  const out: ValueAdjustment[] = [];
  sample.forEach((x, i) => {
    if (typeof x !== "number" || !Number.isFinite(x)) return;
    const became = dequantize(quantizeValue(x, t.scale), t.scale);
    if (became !== x) out.push({ sample: sampleIndex, feature: i, given: x, became, kind: "rounded", allowed, unit: "sample" });
  });
  return out;
}

function check(v: bigint, bits: number, node: QNode, i: number, t: QTensor): bigint {
  if (!fitsSigned(v, bits)) {
    const lim = dequantize(1n << BigInt(bits - 1), t.scale);
    throw new RangeOverflowError(
      `value ${dequantize(v, t.scale)} at ${node.kind} node ${node.from.join("+")} (output ${i}) is outside its ` +
        `calibrated range [-${lim}, ${lim}); calibrate with data that covers this input or raise --bits`,
    );
  }
  return v;
}

export function argmaxOf(v: readonly bigint[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

export function runInt(q: QGraph, input: bigint[]): IntResult {
  const tensors: IntTensors = new Map([[q.input.name, input]]);
  const get = (name: string) => tensors.get(name)!;
  for (const node of q.nodes) {
    const t = q.tensors[node.out];
    let out: bigint[];
    switch (node.kind) {
      case "affine": {
        const xs = node.inputs.map(get);
        out = node.bias.map((b, i) => {
          let acc = b;
          node.rows.forEach((rows, k) => {
            const r = rows[i];
            for (let j = 0; j < r.idx.length; j++) acc += r.w[j] * xs[k][r.idx[j]];
          });
          const v = check(roundShift(acc, node.shift), node.bits, node, i, t);
          return node.act === "relu" && v < 0n ? 0n : v;
        });
        break;
      }
      case "relu":
        out = get(node.input).map((v) => (v < 0n ? 0n : v));
        break;
      case "leakyrelu":
        out = get(node.input).map((v, i) =>
          v >= 0n ? v : check(roundShift(node.alphaNum * v, node.alphaShift), node.bits, node, i, t),
        );
        break;
      case "maxpool": {
        const x = get(node.input);
        out = node.windows.map((w) => {
          let m = x[w[0]];
          for (let j = 1; j < w.length; j++) if (x[w[j]] > m) m = x[w[j]];
          return m;
        });
        break;
      }
      case "sigmoid": {
        out = get(node.input).map((v, i) => check(evalSigmoidPL(node, v), node.bits, node, i, t));
        break;
      }
      case "pwl":
        out = get(node.input).map((v, i) => check(evalPiecewise(node, v), node.bits, node, i, t));
        break;
      case "mul": {
        const a = get(node.a);
        const b = get(node.b);
        out = node.ia.map((ia, i) => {
          const ib = node.ib[i];
          let acc = 0n;
          for (let k = 0; k < ia.length; k++) acc += a[ia[k]] * b[ib[k]];
          return check(roundShift(node.coef[i] * acc, node.shift), node.bits, node, i, t);
        });
        break;
      }
      case "div": {
        const a = get(node.a);
        const b = get(node.b);
        out = Array.from(node.ia, (ja, i) => {
          const d = b[node.ib[i]];
          if (d === 0n) {
            throw new RangeOverflowError(`division by zero at div node ${node.from.join("+")} (output ${i}): the divisor rounds to 0 at its scale; calibrate with data that covers this input or raise --bits`);
          }
          return check(divRound(a[ja], d, node.k), node.bits, node, i, t);
        });
        break;
      }
      case "sqrt":
        out = get(node.input).map((v, i) => {
          if (v < 0n) throw new RangeOverflowError(`square root of a negative value ${dequantize(v, q.tensors[node.input].scale)} at sqrt node ${node.from.join("+")} (output ${i})`);
          return check(sqrtRound(v, node.e), node.bits, node, i, t);
        });
        break;
      case "compare":
        out = get(node.input).map((v) => compareZero(v, node.op));
        break;
      case "argindex": {
        const x = get(node.input);
        out = node.windows.map((w) => {
          let best = 0;
          for (let k = 1; k < w.length; k++) if (x[w[k]] > x[w[best]] || (node.last && x[w[k]] === x[w[best]])) best = k;
          return BigInt(best);
        });
        break;
      }
      case "round":
        out = get(node.input).map((v) => roundToInt(v, node.shift, node.mode));
        break;
      case "select": {
        const x = get(node.input);
        out = Array.from(node.idx, (j) => x[j]);
        break;
      }
    }
    tensors.set(node.out, out);
  }
  const output = get(q.output);
  return { tensors, input, output, argmax: argmaxOf(output) };
}

