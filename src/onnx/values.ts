import { onnx } from "onnx-proto";
import { FlavumError, UnsupportedOpError } from "../errors";
import { ElemKind, SUPPORTED_OPS, size } from "./ir";
import { Attrs, ConstTensor } from "./load";

/**
 * What an ONNX tensor name stands for while lowering: a constant known at import time, or a
 * data tensor of the float graph. Shape-only ops give a new Value with the same `name` (an alias).
 */
export type Value =
  | { kind: "const"; t: ConstTensor }
  | { kind: "data"; name: string; shape: number[]; elem?: ElemKind };

export interface OpCtx {
  node: onnx.INodeProto;
  op: string;
  /** Node name for messages (ONNX names are optional). */
  name: string;
  out: string;
  attrs: Attrs;
  /** One per node input; undefined where an optional input is omitted. */
  inputs: (Value | undefined)[];
  opset: number;
}

/** Every op some lowering accepts: the linear core and the families in src/onnx/registry.ts. */
export function supportedOps(): string[] {
  // Required lazily: the registry's modules import this one.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { EXTRA_OPS } = require("./registry") as { EXTRA_OPS: string[] };
  return [...new Set([...SUPPORTED_OPS, ...EXTRA_OPS])];
}

export function unsupported(ctx: OpCtx, detail: string): UnsupportedOpError {
  return new UnsupportedOpError(ctx.op, ctx.name, detail, supportedOps());
}

export function bad(ctx: OpCtx, msg: string): FlavumError {
  return new FlavumError(`ONNX node ${ctx.op} "${ctx.name}": ${msg}`, "BAD_MODEL");
}

export function shapeOf(v: Value): number[] {
  return v.kind === "const" ? v.t.dims : v.shape;
}

export function input(ctx: OpCtx, i: number): Value {
  const v = ctx.inputs[i];
  if (!v) throw bad(ctx, `input ${i} is missing`);
  return v;
}

export function constInput(ctx: OpCtx, i: number, what: string): ConstTensor {
  const v = input(ctx, i);
  if (v.kind !== "const") throw unsupported(ctx, `${what} (input ${i}) must be a constant`);
  return v.t;
}

export function constOf(dims: number[], data: Float64Array | number[], dataType = 1): Value {
  return { kind: "const", t: { dims, data: Float64Array.from(data), dataType } };
}

/** Target shape of Reshape: 0 copies the input dimension (unless allowzero), -1 is inferred. */
export function reshapeTarget(ctx: OpCtx, inShape: number[], spec: number[], allowZero: boolean): number[] {
  const out = spec.map((d, i) => (d === 0 && !allowZero ? inShape[i] : d));
  const n = size(inShape);
  const minus = out.filter((d) => d === -1).length;
  if (minus > 1) throw bad(ctx, `Reshape target [${spec}] has more than one -1`);
  if (minus === 1) {
    const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (known === 0 || n % known !== 0) throw bad(ctx, `cannot reshape [${inShape}] to [${spec}]`);
    out[out.indexOf(-1)] = n / known;
  }
  if (size(out) !== n || out.some((d) => d < 0 || d === undefined)) throw bad(ctx, `cannot reshape [${inShape}] to [${spec}]`);
  return out;
}

export function flattenTarget(ctx: OpCtx, inShape: number[]): number[] {
  let axis = ctx.attrs.int("axis", 1);
  if (axis < 0) axis += inShape.length;
  if (axis < 0 || axis > inShape.length) throw bad(ctx, `Flatten axis ${axis} out of range for [${inShape}]`);
  return [size(inShape.slice(0, axis)), size(inShape.slice(axis))];
}
