/**
 * Comparisons, boolean logic and selection: Less/Greater/LessOrEqual/GreaterOrEqual/Equal,
 * Not/And/Or/Xor, and Where.
 *
 * Every comparison is a sign test of an affine difference. Booleans are 0/1 floats, so logic is
 * arithmetic: Not = 1 − x, And = x·y, Or = x + y − x·y. Where is b + cond · (a − b), or a plain
 * selection when the condition is constant.
 */
import { AffineBuilder } from "./affine";
import type { LoweredMany } from "./dataMovement";
import { Bounds, Data, boolValue, boundsOf, dataValue, elemOf } from "./intBounds";
import { CompareNode, size } from "./ir";
import { addScaled, broadcastAll, dataIn, difference, productNode } from "./logicBuilders";
import type { Lowering } from "./registry";
import { broadcastIndex } from "./shapes";
import { OpCtx, Value, input, shapeOf } from "./values";

// ---------------------------------------------------------------------------------------------
// Comparisons and logic

/** Less(a, b) is b − a > 0: every comparison is a sign test of an affine difference. */
const COMPARISONS: Record<string, { op: CompareNode["op"]; swap: boolean }> = {
  Less: { op: "gt", swap: true },
  Greater: { op: "gt", swap: false },
  LessOrEqual: { op: "ge", swap: true },
  GreaterOrEqual: { op: "ge", swap: false },
  Equal: { op: "eq", swap: false },
};

function lowerCompare(ctx: OpCtx): LoweredMany {
  const { op, swap } = COMPARISONS[ctx.op];
  const a = input(ctx, 0);
  const b = input(ctx, 1);
  const d = swap ? difference(ctx, b, a, `${ctx.out}::diff`) : difference(ctx, a, b, `${ctx.out}::diff`);
  const node: CompareNode = { kind: "compare", op, out: ctx.out, input: d.name, shape: d.shape, from: [ctx.name] };
  return { nodes: [...d.nodes, node], value: boolValue(ctx.out, d.shape) };
}

function lowerNot(ctx: OpCtx): LoweredMany {
  const x = dataIn(ctx, 0, "the operand");
  const B = new AffineBuilder(size(x.shape));
  addScaled(B, x, x.shape, -1);
  B.bias.fill(1);
  return { nodes: [B.build(ctx.out, x.shape, [ctx.name])], value: boolValue(ctx.out, x.shape) };
}

/** And = xy, Or = x + y − xy, Xor = x + y − 2xy on 0/1 values: k is the weight of xy. */
const LOGIC_K: Record<string, number> = { And: 0, Or: 1, Xor: 2 };

function lowerLogic(ctx: OpCtx): LoweredMany {
  const a = input(ctx, 0);
  const b = input(ctx, 1);
  const shape = broadcastAll(ctx, [a, b]);
  const n = size(shape);
  if (a.kind === "const" || b.kind === "const") {
    // With a constant c the result is affine in x: And = c·x, Or = (1−c)·x + c, Xor = (1−2c)·x + c.
    const [x, c] = (a.kind === "data" ? [a, b] : [b, a]) as [Data, Extract<Value, { kind: "const" }>];
    const ix = broadcastIndex(x.shape, shape);
    const ic = broadcastIndex(c.t.dims, shape);
    const B = new AffineBuilder(n);
    const s = B.slot(x.name);
    for (let i = 0; i < n; i++) {
      const cv = c.t.data[ic[i]] !== 0 ? 1 : 0;
      if (ctx.op === "And") B.add(i, s, ix[i], cv);
      else {
        B.add(i, s, ix[i], ctx.op === "Or" ? 1 - cv : 1 - 2 * cv);
        B.bias[i] = cv;
      }
    }
    return { nodes: [B.build(ctx.out, shape, [ctx.name])], value: boolValue(ctx.out, shape) };
  }
  if (ctx.op === "And") return { nodes: [productNode(ctx, ctx.out, a, b, shape)], value: boolValue(ctx.out, shape) };
  const p = productNode(ctx, `${ctx.out}::and`, a, b, shape);
  const B = new AffineBuilder(n);
  addScaled(B, a, shape, 1);
  addScaled(B, b, shape, 1);
  addScaled(B, { kind: "data", name: p.out, shape }, shape, -LOGIC_K[ctx.op]);
  return { nodes: [p, B.build(ctx.out, shape, [ctx.name])], value: boolValue(ctx.out, shape) };
}

// ---------------------------------------------------------------------------------------------
// Where

function unionBounds(a: Value, b: Value, shape: number[]): Bounds | undefined {
  const ba = boundsOf(a);
  const bb = boundsOf(b);
  if (!ba || !bb) return undefined;
  const ia = broadcastIndex(shapeOf(a), shape);
  const ib = broadcastIndex(shapeOf(b), shape);
  const n = size(shape);
  return {
    lo: Float64Array.from({ length: n }, (_, i) => Math.min(ba.lo[ia[i]], bb.lo[ib[i]])),
    hi: Float64Array.from({ length: n }, (_, i) => Math.max(ba.hi[ia[i]], bb.hi[ib[i]])),
  };
}

function lowerWhere(ctx: OpCtx): LoweredMany {
  const [c, a, b] = [0, 1, 2].map((i) => input(ctx, i));
  const shape = broadcastAll(ctx, [c, a, b]);
  const n = size(shape);
  const ea = elemOf(a);
  const elem = ea !== undefined && ea === elemOf(b) ? ea : undefined;
  const value = dataValue(ctx.out, shape, elem, unionBounds(a, b, shape));
  if (c.kind === "const") {
    // A constant condition only chooses, element by element, where each output comes from.
    const ic = broadcastIndex(c.t.dims, shape);
    const B = new AffineBuilder(n);
    for (const [v, take] of [[a, 1], [b, 0]] as const) {
      const iv = broadcastIndex(shapeOf(v), shape);
      const s = v.kind === "data" ? B.slot(v.name) : -1;
      for (let i = 0; i < n; i++) {
        if ((c.t.data[ic[i]] !== 0 ? 1 : 0) !== take) continue;
        if (v.kind === "const") B.bias[i] = v.t.data[iv[i]];
        else B.add(i, s, iv[i], 1);
      }
    }
    return { nodes: [B.build(ctx.out, shape, [ctx.name])], value };
  }
  if (a.kind === "const" && b.kind === "const") {
    // b + cond · (a − b) with constant a − b: affine in the condition.
    const B = new AffineBuilder(n);
    const s = B.slot(c.name);
    const [ic, ia, ib] = [c, a, b].map((v) => broadcastIndex(shapeOf(v), shape));
    for (let i = 0; i < n; i++) {
      B.add(i, s, ic[i], a.t.data[ia[i]] - b.t.data[ib[i]]);
      B.bias[i] = b.t.data[ib[i]];
    }
    return { nodes: [B.build(ctx.out, shape, [ctx.name])], value };
  }
  const d = difference(ctx, a, b, `${ctx.out}::diff`);
  const p = productNode(ctx, `${ctx.out}::sel`, c, { name: d.name, shape: d.shape }, shape);
  const B = new AffineBuilder(n);
  addScaled(B, b, shape, 1);
  addScaled(B, { kind: "data", name: p.out, shape }, shape, 1);
  return { nodes: [...d.nodes, p, B.build(ctx.out, shape, [ctx.name])], value };
}

export const COMPARISON_OPS: Record<string, Lowering> = {
  Less: lowerCompare,
  Greater: lowerCompare,
  LessOrEqual: lowerCompare,
  GreaterOrEqual: lowerCompare,
  Equal: lowerCompare,
  Not: lowerNot,
  And: lowerLogic,
  Or: lowerLogic,
  Xor: lowerLogic,
  Where: lowerWhere,
};
