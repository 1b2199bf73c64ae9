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
import { boundsOf } from "./intBounds";

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

/** For every index q, the positions j it can select and where its flag sits in the flag tensor. */
type Candidates = { j: number; f: number }[][];

/**
 * Flags hit[f] = 1 exactly when index q equals j or j − d (ONNX allows negative indices), for the
 * candidates j the index can reach: all of [0, d) unless integer bounds (src/onnx/intBounds.ts) say less.
 */
function equalityFlags(ctx: OpCtx, idx: Data, d: number): { nodes: FloatNode[]; flags: string; cand: Candidates } {
  const n = size(idx.shape);
  const bounds = boundsOf(idx);
  const cand: Candidates = [];
  const forms: { q: number; at: number }[] = [];
  let f = 0;
  for (let q = 0; q < n; q++) {
    const lo = bounds ? bounds.lo[q] : -Infinity;
    const hi = bounds ? bounds.hi[q] : Infinity;
    const list: { j: number; f: number }[] = [];
    for (let j = 0; j < d; j++) {
      const pos = j >= lo && j <= hi;
      const neg = j - d >= lo && j - d <= hi;
      if (!pos && !neg) continue;
      if (pos) forms.push({ q, at: j });
      if (neg) forms.push({ q, at: j - d });
      list.push({ j, f: f++ });
    }
    cand.push(list);
  }
  const diff = new AffineBuilder(forms.length);
  const s = diff.slot(idx.name);
  forms.forEach((e, r) => {
    diff.add(r, s, e.q, 1);
    diff.bias[r] = -e.at;
  });
  const eq: FloatNode = { kind: "compare", op: "eq", out: part(ctx, "eq"), input: part(ctx, "diff"), shape: [forms.length], from: [ctx.name] };
  // Each candidate's flag sums its one or two equalities (at most one holds).
  const merge = new AffineBuilder(f);
  const m = merge.slot(eq.out);
  let r = 0;
  for (let q = 0; q < n; q++) {
    for (const c of cand[q]) {
      while (r < forms.length && forms[r].q === q && (forms[r].at === c.j || forms[r].at === c.j - d)) merge.add(c.f, m, r++, 1);
    }
  }
  return { nodes: [diff.build(part(ctx, "diff"), [forms.length], [ctx.name]), eq, merge.build(part(ctx, "hit"), [f], [ctx.name])], flags: part(ctx, "hit"), cand };
}

/** out[o] = Σ over o's candidates of hit · table[src], as an affine map (constant table) or products (data table). */
function weightedPick(ctx: OpCtx, table: Value, flags: string, outShape: number[], terms: (o: number) => { f: number; src: number }[]): FloatNode {
  const n = size(outShape);
  if (table.kind === "const") {
    const b = new AffineBuilder(n);
    const s = b.slot(flags);
    for (let o = 0; o < n; o++) for (const t of terms(o)) b.add(o, s, t.f, table.t.data[t.src]);
    return b.build(ctx.out, outShape, [ctx.name]);
  }
  const ia: Int32Array[] = [];
  const ib: Int32Array[] = [];
  for (let o = 0; o < n; o++) {
    const ts = terms(o);
    ia.push(Int32Array.from(ts, (t) => t.f));
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
  const { nodes, flags, cand } = equalityFlags(ctx, idx, d);
  const pick = weightedPick(ctx, table, flags, idx.shape, (o) => {
    const c = coords(o, is);
    return cand[o].map(({ j, f }) => {
      const src = [...c];
      src[axis] = j;
      return { f, src: flat(src, ts) };
    });
  });
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
  const { nodes, flags, cand } = equalityFlags(ctx, idx, d);
  // Updates that can land on output p: those whose coordinates equal p's off the axis and whose index can reach p.
  const landing = (p: number) => {
    const c = coords(p, bs);
    const out: { q: number; f: number }[] = [];
    for (let k = 0; k < idx.shape[axis]; k++) {
      const u = [...c];
      u[axis] = k;
      if (!u.every((v, dd) => v < idx.shape[dd])) continue;
      const q = flat(u, is);
      const hit = cand[q].find((x) => x.j === c[axis]);
      if (hit) out.push({ q, f: hit.f });
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
    ia.push(Int32Array.from(ls, (l) => l.f));
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
