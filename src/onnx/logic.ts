/**
 * Comparisons, boolean logic and integer data, one module per concern:
 *  - src/onnx/comparisons.ts: Less/Greater/Equal..., Not/And/Or/Xor, Where;
 *  - src/onnx/castRounding.ts: Cast, Round/Floor/Ceil;
 *  - src/onnx/argTopK.ts: ArgMax/ArgMin, TopK (with its sorting network);
 *  - src/onnx/dataLookups.ts: OneHot, and Gather by data indices (the leaf and node lookups of
 *    exported tree ensembles);
 *  - src/onnx/intBounds.ts: the elementwise integer bounds these ops track, and the
 *    Add/Sub/Mul/MatMul lowerings that carry them through the linear core;
 *  - src/onnx/logicBuilders.ts: small builders they share.
 *
 * Booleans are 0/1 floats, so logic is arithmetic, and a lookup by a data index is a sum of
 * indicator bits whose number the integer bounds keep small.
 */
import { ARG_TOPK_OPS } from "./argTopK";
import { CAST_ROUNDING_OPS } from "./castRounding";
import { COMPARISON_OPS } from "./comparisons";
import { LOOKUP_OPS } from "./dataLookups";
import { BOUNDED_ARITH_OPS } from "./intBounds";
import type { Lowering } from "./registry";

export const LOGIC_OPS: Record<string, Lowering> = {
  ...COMPARISON_OPS,
  ...CAST_ROUNDING_OPS,
  ...ARG_TOPK_OPS,
  ...LOOKUP_OPS,
  ...BOUNDED_ARITH_OPS,
};
