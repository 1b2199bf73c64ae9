/**
 * Integer bounds: what is known about a tensor holding integers, element by element, and the
 * Add/Sub/Mul/MatMul lowerings that carry it through the linear core.
 *
 * A lookup by a data index becomes a sum of indicator bits [idx = c] · table[c]
 * (src/onnx/dataLookups.ts, src/onnx/indexing.ts). To keep the number of indicators small, integer
 * tensors carry elementwise bounds (see `Bounds`): tree traversals compute node indices as
 * 2·parent + bit + offset, whose bounds are tight, so each lookup only tests the few indices the
 * traversal can reach. The data-Value constructors of the logic family live here too, since they
 * attach those bounds.
 */
import { ARITH_OPS } from "./arith";
import { AffineNode, ElemKind, size } from "./ir";
import { Lowered, lowerElementwise, lowerMatMul } from "./linearOps";
import { DataType } from "./load";
import type { Lowering } from "./registry";
import type { OpCtx, Value } from "./values";

export type Data = Extract<Value, { kind: "data" }>;

// ---------------------------------------------------------------------------------------------
// Integer bounds

/** Every element i is an integer in [lo[i], hi[i]] (bounds may be infinite). */
export interface Bounds {
  lo: Float64Array;
  hi: Float64Array;
}

/**
 * Bounds ride on the data Value as an extra field. Shape-only aliases (Reshape, Flatten, Squeeze)
 * copy the Value with a spread and keep the name, so the bounds follow them; any op that makes a
 * new tensor from a spread gets a new name, and `name` then no longer matches: stale bounds are
 * never trusted.
 */
type Tagged = Data & { ints?: Bounds & { name: string } };

export const INT_TYPES = new Set<number>([
  DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64,
  DataType.UINT8, DataType.UINT16, DataType.UINT32, DataType.UINT64,
]);

export function filled(n: number, v: number): Float64Array {
  return new Float64Array(n).fill(v);
}

/**
 * What is known about a Value being integral: elementwise bounds, or undefined when it may hold
 * fractions. Exported for other lookups by data indices, which can test only reachable indices.
 */
export function boundsOf(v: Value): Bounds | undefined {
  if (v.kind === "const") return v.t.data.every(Number.isInteger) ? { lo: v.t.data, hi: v.t.data } : undefined;
  const n = size(v.shape);
  const t = (v as Tagged).ints;
  if (t && t.name === v.name && t.lo.length === n) return t;
  if (v.elem === "bool") return { lo: filled(n, 0), hi: filled(n, 1) };
  if (v.elem === "int") return { lo: filled(n, -Infinity), hi: filled(n, Infinity) };
  return undefined;
}

export function tagged(v: Data, b: Bounds | undefined): Data {
  if (!b) return v;
  const t: Tagged = { ...v, ints: { name: v.name, lo: b.lo, hi: b.hi } };
  return t;
}

export function dataValue(name: string, shape: number[], elem?: ElemKind, b?: Bounds): Data {
  const v: Data = elem ? { kind: "data", name, shape, elem } : { kind: "data", name, shape };
  return tagged(v, b);
}

export function boolValue(name: string, shape: number[]): Data {
  return dataValue(name, shape, "bool");
}

/** The ONNX element kind of a Value, as far as integer-ness goes. */
export function elemOf(v: Value): ElemKind | undefined {
  if (v.kind === "data") return v.elem;
  if (v.t.dataType === DataType.BOOL) return "bool";
  return INT_TYPES.has(v.t.dataType) ? "int" : "float";
}

/** Bounds of an affine map of bounded inputs, or undefined when a weight or bias is fractional. */
function affineBounds(node: AffineNode, inputs: Map<string, Bounds>): Bounds | undefined {
  if (!node.bias.every(Number.isInteger)) return undefined;
  const lo = Float64Array.from(node.bias);
  const hi = Float64Array.from(node.bias);
  for (let s = 0; s < node.inputs.length; s++) {
    const b = inputs.get(node.inputs[s]);
    if (!b) return undefined;
    const rows = node.rows[s];
    for (let i = 0; i < lo.length; i++) {
      const { idx, w } = rows[i];
      for (let k = 0; k < idx.length; k++) {
        if (!Number.isInteger(w[k])) return undefined;
        // lo only ever adds finite or -inf terms (hi finite or +inf), so no inf - inf appears.
        lo[i] += w[k] > 0 ? w[k] * b.lo[idx[k]] : w[k] * b.hi[idx[k]];
        hi[i] += w[k] > 0 ? w[k] * b.hi[idx[k]] : w[k] * b.lo[idx[k]];
      }
    }
  }
  return { lo, hi };
}

// ---------------------------------------------------------------------------------------------
// Integer arithmetic: the linear core, plus bounds

/**
 * Add/Sub/Mul/MatMul of bounded integer tensors by integer constants lower exactly as the linear
 * core does; this only adds the bounds of the result, which later lookups need. Anything else goes
 * to the arithmetic family (src/onnx/arith.ts) and then the core, as if this entry did not exist.
 */
function integerArith(ctx: OpCtx): Lowered | undefined {
  const [a, b] = ctx.inputs;
  if (ctx.inputs.length !== 2 || !a || !b) return undefined;
  const nData = [a, b].filter((v) => v.kind === "data").length;
  if ((ctx.op === "Mul" || ctx.op === "MatMul") && nData !== 1) return undefined;
  const ba = boundsOf(a);
  const bb = boundsOf(b);
  if (!ba || !bb) return undefined;
  const low = ctx.op === "MatMul" ? lowerMatMul(ctx) : lowerElementwise(ctx);
  if (low.node.kind !== "affine" || low.value.kind !== "data") return low;
  const known = new Map<string, Bounds>();
  if (a.kind === "data") known.set(a.name, ba);
  if (b.kind === "data") known.set(b.name, bb);
  const bounds = affineBounds(low.node, known);
  const ints = [a, b].every((v) => elemOf(v) === "int" || elemOf(v) === "bool");
  return { node: low.node, value: dataValue(low.value.name, low.value.shape, ints ? "int" : undefined, bounds) };
}

function withBounds(op: "Add" | "Sub" | "Mul" | "MatMul"): Lowering {
  return (ctx) => integerArith(ctx) ?? ARITH_OPS[op]?.(ctx);
}

export const BOUNDED_ARITH_OPS: Record<string, Lowering> = {
  Add: withBounds("Add"),
  Sub: withBounds("Sub"),
  Mul: withBounds("Mul"),
  MatMul: withBounds("MatMul"),
};
