import type { Lowering } from "./registry";

export const NONLINEAR_OPS: Record<string, Lowering> = {};
