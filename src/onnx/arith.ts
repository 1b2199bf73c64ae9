/**
 * Arithmetic between activations (Mul, Div, MatMul of two data tensors), Softmax/LogSoftmax
 * anywhere in the graph, LayerNormalization/InstanceNormalization, ReduceSumSquare/ReduceL2.
 * Everything is built from the exact node kinds: products through `mul`, quotients through `div`,
 * the one transcendental step through `pwl`, and the rest as affine maps (fused where possible).
 */
import type { Lowering } from "./registry";
import type { LoweredMany } from "./dataMovement";
import { ElemKind, FloatNode, size } from "./ir";
import { AffineBuilder } from "./affine";
import { broadcastIndex, broadcastShape, matmulPlan, stridesOf } from "./shapes";
import { OpCtx, Value, bad, constInput, input, unsupported } from "./values";

type Data = Extract<Value, { kind: "data" }>;

function data(name: string, shape: number[], elem?: ElemKind): Data {
  return elem ? { kind: "data", name, shape, elem } : { kind: "data", name, shape };
}

/** Both operands, when both depend on the input; otherwise the linear core handles the op. */
function twoData(ctx: OpCtx): [Data, Data] | undefined {
  const a = ctx.inputs[0];
  const b = ctx.inputs[1];
  return a?.kind === "data" && b?.kind === "data" ? [a, b] : undefined;
}

const isInt = (v: Data) => v.elem === "int";

/** A node name derived from the ONNX output, so messages and summaries point at the source op. */
const part = (ctx: OpCtx, what: string) => `${ctx.out}::${what}`;

function affine(ctx: OpCtx, out: string, shape: number[], fill: (b: AffineBuilder) => void): FloatNode {
  const b = new AffineBuilder(size(shape));
  fill(b);
  return b.build(out, shape, [ctx.name]);
}

function identityIdx(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

// ---------------------------------------------------------------- Mul, Div, MatMul of activations

function broadcastPair(ctx: OpCtx, a: Data, b: Data): { shape: number[]; ia: Int32Array; ib: Int32Array } {
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) throw bad(ctx, `shapes [${a.shape}] and [${b.shape}] do not broadcast`);
  return { shape, ia: broadcastIndex(a.shape, shape), ib: broadcastIndex(b.shape, shape) };
}

function lowerMul(ctx: OpCtx): LoweredMany | undefined {
  const ab = twoData(ctx);
  if (!ab) return undefined;
  const [a, b] = ab;
  const { shape, ia, ib } = broadcastPair(ctx, a, b);
  const n = size(shape);
  const node: FloatNode = {
    kind: "mul", out: ctx.out, a: a.name, b: b.name, shape,
    ia: Array.from({ length: n }, (_, i) => Int32Array.of(ia[i])),
    ib: Array.from({ length: n }, (_, i) => Int32Array.of(ib[i])),
    coef: new Float64Array(n).fill(1), from: [ctx.name],
  };
  return { nodes: [node], value: data(ctx.out, shape, isInt(a) && isInt(b) ? "int" : undefined) };
}

function lowerDiv(ctx: OpCtx): LoweredMany | undefined {
  const ab = twoData(ctx);
  if (!ab) return undefined;
  const [a, b] = ab;
  const { shape, ia, ib } = broadcastPair(ctx, a, b);
  // Integer Div truncates toward zero (onnxruntime's C++ division), so the quotient is rounded after.
  const ints = isInt(a) && isInt(b);
  const q = ints ? part(ctx, "quotient") : ctx.out;
  const nodes: FloatNode[] = [{ kind: "div", out: q, a: a.name, b: b.name, shape, ia, ib, from: [ctx.name] }];
  if (ints) nodes.push({ kind: "round", mode: "trunc", out: ctx.out, input: q, shape, from: [ctx.name] });
  return { nodes, value: data(ctx.out, shape, ints ? "int" : undefined) };
}

/** Attention scores and weighted sums: one `mul` node whose output i sums the K products of row and column. */
function lowerMatMul(ctx: OpCtx): LoweredMany | undefined {
  const ab = twoData(ctx);
  if (!ab) return undefined;
  const [a, b] = ab;
  let plan;
  try {
    plan = matmulPlan(a.shape, b.shape, `MatMul "${ctx.name}"`);
  } catch (e) {
    throw bad(ctx, (e as Error).message);
  }
  const n = size(plan.outShape);
  const K = plan.K;
  const node: FloatNode = {
    kind: "mul", out: ctx.out, a: a.name, b: b.name, shape: plan.outShape,
    ia: Array.from({ length: n }, (_, i) => plan.a.slice(i * K, (i + 1) * K)),
    ib: Array.from({ length: n }, (_, i) => plan.b.slice(i * K, (i + 1) * K)),
    coef: new Float64Array(n).fill(1), from: [ctx.name],
  };
  return { nodes: [node], value: data(ctx.out, plan.outShape, isInt(a) && isInt(b) ? "int" : undefined) };
}

// ---------------------------------------------------------------- groups of elements reduced together

/** The elements of a tensor split into groups: `members[g]` lists group g, `of[j]` is j's group. */
interface Groups {
  members: Int32Array[];
  of: Int32Array;
}

/** Consecutive blocks of `inner` elements (the trailing axes from some axis on). */
function blockGroups(total: number, inner: number): Groups {
  const members = Array.from({ length: total / inner }, (_, g) => Int32Array.from({ length: inner }, (_, t) => g * inner + t));
  const of = Int32Array.from({ length: total }, (_, j) => Math.floor(j / inner));
  return { members, of };
}

/** One group per position of the other axes: the elements along `axis`. */
function axisGroups(shape: number[], axis: number): Groups {
  const dim = shape[axis];
  const inner = stridesOf(shape)[axis];
  const outer = size(shape.slice(0, axis));
  const members: Int32Array[] = [];
  const of = new Int32Array(size(shape));
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < inner; q++) {
      const g = members.length;
      const m = Int32Array.from({ length: dim }, (_, t) => (o * dim + t) * inner + q);
      for (const j of m) of[j] = g;
      members.push(m);
    }
  }
  return { members, of };
}

/** Groups from a set of reduced axes, in the order of the kept (output) positions. */
function reducedGroups(shape: number[], axes: number[]): Groups {
  const kept = shape.map((d, k) => (axes.includes(k) ? 1 : d));
  const ks = stridesOf(kept);
  const xs = stridesOf(shape);
  const members: number[][] = Array.from({ length: size(kept) }, () => []);
  const of = new Int32Array(size(shape));
  for (let j = 0; j < of.length; j++) {
    let g = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(j / xs[d]) % shape[d];
      if (!axes.includes(d)) g += c * ks[d];
    }
    of[j] = g;
    members[g].push(j);
  }
  return { members: members.map((m) => Int32Array.from(m)), of };
}

function normAxis(ctx: OpCtx, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw bad(ctx, `axis ${axis} is out of range for input rank ${rank}`);
  return a;
}

// ---------------------------------------------------------------- Softmax, LogSoftmax

/** Opset < 13 normalises the input flattened to 2-D at `axis` (default 1); opset 13 one axis (default -1). */
function softmaxGroups(ctx: OpCtx, shape: number[]): Groups {
  const r = shape.length;
  if (r === 0) throw bad(ctx, "input is a scalar");
  if (ctx.opset < 13) {
    let axis = ctx.attrs.int("axis", 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r) throw bad(ctx, `axis ${ctx.attrs.int("axis", 1)} is out of range for input rank ${r}`);
    return blockGroups(size(shape), size(shape.slice(axis)));
  }
  return axisGroups(shape, normAxis(ctx, ctx.attrs.int("axis", -1), r));
}

/**
 * softmax(x) = e / Σe with e = exp(x − max): the shift makes every exponent <= 0, so e lies in
 * (0, 1] and the sum in [1, n], ranges a fixed-point table and divider handle well.
 */
function lowerSoftmax(ctx: OpCtx): LoweredMany | undefined {
  const x = input(ctx, 0);
  if (x.kind !== "data") return undefined;
  const { members, of } = softmaxGroups(ctx, x.shape);
  const n = size(x.shape);
  const G = members.length;
  const [m, d, e, s] = ["max", "shifted", "exp", "sum"].map((w) => part(ctx, w));
  const nodes: FloatNode[] = [
    { kind: "maxpool", out: m, input: x.name, shape: [G], windows: members, from: [ctx.name] },
    affine(ctx, d, x.shape, (b) => {
      const sx = b.slot(x.name);
      const sm = b.slot(m);
      for (let j = 0; j < n; j++) { b.add(j, sx, j, 1); b.add(j, sm, of[j], -1); }
    }),
    { kind: "pwl", out: e, input: d, shape: x.shape, fn: "exp", params: [], from: [ctx.name] },
    affine(ctx, s, [G], (b) => {
      const se = b.slot(e);
      members.forEach((win, g) => { for (const j of win) b.add(g, se, j, 1); });
    }),
  ];
  if (ctx.op === "Softmax") {
    nodes.push({ kind: "div", out: ctx.out, a: e, b: s, shape: x.shape, ia: identityIdx(n), ib: of, from: [ctx.name] });
  } else {
    // log-softmax = (x − max) − log Σe; the sum is >= 1 (the max contributes exp(0)), so log is clamped at 1.
    const l = part(ctx, "log_sum");
    nodes.push({ kind: "pwl", out: l, input: s, shape: [G], fn: "log", params: [1], from: [ctx.name] });
    nodes.push(affine(ctx, ctx.out, x.shape, (b) => {
      const sd = b.slot(d);
      const sl = b.slot(l);
      for (let j = 0; j < n; j++) { b.add(j, sd, j, 1); b.add(j, sl, of[j], -1); }
    }));
  }
  return { nodes, value: data(ctx.out, x.shape) };
}

// ---------------------------------------------------------------- LayerNormalization, InstanceNormalization

/**
 * y = (x − mean) / sqrt(var + eps) · scale + bias over each group of `inner` consecutive elements.
 * The mean folds into the centring affine map; the variance is one `mul` node (each output sums the
 * squares of its group, with coefficient 1/n), so only sqrt and the divide are inexact steps.
 */
function normalize(ctx: OpCtx, x: Data, inner: number, eps: number, scale?: Float64Array, bias?: Float64Array): LoweredMany {
  const n = size(x.shape);
  const { members, of } = blockGroups(n, inner);
  const G = members.length;
  const [d, v, ve, sd] = ["centered", "var", "var_eps", "std"].map((w) => part(ctx, w));
  const plain = (!scale || scale.every((c) => c === 1)) && (!bias || bias.every((c) => c === 0));
  const y = plain ? ctx.out : part(ctx, "normalized");
  const nodes: FloatNode[] = [
    affine(ctx, d, x.shape, (b) => {
      const sx = b.slot(x.name);
      for (let j = 0; j < n; j++) {
        b.add(j, sx, j, 1);
        for (const k of members[of[j]]) b.add(j, sx, k, -1 / inner);
      }
    }),
    { kind: "mul", out: v, a: d, b: d, shape: [G], ia: members, ib: members, coef: new Float64Array(G).fill(1 / inner), from: [ctx.name] },
    affine(ctx, ve, [G], (b) => {
      const sv = b.slot(v);
      for (let g = 0; g < G; g++) { b.add(g, sv, g, 1); b.bias[g] = eps; }
    }),
    { kind: "sqrt", out: sd, input: ve, shape: [G], from: [ctx.name] },
    { kind: "div", out: y, a: d, b: sd, shape: x.shape, ia: identityIdx(n), ib: of, from: [ctx.name] },
  ];
  if (!plain) {
    nodes.push(affine(ctx, ctx.out, x.shape, (b) => {
      const sy = b.slot(y);
      for (let j = 0; j < n; j++) {
        b.add(j, sy, j, scale ? scale[j] : 1);
        if (bias) b.bias[j] = bias[j];
      }
    }));
  }
  return { nodes, value: data(ctx.out, x.shape) };
}

/** A constant parameter broadcast (unidirectionally) to the full input shape. */
function perElement(ctx: OpCtx, i: number, what: string, shape: number[]): Float64Array | undefined {
  if (!ctx.inputs[i]) return undefined;
  const t = constInput(ctx, i, what);
  const bs = broadcastShape(shape, t.dims);
  if (!bs || bs.join() !== shape.join()) throw bad(ctx, `${what} of shape [${t.dims}] does not broadcast to the input [${shape}]`);
  const idx = broadcastIndex(t.dims, shape);
  return Float64Array.from(idx, (k) => t.data[k]);
}

function lowerLayerNorm(ctx: OpCtx): LoweredMany | undefined {
  const x = input(ctx, 0);
  if (x.kind !== "data") return undefined;
  if ((ctx.node.output ?? []).slice(1).some((o) => o)) throw unsupported(ctx, "the Mean and InvStdDev outputs of LayerNormalization are not supported");
  const axis = normAxis(ctx, ctx.attrs.int("axis", -1), x.shape.length);
  const inner = size(x.shape.slice(axis));
  const scale = perElement(ctx, 1, "LayerNormalization Scale", x.shape);
  if (!scale) throw bad(ctx, "the Scale input is missing");
  const bias = perElement(ctx, 2, "LayerNormalization B", x.shape);
  return normalize(ctx, x, inner, ctx.attrs.float("epsilon", 1e-5), scale, bias);
}

function lowerInstanceNorm(ctx: OpCtx): LoweredMany | undefined {
  const x = input(ctx, 0);
  if (x.kind !== "data") return undefined;
  if (x.shape.length < 3) throw bad(ctx, `input must be N x C x D1 ..., got [${x.shape}]`);
  const C = x.shape[1];
  const inner = size(x.shape.slice(2));
  const channel = (what: string, i: number): Float64Array => {
    const t = constInput(ctx, i, what);
    if (t.data.length !== C) throw bad(ctx, `${what} has ${t.data.length} values, expected one per channel (${C})`);
    return Float64Array.from({ length: size(x.shape) }, (_, j) => t.data[Math.floor(j / inner) % C]);
  };
  return normalize(ctx, x, inner, ctx.attrs.float("epsilon", 1e-5), channel("InstanceNormalization scale", 1), channel("InstanceNormalization B", 2));
}

// ---------------------------------------------------------------- ReduceSumSquare, ReduceL2

function reduceSpec(ctx: OpCtx, rank: number): number[] {
  // Both take axes as an input from opset 18, an attribute before.
  let spec: number[] | undefined;
  if (ctx.opset >= 18) spec = ctx.inputs[1] ? Array.from(constInput(ctx, 1, `${ctx.op} axes`).data) : undefined;
  else spec = ctx.attrs.ints("axes");
  if (!spec || spec.length === 0) {
    if (ctx.opset >= 18 && ctx.attrs.int("noop_with_empty_axes", 0) === 1) throw unsupported(ctx, "noop_with_empty_axes=1 with no axes is not supported");
    return Array.from({ length: rank }, (_, d) => d);
  }
  return [...new Set(spec.map((a) => normAxis(ctx, a, rank)))].sort((p, q) => p - q);
}

/** Σ x² over the axes is one `mul` node reading x twice; ReduceL2 takes its square root. */
function lowerSumSquare(ctx: OpCtx): LoweredMany | undefined {
  const x = input(ctx, 0);
  if (x.kind !== "data") return undefined;
  const axes = reduceSpec(ctx, x.shape.length);
  const keep = ctx.attrs.int("keepdims", 1) === 1;
  const shape = keep ? x.shape.map((d, k) => (axes.includes(k) ? 1 : d)) : x.shape.filter((_, k) => !axes.includes(k));
  const { members } = reducedGroups(x.shape, axes);
  const l2 = ctx.op === "ReduceL2";
  const sq = l2 ? part(ctx, "sum_square") : ctx.out;
  const nodes: FloatNode[] = [
    { kind: "mul", out: sq, a: x.name, b: x.name, shape, ia: members, ib: members, coef: new Float64Array(members.length).fill(1), from: [ctx.name] },
  ];
  if (l2) nodes.push({ kind: "sqrt", out: ctx.out, input: sq, shape, from: [ctx.name] });
  return { nodes, value: data(ctx.out, shape, !l2 && isInt(x) ? "int" : undefined) };
}

export const ARITH_OPS: Record<string, Lowering> = {
  Mul: lowerMul,
  Div: lowerDiv,
  MatMul: lowerMatMul,
  Softmax: lowerSoftmax,
  LogSoftmax: lowerSoftmax,
  LayerNormalization: lowerLayerNorm,
  InstanceNormalization: lowerInstanceNorm,
  ReduceSumSquare: lowerSumSquare,
  ReduceL2: lowerSumSquare,
};
