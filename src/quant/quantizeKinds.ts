/**
 * Quantization of the non-linear node kinds beyond the original five: tables, products, quotients,
 * square roots, comparisons, arg-indices, rounding and selections. Each picks its output scale from
 * the calibrated range (as affine nodes do) unless its arithmetic fixes it, and records the
 * parameters its circuit template takes.
 */
import { FlavumError } from "../errors";
import type { ArgIndexNode, CompareNode, DivNode, FloatNode, MulNode, PwlNode, RoundNode, SelectNode, SqrtNode } from "../onnx/ir";
import { size } from "../onnx/ir";
import { evalPwlFloat } from "../onnx/pwlFunctions";
import { quantizeValue } from "./fixed";
import type { QNode, QTensor, QuantOptions } from "./qgraph";

export type NewKindNode = PwlNode | MulNode | DivNode | SqrtNode | CompareNode | ArgIndexNode | RoundNode | SelectNode;

export function isNewKind(n: FloatNode): n is NewKindNode {
  return ["pwl", "mul", "div", "sqrt", "compare", "argindex", "round", "select"].includes(n.kind);
}

export interface KindCtx {
  tensors: Record<string, QTensor>;
  options: QuantOptions;
  range(name: string): number;
  scaleFor(maxAbs: number, bits: number, headroom: number): number;
  define(name: string, shape: number[], scale: number, bits?: number): QTensor;
}

const PWL_GUARD = 4;
const COMPARE_OPS = { gt: 0, ge: 1, eq: 2, ne: 3 } as const;
const ROUND_MODES = { even: 0, floor: 1, ceil: 2, trunc: 3 } as const;

function signedBitsFor(maxAbs: number): number {
  return Math.max(2, Math.ceil(Math.log2(maxAbs + 1)) + 1);
}

/**
 * Segments per table: each costs one constraint per element, and the interpolation error falls with
 * the square of the segment width, so small tensors get finer tables (up to 2^10 segments, about
 * 16k constraints per node) and large ones 2^6.
 */
export function pwlSegBits(bitsIn: number, elements: number): number {
  const seg = elements > 512 ? 6 : Math.max(8, Math.min(10, Math.floor(Math.log2(16384 / elements))));
  return Math.min(bitsIn, seg);
}

/**
 * The piecewise-linear table of f over the input's whole range [-2^(bitsIn-1), 2^(bitsIn-1)):
 * 2^segBits segments, segment ends saturated to the output range so the interpolation can never
 * leave it.
 */
export function pwlTable(fn: string, params: number[], src: QTensor, outScale: number, bits: number, elements: number) {
  const segBits = pwlSegBits(src.bits, elements);
  const lowBits = src.bits - segBits;
  const unit = 2 ** (outScale + PWL_GUARD);
  const hi = BigInt(2 ** (bits - 1) - 1) << BigInt(PWL_GUARD);
  const lo = -(1n << BigInt(bits - 1 + PWL_GUARD));
  const at = (i: number) => {
    const x = (i * 2 ** lowBits - 2 ** (src.bits - 1)) / 2 ** src.scale;
    const v = BigInt(Math.round(evalPwlFloat(fn, params, x) * unit));
    return v > hi ? hi : v < lo ? lo : v;
  };
  const A: bigint[] = [];
  const D: bigint[] = [];
  for (let i = 0; i < 2 ** segBits; i++) {
    const a = at(i);
    A.push(a);
    // The last segment ends at 2^(bitsIn-1), one step past the range: its rise is never fully used.
    D.push(at(i + 1) - a);
  }
  return { bitsIn: src.bits, segBits, lowBits, guard: PWL_GUARD, A, D };
}

export function quantizeNewKind(node: NewKindNode, c: KindCtx): QNode {
  const { bits, headroomBits, weightBits } = c.options;
  const t = (n: string) => c.tensors[n];
  const outScale = () => c.scaleFor(c.range(node.out), bits, headroomBits);
  switch (node.kind) {
    case "pwl": {
      const src = t(node.input);
      const scale = outScale();
      c.define(node.out, node.shape, scale);
      return { kind: "pwl", fn: node.fn, out: node.out, input: node.input, ...pwlTable(node.fn, node.params, src, scale, bits, size(node.shape)), bits, from: node.from };
    }
    case "mul": {
      const a = t(node.a);
      const b = t(node.b);
      let maxC = 0;
      for (const v of node.coef) maxC = Math.max(maxC, Math.abs(v));
      const unitCoef = node.coef.every((v) => v === 1);
      const cs = unitCoef ? 0 : c.scaleFor(maxC, weightBits, 0);
      const accScale = a.scale + b.scale + cs;
      const shift = Math.max(0, accScale - outScale());
      c.define(node.out, node.shape, accScale - shift);
      return {
        kind: "mul", out: node.out, a: node.a, b: node.b, ia: node.ia, ib: node.ib,
        coef: Array.from(node.coef, (v) => (unitCoef ? 1n : quantizeValue(v, cs))), shift, bits, from: node.from,
      };
    }
    case "div": {
      const a = t(node.a);
      const b = t(node.b);
      let scale = outScale();
      let k = scale - a.scale + b.scale;
      if (k < 0) {
        k = 0;
        scale = a.scale - b.scale;
      }
      if (a.bits + k + b.bits + 4 > 250) throw new FlavumError(`Div ${node.from.join(",")}: operands too wide to divide in the field (${a.bits}+${k}+${b.bits} bits)`);
      c.define(node.out, node.shape, scale);
      return { kind: "div", out: node.out, a: node.a, b: node.b, ia: node.ia, ib: node.ib, k, bitsA: a.bits, bitsB: b.bits, bits, from: node.from };
    }
    case "sqrt": {
      const src = t(node.input);
      const scale = outScale();
      c.define(node.out, node.shape, scale);
      return { kind: "sqrt", out: node.out, input: node.input, e: 2 * scale - src.scale, bitsIn: src.bits, bits, from: node.from };
    }
    case "compare": {
      const src = t(node.input);
      c.define(node.out, node.shape, 0, 2);
      return { kind: "compare", out: node.out, input: node.input, op: COMPARE_OPS[node.op], bitsIn: src.bits, bits: 2, from: node.from };
    }
    case "argindex": {
      const src = t(node.input);
      const widest = node.windows.reduce((m, w) => Math.max(m, w.length), 1);
      const ob = signedBitsFor(widest - 1);
      c.define(node.out, node.shape, 0, ob);
      return { kind: "argindex", out: node.out, input: node.input, windows: node.windows, last: node.last, bitsIn: src.bits, bits: ob, from: node.from };
    }
    case "round": {
      const src = t(node.input);
      if (src.scale <= 0) {
        // Already a multiple of an integer step: rounding to an integer changes nothing.
        c.define(node.out, node.shape, src.scale, src.bits);
        return { kind: "select", out: node.out, input: node.input, idx: Int32Array.from({ length: src.size }, (_, i) => i), bits: src.bits, from: node.from };
      }
      const ob = Math.max(2, src.bits - src.scale + 1);
      c.define(node.out, node.shape, 0, ob);
      return { kind: "round", out: node.out, input: node.input, mode: ROUND_MODES[node.mode], shift: src.scale, bitsIn: src.bits, bits: ob, from: node.from };
    }
    case "select": {
      const src = t(node.input);
      c.define(node.out, node.shape, src.scale, src.bits);
      return { kind: "select", out: node.out, input: node.input, idx: node.idx, bits: src.bits, from: node.from };
    }
  }
}
