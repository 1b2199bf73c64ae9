/**
 * Elementwise non-linear ops. Smooth functions become one `pwl` node (a table in the circuit).
 * Functions that are exactly piecewise linear (Abs, PRelu, Clip, HardSigmoid, ...) are written as
 * sums of relu hinges plus an affine part instead: relu and affine are exact in fixed point, so
 * these cost no table and lose nothing to interpolation. Integer powers are products (`mul`).
 */
import { ElemKind, FloatNode, MulNode, size } from "./ir";
import { AffineBuilder } from "./affine";
import type { LoweredMany } from "./dataMovement";
import type { Lowering } from "./registry";
import { broadcastIndex, broadcastShape } from "./shapes";
import { OpCtx, Value, bad, constOf, input, unsupported } from "./values";

type Data = Extract<Value, { kind: "data" }>;

/** A per-element constant: one number for all elements, or one per output element. */
type PerElem = number | ArrayLike<number>;
const at = (p: PerElem, i: number): number => (typeof p === "number" ? p : p[i]);

function dataInput(ctx: OpCtx): Data {
  const x = input(ctx, 0);
  // All-constant nodes were folded by the driver, so a constant here means another input is data.
  if (x.kind !== "data") throw unsupported(ctx, "the first input is a constant while another input depends on the model input; only the reverse is supported");
  return x;
}

function result(ctx: OpCtx, nodes: FloatNode[], shape: number[], elem?: ElemKind): LoweredMany {
  const value: Value = elem ? { kind: "data", name: ctx.out, shape, elem } : { kind: "data", name: ctx.out, shape };
  return { nodes, value };
}

/** Keeps integer inputs integer for ops that map integers to integers (Abs, Neg, Sign). */
const intElem = (x: Data): ElemKind | undefined => (x.elem === "int" ? "int" : undefined);

/** ONNX stores float attributes as float32; its defaults are float32 too. */
const f32 = (ctx: OpCtx, name: string, dflt: number): number => ctx.attrs.float(name, Math.fround(dflt));

// ---------------------------------------------------------------------------------------------
// Table functions

function pwl(ctx: OpCtx, fn: string, params: number[] = []): LoweredMany {
  const x = dataInput(ctx);
  return result(ctx, [{ kind: "pwl", out: ctx.out, input: x.name, shape: x.shape, fn, params, from: [ctx.name] }], x.shape);
}

const table = (fn: string, params?: (ctx: OpCtx) => number[]): Lowering => (ctx) => pwl(ctx, fn, params?.(ctx));

function lowerGelu(ctx: OpCtx): LoweredMany {
  const approx = ctx.attrs.string("approximate", "none");
  if (approx === "none") return pwl(ctx, "gelu");
  if (approx === "tanh") return pwl(ctx, "gelu_tanh");
  throw bad(ctx, `approximate="${approx}"; ONNX allows "none" or "tanh"`);
}

// ---------------------------------------------------------------------------------------------
// Exact piecewise-linear functions: y = bias + lin·x + Σ_j w_j · relu(a_j·x + b_j)

interface Hinge {
  a: PerElem;
  b: PerElem;
  w: PerElem;
}

/**
 * The hinges' pre-activations are stacked into one affine node (hinge j fills elements j·n .. j·n+n−1),
 * so any number of hinges costs one affine, one relu and one combining affine. A single hinge
 * relu(x) reads x directly.
 */
function reluSum(ctx: OpCtx, x: Data, hinges: Hinge[], lin: PerElem, bias: PerElem, elem?: ElemKind): LoweredMany {
  const n = size(x.shape);
  const k = hinges.length;
  const nodes: FloatNode[] = [];
  let pre = x.name;
  const plain = k === 1 && typeof hinges[0].a === "number" && hinges[0].a === 1 && typeof hinges[0].b === "number" && hinges[0].b === 0;
  if (!plain) {
    const P = new AffineBuilder(k * n);
    const s = P.slot(x.name);
    hinges.forEach((h, j) => {
      for (let i = 0; i < n; i++) {
        P.add(j * n + i, s, i, at(h.a, i));
        P.bias[j * n + i] = at(h.b, i);
      }
    });
    pre = `${ctx.out}::hinge_in`;
    nodes.push(P.build(pre, [k * n], [ctx.name]));
  }
  const r = `${ctx.out}::hinge`;
  nodes.push({ kind: "relu", out: r, input: pre, shape: plain ? x.shape : [k * n], from: [ctx.name] });
  const Y = new AffineBuilder(n);
  const sr = Y.slot(r);
  // Only read x when some element uses it: an extra reader would keep x's producer from fusing.
  const sx = Array.from({ length: n }, (_, i) => at(lin, i)).some((v) => v !== 0) ? Y.slot(x.name) : -1;
  for (let i = 0; i < n; i++) {
    hinges.forEach((h, j) => Y.add(i, sr, j * n + i, at(h.w, i)));
    if (sx >= 0) Y.add(i, sx, i, at(lin, i));
    Y.bias[i] = at(bias, i);
  }
  nodes.push(Y.build(ctx.out, x.shape, [ctx.name]));
  return result(ctx, nodes, x.shape, elem);
}

function lowerAbs(ctx: OpCtx): LoweredMany {
  const x = dataInput(ctx);
  return reluSum(ctx, x, [{ a: 1, b: 0, w: 2 }], -1, 0, intElem(x));
}

function lowerNeg(ctx: OpCtx): LoweredMany {
  const x = dataInput(ctx);
  const B = new AffineBuilder(size(x.shape));
  const s = B.slot(x.name);
  for (let i = 0; i < B.outSize; i++) B.add(i, s, i, -1);
  return result(ctx, [B.build(ctx.out, x.shape, [ctx.name])], x.shape, intElem(x));
}

/** y = x for x ≥ 0, α·x below: relu(x)·(1 − α) + α·x, with the slope broadcast onto x (unidirectional). */
function lowerPRelu(ctx: OpCtx): LoweredMany {
  const x = dataInput(ctx);
  const sv = input(ctx, 1);
  if (sv.kind !== "const") throw unsupported(ctx, `the slope (input 1 "${ctx.node.input?.[1]}") depends on the model input; only a constant slope is supported`);
  const bs = broadcastShape(x.shape, sv.t.dims);
  if (!bs || bs.join() !== x.shape.join()) throw bad(ctx, `slope of shape [${sv.t.dims}] does not broadcast to the input shape [${x.shape}]`);
  const idx = broadcastIndex(sv.t.dims, x.shape);
  const alpha = Float64Array.from(idx, (j) => sv.t.data[j]);
  return reluSum(ctx, x, [{ a: 1, b: 0, w: alpha.map((v) => 1 - v) }], alpha, 0);
}

/** clamp(α·x + β, 0, 1) = relu(α·x + β) − relu(α·x + β − 1). */
function lowerHardSigmoid(ctx: OpCtx): LoweredMany {
  const x = dataInput(ctx);
  const alpha = f32(ctx, "alpha", 0.2);
  const beta = f32(ctx, "beta", 0.5);
  return reluSum(ctx, x, [{ a: alpha, b: beta, w: 1 }, { a: alpha, b: beta - 1, w: -1 }], 0, 0);
}

/** Clip bounds beyond ±FLT_MAX (the opset-6 attribute defaults) mean "no bound". */
const FLT_MAX = 3.4028234663852886e38;

function clipBound(ctx: OpCtx, i: number, attr: string): number | undefined {
  if (ctx.opset < 11) {
    const v = ctx.attrs.has(attr) ? ctx.attrs.float(attr, 0) : undefined;
    return v === undefined || Math.abs(v) >= FLT_MAX ? undefined : v;
  }
  const v = ctx.inputs[i];
  if (!v) return undefined;
  if (v.kind !== "const") throw unsupported(ctx, `the ${attr} bound (input ${i} "${ctx.node.input?.[i]}") depends on the model input; only constant bounds are supported`);
  if (v.t.data.length !== 1) throw bad(ctx, `the ${attr} bound must be a scalar, got shape [${v.t.dims}]`);
  const b = v.t.data[0];
  return Number.isFinite(b) && Math.abs(b) < FLT_MAX ? b : undefined;
}

/** lo + relu(x − lo) − relu(x − hi); a missing bound drops its hinge. */
function lowerClip(ctx: OpCtx): LoweredMany | Value {
  const x = dataInput(ctx);
  const lo = clipBound(ctx, 1, "min");
  const hi = clipBound(ctx, 2, "max");
  const elem = x.elem === "int" && Number.isInteger(lo ?? 0) && Number.isInteger(hi ?? 0) ? "int" : undefined;
  if (lo === undefined && hi === undefined) return x;
  if (lo !== undefined && hi !== undefined && lo >= hi) {
    // ONNX: every output is max when min > max (and min = max leaves nothing else). Zero weights keep x as the input.
    const B = new AffineBuilder(size(x.shape));
    B.slot(x.name);
    B.bias.fill(hi);
    return result(ctx, [B.build(ctx.out, x.shape, [ctx.name])], x.shape, elem);
  }
  if (hi === undefined) return reluSum(ctx, x, [{ a: 1, b: -(lo as number), w: 1 }], 0, lo as number, elem);
  if (lo === undefined) return reluSum(ctx, x, [{ a: 1, b: -hi, w: -1 }], 1, 0, elem);
  return reluSum(ctx, x, [{ a: 1, b: -lo, w: 1 }, { a: 1, b: -hi, w: -1 }], 0, lo, elem);
}

/** y = x where x > α, else 0: relu(x − α) + α·[x − α > 0], exact (no product, no table). */
function lowerThresholdedRelu(ctx: OpCtx): LoweredMany {
  const x = dataInput(ctx);
  const alpha = f32(ctx, "alpha", 1);
  const n = size(x.shape);
  const P = new AffineBuilder(n);
  const s = P.slot(x.name);
  for (let i = 0; i < n; i++) { P.add(i, s, i, 1); P.bias[i] = -alpha; }
  const pre = `${ctx.out}::shifted`;
  const r = `${ctx.out}::relu`;
  const c = `${ctx.out}::above`;
  const Y = new AffineBuilder(n);
  const sr = Y.slot(r);
  const sc = Y.slot(c);
  for (let i = 0; i < n; i++) { Y.add(i, sr, i, 1); Y.add(i, sc, i, alpha); }
  return result(ctx, [
    P.build(pre, x.shape, [ctx.name]),
    { kind: "relu", out: r, input: pre, shape: x.shape, from: [ctx.name] },
    { kind: "compare", op: "gt", out: c, input: pre, shape: x.shape, from: [ctx.name] },
    Y.build(ctx.out, x.shape, [ctx.name]),
  ], x.shape);
}

/** [x > 0] − [x < 0]: one comparison over the stacked [x; −x], then their difference. */
function lowerSign(ctx: OpCtx): LoweredMany {
  const x = dataInput(ctx);
  const n = size(x.shape);
  const P = new AffineBuilder(2 * n);
  const s = P.slot(x.name);
  for (let i = 0; i < n; i++) { P.add(i, s, i, 1); P.add(n + i, s, i, -1); }
  const pre = `${ctx.out}::pm`;
  const c = `${ctx.out}::positive`;
  const Y = new AffineBuilder(n);
  const sc = Y.slot(c);
  for (let i = 0; i < n; i++) { Y.add(i, sc, i, 1); Y.add(i, sc, n + i, -1); }
  return result(ctx, [
    P.build(pre, [2 * n], [ctx.name]),
    { kind: "compare", op: "gt", out: c, input: pre, shape: [2 * n], from: [ctx.name] },
    Y.build(ctx.out, x.shape, [ctx.name]),
  ], x.shape, intElem(x));
}

// ---------------------------------------------------------------------------------------------
// Sqrt and Pow

function lowerSqrt(ctx: OpCtx): LoweredMany {
  const x = dataInput(ctx);
  return result(ctx, [{ kind: "sqrt", out: ctx.out, input: x.name, shape: x.shape, from: [ctx.name] }], x.shape);
}

function mulNode(out: string, a: string, b: string, shape: number[], from: string): MulNode {
  const n = size(shape);
  const ia = Array.from({ length: n }, (_, i) => Int32Array.of(i));
  return { kind: "mul", out, a, b, shape, ia, ib: ia.map((r) => Int32Array.from(r)), coef: new Float64Array(n).fill(1), from: [from] };
}

/** x^p for an integer p ≥ 2 by repeated squaring: ⌊log2 p⌋ squarings plus one product per further set bit. */
function powByProducts(ctx: OpCtx, x: Data, p: number): FloatNode[] {
  const nodes: FloatNode[] = [];
  let base = x.name;
  let acc: string | undefined;
  let e = p;
  const mul = (a: string, b: string): string => {
    const out = `${ctx.out}::pow${nodes.length}`;
    nodes.push(mulNode(out, a, b, x.shape, ctx.name));
    return out;
  };
  for (;;) {
    if (e & 1) acc = acc === undefined ? base : mul(acc, base);
    e >>= 1;
    if (e === 0) break;
    base = mul(base, base);
  }
  // The last product made is the result (no later node reads it), so it takes the op's name.
  nodes[nodes.length - 1].out = ctx.out;
  return nodes;
}

/** Largest integer power done with products; above it a table is cheaper than the chain of products. */
const MAX_PRODUCT_POWER = 16;

function uniformExponent(ctx: OpCtx, e: Value): number {
  if (e.kind !== "const") {
    throw unsupported(ctx, `the exponent (input 1 "${ctx.node.input?.[1]}") depends on the model input; only a constant exponent is supported`);
  }
  const d = e.t.data;
  if (d.length === 0) throw bad(ctx, "the exponent tensor is empty");
  if (d.some((v) => v !== d[0])) throw unsupported(ctx, `an exponent tensor with different values per element ([${e.t.dims}]) is not supported; it must hold one value`);
  return d[0];
}

function lowerPow(ctx: OpCtx): LoweredMany | Value {
  const p = uniformExponent(ctx, input(ctx, 1));
  let x = dataInput(ctx);
  const ev = input(ctx, 1);
  const shape = broadcastShape(x.shape, ev.kind === "const" ? ev.t.dims : []);
  if (!shape) throw bad(ctx, `the exponent's shape does not broadcast with the input shape [${x.shape}]`);
  const pre: FloatNode[] = [];
  if (size(shape) !== size(x.shape)) {
    // A larger constant exponent only repeats the base: copy it out to the output shape first.
    const out = `${ctx.out}::base`;
    pre.push({ kind: "select", out, input: x.name, shape, idx: broadcastIndex(x.shape, shape), from: [ctx.name] });
    x = { kind: "data", name: out, shape, elem: x.elem };
  } else {
    x = { ...x, shape };
  }
  const done = (nodes: FloatNode[], elem?: ElemKind) => result(ctx, [...pre, ...nodes], shape, elem);
  const unary = (node: FloatNode) => done([node]);
  if (p === 0) return constOf(shape, new Float64Array(size(shape)).fill(1));
  if (p === 1) return pre.length ? { nodes: pre, value: { kind: "data", name: x.name, shape } } : x;
  if (Number.isInteger(p) && p >= 2 && p <= MAX_PRODUCT_POWER) return done(powByProducts(ctx, x, p), intElem(x));
  if (p === 0.5) return unary({ kind: "sqrt", out: ctx.out, input: x.name, shape, from: [ctx.name] });
  const powTable = (fn: string) => unary({ kind: "pwl", out: ctx.out, input: x.name, shape, fn, params: [p], from: [ctx.name] });
  if (p === -1) return unary({ kind: "pwl", out: ctx.out, input: x.name, shape, fn: "reciprocal", params: [], from: [ctx.name] });
  if (Number.isInteger(p)) return powTable("powi");
  // A non-integer power of a negative base is NaN in ONNX; the "pow" table clamps such bases (see pwlFunctions.ts).
  return powTable("pow");
}

export const NONLINEAR_OPS: Record<string, Lowering> = {
  Tanh: table("tanh"),
  Erf: table("erf"),
  Exp: table("exp"),
  Log: table("log"),
  Softplus: table("softplus"),
  Softsign: table("softsign"),
  Elu: table("elu", (ctx) => [f32(ctx, "alpha", 1)]),
  Selu: table("selu", (ctx) => [f32(ctx, "alpha", 1.67326319217681884765625), f32(ctx, "gamma", 1.05070102214813232421875)]),
  Celu: table("celu", (ctx) => {
    const alpha = f32(ctx, "alpha", 1);
    if (alpha === 0) throw bad(ctx, "alpha must not be 0 (Celu divides by it)");
    return [alpha];
  }),
  Gelu: lowerGelu,
  Mish: table("mish"),
  HardSwish: table("hardswish"),
  Sin: table("sin"),
  Cos: table("cos"),
  Tan: table("tan"),
  Asin: table("asin"),
  Acos: table("acos"),
  Atan: table("atan"),
  Sinh: table("sinh"),
  Cosh: table("cosh"),
  Asinh: table("asinh"),
  Reciprocal: table("reciprocal"),
  Abs: lowerAbs,
  Neg: lowerNeg,
  PRelu: lowerPRelu,
  HardSigmoid: lowerHardSigmoid,
  Clip: lowerClip,
  ThresholdedRelu: lowerThresholdedRelu,
  Sign: lowerSign,
  Sqrt: lowerSqrt,
  Pow: lowerPow,
};
