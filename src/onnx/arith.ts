import type { Lowering } from "./registry";

export const ARITH_OPS: Record<string, Lowering> = {};
