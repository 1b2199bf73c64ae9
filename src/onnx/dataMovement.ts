import { FloatNode, size } from "./ir";
import { ConstTensor } from "./load";
import { AffineBuilder } from "./affine";
import { stridesOf } from "./shapes";
import { OpCtx, Value, bad, constInput, input, unsupported } from "./values";

/**
 * Data movement and reductions on activations. Every op here is linear in its data inputs, so it
 * lowers to an `affine` node (a rearrangement has one weight-1 term per output) or, for max/min
 * reductions, to the existing `maxpool` node: no new circuit template is involved.
 */
export interface LoweredMany {
  nodes: FloatNode[];
  value: Value;
  /** Further outputs of a multi-output op (Split), by ONNX tensor name. */
  more?: [string, Value][];
}

function data(name: string, shape: number[]): Value {
  return { kind: "data", name, shape };
}

function unravel(i: number, strides: number[], out: number[]): void {
  let rem = i;
  for (let d = 0; d < strides.length; d++) {
    out[d] = Math.floor(rem / strides[d]);
    rem -= out[d] * strides[d];
  }
}

function dataOf(ctx: OpCtx, i: number): { name: string; shape: number[] } {
  const v = input(ctx, i);
  if (v.kind !== "data") throw bad(ctx, "internal: op on a constant should have been folded");
  return v;
}

function ints(t: ConstTensor): number[] {
  return Array.from(t.data);
}

function axisIn(ctx: OpCtx, a: number, rank: number): number {
  const n = a < 0 ? a + rank : a;
  if (n < 0 || n >= rank) throw bad(ctx, `axis ${a} is out of range for rank ${rank}`);
  return n;
}

/**
 * Output element i copies element src(coords of i) of the (single) data input. `src` returns the
 * flat input index; it receives the output coordinates.
 */
function gatherMap(ctx: OpCtx, x: { name: string; shape: number[] }, shape: number[], src: (c: number[]) => number): LoweredMany {
  const n = size(shape);
  const B = new AffineBuilder(n);
  const s = B.slot(x.name);
  const st = stridesOf(shape);
  const c = new Array<number>(shape.length);
  for (let i = 0; i < n; i++) {
    unravel(i, st, c);
    B.add(i, s, src(c), 1);
  }
  return { nodes: [B.build(ctx.out, shape, [ctx.name])], value: data(ctx.out, shape) };
}

function flatIndex(c: number[], strides: number[]): number {
  let j = 0;
  for (let d = 0; d < c.length; d++) j += c[d] * strides[d];
  return j;
}

export function lowerConcat(ctx: OpCtx): LoweredMany {
  const parts = ctx.inputs.filter((v): v is Value => !!v);
  const shapes = parts.map((v) => (v.kind === "const" ? v.t.dims : v.shape));
  const r = shapes[0].length;
  const axis = axisIn(ctx, ctx.attrs.int("axis", 0), r);
  const shape = [...shapes[0]];
  shape[axis] = shapes.reduce((a, s) => a + s[axis], 0);
  for (const s of shapes) {
    if (s.length !== r || s.some((d, k) => k !== axis && d !== shape[k])) throw bad(ctx, `input shapes [${shapes.map((q) => `[${q}]`)}] do not agree off axis ${axis}`);
  }
  const n = size(shape);
  const B = new AffineBuilder(n);
  const st = stridesOf(shape);
  const c = new Array<number>(r);
  const offsets: number[] = [];
  shapes.reduce((o, s) => { offsets.push(o); return o + s[axis]; }, 0);
  const slots = parts.map((v) => (v.kind === "data" ? B.slot(v.name) : -1));
  const pst = shapes.map(stridesOf);
  for (let i = 0; i < n; i++) {
    unravel(i, st, c);
    let p = shapes.length - 1;
    while (offsets[p] > c[axis]) p--;
    const local = [...c];
    local[axis] -= offsets[p];
    const j = flatIndex(local, pst[p]);
    const v = parts[p];
    // A constant part of a Concat becomes bias entries of the affine node.
    if (v.kind === "const") B.bias[i] = v.t.data[j];
    else B.add(i, slots[p], j, 1);
  }
  return { nodes: [B.build(ctx.out, shape, [ctx.name])], value: data(ctx.out, shape) };
}

export function lowerSlice(ctx: OpCtx): LoweredMany {
  const x = dataOf(ctx, 0);
  const r = x.shape.length;
  let starts: number[]; let ends: number[]; let axes: number[] | undefined; let steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = ctx.attrs.ints("starts") ?? [];
    ends = ctx.attrs.ints("ends") ?? [];
    axes = ctx.attrs.ints("axes");
  } else {
    starts = ints(constInput(ctx, 1, "Slice starts"));
    ends = ints(constInput(ctx, 2, "Slice ends"));
    if (ctx.inputs[3]) axes = ints(constInput(ctx, 3, "Slice axes"));
    if (ctx.inputs[4]) steps = ints(constInput(ctx, 4, "Slice steps"));
  }
  axes = axes ?? starts.map((_, k) => k);
  steps = steps ?? starts.map(() => 1);
  const begin = x.shape.map(() => 0);
  const step = x.shape.map(() => 1);
  const shape = [...x.shape];
  axes.forEach((a0, k) => {
    const a = axisIn(ctx, a0, r);
    const dim = x.shape[a];
    const s = steps![k];
    if (s === 0) throw bad(ctx, "Slice step 0");
    // ONNX clamps starts/ends after adding dim to negatives; the clamp range depends on the sign of the step.
    let st = starts[k] < 0 ? starts[k] + dim : starts[k];
    let en = ends[k] < 0 ? ends[k] + dim : ends[k];
    if (s > 0) { st = Math.min(Math.max(st, 0), dim); en = Math.min(Math.max(en, 0), dim); }
    else { st = Math.min(Math.max(st, 0), dim - 1); en = Math.min(Math.max(en, -1), dim - 1); }
    const len = s > 0 ? Math.max(0, Math.ceil((en - st) / s)) : Math.max(0, Math.ceil((st - en) / -s));
    begin[a] = st; step[a] = s; shape[a] = len;
  });
  if (size(shape) === 0) throw unsupported(ctx, `Slice gives an empty tensor [${shape}]`);
  const xs = stridesOf(x.shape);
  return gatherMap(ctx, x, shape, (c) => { let j = 0; for (let d = 0; d < r; d++) j += (begin[d] + c[d] * step[d]) * xs[d]; return j; });
}

export function lowerSplit(ctx: OpCtx): LoweredMany {
  const x = dataOf(ctx, 0);
  const r = x.shape.length;
  const axis = axisIn(ctx, ctx.attrs.int("axis", 0), r);
  const outs = ctx.node.output ?? [];
  const dim = x.shape[axis];
  let parts: number[];
  const given = ctx.opset >= 13 ? (ctx.inputs[1] ? ints(constInput(ctx, 1, "Split split")) : undefined) : ctx.attrs.ints("split");
  if (given && given.length > 0) parts = given;
  else if (ctx.opset >= 18 && ctx.attrs.has("num_outputs")) {
    // opset 18: equal chunks of ceil(dim / num_outputs), the last one smaller.
    const k = ctx.attrs.int("num_outputs", outs.length);
    const chunk = Math.ceil(dim / k);
    parts = Array.from({ length: k }, (_, j) => Math.max(0, Math.min(chunk, dim - j * chunk)));
  } else {
    if (dim % outs.length !== 0) throw bad(ctx, `axis of size ${dim} does not split evenly into ${outs.length} outputs`);
    parts = outs.map(() => dim / outs.length);
  }
  if (parts.length !== outs.length || parts.reduce((a, b) => a + b, 0) !== dim) throw bad(ctx, `split [${parts}] does not cover axis ${axis} of [${x.shape}] with ${outs.length} outputs`);
  if (parts.some((p) => p < 1)) throw unsupported(ctx, `Split into an empty part [${parts}]`);
  const xs = stridesOf(x.shape);
  const nodes: FloatNode[] = [];
  const vals: [string, Value][] = [];
  let offset = 0;
  outs.forEach((out, k) => {
    const shape = [...x.shape];
    shape[axis] = parts[k];
    const off = offset;
    offset += parts[k];
    if (!out) return;
    const g = gatherMap({ ...ctx, out }, x, shape, (c) => flatIndex(c, xs) + off * xs[axis]);
    nodes.push(...g.nodes);
    vals.push([out, g.value]);
  });
  const [first, ...rest] = vals;
  if (!first || first[0] !== ctx.out) throw unsupported(ctx, "Split with an unused first output is not supported");
  return { nodes, value: first[1], more: rest };
}

export function lowerTranspose(ctx: OpCtx): LoweredMany {
  const x = dataOf(ctx, 0);
  const r = x.shape.length;
  const perm = ctx.attrs.ints("perm") ?? x.shape.map((_, d) => r - 1 - d);
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, k) => p !== k)) throw bad(ctx, `perm [${perm}] is not a permutation of rank ${r}`);
  const shape = perm.map((p) => x.shape[p]);
  const xs = stridesOf(x.shape);
  return gatherMap(ctx, x, shape, (c) => { let j = 0; for (let d = 0; d < r; d++) j += c[d] * xs[perm[d]]; return j; });
}

/** Squeeze/Unsqueeze of a data tensor only relabel dimensions: an alias with a new shape. */
export function squeezeShape(ctx: OpCtx, shape: number[]): number[] {
  const spec = ctx.inputs[1] ? ints(constInput(ctx, 1, `${ctx.op} axes`)) : ctx.attrs.ints("axes");
  if (ctx.op === "Unsqueeze") {
    const axesList = spec ?? [];
    const rank = shape.length + axesList.length;
    const norm = axesList.map((a) => axisIn(ctx, a, rank));
    const dims: number[] = [];
    let k = 0;
    for (let d = 0; d < rank; d++) dims.push(norm.includes(d) ? 1 : shape[k++]);
    return dims;
  }
  const r = shape.length;
  const axes = spec && spec.length > 0 ? spec.map((a) => axisIn(ctx, a, r)) : shape.map((d, i) => (d === 1 ? i : -1));
  for (const a of axes) if (a >= 0 && shape[a] !== 1) throw bad(ctx, `cannot squeeze axis ${a} of size ${shape[a]}`);
  return shape.filter((_, i) => !axes.includes(i));
}

export function lowerGather(ctx: OpCtx): LoweredMany {
  const x = dataOf(ctx, 0);
  const idx = constInput(ctx, 1, "Gather indices");
  const r = x.shape.length;
  const axis = axisIn(ctx, ctx.attrs.int("axis", 0), r);
  const n = x.shape[axis];
  const ids = ints(idx).map((v) => {
    const j = v < 0 ? v + n : v;
    if (j < 0 || j >= n) throw bad(ctx, `index ${v} out of range for axis of size ${n}`);
    return j;
  });
  const q = idx.dims.length;
  const shape = [...x.shape.slice(0, axis), ...idx.dims, ...x.shape.slice(axis + 1)];
  const xs = stridesOf(x.shape);
  const is = stridesOf(idx.dims);
  return gatherMap(ctx, x, shape, (c) => {
    let k = 0;
    for (let d = 0; d < q; d++) k += c[axis + d] * is[d];
    let j = ids[k] * xs[axis];
    for (let d = 0; d < axis; d++) j += c[d] * xs[d];
    for (let d = axis + 1; d < r; d++) j += c[d + q - 1] * xs[d];
    return j;
  });
}

export function lowerGatherElements(ctx: OpCtx): LoweredMany {
  const x = dataOf(ctx, 0);
  const idx = constInput(ctx, 1, "GatherElements indices");
  const r = x.shape.length;
  const axis = axisIn(ctx, ctx.attrs.int("axis", 0), r);
  if (idx.dims.length !== r) throw bad(ctx, `indices rank ${idx.dims.length} differs from data rank ${r}`);
  const n = x.shape[axis];
  const xs = stridesOf(x.shape);
  const is = stridesOf(idx.dims);
  return gatherMap(ctx, x, idx.dims, (c) => {
    const v = idx.data[flatIndex(c, is)];
    const j = v < 0 ? v + n : v;
    if (j < 0 || j >= n) throw bad(ctx, `index ${v} out of range for axis of size ${n}`);
    let f = 0;
    for (let d = 0; d < r; d++) f += (d === axis ? j : c[d]) * xs[d];
    return f;
  });
}

export function lowerTile(ctx: OpCtx): LoweredMany {
  const x = dataOf(ctx, 0);
  const reps = ints(constInput(ctx, 1, "Tile repeats"));
  if (reps.length !== x.shape.length || reps.some((k) => k < 1)) throw bad(ctx, `repeats [${reps}] do not fit shape [${x.shape}]`);
  const shape = x.shape.map((d, k) => d * reps[k]);
  const xs = stridesOf(x.shape);
  return gatherMap(ctx, x, shape, (c) => { let j = 0; for (let d = 0; d < c.length; d++) j += (c[d] % x.shape[d]) * xs[d]; return j; });
}

export function lowerExpand(ctx: OpCtx): LoweredMany {
  const x = dataOf(ctx, 0);
  const want = ints(constInput(ctx, 1, "Expand shape"));
  // Expand broadcasts both ways: a 1 in the requested shape keeps the input's dimension.
  const r = Math.max(want.length, x.shape.length);
  const shape: number[] = [];
  for (let d = 0; d < r; d++) {
    const a = x.shape[x.shape.length - r + d] ?? 1;
    const b = want[want.length - r + d] ?? 1;
    if (a !== b && a !== 1 && b !== 1) throw bad(ctx, `shape [${x.shape}] cannot expand to [${want}]`);
    shape.push(a === 1 ? b : a);
  }
  const xs = stridesOf(x.shape);
  const off = r - x.shape.length;
  return gatherMap(ctx, x, shape, (c) => { let j = 0; for (let d = 0; d < x.shape.length; d++) if (x.shape[d] !== 1) j += c[d + off] * xs[d]; return j; });
}

/** Reduced axes (sorted) and output shape of a Reduce* node, or null when it is the identity. */
function reduceAxes(ctx: OpCtx, shape: number[]): { axes: number[]; keep: boolean } | null {
  const r = shape.length;
  // ReduceSum takes axes as an input from opset 13, the other reductions from opset 18.
  const axesAsInput = ctx.op === "ReduceSum" ? ctx.opset >= 13 : ctx.opset >= 18;
  let spec: number[] | undefined;
  if (axesAsInput) spec = ctx.inputs[1] ? ints(constInput(ctx, 1, `${ctx.op} axes`)) : undefined;
  else spec = ctx.attrs.ints("axes");
  if (!spec || spec.length === 0) {
    if (axesAsInput && ctx.attrs.int("noop_with_empty_axes", 0) === 1) return null;
    spec = shape.map((_, d) => d);
  }
  const axes = [...new Set(spec.map((a) => axisIn(ctx, a, r)))].sort((a, b) => a - b);
  return { axes, keep: ctx.attrs.int("keepdims", 1) === 1 };
}

/** For every output element, the flat input indices it reduces over. */
function reductionWindows(shape: number[], axes: number[], keep: boolean): { windows: number[][]; outShape: number[] } {
  const keptShape = shape.map((d, k) => (axes.includes(k) ? 1 : d));
  const outShape = keep ? keptShape : shape.filter((_, k) => !axes.includes(k));
  const n = size(keptShape);
  const ks = stridesOf(keptShape);
  const xs = stridesOf(shape);
  const redShape = axes.map((a) => shape[a]);
  const rs = stridesOf(redShape);
  const m = size(redShape);
  const c = new Array<number>(shape.length);
  const rc = new Array<number>(axes.length);
  const windows: number[][] = [];
  for (let i = 0; i < n; i++) {
    unravel(i, ks, c);
    const base = flatIndex(c, xs);
    const w: number[] = [];
    for (let t = 0; t < m; t++) {
      unravel(t, rs, rc);
      let j = base;
      for (let k = 0; k < axes.length; k++) j += rc[k] * xs[axes[k]];
      w.push(j);
    }
    windows.push(w.sort((a, b) => a - b));
  }
  return { windows, outShape };
}

export function lowerReduce(ctx: OpCtx): LoweredMany | Value {
  const x = dataOf(ctx, 0);
  const spec = reduceAxes(ctx, x.shape);
  if (!spec) return { kind: "data", ...x };
  const { windows, outShape } = reductionWindows(x.shape, spec.axes, spec.keep);
  if (ctx.op === "ReduceSum" || ctx.op === "ReduceMean") {
    const B = new AffineBuilder(windows.length);
    const s = B.slot(x.name);
    windows.forEach((w, i) => { for (const j of w) B.add(i, s, j, ctx.op === "ReduceMean" ? 1 / w.length : 1); });
    return { nodes: [B.build(ctx.out, outShape, [ctx.name])], value: data(ctx.out, outShape) };
  }
  const wins = windows.map((w) => Int32Array.from(w));
  if (ctx.op === "ReduceMax") {
    return { nodes: [{ kind: "maxpool", out: ctx.out, input: x.name, shape: outShape, windows: wins, from: [ctx.name] }], value: data(ctx.out, outShape) };
  }
  // min(x) = -max(-x): two negations around the existing max template.
  const neg = (out: string, inp: string, shape: number[]): FloatNode => {
    const B = new AffineBuilder(size(shape));
    const s = B.slot(inp);
    for (let i = 0; i < B.outSize; i++) B.add(i, s, i, -1);
    return B.build(out, shape, [ctx.name]);
  };
  const negIn = `${ctx.out}::neg_in`;
  const negMax = `${ctx.out}::neg_max`;
  return {
    nodes: [
      neg(negIn, x.name, x.shape),
      { kind: "maxpool", out: negMax, input: negIn, shape: outShape, windows: wins, from: [ctx.name] },
      neg(ctx.out, negMax, outShape),
    ],
    value: data(ctx.out, outShape),
  };
}

/** Source coordinate of Resize/Upsample nearest along one axis, following ONNX's formulas. */
function nearestSource(ctx: OpCtx, o: number, inLen: number, outLen: number, scale: number, mode: string, rounding: string): number {
  let xo: number;
  switch (mode) {
    case "half_pixel": xo = (o + 0.5) / scale - 0.5; break;
    case "pytorch_half_pixel": xo = outLen > 1 ? (o + 0.5) / scale - 0.5 : 0; break;
    case "asymmetric": xo = o / scale; break;
    case "align_corners": xo = outLen === 1 ? 0 : (o * (inLen - 1)) / (outLen - 1); break;
    // tf_half_pixel_for_nearest and tf_crop_and_resize are refused: onnxruntime 1.30, the reference, rejects the former.
    default: throw unsupported(ctx, `coordinate_transformation_mode "${mode}" is not supported for nearest`);
  }
  let j: number;
  const fl = Math.floor(xo);
  const isHalf = xo - fl === 0.5;
  switch (rounding) {
    case "round_prefer_floor": j = isHalf ? fl : Math.round(xo); break;
    case "round_prefer_ceil": j = isHalf ? fl + 1 : Math.round(xo); break;
    case "floor": j = fl; break;
    case "ceil": j = Math.ceil(xo); break;
    default: throw unsupported(ctx, `nearest_mode "${rounding}" is not supported`);
  }
  return Math.min(Math.max(j, 0), inLen - 1);
}

export function lowerResize(ctx: OpCtx): LoweredMany {
  const x = dataOf(ctx, 0);
  const r = x.shape.length;
  const at = ctx.attrs;
  const mode = at.string("mode", "nearest");
  if (mode !== "nearest") throw unsupported(ctx, `${ctx.op} mode "${mode}" is not supported (only "nearest")`);
  const legacy = ctx.op === "Upsample" || ctx.opset < 11;
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (legacy) {
    scales = ctx.inputs[1] ? ints(constInput(ctx, 1, `${ctx.op} scales`)) : at.floats("scales");
  } else {
    if (at.has("axes")) throw unsupported(ctx, "the axes attribute of Resize is not supported");
    if (at.string("keep_aspect_ratio_policy", "stretch") !== "stretch") throw unsupported(ctx, "keep_aspect_ratio_policy other than stretch is not supported");
    if (at.int("antialias", 0) !== 0) throw unsupported(ctx, "antialias is not supported");
    const sc = ctx.inputs[2] ? constInput(ctx, 2, "Resize scales") : undefined;
    if (sc && sc.data.length > 0) scales = ints(sc);
    if (ctx.inputs[3]) sizes = ints(constInput(ctx, 3, "Resize sizes"));
  }
  if (sizes && sizes.length !== r) throw bad(ctx, `sizes [${sizes}] do not match rank ${r}`);
  if (!sizes && (!scales || scales.length !== r)) throw bad(ctx, `scales [${scales ?? []}] do not match rank ${r}`);
  const shape = sizes ?? x.shape.map((d, k) => Math.floor(d * Math.fround(scales![k])));
  const scaleOf = (k: number) => (sizes ? shape[k] / x.shape[k] : Math.fround(scales![k]));
  let coord: string;
  let rounding: string;
  if (legacy) {
    // Opset < 11 nearest: asymmetric coordinates, rounded down when upsampling; ORT rounds up when
    // downsampling, which is rare enough to refuse rather than model.
    if (scales!.some((s) => s < 1)) throw unsupported(ctx, `${ctx.op} with a scale below 1 is not supported`);
    coord = "asymmetric";
    rounding = "floor";
  } else {
    coord = at.string("coordinate_transformation_mode", "half_pixel");
    rounding = at.string("nearest_mode", "round_prefer_floor");
  }
  const src = shape.map((len, k) => Array.from({ length: len }, (_, o) => nearestSource(ctx, o, x.shape[k], len, scaleOf(k), coord, rounding)));
  const xs = stridesOf(x.shape);
  return gatherMap(ctx, x, shape, (c) => { let j = 0; for (let d = 0; d < r; d++) j += src[d][c[d]] * xs[d]; return j; });
}

export function lowerConvTranspose(ctx: OpCtx): LoweredMany {
  const x = dataOf(ctx, 0);
  const w = constInput(ctx, 1, "the ConvTranspose weight");
  const bias = ctx.inputs[2] ? constInput(ctx, 2, "the ConvTranspose bias") : undefined;
  const at = ctx.attrs;
  const group = at.int("group", 1);
  if (group !== 1) throw unsupported(ctx, `grouped ConvTranspose (group=${group}) is not supported; only group=1`);
  if (at.has("output_shape")) throw unsupported(ctx, "the output_shape attribute is not supported (use pads)");
  const autoPad = at.string("auto_pad", "NOTSET") || "NOTSET";
  if (autoPad !== "NOTSET" && autoPad !== "VALID") throw unsupported(ctx, `auto_pad "${autoPad}" is not supported`);
  const sp = x.shape.slice(2);
  const r = sp.length;
  if (r < 1 || r > 2) throw unsupported(ctx, `ConvTranspose with ${r} spatial dimensions is not supported (only 1-D and 2-D)`);
  const [N, C] = x.shape;
  if (w.dims[0] !== C) throw bad(ctx, `weight [${w.dims}] expects ${w.dims[0]} input channels, input has ${C}`);
  const M = w.dims[1];
  const k = at.ints("kernel_shape") ?? w.dims.slice(2);
  const strides = at.ints("strides") ?? sp.map(() => 1);
  const dil = at.ints("dilations") ?? sp.map(() => 1);
  const pads = autoPad === "VALID" ? sp.map(() => 0).concat(sp.map(() => 0)) : at.ints("pads") ?? sp.map(() => 0).concat(sp.map(() => 0));
  const outPad = at.ints("output_padding") ?? sp.map(() => 0);
  const outSp = sp.map((len, d) => strides[d] * (len - 1) + outPad[d] + (k[d] - 1) * dil[d] + 1 - pads[d] - pads[d + r]);
  if (outSp.some((o) => o < 1)) throw bad(ctx, `output size [${outSp}] is empty`);
  // Treat 1-D as 2-D with a height of 1.
  const [H, W] = r === 1 ? [1, sp[0]] : sp;
  const [OH, OW] = r === 1 ? [1, outSp[0]] : outSp;
  const [kH, kW] = r === 1 ? [1, k[0]] : k;
  const [sH, sW] = r === 1 ? [1, strides[0]] : strides;
  const [dH, dW] = r === 1 ? [1, dil[0]] : dil;
  const [pT, pL] = r === 1 ? [0, pads[0]] : [pads[0], pads[1]];
  const shape = [N, M, ...outSp];
  const B = new AffineBuilder(size(shape));
  const s = B.slot(x.name);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      if (bias) for (let q = 0; q < OH * OW; q++) B.bias[(n * M + m) * OH * OW + q] = bias.data[m];
      for (let c = 0; c < C; c++) {
        for (let ih = 0; ih < H; ih++) for (let iw = 0; iw < W; iw++) {
          for (let kh = 0; kh < kH; kh++) {
            const oh = ih * sH - pT + kh * dH;
            if (oh < 0 || oh >= OH) continue;
            for (let kw = 0; kw < kW; kw++) {
              const ow = iw * sW - pL + kw * dW;
              if (ow < 0 || ow >= OW) continue;
              B.add(((n * M + m) * OH + oh) * OW + ow, s, ((n * C + c) * H + ih) * W + iw, w.data[((c * M + m) * kH + kh) * kW + kw]);
            }
          }
        }
      }
    }
  }
  return { nodes: [B.build(ctx.out, shape, [ctx.name])], value: data(ctx.out, shape) };
}
