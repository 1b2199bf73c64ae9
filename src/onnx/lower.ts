import { onnx } from "onnx-proto";
import { FlavumError } from "../errors";
import { ElemKind, FloatGraph, FloatNode, GraphPort, Head, SUPPORTED_OPS, size } from "./ir";
import { AffineBuilder } from "./affine";
import { EXTRA_LOWERINGS } from "./registry";
import { foldByLowering } from "./foldByLowering";
import { Attrs, DataType, dataTypeName, decodeTensor, readModel, toNum, valueInfoElemType, valueInfoShape } from "./load";
import { CONST_ONLY_OPS, constantValue, foldConst } from "./constFold";
import {
  Lowered, lowerAveragePool, lowerBatchNorm, lowerConv, lowerElementwise, lowerGemm,
  lowerGlobalAveragePool, lowerMatMul, lowerMaxPool, lowerPad,
} from "./linearOps";
import { fuseAffine, pruneDead, selectify } from "./affine";
import {
  LoweredMany, lowerConcat, lowerConvTranspose, lowerExpand, lowerGather, lowerGatherElements, lowerReduce,
  lowerResize, lowerSlice, lowerSplit, lowerTile, lowerTranspose, squeezeShape,
} from "./dataMovement";
import { OpCtx, Value, bad, flattenTarget, reshapeTarget, unsupported } from "./values";

export function importOnnx(file: string): FloatGraph {
  return lowerModel(readModel(file));
}

function modelError(msg: string): FlavumError {
  return new FlavumError(msg, "UNSUPPORTED_MODEL");
}

function defaultOpset(model: onnx.IModelProto): number {
  const imp = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  return imp ? toNum(imp.version as number) : 13;
}

export function lowerModel(model: onnx.IModelProto): FloatGraph {
  const g = model.graph;
  if (!g) throw modelError("the ONNX model has no graph");
  const opset = defaultOpset(model);
  const values = new Map<string, Value>();
  for (const t of g.initializer ?? []) values.set(t.name ?? "", { kind: "const", t: decodeTensor(t) });

  const graphInputs = (g.input ?? []).filter((v) => !values.has(v.name ?? ""));
  if (graphInputs.length === 0) throw modelError("the model has no input tensors: its output is a constant, there is nothing to prove");
  const inputs: GraphPort[] = [];
  let offset = 0;
  for (const v of graphInputs) {
    const elem = elemKindOf(valueInfoElemType(v));
    if (!elem) {
      throw modelError(`input "${v.name}" has element type ${dataTypeName(valueInfoElemType(v))}; Flavum imports float, integer and boolean inputs`);
    }
    const shape = valueInfoShape(v);
    inputs.push({ name: v.name ?? "", shape, offset, elem });
    offset += size(shape);
  }
  // Several inputs travel as one concatenated vector; each ONNX input is a free view of its slice.
  const input = inputs.length === 1 ? { name: inputs[0].name, shape: inputs[0].shape } : { name: CONCAT_INPUT, shape: [offset] };
  const inputViews: FloatNode[] = [];
  for (const p of inputs) {
    if (inputs.length > 1) {
      inputViews.push({ kind: "select", out: p.name, input: CONCAT_INPUT, shape: p.shape, idx: Int32Array.from({ length: size(p.shape) }, (_, i) => p.offset + i), from: [`input "${p.name}"`] });
    }
    values.set(p.name, { kind: "data", name: p.name, shape: p.shape, elem: p.elem });
  }

  const outputs = g.output ?? [];
  if (outputs.length === 0) throw modelError("the model has no outputs");
  const onnxOutput = outputs[0].name ?? "";
  const outputNames = outputs.map((o) => o.name ?? "");

  const ops: Record<string, number> = {};
  const consumers = new Map<string, number>();
  for (const n of g.node ?? []) {
    ops[n.opType ?? ""] = (ops[n.opType ?? ""] ?? 0) + 1;
    for (const t of n.input ?? []) if (t) consumers.set(t, (consumers.get(t) ?? 0) + 1);
  }

  let nodes: FloatNode[] = [...inputViews];
  let head: Head = "none";
  let headInput: Value | undefined;
  (g.node ?? []).forEach((node, k) => {
    const op = node.opType ?? "";
    const out = node.output?.[0] ?? "";
    const name = node.name || `${op}#${k} (output "${out}")`;
    const ctx: OpCtx = { node, op, name, out, attrs: new Attrs(node), inputs: [], opset };
    if (node.domain && node.domain !== "ai.onnx") throw unsupported(ctx, `op from custom domain "${node.domain}"`);
    ctx.inputs = (node.input ?? []).map((t) => {
      if (!t) return undefined;
      const v = values.get(t);
      if (!v) throw bad(ctx, `input "${t}" is used before it is defined (graph not topologically sorted?)`);
      return v;
    });
    const isHead = (op === "Softmax" || op === "ArgMax") && outputs.length === 1 && out === onnxOutput && !consumers.has(out);
    if (isHead && headFits(ctx)) {
      headInput = lowerHead(ctx, true);
      head = op === "Softmax" ? "softmax" : "argmax";
      return;
    }
    const v = lowerNode(ctx);
    if ("node" in v) {
      nodes.push(v.node);
      values.set(out, v.value);
    } else if ("nodes" in v) {
      nodes.push(...v.nodes);
      values.set(out, v.value);
      for (const [name, val] of v.more ?? []) values.set(name, val);
    } else {
      values.set(out, v);
    }
  });

  const finals = outputNames.map((name, k) => {
    const v = k === 0 && head !== "none" ? headInput : values.get(name);
    if (!v) throw modelError(`graph output "${name}" is not produced by any node`);
    if (v.kind === "const") throw modelError(`graph output "${name}" is a constant: it does not depend on the input`);
    return v;
  });
  const outPorts: GraphPort[] = [];
  let outOffset = 0;
  for (const [k, v] of finals.entries()) {
    outPorts.push({ name: outputNames[k], shape: v.shape, offset: outOffset, elem: elemKindOf(valueInfoElemType(outputs[k])) ?? "float" });
    outOffset += size(v.shape);
  }
  let final = finals[0];
  if (finals.length > 1) {
    // All outputs are proven: they are concatenated into one output tensor, in the model's order.
    const cat = concatTensors(finals, OUTPUT_CONCAT, ["outputs"]);
    nodes.push(cat);
    final = { kind: "data", name: OUTPUT_CONCAT, shape: [outOffset] };
  }
  nodes = pruneDead(nodes, final.name);
  nodes = selectify(fuseAffine(nodes, final.name, input.name, size(input.shape)));
  return { input, inputs, outputs: outPorts, nodes, output: final.name, outputShape: final.shape, head, ops, onnxOutput };
}

/** Name of the concatenated input of a model with several inputs, and of the concatenated outputs. */
export const CONCAT_INPUT = "flavum::inputs";
export const OUTPUT_CONCAT = "flavum::outputs";

function elemKindOf(t: number): ElemKind | undefined {
  switch (t) {
    case DataType.FLOAT: case DataType.DOUBLE: case DataType.FLOAT16: return "float";
    case DataType.INT64: case DataType.INT32: case DataType.INT16: case DataType.INT8:
    case DataType.UINT8: case DataType.UINT16: case DataType.UINT32: return "int";
    case DataType.BOOL: return "bool";
    default: return undefined;
  }
}

/** The identity map of several data tensors into one, in order (one affine node; fused away where it can be). */
function concatTensors(parts: Value[], out: string, from: string[]): FloatNode {
  const total = parts.reduce((a, v) => a + size(v.kind === "data" ? v.shape : []), 0);
  const b = new AffineBuilder(total);
  let o = 0;
  for (const v of parts) {
    if (v.kind !== "data") continue;
    const slot = b.slot(v.name);
    for (let i = 0; i < size(v.shape); i++) b.add(o + i, slot, i, 1);
    o += size(v.shape);
  }
  return b.build(out, [total], from);
}

/** Softmax or ArgMax as the model's last op is its head only when it covers the whole output. */
function headFits(ctx: OpCtx): boolean {
  const x = ctx.inputs[0];
  if (!x || x.kind !== "data") return false;
  const r = x.shape.length;
  let axis = ctx.attrs.int("axis", ctx.op === "Softmax" ? (ctx.opset >= 13 ? -1 : 1) : 0);
  if (axis < 0) axis += r;
  const others = ctx.op === "Softmax" && ctx.opset < 13 ? size(x.shape.slice(0, axis)) : size(x.shape) / (x.shape[axis] ?? 1);
  if (others !== 1) return false;
  if (ctx.op === "ArgMax" && (axis !== r - 1 || ctx.attrs.int("select_last_index", 0) !== 0)) return false;
  return true;
}

function lowerHead(ctx: OpCtx, isLast: boolean): Value {
  const x = ctx.inputs[0];
  if (!isLast) throw unsupported(ctx, `${ctx.op} is only supported as the last op of the model, producing the graph output`);
  if (!x || x.kind !== "data") throw bad(ctx, "input must depend on the model input");
  const r = x.shape.length;
  let axis = ctx.attrs.int("axis", ctx.op === "Softmax" ? (ctx.opset >= 13 ? -1 : 1) : 0);
  if (axis < 0) axis += r;
  // The head is applied to the whole logits vector, so every other dimension must be 1.
  const others = ctx.op === "Softmax" && ctx.opset < 13 ? size(x.shape.slice(0, axis)) : size(x.shape) / (x.shape[axis] ?? 1);
  if (ctx.op === "ArgMax") {
    if (axis !== r - 1) throw unsupported(ctx, `ArgMax over axis ${axis} of shape [${x.shape}]; only the last axis is supported`);
    if (ctx.attrs.int("select_last_index", 0) !== 0) throw unsupported(ctx, "select_last_index=1 is not supported");
  }
  if (others !== 1) throw unsupported(ctx, `${ctx.op} over axis ${axis} of shape [${x.shape}] must cover all elements`);
  return x;
}

/** Ops on CONST_ONLY_OPS that also have a lowering when their data input is an activation. */
const DATA_TOO = ["Gather", "Concat", "Unsqueeze", "Squeeze"];

function lowerNode(ctx: OpCtx): Lowered | LoweredMany | Value {
  const { op } = ctx;
  if (op === "Constant") return constantValue(ctx);
  const allConst = ctx.inputs.every((v) => !v || v.kind === "const");
  if (op === "Shape" || allConst) {
    const folded = foldConst(ctx);
    if (folded) return folded;
    const byLowering = op === "Shape" ? undefined : foldByLowering(ctx, lowerNode);
    if (byLowering) return byLowering;
    if ((SUPPORTED_OPS as readonly string[]).includes(op) || CONST_ONLY_OPS.includes(op)) {
      throw unsupported(ctx, `${op} on constant inputs cannot be folded`);
    }
    throw unsupported(ctx, "");
  }
  // Lowerings of the op families beyond the linear core (src/onnx/registry.ts); they may decline.
  const extra = EXTRA_LOWERINGS[op];
  if (extra) {
    const r = extra(ctx);
    if (r) return r;
  }
  if (CONST_ONLY_OPS.includes(op) && !DATA_TOO.includes(op)) {
    throw unsupported(ctx, `${op} is only supported on constants (shape computations), not on data`);
  }
  const x = ctx.inputs[0];
  switch (op) {
    case "Gemm": return lowerGemm(ctx);
    case "MatMul": return lowerMatMul(ctx);
    case "Add": case "Sub": case "Mul": case "Div": return lowerElementwise(ctx);
    case "Conv": return lowerConv(ctx);
    case "AveragePool": return lowerAveragePool(ctx);
    case "GlobalAveragePool": return lowerGlobalAveragePool(ctx);
    case "MaxPool": return lowerMaxPool(ctx);
    case "BatchNormalization": return lowerBatchNorm(ctx);
    case "Pad": return lowerPad(ctx);
    case "Concat": return lowerConcat(ctx);
  }
  if (!(SUPPORTED_OPS as readonly string[]).includes(op) && !extra) throw unsupported(ctx, "");
  // A constant first input with data elsewhere (an embedding lookup by data indices) is not a linear map.
  if (!x || x.kind !== "data") throw unsupported(ctx, "the first input is a constant while another input depends on the model input; only the reverse is supported");
  switch (op) {
    case "Relu": case "Sigmoid":
      return { node: { kind: op === "Relu" ? "relu" : "sigmoid", out: ctx.out, input: x.name, shape: x.shape, from: [ctx.name] }, value: { ...x, name: ctx.out } };
    case "LeakyRelu":
      return { node: { kind: "leakyrelu", out: ctx.out, input: x.name, shape: x.shape, alpha: ctx.attrs.float("alpha", 0.01), from: [ctx.name] }, value: { ...x, name: ctx.out } };
    case "Identity":
      return x;
    case "Squeeze": case "Unsqueeze":
      return { ...x, shape: squeezeShape(ctx, x.shape) };
    case "Slice": return lowerSlice(ctx);
    case "Split": return lowerSplit(ctx);
    case "Transpose": return lowerTranspose(ctx);
    case "Gather": return lowerGather(ctx);
    case "GatherElements": return lowerGatherElements(ctx);
    case "Tile": return lowerTile(ctx);
    case "Expand": return lowerExpand(ctx);
    case "ReduceSum": case "ReduceMean": case "ReduceMax": case "ReduceMin": return lowerReduce(ctx);
    case "Resize": case "Upsample": return lowerResize(ctx);
    case "ConvTranspose": return lowerConvTranspose(ctx);
    case "Dropout":
      if ((ctx.node.output ?? []).slice(1).some((o) => o)) throw unsupported(ctx, "the mask output of Dropout is not supported");
      return x;
    case "Flatten":
      return { ...x, shape: flattenTarget(ctx, x.shape) };
    case "Reshape": {
      let spec: number[];
      if (ctx.opset < 5 && !ctx.inputs[1]) spec = ctx.attrs.ints("shape") ?? [];
      else {
        const s = ctx.inputs[1];
        if (!s || s.kind !== "const") throw unsupported(ctx, "Reshape to a shape computed from the data is not supported (the shape must be constant)");
        spec = Array.from(s.t.data);
      }
      return { ...x, shape: reshapeTarget(ctx, x.shape, spec, ctx.attrs.int("allowzero", 0) === 1) };
    }
  }
  throw unsupported(ctx, "");
}
