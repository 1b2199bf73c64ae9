/**
 * Small builders shared by the logic family (src/onnx/logic.ts): requiring a data input, resolving
 * an axis, broadcasting input shapes, and the affine difference and elementwise product nodes that
 * comparisons, boolean logic and Where are made of.
 */
import { AffineBuilder } from "./affine";
import { FloatNode, MulNode, size } from "./ir";
import { Data, filled } from "./intBounds";
import { broadcastIndex, broadcastShape } from "./shapes";
import { OpCtx, Value, bad, input, shapeOf, unsupported } from "./values";

export function dataIn(ctx: OpCtx, i: number, what: string): Data {
  const v = input(ctx, i);
  if (v.kind !== "data") throw unsupported(ctx, `${what} (input ${i}) must depend on the model input here`);
  return v;
}

export function axisOf(ctx: OpCtx, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw bad(ctx, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function broadcastAll(ctx: OpCtx, vals: Value[]): number[] {
  let shape: number[] | null = [];
  for (const v of vals) {
    shape = broadcastShape(shape, shapeOf(v));
    if (!shape) throw bad(ctx, `input shapes ${vals.map((u) => `[${shapeOf(u)}]`).join(", ")} do not broadcast`);
  }
  return shape;
}

/** Adds w · v (broadcast to `shape`) to every row of B: a constant goes into the bias. */
export function addScaled(B: AffineBuilder, v: Value, shape: number[], w: number): void {
  const iv = broadcastIndex(shapeOf(v), shape);
  if (v.kind === "const") {
    for (let i = 0; i < B.outSize; i++) B.bias[i] += w * v.t.data[iv[i]];
    return;
  }
  const s = B.slot(v.name);
  for (let i = 0; i < B.outSize; i++) B.add(i, s, iv[i], w);
}

/** x − y with broadcasting: one affine node, or no node when it is x itself. */
export function difference(ctx: OpCtx, x: Value, y: Value, out: string): { nodes: FloatNode[]; name: string; shape: number[] } {
  const shape = broadcastAll(ctx, [x, y]);
  if (x.kind === "data" && y.kind === "const" && y.t.data.every((v) => v === 0) && x.shape.join() === shape.join()) {
    return { nodes: [], name: x.name, shape };
  }
  const B = new AffineBuilder(size(shape));
  addScaled(B, x, shape, 1);
  addScaled(B, y, shape, -1);
  return { nodes: [B.build(out, shape, [ctx.name])], name: out, shape };
}

/** y = coef · a · b elementwise, with broadcasting. */
export function productNode(ctx: OpCtx, out: string, a: Data | { name: string; shape: number[] }, b: { name: string; shape: number[] }, shape: number[], coef = 1): MulNode {
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const n = size(shape);
  return {
    kind: "mul", out, a: a.name, b: b.name, shape,
    ia: Array.from({ length: n }, (_, i) => Int32Array.of(ia[i])),
    ib: Array.from({ length: n }, (_, i) => Int32Array.of(ib[i])),
    coef: filled(n, coef), from: [ctx.name],
  };
}
