import type { Lowering } from "./registry";

export const LOGIC_OPS: Record<string, Lowering> = {};
