/**
 * Constant folding for any op Flavum can lower: when every input is a constant and constFold.ts has
 * no rule for the op, the op is lowered as if its constant inputs were data, and the resulting float
 * nodes are evaluated on the constants. One implementation of each op's semantics serves both
 * activations and shape arithmetic (a Slice of a constant mask, a ReduceSum of constant leaves).
 */
import { runFloat } from "./floatExec";
import { DataType, type ConstTensor } from "./load";
import type { FloatGraph, FloatNode } from "./ir";
import { size } from "./ir";
import type { Lowered } from "./linearOps";
import type { LoweredMany } from "./dataMovement";
import type { OpCtx, Value } from "./values";

type Lower = (ctx: OpCtx) => Lowered | LoweredMany | Value;

const INT_TYPES = new Set<number>([DataType.INT64, DataType.INT32, DataType.INT16, DataType.INT8, DataType.UINT8, DataType.UINT16, DataType.UINT32]);
const FOLD_PREFIX = "flavum::fold";

function elemOf(t: ConstTensor): "int" | "bool" | "float" {
  return t.dataType === DataType.BOOL ? "bool" : INT_TYPES.has(t.dataType) ? "int" : "float";
}

/** Lower with the inputs at `asData` turned into data tensors; evaluate; the folded values, or undefined. */
function tryFold(ctx: OpCtx, lower: Lower, asData: number[]): LoweredMany | undefined {
  const consts = new Map<string, ConstTensor>();
  const inputs = ctx.inputs.map((v, i) => {
    if (!v || v.kind !== "const" || !asData.includes(i)) return v;
    const name = `${FOLD_PREFIX}::${ctx.out}::${i}`;
    consts.set(name, v.t);
    return { kind: "data" as const, name, shape: v.t.dims, elem: elemOf(v.t) };
  });
  let r: Lowered | LoweredMany | Value;
  try {
    r = lower({ ...ctx, inputs });
  } catch {
    return undefined;
  }
  const nodes: FloatNode[] = "node" in r ? [r.node] : "nodes" in r ? r.nodes : [];
  const outs: [string, Value][] = "node" in r || "nodes" in r ? [[ctx.out, r.value], ...(("more" in r && r.more) || [])] : [[ctx.out, r]];
  // One concatenated input carries all the constants, each viewed by a select (as several model inputs are).
  const names = [...consts.keys()];
  const offsets = names.map((_, k) => names.slice(0, k).reduce((a, n) => a + size(consts.get(n)!.dims), 0));
  const total = names.reduce((a, n) => a + size(consts.get(n)!.dims), 0);
  const all = `${FOLD_PREFIX}::${ctx.out}`;
  const views: FloatNode[] = names.map((n, k) => ({
    kind: "select", out: n, input: all, shape: consts.get(n)!.dims, from: [ctx.name],
    idx: Int32Array.from({ length: size(consts.get(n)!.dims) }, (_, i) => offsets[k] + i),
  }));
  const g: FloatGraph = {
    input: { name: all, shape: [total] }, inputs: [], outputs: [], nodes: [...views, ...nodes], output: "", outputShape: [],
    head: "none", ops: {}, onnxOutput: "",
  };
  const env = runFloat(g, names.flatMap((n) => Array.from(consts.get(n)!.data)));
  const folded = outs.map(([name, v]): [string, Value] => {
    if (v.kind === "const") return [name, v];
    const data = env.get(v.name);
    if (!data) throw new Error(`folding ${ctx.op} "${ctx.name}": tensor ${v.name} was not computed`);
    const dataType = v.elem === "bool" ? DataType.BOOL : v.elem === "int" ? DataType.INT64 : DataType.FLOAT;
    return [name, { kind: "const", t: { dims: v.shape, data: Float64Array.from(data), dataType } }];
  });
  return { nodes: [], value: folded[0][1], more: folded.slice(1) };
}

/**
 * Fold an all-constant op through its lowering: first with only its first input as data (so
 * operands a lowering requires to be constant, such as Slice's starts, stay constant), then with all.
 */
export function foldByLowering(ctx: OpCtx, lower: Lower): LoweredMany | undefined {
  const present = ctx.inputs.map((v, i) => (v ? i : -1)).filter((i) => i >= 0);
  if (present.length === 0) return undefined;
  return tryFold(ctx, lower, [present[0]]) ?? (present.length > 1 ? tryFold(ctx, lower, present) : undefined);
}
