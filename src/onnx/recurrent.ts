/**
 * RNN, LSTM and GRU (ONNX opsets 7–14+) unrolled over their static sequence length. Every step
 * becomes a handful of float-graph nodes: the gate pre-activations are affine maps of x_t and
 * h_{t-1} (one node per activation function they go through), activations are sigmoid / pwl / relu
 * nodes, and the elementwise products of two activations are `mul` nodes. Constant states (the
 * zero initial_h PyTorch builds) are folded through the first step, so they cost no node.
 */
import { onnx } from "onnx-proto";
import { FloatNode, size } from "./ir";
import { AffineBuilder } from "./affine";
import { PWL_FUNCTIONS } from "./pwlFunctions";
import type { Lowering } from "./registry";
import type { LoweredMany } from "./dataMovement";
import { OpCtx, Value, bad, constInput, input, shapeOf, unsupported } from "./values";

/**
 * A vector of n numbers one step reads or produces: element k is `scale[k] · name[base + k]` of a
 * data tensor (scale 1 when absent), or a constant. Slices and constant factors stay symbolic
 * this way, so they are folded into the consumer instead of costing a node.
 */
type Vec =
  | { kind: "data"; name: string; base: number; scale?: Float64Array }
  | { kind: "const"; v: Float64Array };

const zeros = (n: number): Vec => ({ kind: "const", v: new Float64Array(n) });
const isZero = (v: Vec): boolean => v.kind === "const" && v.v.every((x) => x === 0);
const scaleAt = (v: Vec & { kind: "data" }, k: number): number => (v.scale ? v.scale[k] : 1);

function slice(v: Vec, off: number, n: number): Vec {
  if (v.kind === "const") return { kind: "const", v: v.v.subarray(off, off + n) };
  return { ...v, base: v.base + off, scale: v.scale?.subarray(off, off + n) };
}

/** Rows [off, off + n) of an affine map under construction, every term multiplied by `gain`. */
class Lin {
  constructor(readonly ab: AffineBuilder, private readonly off = 0, private readonly gain = 1) {}

  vec(row: number, v: Vec, k: number, w: number): void {
    const g = w * this.gain;
    if (g === 0) return;
    if (v.kind === "const") this.ab.bias[this.off + row] += g * v.v[k];
    else {
      const gs = g * scaleAt(v, k);
      if (gs !== 0) this.ab.add(this.off + row, this.ab.slot(v.name), v.base + k, gs);
    }
  }

  /** Σ_i W[wOff + i] · v[kOff + i]. */
  dot(row: number, W: Float64Array, wOff: number, v: Vec, kOff: number, len: number): void {
    for (let i = 0; i < len; i++) this.vec(row, v, kOff + i, W[wOff + i]);
  }

  bias(row: number, c: number): void {
    this.ab.bias[this.off + row] += c * this.gain;
  }

  /** The same map, rows counted from `off` further down (the next gate of a shared node). */
  at(off: number): Lin {
    return new Lin(this.ab, this.off + off, this.gain);
  }
}

type Fill = (lin: Lin) => void;

/**
 * An ONNX recurrent activation: f(gain·x + shift) · outGain. `node` is undefined for a linear
 * activation (Affine), which is folded into its pre-activation node.
 */
interface Act {
  name: string;
  gain: number;
  shift: number;
  outGain: number;
  f: (x: number) => number;
  node?: (inp: string, out: string, n: number, from: string[]) => FloatNode;
}

const pwl = (fn: string, params: number[] = []) => (inp: string, out: string, n: number, from: string[]): FloatNode =>
  ({ kind: "pwl", out, input: inp, shape: [n], fn, params, from });

/**
 * Activation names (matched case-insensitively, as onnxruntime does for LSTM and GRU) with the
 * alpha / beta they consume and their defaults; null marks a value that must be given, because
 * onnxruntime's default (0) is not the ONNX operator's (Affine's alpha 1, ScaledTanh's 1 and 1).
 */
const ACTS: Record<string, { alpha?: number | null; beta?: number | null; make: (a: number, b: number) => Omit<Act, "name"> }> = {
  sigmoid: { make: () => ({ gain: 1, shift: 0, outGain: 1, f: PWL_FUNCTIONS.sigmoid as (x: number) => number, node: (input, out, n, from) => ({ kind: "sigmoid", out, input, shape: [n], from }) }) },
  tanh: { make: () => ({ gain: 1, shift: 0, outGain: 1, f: Math.tanh, node: pwl("tanh") }) },
  relu: { make: () => ({ gain: 1, shift: 0, outGain: 1, f: (x) => Math.max(0, x), node: (input, out, n, from) => ({ kind: "relu", out, input, shape: [n], from }) }) },
  leakyrelu: {
    alpha: 0.01,
    make: (a) => ({ gain: 1, shift: 0, outGain: 1, f: (x) => (x >= 0 ? x : a * x), node: (input, out, n, from) => ({ kind: "leakyrelu", out, input, shape: [n], alpha: a, from }) }),
  },
  affine: { alpha: null, beta: null, make: (a, b) => ({ gain: a, shift: b, outGain: 1, f: (x) => x }) },
  scaledtanh: { alpha: null, beta: null, make: (a, b) => ({ gain: b, shift: 0, outGain: a, f: Math.tanh, node: pwl("tanh") }) },
  elu: { alpha: 1, make: (a) => ({ gain: 1, shift: 0, outGain: 1, f: (x) => PWL_FUNCTIONS.elu(x, [a]), node: pwl("elu", [a]) }) },
  softplus: { make: () => ({ gain: 1, shift: 0, outGain: 1, f: (x) => PWL_FUNCTIONS.softplus(x, []), node: pwl("softplus") }) },
};

function stringsAttr(node: onnx.INodeProto, name: string): string[] | undefined {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  return a ? (a.strings ?? []).map((s) => Buffer.from(s).toString("utf8")) : undefined;
}

/**
 * The activations of each direction. activation_alpha / activation_beta are consumed in order by
 * the activations that take them (as onnxruntime does); the others use their ONNX defaults.
 */
function activations(ctx: OpCtx, defaults: string[], nd: number): Act[][] {
  const per = defaults.length;
  let names = stringsAttr(ctx.node, "activations") ?? [];
  if (names.length === 0) names = Array.from({ length: per * nd }, (_, k) => defaults[k % per]);
  // onnxruntime also refuses a bidirectional node with one direction's list.
  if (names.length !== per * nd) {
    throw bad(ctx, `activations has ${names.length} entries; expected ${per} per direction (${per * nd} for ${nd} direction${nd > 1 ? "s" : ""})`);
  }
  const alphas = ctx.attrs.floats("activation_alpha") ?? [];
  const betas = ctx.attrs.floats("activation_beta") ?? [];
  const cursor = { alpha: 0, beta: 0 };
  const param = (name: string, dflt: number | null | undefined, what: "alpha" | "beta"): number => {
    if (dflt === undefined) return 0;
    const list = what === "alpha" ? alphas : betas;
    if (cursor[what] < list.length) return list[cursor[what]++];
    if (dflt === null) throw unsupported(ctx, `activation ${name} needs its ${what} in activation_${what} (onnxruntime's default differs from the ONNX operator's)`);
    return dflt;
  };
  const acts = names.map((name) => {
    const spec = ACTS[name.toLowerCase()];
    if (!spec) {
      throw unsupported(ctx, `activation "${name}" is not supported (supported: Sigmoid, Tanh, Relu, LeakyRelu, Affine, ScaledTanh, Elu, Softplus)`);
    }
    const a = param(name, spec.alpha, "alpha");
    return { name, ...spec.make(a, param(name, spec.beta, "beta")) };
  });
  return Array.from({ length: nd }, (_, d) => acts.slice(d * per, (d + 1) * per));
}

/** Node emission for one recurrent op: tracks the nodes made and the size of every tensor they read. */
class Unroll {
  readonly nodes: FloatNode[] = [];
  private readonly sizes = new Map<string, number>();

  constructor(private readonly from: string[]) {}

  known(name: string, n: number): void {
    this.sizes.set(name, n);
  }

  private push(node: FloatNode): Vec {
    this.nodes.push(node);
    this.sizes.set(node.out, size(node.shape));
    return { kind: "data", name: node.out, base: 0 };
  }

  /** An affine map of n outputs; a constant when no data term survives (a constant state). */
  affine(out: string, n: number, fill: Fill, gain = 1, shift = 0): Vec {
    const ab = new AffineBuilder(n);
    fill(new Lin(ab, 0, gain));
    for (let k = 0; k < n; k++) ab.bias[k] += shift;
    const node = ab.build(out, [n], this.from);
    if (node.inputs.length === 0) return { kind: "const", v: node.bias };
    return this.push(node);
  }

  /** Σ w · v; no node when a single vector survives (it is only rescaled). */
  sum(out: string, n: number, parts: [Vec, number][]): Vec {
    const live = parts.filter(([v, w]) => w !== 0 && !isZero(v));
    if (live.length === 0) return zeros(n);
    if (live.length === 1 && live[0][0].kind === "data") {
      const [v, w] = live[0];
      if (w === 1) return v;
      const v2 = v as Vec & { kind: "data" };
      return { ...v2, scale: Float64Array.from({ length: n }, (_, k) => w * scaleAt(v2, k)) };
    }
    return this.affine(out, n, (lin) => {
      for (const [v, w] of live) for (let k = 0; k < n; k++) lin.vec(k, v, k, w);
    });
  }

  /** a ⊙ b: a `mul` node when both depend on the input, otherwise a rescaling (or a constant). */
  product(out: string, n: number, a: Vec, b: Vec): Vec {
    if (isZero(a) || isZero(b)) return zeros(n);
    if (a.kind === "const" && b.kind === "const") return { kind: "const", v: Float64Array.from(a.v, (x, k) => x * b.v[k]) };
    if (a.kind === "const" || b.kind === "const") {
      const [c, d] = (a.kind === "const" ? [a, b] : [b, a]) as [Vec & { kind: "const" }, Vec & { kind: "data" }];
      return { ...d, scale: Float64Array.from(c.v, (x, k) => x * scaleAt(d, k)) };
    }
    // The node multiplies the raw tensors (coef 1); the factors' scales ride along on the result.
    const ia = Array.from({ length: n }, (_, k) => Int32Array.of(a.base + k));
    const ib = Array.from({ length: n }, (_, k) => Int32Array.of(b.base + k));
    const y = this.push({ kind: "mul", out, a: a.name, b: b.name, shape: [n], ia, ib, coef: new Float64Array(n).fill(1), from: this.from });
    if (!a.scale && !b.scale) return y;
    return { ...(y as Vec & { kind: "data" }), scale: Float64Array.from({ length: n }, (_, k) => scaleAt(a, k) * scaleAt(b, k)) };
  }

  /** act(pre) with pre = fill(·), clipped to [−clip, clip] first when clip is set. */
  activate(out: string, n: number, act: Act, clip: number | undefined, fill: Fill): Vec {
    const linear = !act.node;
    let pre: Vec;
    if (clip === undefined) pre = this.affine(linear ? out : `${out}::pre`, n, fill, act.gain, act.shift);
    else pre = this.clipped(linear ? out : `${out}::clip`, n, clip, fill, act);
    if (!act.node) return pre;
    if (pre.kind === "const") return { kind: "const", v: pre.v.map((x) => act.f(x) * act.outGain) };
    return this.applyTo(out, n, act, pre);
  }

  /** act(v) for a vector already computed (LSTM's cell): no pre-activation node when v is a whole tensor. */
  activateVec(out: string, n: number, act: Act, v: Vec): Vec {
    const whole = v.kind === "data" && v.base === 0 && !v.scale && this.sizes.get(v.name) === n;
    if (!whole || act.gain !== 1 || act.shift !== 0 || !act.node) {
      return this.activate(out, n, act, undefined, (lin) => { for (let k = 0; k < n; k++) lin.vec(k, v, k, 1); });
    }
    return this.applyTo(out, n, act, v);
  }

  private applyTo(out: string, n: number, act: Act, pre: Vec & { kind: "data" }): Vec {
    const y = this.push((act.node as NonNullable<Act["node"]>)(pre.name, out, n, this.from));
    if (act.outGain === 1) return y;
    return { ...(y as Vec & { kind: "data" }), scale: new Float64Array(n).fill(act.outGain) };
  }

  /**
   * clamp(x, −c, c) = x − relu(x − c) + relu(−x − c): one affine node for both relu arguments, one
   * relu node over them, and the clamped value (with the activation's input scaling) as an affine node.
   */
  private clipped(out: string, n: number, c: number, fill: Fill, act: Act): Vec {
    const ab = new AffineBuilder(2 * n);
    fill(new Lin(ab, 0, 1));
    fill(new Lin(ab, n, -1));
    for (let k = 0; k < 2 * n; k++) ab.bias[k] -= c;
    const node = ab.build(`${out}::args`, [2 * n], this.from);
    if (node.inputs.length === 0) {
      const x = node.bias.subarray(0, n);
      return { kind: "const", v: x.map((v) => act.gain * Math.min(c, Math.max(-c, v + c)) + act.shift) };
    }
    const args = this.push(node);
    const r = this.push({ kind: "relu", out: `${out}::relu`, input: node.out, shape: [2 * n], from: this.from });
    return this.affine(out, n, (lin) => {
      for (let k = 0; k < n; k++) {
        lin.vec(k, args, k, 1);
        lin.bias(k, c);
        lin.vec(k, r, k, -1);
        lin.vec(k, r, n + k, 1);
      }
    }, act.gain, act.shift);
  }

  /** Vectors of `part` numbers stacked into one output tensor (missing ones are zero), or an alias of the only one. */
  stack(out: string, shape: number[], part: number, parts: (Vec | undefined)[]): Value {
    const n = size(shape);
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only && only.kind === "data" && only.base === 0 && !only.scale && this.sizes.get(only.name) === n) {
      return { kind: "data", name: only.name, shape, elem: "float" };
    }
    const v = this.affine(out, n, (lin) => {
      parts.forEach((p, q) => { if (p) for (let k = 0; k < part; k++) lin.vec(q * part + k, p, k, 1); });
    });
    if (v.kind === "const") return { kind: "const", t: { dims: shape, data: v.v, dataType: onnx.TensorProto.DataType.FLOAT } };
    return { kind: "data", name: (v as Vec & { kind: "data" }).name, shape, elem: "float" };
  }
}

/** The parsed operands of one recurrent node. */
interface Cell {
  /** Gates per direction: RNN 1, GRU 3 (z, r, h), LSTM 4 (i, o, f, c). */
  G: number;
  seq: number;
  /** Steps actually run (a constant sequence_lens shorter than seq). */
  steps: number;
  B: number;
  I: number;
  H: number;
  nd: number;
  W: Float64Array;
  R: Float64Array;
  bias: Float64Array;
  clip?: number;
  acts: Act[][];
  x: (t: number) => Vec;
  h0: Vec[];
  c0: Vec[];
  P?: Float64Array;
}

/** Which parts of a gate's pre-activation to add: W·x (+Wb) and R·h (+Rb). */
interface GateParts {
  x?: Vec;
  h?: Vec;
  wb: boolean;
  rb: boolean;
}

/** Rows row0 + b·H + j (batch b, unit j) of gate g of direction d. */
function gateRows(lin: Lin, row0: number, c: Cell, d: number, g: number, p: GateParts): void {
  const { G, H, I, B } = c;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const row = row0 + b * H + j;
      const r = (d * G + g) * H + j;
      if (p.x) lin.dot(row, c.W, r * I, p.x, b * I, I);
      if (p.h) lin.dot(row, c.R, r * H, p.h, b * H, H);
      if (p.wb) lin.bias(row, c.bias[d * 2 * G * H + g * H + j]);
      if (p.rb) lin.bias(row, c.bias[d * 2 * G * H + G * H + g * H + j]);
    }
  }
}

/** LSTM peephole term p ⊙ c for gate q of P's order (i = 0, o = 1, f = 2). */
function peephole(lin: Lin, row0: number, c: Cell, d: number, q: number, cell: Vec): void {
  const { H, B } = c;
  const P = c.P as Float64Array;
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) lin.vec(row0 + b * H + j, cell, b * H + j, P[(d * 3 + q) * H + j]);
}

interface State {
  h: Vec;
  c: Vec;
}

type Step = (u: Unroll, c: Cell, d: number, x: Vec, s: State, p: string) => State;

const rnnStep: Step = (u, c, d, x, s, p) => {
  const n = c.B * c.H;
  const h = u.activate(`${p}::h`, n, c.acts[d][0], c.clip, (lin) => gateRows(lin, 0, c, d, 0, { x, h: s.h, wb: true, rb: true }));
  return { h, c: s.c };
};

const lstmStep: Step = (u, c, d, x, s, p) => {
  const n = c.B * c.H;
  const [f, g, hAct] = c.acts[d];
  const peep = !!c.P;
  // Gates i, f (and o, unless its peephole needs the new cell) share one sigmoid node.
  const sig = peep ? [0, 2] : [0, 2, 1];
  const S = u.activate(`${p}::${peep ? "if" : "ifo"}`, sig.length * n, f, c.clip, (lin) => sig.forEach((gate, q) => {
    gateRows(lin.at(q * n), 0, c, d, gate, { x, h: s.h, wb: true, rb: true });
    if (peep) peephole(lin.at(q * n), 0, c, d, gate === 0 ? 0 : 2, s.c);
  }));
  const gi = slice(S, 0, n);
  const gf = slice(S, n, n);
  const gg = u.activate(`${p}::g`, n, g, c.clip, (lin) => gateRows(lin, 0, c, d, 3, { x, h: s.h, wb: true, rb: true }));
  const cell = u.sum(`${p}::c`, n, [[u.product(`${p}::fc`, n, gf, s.c), 1], [u.product(`${p}::ig`, n, gi, gg), 1]]);
  const go = peep
    ? u.activate(`${p}::o`, n, f, c.clip, (lin) => { gateRows(lin, 0, c, d, 1, { x, h: s.h, wb: true, rb: true }); peephole(lin, 0, c, d, 1, cell); })
    : slice(S, 2 * n, n);
  // onnxruntime clips the gates' pre-activations only, not the cell that h's activation reads.
  const hc = u.activateVec(`${p}::hc`, n, hAct, cell);
  return { h: u.product(`${p}::h`, n, go, hc), c: cell };
};

function gruStep(linearBeforeReset: boolean): Step {
  return (u, c, d, x, s, p) => {
    const n = c.B * c.H;
    const [f, g] = c.acts[d];
    const ZR = u.activate(`${p}::zr`, 2 * n, f, c.clip, (lin) => {
      gateRows(lin, 0, c, d, 0, { x, h: s.h, wb: true, rb: true });
      gateRows(lin.at(n), 0, c, d, 1, { x, h: s.h, wb: true, rb: true });
    });
    const z = slice(ZR, 0, n);
    const r = slice(ZR, n, n);
    let nGate: Vec;
    if (linearBeforeReset) {
      // n = g(W x + Wb + r ⊙ (R h + Rb))
      const q = u.affine(`${p}::rh`, n, (lin) => gateRows(lin, 0, c, d, 2, { h: s.h, wb: false, rb: true }));
      const rq = u.product(`${p}::rq`, n, r, q);
      nGate = u.activate(`${p}::n`, n, g, c.clip, (lin) => {
        gateRows(lin, 0, c, d, 2, { x, wb: true, rb: false });
        for (let k = 0; k < n; k++) lin.vec(k, rq, k, 1);
      });
    } else {
      // n = g(W x + R (r ⊙ h) + Wb + Rb)
      const rh = u.product(`${p}::rh`, n, r, s.h);
      nGate = u.activate(`${p}::n`, n, g, c.clip, (lin) => gateRows(lin, 0, c, d, 2, { x, h: rh, wb: true, rb: true }));
    }
    // (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n): one product instead of two.
    const diff = u.sum(`${p}::hn`, n, [[s.h, 1], [nGate, -1]]);
    const zd = u.product(`${p}::zd`, n, z, diff);
    return { h: u.sum(`${p}::h`, n, [[nGate, 1], [zd, 1]]), c: s.c };
  };
}

const SPECS: Record<string, { G: number; acts: string[] }> = {
  RNN: { G: 1, acts: ["Tanh"] },
  GRU: { G: 3, acts: ["Sigmoid", "Tanh"] },
  LSTM: { G: 4, acts: ["Sigmoid", "Tanh", "Tanh"] },
};

function constTensor(ctx: OpCtx, i: number, what: string, dims: number[]): Float64Array | undefined {
  if (!ctx.inputs[i]) return undefined;
  const t = constInput(ctx, i, what);
  if (size(t.dims) !== size(dims)) throw bad(ctx, `${what} has shape [${t.dims}]; expected [${dims}]`);
  return t.data;
}

/** initial_h / initial_c of each direction: zeros when absent, a constant, or a slice of a data tensor. */
function initialState(ctx: OpCtx, u: Unroll, i: number, what: string, nd: number, n: number): Vec[] {
  const v = ctx.inputs[i];
  if (!v) return Array.from({ length: nd }, () => zeros(n));
  const s = shapeOf(v);
  if (size(s) !== nd * n) throw bad(ctx, `${what} has shape [${s}]; expected ${nd * n} values (num_directions × batch × hidden_size)`);
  if (v.kind === "const") return Array.from({ length: nd }, (_, d) => ({ kind: "const", v: v.t.data.slice(d * n, (d + 1) * n) }));
  u.known(v.name, nd * n);
  return Array.from({ length: nd }, (_, d) => ({ kind: "data", name: v.name, base: d * n }));
}

/** A constant sequence_lens is accepted when every sequence has the same length. */
function stepsOf(ctx: OpCtx, seq: number, B: number): number {
  const v = ctx.inputs[4];
  if (!v) return seq;
  if (v.kind !== "const") throw unsupported(ctx, "sequence_lens (input 4) must be a constant: the unrolled length is fixed at import");
  const lens = Array.from(v.t.data);
  if (lens.length !== B) throw bad(ctx, `sequence_lens has ${lens.length} entries; expected one per batch element (${B})`);
  if (lens.some((l) => l !== lens[0]) || lens[0] < 1 || lens[0] > seq) {
    throw unsupported(ctx, `sequence_lens [${lens}]: only one length shared by the whole batch, between 1 and seq_length (${seq}), is supported`);
  }
  return lens[0];
}

function parse(ctx: OpCtx, u: Unroll): Cell {
  const { G, acts: defaultActs } = SPECS[ctx.op];
  const X = input(ctx, 0);
  const xs = shapeOf(X);
  if (xs.length !== 3) throw bad(ctx, `X has shape [${xs}]; expected [seq_length, batch_size, input_size]`);
  const layout = ctx.attrs.int("layout", 0);
  if (layout !== 0 && !(layout === 1 && xs[0] === 1)) {
    throw unsupported(ctx, `layout=${layout} with batch ${xs[0]}: only layout 0 ([seq, batch, input]), or layout 1 with batch 1, is supported`);
  }
  const [seq, B, I] = layout === 0 ? xs : [xs[1], xs[0], xs[2]];
  const direction = ctx.attrs.string("direction", "forward");
  if (!["forward", "reverse", "bidirectional"].includes(direction)) throw bad(ctx, `direction "${direction}"; expected forward, reverse or bidirectional`);
  const nd = direction === "bidirectional" ? 2 : 1;
  const wt = constInput(ctx, 1, "W");
  const rt = constInput(ctx, 2, "R");
  const H = ctx.attrs.int("hidden_size", rt.dims[2] ?? 0);
  if (!(H > 0)) throw bad(ctx, "hidden_size is missing and R does not give it");
  const want = (what: string, got: number[], dims: number[]) => {
    if (got.length !== dims.length || got.some((x, k) => x !== dims[k])) throw bad(ctx, `${what} has shape [${got}]; expected [${dims}]`);
  };
  want("W", wt.dims, [nd, G * H, I]);
  want("R", rt.dims, [nd, G * H, H]);
  if (ctx.attrs.int("input_forget", 0) !== 0) throw unsupported(ctx, "input_forget=1 (coupled input and forget gates) is not supported");
  const clip = ctx.attrs.has("clip") ? ctx.attrs.float("clip", 0) : undefined;
  if (clip !== undefined && !(clip > 0)) throw bad(ctx, `clip ${clip} must be positive`);
  const n = B * H;
  const cell: Cell = {
    G, seq, steps: stepsOf(ctx, seq, B), B, I, H, nd, clip,
    W: wt.data,
    R: rt.data,
    bias: constTensor(ctx, 3, "B", [nd, 2 * G * H]) ?? new Float64Array(nd * 2 * G * H),
    acts: activations(ctx, defaultActs, nd),
    x: (t) => (X.kind === "const" ? { kind: "const", v: X.t.data.slice(t * B * I, (t + 1) * B * I) } : { kind: "data", name: X.name, base: t * B * I }),
    h0: initialState(ctx, u, 5, "initial_h", nd, n),
    c0: ctx.op === "LSTM" ? initialState(ctx, u, 6, "initial_c", nd, n) : [],
    P: ctx.op === "LSTM" ? constTensor(ctx, 7, "P", [nd, 3 * H]) : undefined,
  };
  if (X.kind === "data") u.known(X.name, size(xs));
  return cell;
}

function stepFor(ctx: OpCtx): Step {
  if (ctx.op === "RNN") return rnnStep;
  if (ctx.op === "LSTM") return lstmStep;
  const lbr = ctx.attrs.int("linear_before_reset", 0);
  if (lbr !== 0 && lbr !== 1) throw bad(ctx, `linear_before_reset ${lbr}; expected 0 or 1`);
  return gruStep(lbr === 1);
}

function lowerRecurrent(ctx: OpCtx): LoweredMany {
  const outs = ctx.node.output ?? [];
  // Internal names must be unique even when Y itself is not requested (an empty output name).
  const prefix = outs.find((o) => o) || ctx.name;
  const u = new Unroll([ctx.name]);
  const c = parse(ctx, u);
  const step = stepFor(ctx);
  const n = c.B * c.H;
  const ys: (Vec | undefined)[] = new Array(c.seq * c.nd).fill(undefined);
  const last: State[] = [];
  for (let d = 0; d < c.nd; d++) {
    const reverse = ctx.attrs.string("direction", "forward") === "reverse" || d === 1;
    const tag = c.nd === 2 ? (d === 0 ? "::fwd" : "::bwd") : "";
    let s: State = { h: c.h0[d], c: ctx.op === "LSTM" ? c.c0[d] : zeros(n) };
    for (let k = 0; k < c.steps; k++) {
      const t = reverse ? c.steps - 1 - k : k;
      s = step(u, c, d, c.x(t), s, `${prefix}::t${t}${tag}`);
      ys[t * c.nd + d] = s.h;
    }
    last.push(s);
  }
  // Layout 1 is only accepted with batch 1, where its flat order is layout 0's: only the shapes differ.
  const layout1 = ctx.attrs.int("layout", 0) === 1;
  const stateShape = layout1 ? [c.B, c.nd, c.H] : [c.nd, c.B, c.H];
  const named = (k: number) => outs[k] || `${prefix}::out${k}`;
  const Y = u.stack(named(0), layout1 ? [c.B, c.seq, c.nd, c.H] : [c.seq, c.nd, c.B, c.H], n, ys);
  const more: [string, Value][] = [];
  if (outs[1]) more.push([outs[1], u.stack(named(1), stateShape, n, last.map((s) => s.h))]);
  if (ctx.op === "LSTM" && outs[2]) more.push([outs[2], u.stack(named(2), stateShape, n, last.map((s) => s.c))]);
  return { nodes: u.nodes, value: Y, more };
}

export const RECURRENT_OPS: Record<string, Lowering> = {
  RNN: lowerRecurrent,
  LSTM: lowerRecurrent,
  GRU: lowerRecurrent,
};
