/**
 * Cast and Round/Floor/Ceil of data.
 *
 * A cast to float or double needs no node, and integer bounds (src/onnx/intBounds.ts) make most
 * others free too: known integers cast to an integer type, or known 0/1 values cast to bool, are
 * only retagged, and rounding known integers is the identity. Otherwise a cast to an integer type
 * truncates toward zero and a cast to bool tests x ≠ 0. float16 and bfloat16 are accepted only for
 * small integers, which both half formats hold exactly.
 */
import type { LoweredMany } from "./dataMovement";
import { Bounds, INT_TYPES, boolValue, boundsOf, dataValue, filled, tagged } from "./intBounds";
import { CompareNode, RoundNode, size } from "./ir";
import { DataType, dataTypeName } from "./load";
import { dataIn } from "./logicBuilders";
import type { Lowering } from "./registry";
import { OpCtx, Value, input, unsupported } from "./values";

// ---------------------------------------------------------------------------------------------
// Cast and rounding

function isBoolValued(b: Bounds | undefined): boolean {
  return !!b && b.lo.every((v) => v >= 0) && b.hi.every((v) => v <= 1);
}

function lowerCast(ctx: OpCtx): LoweredMany | Value | undefined {
  const x = input(ctx, 0);
  if (x.kind !== "data") return undefined;
  const to = ctx.attrs.int("to", DataType.FLOAT);
  const b = boundsOf(x);
  // A float result must not say "int" (Div of ints truncates), but its values stay known integers.
  const asFloat = tagged({ ...x, elem: "float" }, b);
  if (to === DataType.FLOAT || to === DataType.DOUBLE) return asFloat;
  if (INT_TYPES.has(to)) {
    if (b) return tagged({ ...x, elem: "int" }, b);
    // Cast from float to an integer type truncates toward zero.
    const node: RoundNode = { kind: "round", mode: "trunc", out: ctx.out, input: x.name, shape: x.shape, from: [ctx.name] };
    return { nodes: [node], value: dataValue(ctx.out, x.shape, "int") };
  }
  if (to === DataType.BOOL) {
    if (isBoolValued(b)) return tagged({ ...x, elem: "bool" }, b);
    const node: CompareNode = { kind: "compare", op: "ne", out: ctx.out, input: x.name, shape: x.shape, from: [ctx.name] };
    return { nodes: [node], value: boolValue(ctx.out, x.shape) };
  }
  if ((to === DataType.FLOAT16 || to === DataType.BFLOAT16) && b && b.lo.every((v) => v >= -256) && b.hi.every((v) => v <= 256)) {
    // Small integers are exact in both half formats.
    return asFloat;
  }
  throw unsupported(ctx, `Cast of data to ${dataTypeName(to)}; supported targets are float, double, the integer types and bool`);
}

function lowerRounding(mode: RoundNode["mode"]): Lowering {
  return (ctx) => {
    const x = dataIn(ctx, 0, "the operand");
    const b = boundsOf(x);
    if (b) return x;
    const node: RoundNode = { kind: "round", mode, out: ctx.out, input: x.name, shape: x.shape, from: [ctx.name] };
    return { nodes: [node], value: dataValue(ctx.out, x.shape, x.elem, { lo: filled(size(x.shape), -Infinity), hi: filled(size(x.shape), Infinity) }) };
  };
}

export const CAST_ROUNDING_OPS: Record<string, Lowering> = {
  Cast: lowerCast,
  Round: lowerRounding("even"),
  Floor: lowerRounding("floor"),
  Ceil: lowerRounding("ceil"),
};
