/**
 * Lookups on data indices: OneHot, and Gather whose indices depend on the model input (the leaf
 * and node lookups of exported tree ensembles).
 *
 * A lookup by a data index becomes a sum of indicator bits [idx = c] · table[c]. To keep the
 * number of indicators small, only the indices that the integer bounds of idx
 * (src/onnx/intBounds.ts) allow are tested: tree traversals compute node indices as
 * 2·parent + bit + offset, whose bounds are tight, so each lookup only tests the few indices the
 * traversal can reach.
 */
import { AffineBuilder } from "./affine";
import type { LoweredMany } from "./dataMovement";
import { Bounds, Data, boundsOf, dataValue, elemOf, filled } from "./intBounds";
import { FloatNode, MulNode, size } from "./ir";
import { axisOf, dataIn } from "./logicBuilders";
import type { Lowering } from "./registry";
import { OpCtx, bad, constInput, input, shapeOf } from "./values";

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

export const LOOKUP_OPS: Record<string, Lowering> = {
  OneHot: lowerOneHot,
  Gather: lowerLookup,
};
