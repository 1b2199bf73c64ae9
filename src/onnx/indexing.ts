/**
 * GatherElements and ScatterElements whose indices depend on the model input. An index is an exact
 * integer, so "index = j" is one proven equality per candidate position j (a `compare eq` on the
 * affine difference, with a second one for the negative form j − d); the selected value is then the
 * sum of candidates weighted by those 0/1 flags: an affine map when the table is constant, one
 * `mul` node when it is data. Cost per output: d candidates × (a range-checked difference and two
 * equalities) plus d products, so these suit the small gathers exporters emit, not embeddings.
 * Constant indices never come here: they are plain selections (src/onnx/dataMovement.ts).
 */
import type { Lowering } from "./registry";
import type { LoweredMany } from "./dataMovement";
import { FloatNode, size } from "./ir";
import { AffineBuilder } from "./affine";
import { normAxis, stridesOf } from "./shapes";
import { OpCtx, Value, bad, input, unsupported } from "./values";

type Data = Extract<Value, { kind: "data" }>;

const part = (ctx: OpCtx, what: string) => `${ctx.out}::${what}`;

function coords(i: number, strides: number[]): number[] {
  const c: number[] = [];
  let rem = i;
  for (const s of strides) {
    c.push(Math.floor(rem / s));
    rem -= c[c.length - 1] * s;
  }
  return c;
}

function flat(c: number[], strides: number[]): number {
  return c.reduce((a, v, d) => a + v * strides[d], 0);
}

/**
 * Flags hit[q·d + j] = 1 exactly when index q equals j or j − d (ONNX allows negative indices):
 * nodes computing them, and the name of the flag tensor.
 */
function equalityFlags(ctx: OpCtx, idx: Data, d: number): { nodes: FloatNode[]; flags: string } {
  const n = size(idx.shape);
  const diff = new AffineBuilder(2 * n * d);
  const s = diff.slot(idx.name);
  for (let q = 0; q < n; q++) {
    for (let j = 0; j < d; j++) {
      diff.add((q * d + j) * 2, s, q, 1);
      diff.bias[(q * d + j) * 2] = -j;
      diff.add((q * d + j) * 2 + 1, s, q, 1);
      diff.bias[(q * d + j) * 2 + 1] = d - j;
    }
  }
  const eq: FloatNode = { kind: "compare", op: "eq", out: part(ctx, "eq"), input: part(ctx, "diff"), shape: [2 * n * d], from: [ctx.name] };
  const merge = new AffineBuilder(n * d);
  const m = merge.slot(eq.out);
  for (let k = 0; k < n * d; k++) {
    merge.add(k, m, 2 * k, 1);
    merge.add(k, m, 2 * k + 1, 1);
  }
  return { nodes: [diff.build(part(ctx, "diff"), [2 * n * d], [ctx.name]), eq, merge.build(part(ctx, "hit"), [n * d], [ctx.name])], flags: part(ctx, "hit") };
}

/** out[o] = Σ_j hit[q(o)·d + j] · table[src(o, j)], as an affine map (constant table) or products (data table). */
function weightedPick(
  ctx: OpCtx, table: Value, flags: string, outShape: number[], terms: (o: number) => { q: number; j: number; src: number }[], d: number,
): FloatNode {
  const n = size(outShape);
  if (table.kind === "const") {
    const b = new AffineBuilder(n);
    const s = b.slot(flags);
    for (let o = 0; o < n; o++) for (const t of terms(o)) b.add(o, s, t.q * d + t.j, table.t.data[t.src]);
    return b.build(ctx.out, outShape, [ctx.name]);
  }
  const ia: Int32Array[] = [];
  const ib: Int32Array[] = [];
  for (let o = 0; o < n; o++) {
    const ts = terms(o);
    ia.push(Int32Array.from(ts, (t) => t.q * d + t.j));
    ib.push(Int32Array.from(ts, (t) => t.src));
  }
  return { kind: "mul", out: ctx.out, a: flags, b: table.name, shape: outShape, ia, ib, coef: new Float64Array(n).fill(1), from: [ctx.name] };
}

function lowerGatherElementsData(ctx: OpCtx): LoweredMany | undefined {
  const idx = input(ctx, 1);
  if (idx.kind !== "data") return undefined;
  const table = input(ctx, 0);
  const tShape = table.kind === "const" ? table.t.dims : table.shape;
  const axis = normAxis(ctx.attrs.int("axis", 0), tShape.length, `GatherElements "${ctx.name}"`);
  if (idx.shape.length !== tShape.length) throw bad(ctx, `indices [${idx.shape}] and data [${tShape}] must have the same rank`);
  const d = tShape[axis];
  const ts = stridesOf(tShape);
  const is = stridesOf(idx.shape);
  const { nodes, flags } = equalityFlags(ctx, idx, d);
  const pick = weightedPick(ctx, table, flags, idx.shape, (o) => {
    const c = coords(o, is);
    return Array.from({ length: d }, (_, j) => {
      const src = [...c];
      src[axis] = j;
      return { q: o, j, src: flat(src, ts) };
    });
  }, d);
  return { nodes: [...nodes, pick], value: { kind: "data", name: ctx.out, shape: idx.shape } };
}

function lowerScatterElementsData(ctx: OpCtx): LoweredMany | undefined {
  const idx = input(ctx, 1);
  if (idx.kind !== "data") return undefined;
  const base = input(ctx, 0);
  const upd = input(ctx, 2);
  const reduction = ctx.attrs.string("reduction", "none") || "none";
  if (reduction !== "none" && reduction !== "add") throw unsupported(ctx, `reduction "${reduction}" with data-dependent indices; only "none" and "add" are supported`);
  if (base.kind !== "data" || upd.kind !== "data") throw unsupported(ctx, "ScatterElements with data indices needs data (not constant) data and updates tensors");
  const axis = normAxis(ctx.attrs.int("axis", 0), base.shape.length, `ScatterElements "${ctx.name}"`);
  if (idx.shape.length !== base.shape.length || upd.shape.join() !== idx.shape.join()) {
    throw bad(ctx, `indices [${idx.shape}] and updates [${upd.shape}] must match, with the rank of data [${base.shape}]`);
  }
  const d = base.shape[axis];
  const bs = stridesOf(base.shape);
  const is = stridesOf(idx.shape);
  const { nodes, flags } = equalityFlags(ctx, idx, d);
  // Updates that can land on output p: those whose coordinates equal p's off the axis.
  const landing = (p: number) => {
    const c = coords(p, bs);
    const out: { q: number; j: number }[] = [];
    for (let k = 0; k < idx.shape[axis]; k++) {
      const u = [...c];
      u[axis] = k;
      if (u.every((v, dd) => v < idx.shape[dd])) out.push({ q: flat(u, is), j: c[axis] });
    }
    return out;
  };
  const n = size(base.shape);
  const lands = Array.from({ length: n }, (_, p) => landing(p));
  const total = lands.reduce((t, l) => t + l.length, 0);
  // "none": out = data + Σ hit · (update − data) (indices are unique, as ONNX requires); "add": out = data + Σ hit · update.
  const delta = new AffineBuilder(total);
  const su = delta.slot(upd.name);
  const sd = delta.slot(base.name);
  const ia: Int32Array[] = [];
  const ib: Int32Array[] = [];
  let e = 0;
  lands.forEach((ls, p) => {
    ia.push(Int32Array.from(ls, (l) => l.q * d + l.j));
    ib.push(Int32Array.from(ls, (_, k) => e + k));
    for (const l of ls) {
      delta.add(e, su, l.q, 1);
      if (reduction === "none") delta.add(e, sd, p, -1);
      e++;
    }
  });
  const deltaNode = delta.build(part(ctx, "delta"), [total], [ctx.name]);
  const mul: FloatNode = { kind: "mul", out: part(ctx, "change"), a: flags, b: deltaNode.out, shape: base.shape, ia, ib, coef: new Float64Array(n).fill(1), from: [ctx.name] };
  const sum = new AffineBuilder(n);
  const s1 = sum.slot(base.name);
  const s2 = sum.slot(mul.out);
  for (let p = 0; p < n; p++) {
    sum.add(p, s1, p, 1);
    sum.add(p, s2, p, 1);
  }
  return { nodes: [...nodes, deltaNode, mul, sum.build(ctx.out, base.shape, [ctx.name])], value: { kind: "data", name: ctx.out, shape: base.shape } };
}

export const INDEXING_OPS: Record<string, Lowering> = {
  GatherElements: lowerGatherElementsData,
  ScatterElements: lowerScatterElementsData,
};
