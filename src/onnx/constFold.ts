import { size } from "./ir";
import { ConstTensor, DataType, decodeTensor } from "./load";
import { broadcastIndex, broadcastShape, normAxis } from "./shapes";
import { OpCtx, Value, bad, constOf, flattenTarget, reshapeTarget, shapeOf, unsupported } from "./values";

/**
 * Import-time evaluation of ops whose inputs are all constants. PyTorch computes Reshape/Flatten
 * targets with Shape→Gather→Unsqueeze→Concat chains; with static shapes these are constants, so
 * they are folded here and never reach the float graph. These helpers never accept data tensors
 * (except Shape, which only reads the static shape).
 */
export const CONST_ONLY_OPS = ["Shape", "Gather", "Concat", "Unsqueeze", "Squeeze", "Cast", "ConstantOfShape"];

const INT_TYPES = new Set<number>([DataType.INT64, DataType.INT32, DataType.INT16, DataType.INT8, DataType.UINT8, DataType.UINT16, DataType.BOOL]);

export function constantValue(ctx: OpCtx): Value {
  const a = ctx.attrs;
  const t = a.tensor("value");
  if (t) return { kind: "const", t: decodeTensor(t) };
  if (a.has("value_float")) return constOf([], [a.float("value_float", 0)]);
  if (a.has("value_floats")) { const f = a.floats("value_floats") ?? []; return constOf([f.length], f); }
  if (a.has("value_int")) return constOf([], [a.int("value_int", 0)], DataType.INT64);
  if (a.has("value_ints")) { const v = a.ints("value_ints") ?? []; return constOf([v.length], v, DataType.INT64); }
  throw unsupported(ctx, `Constant with attribute(s) ${a.names().join(", ") || "(none)"} is not supported (need value, value_float(s) or value_int(s))`);
}

function ints(t: ConstTensor): number[] {
  return Array.from(t.data);
}

function allConst(ctx: OpCtx): ConstTensor[] | null {
  const out: ConstTensor[] = [];
  for (const v of ctx.inputs) {
    if (v === undefined) continue;
    if (v.kind !== "const") return null;
    out.push(v.t);
  }
  return out;
}

/** The folded value, or null when the op is not a foldable constant computation. */
export function foldConst(ctx: OpCtx): Value | null {
  if (ctx.op === "Shape") {
    const s = shapeOf(ctx.inputs[0] as Value);
    const r = s.length;
    const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
    const dims = s.slice(clamp(ctx.attrs.int("start", 0)), clamp(ctx.attrs.int("end", r)));
    return constOf([dims.length], dims, DataType.INT64);
  }
  const c = allConst(ctx);
  if (!c || c.length === 0) return null;
  switch (ctx.op) {
    case "Identity": case "Dropout": return { kind: "const", t: c[0] };
    case "Reshape": {
      const spec = ctx.inputs[1] ? ints(c[1]) : ctx.attrs.ints("shape") ?? [];
      return { kind: "const", t: { ...c[0], dims: reshapeTarget(ctx, c[0].dims, spec, ctx.attrs.int("allowzero", 0) === 1) } };
    }
    case "Flatten": return { kind: "const", t: { ...c[0], dims: flattenTarget(ctx, c[0].dims) } };
    case "Add": case "Sub": case "Mul": case "Div": return elementwise(ctx, c[0], c[1]);
    case "Relu": return { kind: "const", t: { ...c[0], data: c[0].data.map((x) => Math.max(0, x)) } };
    case "Sigmoid": return { kind: "const", t: { ...c[0], data: c[0].data.map((x) => 1 / (1 + Math.exp(-x))) } };
    case "Gather": return gather(ctx, c[0], c[1]);
    case "Concat": return concat(ctx, c);
    case "Unsqueeze": {
      const axes = ctx.inputs[1] ? ints(c[1]) : ctx.attrs.ints("axes") ?? [];
      const rank = c[0].dims.length + axes.length;
      const norm = axes.map((a) => normAxis(a, rank, `Unsqueeze "${ctx.name}"`));
      const dims: number[] = [];
      let k = 0;
      for (let d = 0; d < rank; d++) dims.push(norm.includes(d) ? 1 : c[0].dims[k++]);
      return { kind: "const", t: { ...c[0], dims } };
    }
    case "Squeeze": {
      const spec = ctx.inputs[1] ? ints(c[1]) : ctx.attrs.ints("axes");
      const r = c[0].dims.length;
      const axes = spec && spec.length > 0 ? spec.map((a) => normAxis(a, r, `Squeeze "${ctx.name}"`)) : c[0].dims.map((d, i) => (d === 1 ? i : -1));
      return { kind: "const", t: { ...c[0], dims: c[0].dims.filter((_, i) => !axes.includes(i)) } };
    }
    case "Cast": {
      const to = ctx.attrs.int("to", DataType.FLOAT);
      const conv = to === DataType.FLOAT ? Math.fround : to === DataType.BOOL ? (x: number) => (x !== 0 ? 1 : 0) : INT_TYPES.has(to) ? Math.trunc : (x: number) => x;
      return { kind: "const", t: { dims: c[0].dims, data: c[0].data.map(conv), dataType: to } };
    }
    case "ConstantOfShape": {
      const vt = ctx.attrs.tensor("value");
      const v = vt ? decodeTensor(vt) : { data: new Float64Array([0]), dataType: DataType.FLOAT, dims: [1] };
      const dims = ints(c[0]);
      return { kind: "const", t: { dims, data: new Float64Array(size(dims)).fill(v.data[0] ?? 0), dataType: v.dataType } };
    }
    default: return null;
  }
}

function elementwise(ctx: OpCtx, a: ConstTensor, b: ConstTensor): Value {
  const shape = broadcastShape(a.dims, b.dims);
  if (!shape) throw bad(ctx, `shapes [${a.dims}] and [${b.dims}] do not broadcast`);
  const ia = broadcastIndex(a.dims, shape);
  const ib = broadcastIndex(b.dims, shape);
  const isInt = INT_TYPES.has(a.dataType) && INT_TYPES.has(b.dataType);
  const f: Record<string, (x: number, y: number) => number> = {
    Add: (x, y) => x + y, Sub: (x, y) => x - y, Mul: (x, y) => x * y,
    Div: (x, y) => (isInt ? Math.trunc(x / y) : x / y),
  };
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) data[i] = f[ctx.op](a.data[ia[i]], b.data[ib[i]]);
  return { kind: "const", t: { dims: shape, data, dataType: a.dataType } };
}

function gather(ctx: OpCtx, data: ConstTensor, idx: ConstTensor): Value {
  const r = data.dims.length;
  const axis = normAxis(ctx.attrs.int("axis", 0), r, `Gather "${ctx.name}"`);
  const outer = size(data.dims.slice(0, axis));
  const inner = size(data.dims.slice(axis + 1));
  const n = data.dims[axis];
  const dims = [...data.dims.slice(0, axis), ...idx.dims, ...data.dims.slice(axis + 1)];
  const out = new Float64Array(size(dims));
  let o = 0;
  for (let p = 0; p < outer; p++) {
    for (const raw of idx.data) {
      const j = raw < 0 ? raw + n : raw;
      if (j < 0 || j >= n) throw bad(ctx, `Gather index ${raw} out of range for axis of size ${n}`);
      for (let q = 0; q < inner; q++) out[o++] = data.data[(p * n + j) * inner + q];
    }
  }
  return { kind: "const", t: { dims, data: out, dataType: data.dataType } };
}

function concat(ctx: OpCtx, parts: ConstTensor[]): Value {
  const r = parts[0].dims.length;
  const axis = normAxis(ctx.attrs.int("axis", 0), r, `Concat "${ctx.name}"`);
  const dims = [...parts[0].dims];
  dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
  const outer = size(dims.slice(0, axis));
  const out = new Float64Array(size(dims));
  let o = 0;
  for (let p = 0; p < outer; p++) {
    for (const t of parts) {
      const chunk = size(t.dims.slice(axis));
      for (let q = 0; q < chunk; q++) out[o++] = t.data[p * chunk + q];
    }
  }
  return { kind: "const", t: { dims, data: out, dataType: parts[0].dataType } };
}
