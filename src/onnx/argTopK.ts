/**
 * ArgMax/ArgMin and TopK along an axis.
 *
 * ArgMax is an `argindex` node over each lane, and ArgMin the same over −x. TopK sorts each lane
 * with a sorting network (Batcher's odd–even merge sort, pruned to the comparators that reach the
 * first k positions), each comparator a max plus the affine a + b − max. Its indices, when used,
 * come from ranks, so that ties keep the lower index first, as ONNX specifies.
 */
import { AffineBuilder } from "./affine";
import type { LoweredMany } from "./dataMovement";
import { Data, boundsOf, dataValue, filled } from "./intBounds";
import { AffineNode, CompareNode, FloatNode, size } from "./ir";
import { DataType } from "./load";
import { axisOf, dataIn } from "./logicBuilders";
import type { Lowering } from "./registry";
import { OpCtx, Value, bad, constInput, constOf, unsupported } from "./values";

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

function negation(ctx: OpCtx, x: Data, out: string): AffineNode {
  const B = new AffineBuilder(size(x.shape));
  const s = B.slot(x.name);
  for (let i = 0; i < B.outSize; i++) B.add(i, s, i, -1);
  return B.build(out, x.shape, [ctx.name]);
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

export const ARG_TOPK_OPS: Record<string, Lowering> = {
  ArgMax: lowerArgIndex,
  ArgMin: lowerArgIndex,
  TopK: lowerTopK,
};
