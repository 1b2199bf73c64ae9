import type { Lowering } from "./registry";

export const RECURRENT_OPS: Record<string, Lowering> = {};
