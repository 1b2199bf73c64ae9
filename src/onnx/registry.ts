/**
 * The op families lowered outside the linear core, one module each. A lowering returns undefined to
 * decline (the core lowering, or the "unsupported op" error, then applies).
 */
import type { Lowered } from "./linearOps";
import type { LoweredMany } from "./dataMovement";
import type { OpCtx, Value } from "./values";
import { NONLINEAR_OPS } from "./nonlinear";
import { ARITH_OPS } from "./arith";
import { LOGIC_OPS } from "./logic";
import { RECURRENT_OPS } from "./recurrent";
import { INDEXING_OPS } from "./indexing";

export type Lowering = (ctx: OpCtx) => Lowered | LoweredMany | Value | undefined;

export const EXTRA_LOWERINGS: Record<string, Lowering> = {
  ...NONLINEAR_OPS,
  ...ARITH_OPS,
  ...LOGIC_OPS,
  ...RECURRENT_OPS,
  ...INDEXING_OPS,
};

export const EXTRA_OPS = Object.keys(EXTRA_LOWERINGS);
