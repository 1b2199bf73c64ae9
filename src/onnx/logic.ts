/**
 * Comparisons, boolean logic and integer data: Less/Greater/Equal..., Not/And/Or/Xor, Where, Cast,
 * Round/Floor/Ceil, ArgMax/ArgMin, TopK, OneHot, and Gather by data indices (the leaf and node
 * lookups of exported tree ensembles).
 *
 * Booleans are 0/1 floats, so logic is arithmetic: Not = 1 − x, And = x·y, Or = x + y − x·y.
 * A lookup by a data index becomes a sum of indicator bits [idx = c] · table[c]. To keep the
 * number of indicators small, integer tensors carry elementwise bounds (see `Bounds`): tree
 * traversals compute node indices as 2·parent + bit + offset, whose bounds are tight, so each
 * lookup only tests the few indices the traversal can reach.
 */
import { AffineBuilder } from "./affine";
import { ARITH_OPS } from "./arith";
import { AffineNode, CompareNode, ElemKind, FloatNode, MulNode, RoundNode, size } from "./ir";
import type { LoweredMany } from "./dataMovement";
import { Lowered, lowerElementwise, lowerMatMul } from "./linearOps";
import { DataType, dataTypeName } from "./load";
import type { Lowering } from "./registry";
import { broadcastIndex, broadcastShape } from "./shapes";
import { OpCtx, Value, bad, constInput, constOf, input, shapeOf, unsupported } from "./values";

type Data = Extract<Value, { kind: "data" }>;

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

const INT_TYPES = new Set<number>([
  DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64,
  DataType.UINT8, DataType.UINT16, DataType.UINT32, DataType.UINT64,
]);

function filled(n: number, v: number): Float64Array {
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

function tagged(v: Data, b: Bounds | undefined): Data {
  if (!b) return v;
  const t: Tagged = { ...v, ints: { name: v.name, lo: b.lo, hi: b.hi } };
  return t;
}

function dataValue(name: string, shape: number[], elem?: ElemKind, b?: Bounds): Data {
  const v: Data = elem ? { kind: "data", name, shape, elem } : { kind: "data", name, shape };
  return tagged(v, b);
}

function boolValue(name: string, shape: number[]): Data {
  return dataValue(name, shape, "bool");
}

/** The ONNX element kind of a Value, as far as integer-ness goes. */
function elemOf(v: Value): ElemKind | undefined {
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
// Small builders

function dataIn(ctx: OpCtx, i: number, what: string): Data {
  const v = input(ctx, i);
  if (v.kind !== "data") throw unsupported(ctx, `${what} (input ${i}) must depend on the model input here`);
  return v;
}

function axisOf(ctx: OpCtx, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw bad(ctx, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function broadcastAll(ctx: OpCtx, vals: Value[]): number[] {
  let shape: number[] | null = [];
  for (const v of vals) {
    shape = broadcastShape(shape, shapeOf(v));
    if (!shape) throw bad(ctx, `input shapes ${vals.map((u) => `[${shapeOf(u)}]`).join(", ")} do not broadcast`);
  }
  return shape;
}

/** Adds w · v (broadcast to `shape`) to every row of B: a constant goes into the bias. */
function addScaled(B: AffineBuilder, v: Value, shape: number[], w: number): void {
  const iv = broadcastIndex(shapeOf(v), shape);
  if (v.kind === "const") {
    for (let i = 0; i < B.outSize; i++) B.bias[i] += w * v.t.data[iv[i]];
    return;
  }
  const s = B.slot(v.name);
  for (let i = 0; i < B.outSize; i++) B.add(i, s, iv[i], w);
}

/** x − y with broadcasting: one affine node, or no node when it is x itself. */
function difference(ctx: OpCtx, x: Value, y: Value, out: string): { nodes: FloatNode[]; name: string; shape: number[] } {
  const shape = broadcastAll(ctx, [x, y]);
  if (x.kind === "data" && y.kind === "const" && y.t.data.every((v) => v === 0) && x.shape.join() === shape.join()) {
    return { nodes: [], name: x.name, shape };
  }
  const B = new AffineBuilder(size(shape));
  addScaled(B, x, shape, 1);
  addScaled(B, y, shape, -1);
  return { nodes: [B.build(out, shape, [ctx.name])], name: out, shape };
}

/** y = coef · a · b elementwise, with broadcasting. */
function productNode(ctx: OpCtx, out: string, a: Data | { name: string; shape: number[] }, b: { name: string; shape: number[] }, shape: number[], coef = 1): MulNode {
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const n = size(shape);
  return {
    kind: "mul", out, a: a.name, b: b.name, shape,
    ia: Array.from({ length: n }, (_, i) => Int32Array.of(ia[i])),
    ib: Array.from({ length: n }, (_, i) => Int32Array.of(ib[i])),
    coef: filled(n, coef), from: [ctx.name],
  };
}

function negation(ctx: OpCtx, x: Data, out: string): AffineNode {
  const B = new AffineBuilder(size(x.shape));
  const s = B.slot(x.name);
  for (let i = 0; i < B.outSize; i++) B.add(i, s, i, -1);
  return B.build(out, x.shape, [ctx.name]);
}

// ---------------------------------------------------------------------------------------------
// Comparisons and logic

/** Less(a, b) is b − a > 0: every comparison is a sign test of an affine difference. */
const COMPARISONS: Record<string, { op: CompareNode["op"]; swap: boolean }> = {
  Less: { op: "gt", swap: true },
  Greater: { op: "gt", swap: false },
  LessOrEqual: { op: "ge", swap: true },
  GreaterOrEqual: { op: "ge", swap: false },
  Equal: { op: "eq", swap: false },
};

function lowerCompare(ctx: OpCtx): LoweredMany {
  const { op, swap } = COMPARISONS[ctx.op];
  const a = input(ctx, 0);
  const b = input(ctx, 1);
  const d = swap ? difference(ctx, b, a, `${ctx.out}::diff`) : difference(ctx, a, b, `${ctx.out}::diff`);
  const node: CompareNode = { kind: "compare", op, out: ctx.out, input: d.name, shape: d.shape, from: [ctx.name] };
  return { nodes: [...d.nodes, node], value: boolValue(ctx.out, d.shape) };
}

function lowerNot(ctx: OpCtx): LoweredMany {
  const x = dataIn(ctx, 0, "the operand");
  const B = new AffineBuilder(size(x.shape));
  addScaled(B, x, x.shape, -1);
  B.bias.fill(1);
  return { nodes: [B.build(ctx.out, x.shape, [ctx.name])], value: boolValue(ctx.out, x.shape) };
}

/** And = xy, Or = x + y − xy, Xor = x + y − 2xy on 0/1 values: k is the weight of xy. */
const LOGIC_K: Record<string, number> = { And: 0, Or: 1, Xor: 2 };

function lowerLogic(ctx: OpCtx): LoweredMany {
  const a = input(ctx, 0);
  const b = input(ctx, 1);
  const shape = broadcastAll(ctx, [a, b]);
  const n = size(shape);
  if (a.kind === "const" || b.kind === "const") {
    // With a constant c the result is affine in x: And = c·x, Or = (1−c)·x + c, Xor = (1−2c)·x + c.
    const [x, c] = (a.kind === "data" ? [a, b] : [b, a]) as [Data, Extract<Value, { kind: "const" }>];
    const ix = broadcastIndex(x.shape, shape);
    const ic = broadcastIndex(c.t.dims, shape);
    const B = new AffineBuilder(n);
    const s = B.slot(x.name);
    for (let i = 0; i < n; i++) {
      const cv = c.t.data[ic[i]] !== 0 ? 1 : 0;
      if (ctx.op === "And") B.add(i, s, ix[i], cv);
      else {
        B.add(i, s, ix[i], ctx.op === "Or" ? 1 - cv : 1 - 2 * cv);
        B.bias[i] = cv;
      }
    }
    return { nodes: [B.build(ctx.out, shape, [ctx.name])], value: boolValue(ctx.out, shape) };
  }
  if (ctx.op === "And") return { nodes: [productNode(ctx, ctx.out, a, b, shape)], value: boolValue(ctx.out, shape) };
  const p = productNode(ctx, `${ctx.out}::and`, a, b, shape);
  const B = new AffineBuilder(n);
  addScaled(B, a, shape, 1);
  addScaled(B, b, shape, 1);
  addScaled(B, { kind: "data", name: p.out, shape }, shape, -LOGIC_K[ctx.op]);
  return { nodes: [p, B.build(ctx.out, shape, [ctx.name])], value: boolValue(ctx.out, shape) };
}

// ---------------------------------------------------------------------------------------------
// Where

function unionBounds(a: Value, b: Value, shape: number[]): Bounds | undefined {
  const ba = boundsOf(a);
  const bb = boundsOf(b);
  if (!ba || !bb) return undefined;
  const ia = broadcastIndex(shapeOf(a), shape);
  const ib = broadcastIndex(shapeOf(b), shape);
  const n = size(shape);
  return {
    lo: Float64Array.from({ length: n }, (_, i) => Math.min(ba.lo[ia[i]], bb.lo[ib[i]])),
    hi: Float64Array.from({ length: n }, (_, i) => Math.max(ba.hi[ia[i]], bb.hi[ib[i]])),
  };
}

function lowerWhere(ctx: OpCtx): LoweredMany {
  const [c, a, b] = [0, 1, 2].map((i) => input(ctx, i));
  const shape = broadcastAll(ctx, [c, a, b]);
  const n = size(shape);
  const ea = elemOf(a);
  const elem = ea !== undefined && ea === elemOf(b) ? ea : undefined;
  const value = dataValue(ctx.out, shape, elem, unionBounds(a, b, shape));
  if (c.kind === "const") {
    // A constant condition only chooses, element by element, where each output comes from.
    const ic = broadcastIndex(c.t.dims, shape);
    const B = new AffineBuilder(n);
    for (const [v, take] of [[a, 1], [b, 0]] as const) {
      const iv = broadcastIndex(shapeOf(v), shape);
      const s = v.kind === "data" ? B.slot(v.name) : -1;
      for (let i = 0; i < n; i++) {
        if ((c.t.data[ic[i]] !== 0 ? 1 : 0) !== take) continue;
        if (v.kind === "const") B.bias[i] = v.t.data[iv[i]];
        else B.add(i, s, iv[i], 1);
      }
    }
    return { nodes: [B.build(ctx.out, shape, [ctx.name])], value };
  }
  if (a.kind === "const" && b.kind === "const") {
    // b + cond · (a − b) with constant a − b: affine in the condition.
    const B = new AffineBuilder(n);
    const s = B.slot(c.name);
    const [ic, ia, ib] = [c, a, b].map((v) => broadcastIndex(shapeOf(v), shape));
    for (let i = 0; i < n; i++) {
      B.add(i, s, ic[i], a.t.data[ia[i]] - b.t.data[ib[i]]);
      B.bias[i] = b.t.data[ib[i]];
    }
    return { nodes: [B.build(ctx.out, shape, [ctx.name])], value };
  }
  const d = difference(ctx, a, b, `${ctx.out}::diff`);
  const p = productNode(ctx, `${ctx.out}::sel`, c, { name: d.name, shape: d.shape }, shape);
  const B = new AffineBuilder(n);
  addScaled(B, b, shape, 1);
  addScaled(B, { kind: "data", name: p.out, shape }, shape, 1);
  return { nodes: [...d.nodes, p, B.build(ctx.out, shape, [ctx.name])], value };
}

// ---------------------------------------------------------------------------------------------
// Cast and rounding

function isBoolValued(b: Bounds | undefined): boolean {
  return !!b && b.lo.every((v) => v >= 0) && b.hi.every((v) => v <= 1);
}

function lowerCast(ctx: OpCtx): LoweredMany | Value | undefined {
  const x = input(ctx, 0);
  if (x.kind !== "data") return undefined;
  const to = ctx.attrs.int("to", DataType.FLOAT);
  const b = boundsOf(x);
  // A float result must not say "int" (Div of ints truncates), but its values stay known integers.
  const asFloat = tagged({ ...x, elem: "float" }, b);
  if (to === DataType.FLOAT || to === DataType.DOUBLE) return asFloat;
  if (INT_TYPES.has(to)) {
    if (b) return tagged({ ...x, elem: "int" }, b);
    // Cast from float to an integer type truncates toward zero.
    const node: RoundNode = { kind: "round", mode: "trunc", out: ctx.out, input: x.name, shape: x.shape, from: [ctx.name] };
    return { nodes: [node], value: dataValue(ctx.out, x.shape, "int") };
  }
  if (to === DataType.BOOL) {
    if (isBoolValued(b)) return tagged({ ...x, elem: "bool" }, b);
    const node: CompareNode = { kind: "compare", op: "ne", out: ctx.out, input: x.name, shape: x.shape, from: [ctx.name] };
    return { nodes: [node], value: boolValue(ctx.out, x.shape) };
  }
  if ((to === DataType.FLOAT16 || to === DataType.BFLOAT16) && b && b.lo.every((v) => v >= -256) && b.hi.every((v) => v <= 256)) {
    // Small integers are exact in both half formats.
    return asFloat;
  }
  throw unsupported(ctx, `Cast of data to ${dataTypeName(to)}; supported targets are float, double, the integer types and bool`);
}

function lowerRounding(mode: RoundNode["mode"]): Lowering {
  return (ctx) => {
    const x = dataIn(ctx, 0, "the operand");
    const b = boundsOf(x);
    if (b) return x;
    const node: RoundNode = { kind: "round", mode, out: ctx.out, input: x.name, shape: x.shape, from: [ctx.name] };
    return { nodes: [node], value: dataValue(ctx.out, x.shape, x.elem, { lo: filled(size(x.shape), -Infinity), hi: filled(size(x.shape), Infinity) }) };
  };
}

// ---------------------------------------------------------------------------------------------
// ArgMax / ArgMin

/** Flat indices of each lane along `axis`, lanes in row-major order of the other dimensions. */
function lanes(shape: number[], axis: number): Int32Array[] {
  const n = shape[axis];
  const inner = size(shape.slice(axis + 1));
  const outer = size(shape.slice(0, axis));
  const out: Int32Array[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) out.push(Int32Array.from({ length: n }, (_, k) => (o * n + k) * inner + i));
  }
  return out;
}

function lowerArgIndex(ctx: OpCtx): LoweredMany {
  const x = dataIn(ctx, 0, "the operand");
  const r = x.shape.length;
  const axis = axisOf(ctx, ctx.attrs.int("axis", 0), r);
  const keep = ctx.attrs.int("keepdims", 1) === 1;
  const last = ctx.attrs.int("select_last_index", 0) === 1;
  const n = x.shape[axis];
  const shape = keep ? x.shape.map((d, k) => (k === axis ? 1 : d)) : x.shape.filter((_, k) => k !== axis);
  const nodes: FloatNode[] = [];
  let src = x.name;
  if (ctx.op === "ArgMin") {
    // The first (or last) minimum is the first (or last) maximum of −x.
    src = `${ctx.out}::neg`;
    nodes.push(negation(ctx, x, src));
  }
  nodes.push({ kind: "argindex", out: ctx.out, input: src, shape, windows: lanes(x.shape, axis), last, from: [ctx.name] });
  const m = size(shape);
  return { nodes, value: dataValue(ctx.out, shape, "int", { lo: filled(m, 0), hi: filled(m, n - 1) }) };
}

// ---------------------------------------------------------------------------------------------
// TopK

/**
 * Batcher's odd–even merge sort on n wires, as parallel layers of comparators (i < j). It is built
 * for the next power of two; the missing wires hold ∓∞ at the end, so every comparator that
 * touches them is a no-op and is left out.
 */
export function sortingLayers(n: number): [number, number][][] {
  let N = 1;
  while (N < n) N *= 2;
  const layers: [number, number][][] = [];
  for (let p = 1; p < N; p *= 2) {
    for (let k = p; k >= 1; k = Math.floor(k / 2)) {
      const layer: [number, number][] = [];
      for (let j = k % p; j + k < N; j += 2 * k) {
        for (let i = 0; i < k && i + j + k < N; i++) {
          if (Math.floor((i + j) / (2 * p)) === Math.floor((i + j + k) / (2 * p)) && i + j + k < n) layer.push([i + j, i + j + k]);
        }
      }
      if (layer.length > 0) layers.push(layer);
    }
  }
  return layers;
}

/** Drops the comparators that cannot reach the first k positions. */
function pruneForTop(layers: [number, number][][], k: number): [number, number][][] {
  const needed = new Set<number>(Array.from({ length: k }, (_, i) => i));
  const kept: [number, number][][] = [];
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l].filter(([a, b]) => needed.has(a) || needed.has(b));
    for (const [a, b] of layer) { needed.add(a); needed.add(b); }
    if (layer.length > 0) kept.unshift(layer);
  }
  return kept;
}

function topkK(ctx: OpCtx): number {
  if (ctx.opset < 10) return ctx.attrs.int("k", 0);
  const k = constInput(ctx, 1, "the TopK count K");
  if (k.data.length !== 1) throw bad(ctx, `K must hold one value, got [${k.dims}]`);
  return k.data[0];
}

function lowerTopK(ctx: OpCtx): LoweredMany {
  const x = dataIn(ctx, 0, "the TopK input");
  const axis = axisOf(ctx, ctx.attrs.int("axis", -1), x.shape.length);
  const largest = ctx.attrs.int("largest", 1) === 1;
  const n = x.shape[axis];
  const k = topkK(ctx);
  if (!Number.isInteger(k) || k < 1 || k > n) throw bad(ctx, `K = ${k} must be between 1 and the axis size ${n}`);
  if (ctx.attrs.int("sorted", 1) !== 1 && k > 1) throw unsupported(ctx, "sorted=0 (onnxruntime's unspecified order) is not supported; export with sorted=1");
  const outShape = x.shape.map((d, i) => (i === axis ? k : d));
  const rows = lanes(x.shape, axis);
  const nodes: FloatNode[] = [];
  let cur = x.name;
  // A comparator puts max(a, b) on the wire that must hold the larger value and a + b − max on the other.
  pruneForTop(sortingLayers(n), k).forEach((layer, l) => {
    const maxName = `${ctx.out}::sort${l}::max`;
    const windows: Int32Array[] = [];
    for (const row of rows) for (const [a, b] of layer) windows.push(Int32Array.of(row[a], row[b]));
    nodes.push({ kind: "maxpool", out: maxName, input: cur, shape: [windows.length], windows, from: [ctx.name] });
    const B = new AffineBuilder(size(x.shape));
    const sc = B.slot(cur);
    const sm = B.slot(maxName);
    const done = new Uint8Array(size(x.shape));
    let m = 0;
    for (const row of rows) {
      for (const [a, b] of layer) {
        const [hiWire, loWire] = largest ? [row[a], row[b]] : [row[b], row[a]];
        B.add(hiWire, sm, m, 1);
        B.add(loWire, sc, row[a], 1);
        B.add(loWire, sc, row[b], 1);
        B.add(loWire, sm, m, -1);
        done[row[a]] = done[row[b]] = 1;
        m++;
      }
    }
    for (let e = 0; e < done.length; e++) if (!done[e]) B.add(e, sc, e, 1);
    const next = `${ctx.out}::sort${l}`;
    nodes.push(B.build(next, x.shape, [ctx.name]));
    cur = next;
  });
  const B = new AffineBuilder(size(outShape));
  const s = B.slot(cur);
  const outLanes = lanes(outShape, axis);
  rows.forEach((row, r) => outLanes[r].forEach((o, p) => B.add(o, s, row[p], 1)));
  nodes.push(B.build(ctx.out, outShape, [ctx.name]));
  const b = boundsOf(x);
  const m = size(outShape);
  const vb = b && { lo: filled(m, b.lo.reduce((u, v) => Math.min(u, v), Infinity)), hi: filled(m, b.hi.reduce((u, v) => Math.max(u, v), -Infinity)) };
  const value = dataValue(ctx.out, outShape, x.elem, vb);
  const idxOut = ctx.node.output?.[1];
  if (!idxOut) return { nodes, value };
  // The indices cost nothing unless used: pruneDead drops these nodes when nothing reads them.
  const idx = topkIndices(ctx, x, axis, k, largest, idxOut);
  return { nodes: [...nodes, ...idx.nodes], value, more: [[idxOut, idx.value]] };
}

/**
 * Indices of the top k by ranks: element j's rank is the number of elements that come before it,
 * #{i < j: s_i ≥ s_j} + #{i > j: s_i > s_j} with s = x (largest) or −x, so ties keep the lower
 * index first, as ONNX specifies. Then index[p] = Σ_j j · [rank_j = p].
 */
function topkIndices(ctx: OpCtx, x: Data, axis: number, k: number, largest: boolean, out: string): { nodes: FloatNode[]; value: Value } {
  const n = x.shape[axis];
  const outShape = x.shape.map((d, i) => (i === axis ? k : d));
  const m = size(outShape);
  if (n === 1) return { nodes: [], value: constOf(outShape, new Float64Array(m), DataType.INT64) };
  const rows = lanes(x.shape, axis);
  const pairs: [number, number][] = [];
  const pairIndex = Array.from({ length: n }, () => new Int32Array(n).fill(-1));
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) { pairIndex[i][j] = pairs.length; pairs.push([i, j]); }
  const P = pairs.length;
  const D = new AffineBuilder(rows.length * P);
  const sx = D.slot(x.name);
  rows.forEach((row, r) => pairs.forEach(([i, j], q) => {
    D.add(r * P + q, sx, row[i], largest ? 1 : -1);
    D.add(r * P + q, sx, row[j], largest ? -1 : 1);
  }));
  const gName = `${out}::before`;
  const G: CompareNode = { kind: "compare", op: "ge", out: gName, input: `${out}::pairdiff`, shape: [rows.length * P], from: [ctx.name] };
  // rank_j − p for every position p < k and element j ≥ 1 (element 0 adds 0 to any index).
  const at = (r: number, j: number, p: number) => (r * (n - 1) + j - 1) * k + p;
  const L = rows.length * (n - 1) * k;
  const R = new AffineBuilder(L);
  const sg = R.slot(gName);
  rows.forEach((_, r) => {
    for (let j = 1; j < n; j++) {
      for (let p = 0; p < k; p++) {
        const e = at(r, j, p);
        R.bias[e] = n - 1 - j - p;
        for (let i = 0; i < j; i++) R.add(e, sg, r * P + pairIndex[i][j], 1);
        for (let i = j + 1; i < n; i++) R.add(e, sg, r * P + pairIndex[j][i], -1);
      }
    }
  });
  const eqName = `${out}::atpos`;
  const E: CompareNode = { kind: "compare", op: "eq", out: eqName, input: `${out}::rank`, shape: [L], from: [ctx.name] };
  const Y = new AffineBuilder(m);
  const se = Y.slot(eqName);
  const outLanes = lanes(outShape, axis);
  rows.forEach((_, r) => {
    for (let p = 0; p < k; p++) for (let j = 1; j < n; j++) Y.add(outLanes[r][p], se, at(r, j, p), j);
  });
  const nodes: FloatNode[] = [
    D.build(`${out}::pairdiff`, [rows.length * P], [ctx.name]), G,
    R.build(`${out}::rank`, [L], [ctx.name]), E,
    Y.build(out, outShape, [ctx.name]),
  ];
  return { nodes, value: dataValue(out, outShape, "int", { lo: filled(m, 0), hi: filled(m, n - 1) }) };
}

// ---------------------------------------------------------------------------------------------
// Indicator bits [idx = v]: OneHot, and lookups by data indices

/**
 * The bits [idx_q = v] a lookup needs, for the values v that index element q can take. A bit
 * costs a comparison, except where idx_q is known to take one or two values: then [idx = v] is
 * the constant 1 or the affine 1 − |idx − v|, which is exact on those two values.
 */
class Indicators {
  private readonly pairs: { q: number; v: number }[] = [];
  private readonly pos = new Map<string, number>();
  private readonly b: Bounds;
  readonly eqName: string;

  /**
   * Valid values are [min, max]; `closed` says whether idx is guaranteed to hold one of them
   * (Gather: an index out of range is an error) or may hold others, which select nothing (OneHot).
   */
  constructor(private readonly ctx: OpCtx, readonly idx: Data, private readonly min: number, private readonly max: number, private readonly closed: boolean) {
    const n = size(idx.shape);
    this.b = boundsOf(idx) ?? { lo: filled(n, -Infinity), hi: filled(n, Infinity) };
    this.eqName = `${ctx.out}::onehot`;
  }

  candidates(q: number): number[] {
    const lo = Math.max(Math.ceil(this.b.lo[q]), this.min);
    const hi = Math.min(Math.floor(this.b.hi[q]), this.max);
    return Array.from({ length: Math.max(0, hi - lo + 1) }, (_, k) => lo + k);
  }

  /** Whether idx_q is sure to be one of its candidates. */
  private sure(q: number): boolean {
    return this.closed || (this.b.lo[q] >= this.min && this.b.hi[q] <= this.max);
  }

  /** Position of the comparison bit [idx_q = v] in the indicator tensor. */
  bit(q: number, v: number): number {
    const key = `${q}:${v}`;
    let p = this.pos.get(key);
    if (p === undefined) {
      p = this.pairs.length;
      this.pairs.push({ q, v });
      this.pos.set(key, p);
    }
    return p;
  }

  /** Adds w · [idx_q = v] to output `row` of B, as cheaply as the candidates allow. */
  addTo(B: AffineBuilder, row: number, q: number, v: number, w: number): void {
    const c = this.candidates(q);
    if (!c.includes(v) || w === 0) return;
    if (this.sure(q) && c.length === 1) {
      B.bias[row] += w;
    } else if (this.sure(q) && c.length === 2) {
      // On {c0, c0 + 1}: [idx = c0] = c0 + 1 − idx and [idx = c0 + 1] = idx − c0.
      const s = B.slot(this.idx.name);
      const up = v === c[1];
      B.add(row, s, q, up ? w : -w);
      B.bias[row] += up ? -w * c[0] : w * (c[0] + 1);
    } else {
      B.add(row, B.slot(this.eqName), this.bit(q, v), w);
    }
  }

  /** The nodes computing the comparison bits that were asked for (none if none were). */
  nodes(): FloatNode[] {
    if (this.pairs.length === 0) return [];
    const L = this.pairs.length;
    const D = new AffineBuilder(L);
    const s = D.slot(this.idx.name);
    this.pairs.forEach(({ q, v }, p) => { D.add(p, s, q, 1); D.bias[p] = -v; });
    const diff = `${this.ctx.out}::onehot_diff`;
    return [
      D.build(diff, [L], [this.ctx.name]),
      { kind: "compare", op: "eq", out: this.eqName, input: diff, shape: [L], from: [this.ctx.name] },
    ];
  }
}

function lowerOneHot(ctx: OpCtx): LoweredMany {
  const idx = dataIn(ctx, 0, "the indices");
  const depthT = constInput(ctx, 1, "the OneHot depth");
  const valuesT = constInput(ctx, 2, "the OneHot values");
  const depth = Math.trunc(depthT.data[0]);
  if (!(depth >= 1)) throw bad(ctx, `depth ${depthT.data[0]} must be at least 1`);
  if (valuesT.data.length !== 2) throw bad(ctx, `values must be [off, on], got ${valuesT.data.length} values`);
  const [off, on] = valuesT.data;
  const r = idx.shape.length;
  const a0 = ctx.attrs.int("axis", -1);
  const axis = a0 < 0 ? a0 + r + 1 : a0;
  if (axis < 0 || axis > r) throw bad(ctx, `axis ${a0} is out of range for indices of rank ${r}`);
  const shape = [...idx.shape.slice(0, axis), depth, ...idx.shape.slice(axis)];
  const inner = size(idx.shape.slice(axis));
  const ind = new Indicators(ctx, idx, -depth, depth - 1, false);
  const n = size(shape);
  const B = new AffineBuilder(n);
  for (let o = 0; o < n; o++) {
    const c = Math.floor(o / inner) % depth;
    const q = Math.floor(o / (inner * depth)) * inner + (o % inner);
    B.bias[o] += off;
    // A negative index counts from the end: class c is hit by c and by c − depth.
    ind.addTo(B, o, q, c, on - off);
    ind.addTo(B, o, q, c - depth, on - off);
  }
  const elem = elemOf({ kind: "const", t: valuesT });
  const b = Number.isInteger(off) && Number.isInteger(on) ? { lo: filled(n, Math.min(off, on)), hi: filled(n, Math.max(off, on)) } : undefined;
  return { nodes: [...ind.nodes(), B.build(ctx.out, shape, [ctx.name])], value: dataValue(ctx.out, shape, elem === "float" ? undefined : elem, b) };
}

/** Where each output element of a lookup reads: its index element q, and the table entry for index value c. */
interface LookupPlan {
  shape: number[];
  q: (o: number) => number;
  src: (o: number, c: number) => number;
}

function gatherPlan(tableShape: number[], idxShape: number[], axis: number): LookupPlan {
  const n = tableShape[axis];
  const inner = size(tableShape.slice(axis + 1));
  const m = size(idxShape);
  const shape = [...tableShape.slice(0, axis), ...idxShape, ...tableShape.slice(axis + 1)];
  return {
    shape,
    q: (o) => Math.floor(o / inner) % m,
    src: (o, c) => (Math.floor(o / (inner * m)) * n + c) * inner + (o % inner),
  };
}

/** Slope s when vals[k] = vals[0] + s·k exactly, else undefined. */
function affineSlope(vals: number[]): number | undefined {
  const s = vals[1] - vals[0];
  for (let k = 2; k < vals.length; k++) if (vals[k] - vals[k - 1] !== s) return undefined;
  return s;
}

/**
 * Gather whose indices depend on the model input (GatherElements is src/onnx/indexing.ts). With a
 * constant table the output is Σ_v table[v] · [idx = v]: affine in the indicator bits, or directly
 * in idx where the table is affine over the reachable indices. With a data table it is a sum of
 * products.
 */
function lowerLookup(ctx: OpCtx): LoweredMany | undefined {
  const table = input(ctx, 0);
  const idxV = input(ctx, 1);
  if (idxV.kind !== "data") return undefined; // constant indices: the data-movement lowering
  const S = shapeOf(table);
  const axis = axisOf(ctx, ctx.attrs.int("axis", 0), S.length);
  const n = S[axis];
  const plan = gatherPlan(S, idxV.shape, axis);
  const ind = new Indicators(ctx, idxV, -n, n - 1, true);
  const wrap = (v: number) => (v < 0 ? v + n : v);
  const m = size(plan.shape);
  const cands = Array.from({ length: m }, (_, o) => {
    const c = ind.candidates(plan.q(o));
    if (c.length === 0) throw bad(ctx, `the indices can only take values outside the axis of size ${n}`);
    return c;
  });
  const tb = boundsOf(table);
  const bounds: Bounds | undefined = tb && {
    lo: Float64Array.from(cands, (c, o) => c.reduce((u, v) => Math.min(u, tb.lo[plan.src(o, wrap(v))]), Infinity)),
    hi: Float64Array.from(cands, (c, o) => c.reduce((u, v) => Math.max(u, tb.hi[plan.src(o, wrap(v))]), -Infinity)),
  };
  const te = elemOf(table);
  const value = dataValue(ctx.out, plan.shape, te === "float" ? undefined : te, bounds);

  if (table.kind === "const") {
    const B = new AffineBuilder(m);
    for (let o = 0; o < m; o++) {
      const q = plan.q(o);
      const vals = cands[o].map((v) => table.t.data[plan.src(o, wrap(v))]);
      const slope = vals.length >= 3 ? affineSlope(vals) : undefined;
      if (slope !== undefined) {
        // Exact on every index the element can hold, with no comparison.
        if (slope !== 0) B.add(o, B.slot(idxV.name), q, slope);
        B.bias[o] += vals[0] - slope * cands[o][0];
      } else {
        cands[o].forEach((v, k) => ind.addTo(B, o, q, v, vals[k]));
      }
    }
    return { nodes: [...ind.nodes(), B.build(ctx.out, plan.shape, [ctx.name])], value };
  }
  // A data table: products of table entries and indicator bits; an element with one candidate is a plain pick.
  const single = cands.map((c) => c.length === 1);
  const multi = single.some((s) => !s);
  const pick = new AffineBuilder(m);
  const st = pick.slot(table.name);
  for (let o = 0; o < m; o++) if (single[o]) pick.add(o, st, plan.src(o, wrap(cands[o][0])), 1);
  if (!multi) return { nodes: [pick.build(ctx.out, plan.shape, [ctx.name])], value };
  const mulName = single.some((s) => s) ? `${ctx.out}::lookup` : ctx.out;
  const mul: MulNode = {
    kind: "mul", out: mulName, a: table.name, b: ind.eqName, shape: plan.shape,
    ia: cands.map((c, o) => Int32Array.from(single[o] ? [] : c.map((v) => plan.src(o, wrap(v))))),
    ib: cands.map((c, o) => Int32Array.from(single[o] ? [] : c.map((v) => ind.bit(plan.q(o), v)))),
    coef: filled(m, 1), from: [ctx.name],
  };
  const nodes: FloatNode[] = [...ind.nodes(), mul];
  if (mulName !== ctx.out) {
    const sm = pick.slot(mulName);
    for (let o = 0; o < m; o++) if (!single[o]) pick.add(o, sm, o, 1);
    nodes.push(pick.build(ctx.out, plan.shape, [ctx.name]));
  }
  return { nodes, value };
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

export const LOGIC_OPS: Record<string, Lowering> = {
  Less: lowerCompare,
  Greater: lowerCompare,
  LessOrEqual: lowerCompare,
  GreaterOrEqual: lowerCompare,
  Equal: lowerCompare,
  Not: lowerNot,
  And: lowerLogic,
  Or: lowerLogic,
  Xor: lowerLogic,
  Where: lowerWhere,
  Cast: lowerCast,
  Round: lowerRounding("even"),
  Floor: lowerRounding("floor"),
  Ceil: lowerRounding("ceil"),
  ArgMax: lowerArgIndex,
  ArgMin: lowerArgIndex,
  TopK: lowerTopK,
  OneHot: lowerOneHot,
  Gather: lowerLookup,
  Add: withBounds("Add"),
  Sub: withBounds("Sub"),
  Mul: withBounds("Mul"),
  MatMul: withBounds("MatMul"),
};
