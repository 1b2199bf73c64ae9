import { FloatNode, size } from "./ir";
import { ConstTensor } from "./load";
import { AffineBuilder } from "./affine";
import { ProductPlan, axisGeometry, broadcastIndex, broadcastShape, gemmPlan, matmulPlan } from "./shapes";
import { OpCtx, Value, bad, constInput, input, shapeOf, unsupported } from "./values";

/** A lowered op: the float-graph node it became and the Value its output now stands for. */
export interface Lowered {
  node: FloatNode;
  value: Value;
}

function data(name: string, shape: number[]): Value {
  return { kind: "data", name, shape };
}

function product(ctx: OpCtx, plan: ProductPlan, a: Value, b: Value, alpha: number): { builder: AffineBuilder; shape: number[] } {
  const n = size(plan.outShape);
  const B = new AffineBuilder(n);
  const K = plan.K;
  if (a.kind === "data" && b.kind === "const") {
    const s = B.slot(a.name);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) B.add(i, s, plan.a[i * K + k], alpha * b.t.data[plan.b[i * K + k]]);
  } else if (a.kind === "const" && b.kind === "data") {
    const s = B.slot(b.name);
    for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) B.add(i, s, plan.b[i * K + k], alpha * a.t.data[plan.a[i * K + k]]);
  } else {
    throw unsupported(ctx, `${ctx.op} of two non-constant tensors is not linear (one factor must be a weight)`);
  }
  return { builder: B, shape: plan.outShape };
}

export function lowerMatMul(ctx: OpCtx): Lowered {
  const a = input(ctx, 0);
  const b = input(ctx, 1);
  const { builder, shape } = product(ctx, matmulPlan(shapeOf(a), shapeOf(b), `MatMul "${ctx.name}"`), a, b, 1);
  return { node: builder.build(ctx.out, shape, [ctx.name]), value: data(ctx.out, shape) };
}

export function lowerGemm(ctx: OpCtx): Lowered {
  const a = input(ctx, 0);
  const b = input(ctx, 1);
  const at = ctx.attrs;
  const plan = gemmPlan(shapeOf(a), shapeOf(b), at.int("transA", 0) === 1, at.int("transB", 0) === 1, `Gemm "${ctx.name}"`);
  const { builder, shape } = product(ctx, plan, a, b, at.float("alpha", 1));
  if (ctx.inputs[2]) {
    const c = constInput(ctx, 2, "the Gemm bias C");
    addBias(ctx, builder, shape, c, at.float("beta", 1));
  }
  return { node: builder.build(ctx.out, shape, [ctx.name]), value: data(ctx.out, shape) };
}

function addBias(ctx: OpCtx, B: AffineBuilder, shape: number[], c: ConstTensor, scale: number): void {
  const bs = broadcastShape(shape, c.dims);
  if (!bs || bs.join() !== shape.join()) throw bad(ctx, `bias of shape [${c.dims}] does not broadcast to [${shape}]`);
  const ic = broadcastIndex(c.dims, shape);
  for (let i = 0; i < B.outSize; i++) B.bias[i] += scale * c.data[ic[i]];
}

/** Add/Sub/Mul/Div where at least one side is a data tensor. */
export function lowerElementwise(ctx: OpCtx): Lowered {
  const x = input(ctx, 0);
  const y = input(ctx, 1);
  const shape = broadcastShape(shapeOf(x), shapeOf(y));
  if (!shape) throw bad(ctx, `shapes [${shapeOf(x)}] and [${shapeOf(y)}] do not broadcast`);
  const n = size(shape);
  const B = new AffineBuilder(n);
  const ix = broadcastIndex(shapeOf(x), shape);
  const iy = broadcastIndex(shapeOf(y), shape);
  const op = ctx.op;
  if (x.kind === "data" && y.kind === "data") {
    if (op === "Mul" || op === "Div") throw unsupported(ctx, `${op} of two non-constant tensors is not linear (only ${op} by a constant is supported)`);
    const sx = B.slot(x.name);
    const sy = B.slot(y.name);
    for (let i = 0; i < n; i++) {
      B.add(i, sx, ix[i], 1);
      B.add(i, sy, iy[i], op === "Sub" ? -1 : 1);
    }
  } else if (x.kind === "data" && y.kind === "const") {
    const s = B.slot(x.name);
    for (let i = 0; i < n; i++) {
      const c = y.t.data[iy[i]];
      if (op === "Add") { B.add(i, s, ix[i], 1); B.bias[i] = c; }
      else if (op === "Sub") { B.add(i, s, ix[i], 1); B.bias[i] = -c; }
      else if (op === "Mul") B.add(i, s, ix[i], c);
      else {
        if (c === 0) throw bad(ctx, "division by a constant zero");
        B.add(i, s, ix[i], 1 / c);
      }
    }
  } else if (x.kind === "const" && y.kind === "data") {
    if (op === "Div") throw unsupported(ctx, "Div by a non-constant tensor is not linear (only Div by a constant is supported)");
    const s = B.slot(y.name);
    for (let i = 0; i < n; i++) {
      const c = x.t.data[ix[i]];
      if (op === "Add") { B.add(i, s, iy[i], 1); B.bias[i] = c; }
      else if (op === "Sub") { B.add(i, s, iy[i], -1); B.bias[i] = c; }
      else B.add(i, s, iy[i], c);
    }
  } else {
    throw bad(ctx, "internal: elementwise op on two constants should have been folded");
  }
  return { node: B.build(ctx.out, shape, [ctx.name]), value: data(ctx.out, shape) };
}

/** Spatial layout of an NCHW (or NCL, treated as H = 1) tensor and a window op's geometry. */
interface Window2d {
  N: number; C: number; H: number; W: number;
  kH: number; kW: number; sH: number; sW: number; dH: number; dW: number;
  OH: number; OW: number; padTop: number; padLeft: number;
}

function windowGeometry(ctx: OpCtx, shape: number[], kernel: number[] | undefined, allowCeil: boolean): Window2d {
  if (shape.length !== 4 && shape.length !== 3) {
    throw unsupported(ctx, `only 1-D and 2-D spatial inputs (NCL/NCHW) are supported, got shape [${shape}]`);
  }
  const one = shape.length === 3;
  const sp = shape.slice(2);
  const at = ctx.attrs;
  const k = kernel ?? at.ints("kernel_shape");
  if (!k || k.length !== sp.length) throw bad(ctx, `kernel_shape ${k ? `[${k}]` : "missing"} does not match input [${shape}]`);
  const strides = at.ints("strides") ?? sp.map(() => 1);
  const dil = at.ints("dilations") ?? sp.map(() => 1);
  const pads = at.ints("pads") ?? sp.map(() => 0).concat(sp.map(() => 0));
  const autoPad = at.string("auto_pad", "NOTSET") || "NOTSET";
  const r = sp.length;
  const geo = sp.map((inSize, d) => axisGeometry(inSize, k[d], strides[d] ?? 1, dil[d] ?? 1, autoPad, pads[d] ?? 0, pads[d + r] ?? 0, `${ctx.op} "${ctx.name}"`));
  if (at.int("ceil_mode", 0) === 1) {
    const ceilOut = sp.map((inSize, d) => Math.ceil((inSize + pads[d] + pads[d + r] - ((k[d] - 1) * dil[d] + 1)) / strides[d]) + 1);
    if (!allowCeil || autoPad !== "NOTSET" || ceilOut.some((o, d) => o !== geo[d].out)) throw unsupported(ctx, "ceil_mode=1 is not supported");
  }
  const pick = <T>(v: T[], d: number, dflt: T): T => (one ? (d === 0 ? dflt : v[0]) : v[d]);
  return {
    N: shape[0], C: shape[1], H: one ? 1 : sp[0], W: one ? sp[0] : sp[1],
    kH: pick(k, 0, 1), kW: pick(k, 1, 1), sH: pick(strides, 0, 1), sW: pick(strides, 1, 1),
    dH: pick(dil, 0, 1), dW: pick(dil, 1, 1),
    OH: pick(geo, 0, { out: 1, padBegin: 0 }).out, OW: pick(geo, 1, { out: 1, padBegin: 0 }).out,
    padTop: pick(geo, 0, { out: 1, padBegin: 0 }).padBegin, padLeft: pick(geo, 1, { out: 1, padBegin: 0 }).padBegin,
  };
}

function outShape(shape: number[], g: Window2d, channels: number): number[] {
  return shape.length === 3 ? [g.N, channels, g.OW] : [g.N, channels, g.OH, g.OW];
}

/** Visit the in-bounds input positions of window (oh, ow); returns the window's full size incl. padding. */
function forWindow(g: Window2d, oh: number, ow: number, f: (ih: number, iw: number, kh: number, kw: number) => void): number {
  for (let kh = 0; kh < g.kH; kh++) {
    const ih = oh * g.sH - g.padTop + kh * g.dH;
    if (ih < 0 || ih >= g.H) continue;
    for (let kw = 0; kw < g.kW; kw++) {
      const iw = ow * g.sW - g.padLeft + kw * g.dW;
      if (iw < 0 || iw >= g.W) continue;
      f(ih, iw, kh, kw);
    }
  }
  return g.kH * g.kW;
}

function dataInput(ctx: OpCtx): { name: string; shape: number[] } {
  const x = input(ctx, 0);
  if (x.kind !== "data") throw bad(ctx, "internal: op on a constant should have been folded");
  return x;
}

export function lowerConv(ctx: OpCtx): Lowered {
  const x = dataInput(ctx);
  const w = constInput(ctx, 1, "the Conv weight");
  const group = ctx.attrs.int("group", 1);
  const g = windowGeometry(ctx, x.shape, ctx.attrs.ints("kernel_shape") ?? w.dims.slice(2), false);
  const M = w.dims[0];
  // Grouped (depthwise when group = C) convolution: output channel m sees only its group's input channels.
  if (!(group >= 1) || g.C % group !== 0 || M % group !== 0) {
    throw bad(ctx, `group=${group} must divide both the ${g.C} input and the ${M} output channels`);
  }
  const Cg = g.C / group;
  const Mg = M / group;
  if (w.dims[1] !== Cg) throw bad(ctx, `weight [${w.dims}] expects ${w.dims[1]} input channels per group, input has ${g.C} in ${group} group(s)`);
  const bias = ctx.inputs[2] ? constInput(ctx, 2, "the Conv bias") : undefined;
  const shape = outShape(x.shape, g, M);
  const B = new AffineBuilder(size(shape));
  const s = B.slot(x.name);
  for (let n = 0; n < g.N; n++) {
    for (let m = 0; m < M; m++) {
      const c0 = Math.floor(m / Mg) * Cg;
      for (let oh = 0; oh < g.OH; oh++) {
        for (let ow = 0; ow < g.OW; ow++) {
          const i = ((n * M + m) * g.OH + oh) * g.OW + ow;
          if (bias) B.bias[i] = bias.data[m];
          for (let c = 0; c < Cg; c++) {
            forWindow(g, oh, ow, (ih, iw, kh, kw) => {
              B.add(i, s, ((n * g.C + c0 + c) * g.H + ih) * g.W + iw, w.data[((m * Cg + c) * g.kH + kh) * g.kW + kw]);
            });
          }
        }
      }
    }
  }
  return { node: B.build(ctx.out, shape, [ctx.name]), value: data(ctx.out, shape) };
}

export function lowerAveragePool(ctx: OpCtx): Lowered {
  const x = dataInput(ctx);
  const g = windowGeometry(ctx, x.shape, undefined, true);
  if (g.dH !== 1 || g.dW !== 1) throw unsupported(ctx, "dilated AveragePool is not supported");
  // count_include_pad=0 (the default) divides by the in-bounds count only.
  const includePad = ctx.attrs.int("count_include_pad", 0) === 1;
  const shape = outShape(x.shape, g, g.C);
  const B = new AffineBuilder(size(shape));
  const s = B.slot(x.name);
  for (let nc = 0; nc < g.N * g.C; nc++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        const cells: number[] = [];
        const full = forWindow(g, oh, ow, (ih, iw) => cells.push((nc * g.H + ih) * g.W + iw));
        const div = includePad ? full : cells.length;
        const i = (nc * g.OH + oh) * g.OW + ow;
        for (const j of cells) B.add(i, s, j, 1 / div);
      }
    }
  }
  return { node: B.build(ctx.out, shape, [ctx.name]), value: data(ctx.out, shape) };
}

export function lowerGlobalAveragePool(ctx: OpCtx): Lowered {
  const x = dataInput(ctx);
  if (x.shape.length < 3) throw bad(ctx, `input must be N x C x spatial..., got [${x.shape}]`);
  const [N, C] = x.shape;
  const area = size(x.shape.slice(2));
  const shape = [N, C, ...x.shape.slice(2).map(() => 1)];
  const B = new AffineBuilder(N * C);
  const s = B.slot(x.name);
  for (let i = 0; i < N * C; i++) for (let j = 0; j < area; j++) B.add(i, s, i * area + j, 1 / area);
  return { node: B.build(ctx.out, shape, [ctx.name]), value: data(ctx.out, shape) };
}

export function lowerMaxPool(ctx: OpCtx): Lowered {
  const x = dataInput(ctx);
  if ((ctx.node.output ?? []).length > 1 && ctx.node.output?.[1]) throw unsupported(ctx, "the Indices output of MaxPool is not supported");
  const g = windowGeometry(ctx, x.shape, undefined, true);
  if (g.dH !== 1 || g.dW !== 1) throw unsupported(ctx, "dilated MaxPool is not supported");
  const shape = outShape(x.shape, g, g.C);
  const windows: Int32Array[] = [];
  for (let nc = 0; nc < g.N * g.C; nc++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        const cells: number[] = [];
        forWindow(g, oh, ow, (ih, iw) => cells.push((nc * g.H + ih) * g.W + iw));
        if (cells.length === 0) throw bad(ctx, "a pooling window lies entirely in the padding");
        windows.push(Int32Array.from(cells));
      }
    }
  }
  return { node: { kind: "maxpool", out: ctx.out, input: x.name, shape, windows, from: [ctx.name] }, value: data(ctx.out, shape) };
}

export function lowerBatchNorm(ctx: OpCtx): Lowered {
  const x = dataInput(ctx);
  if (ctx.attrs.int("training_mode", 0) === 1 || (ctx.node.output ?? []).slice(1).some((o) => o)) {
    throw unsupported(ctx, "training-mode BatchNormalization (running statistics outputs) is not supported");
  }
  const [scale, b, mean, v] = [1, 2, 3, 4].map((i) => constInput(ctx, i, "BatchNormalization parameters"));
  const eps = ctx.attrs.float("epsilon", 1e-5);
  const C = x.shape[1];
  const inner = size(x.shape.slice(2));
  const B = new AffineBuilder(size(x.shape));
  const s = B.slot(x.name);
  for (let i = 0; i < B.outSize; i++) {
    const c = Math.floor(i / inner) % C;
    const a = scale.data[c] / Math.sqrt(v.data[c] + eps);
    B.add(i, s, i, a);
    B.bias[i] = b.data[c] - mean.data[c] * a;
  }
  return { node: B.build(ctx.out, x.shape, [ctx.name]), value: data(ctx.out, x.shape) };
}

export function lowerPad(ctx: OpCtx): Lowered {
  const x = dataInput(ctx);
  const at = ctx.attrs;
  const mode = at.string("mode", "constant");
  if (mode !== "constant" && mode !== "reflect" && mode !== "edge") throw unsupported(ctx, `Pad mode "${mode}" is not supported (only "constant", "reflect" and "edge")`);
  const r = x.shape.length;
  let pads: number[];
  let value: number;
  if (ctx.opset < 11) {
    pads = at.ints("pads") ?? [];
    value = at.float("value", 0);
  } else {
    pads = Array.from(constInput(ctx, 1, "Pad pads").data);
    value = ctx.inputs[2] ? constInput(ctx, 2, "Pad constant_value").data[0] ?? 0 : 0;
  }
  if (ctx.inputs[3]) {
    // opset 18: pads only for the listed axes.
    const axes = Array.from(constInput(ctx, 3, "Pad axes").data).map((a) => (a < 0 ? a + r : a));
    const full = new Array<number>(2 * r).fill(0);
    axes.forEach((a, j) => { full[a] = pads[j]; full[a + r] = pads[j + axes.length]; });
    pads = full;
  }
  if (pads.length !== 2 * r) throw bad(ctx, `pads [${pads}] do not match input rank ${r}`);
  const shape = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
  if (shape.some((d) => d < 0)) throw bad(ctx, `pads [${pads}] crop more than the input [${x.shape}]`);
  if (mode !== "constant" && pads.some((p) => p < 0)) throw unsupported(ctx, `negative pads with mode "${mode}" are not supported`);
  // Reflection mirrors without repeating the border element, so it needs pads below the axis length.
  if (mode === "reflect" && x.shape.some((d, i) => (pads[i] > 0 || pads[i + r] > 0) && (pads[i] >= d || pads[i + r] >= d))) {
    throw unsupported(ctx, `reflect pads [${pads}] as large as the input [${x.shape}] are not supported`);
  }
  const n = size(shape);
  const B = new AffineBuilder(n);
  const s = B.slot(x.name);
  const coords = new Array<number>(r);
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let d = r - 1; d >= 0; d--) { coords[d] = rem % shape[d]; rem = Math.floor(rem / shape[d]); }
    let j = 0;
    let inside = true;
    for (let d = 0; d < r; d++) {
      let c = coords[d] - pads[d];
      const len = x.shape[d];
      if (mode === "edge") c = Math.min(Math.max(c, 0), len - 1);
      else if (mode === "reflect") c = c < 0 ? -c : c >= len ? 2 * (len - 1) - c : c;
      if (c < 0 || c >= len) { inside = false; break; }
      j = j * x.shape[d] + c;
    }
    if (inside) B.add(i, s, j, 1);
    else B.bias[i] = value;
  }
  return { node: B.build(ctx.out, shape, [ctx.name]), value: data(ctx.out, shape) };
}
