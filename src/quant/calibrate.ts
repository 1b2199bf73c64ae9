/**
 * Calibration: the largest magnitude each tensor reaches on sample inputs, measured with the float
 * executor. Scales follow from these (see quantize.ts).
 */
import type { FloatGraph } from "../onnx/ir";
import { runFloat } from "../onnx/floatExec";
import { FlavumError } from "../errors";

/** Largest |value| per tensor, plus which tensors only ever held integers (e.g. raw pixels). */
export class TensorRanges extends Map<string, number> {
  readonly integral = new Set<string>();
}

export function calibrate(graph: FloatGraph, samples: number[][]): TensorRanges {
  if (samples.length === 0) throw new FlavumError("calibration needs at least one sample, got an empty set");
  const ranges = new TensorRanges();
  if (samples.every((s) => s.every(Number.isInteger))) ranges.integral.add(graph.input.name);
  for (const sample of samples) {
    for (const [name, values] of runFloat(graph, sample)) {
      let m = ranges.get(name) ?? 0;
      for (const v of values) m = Math.max(m, Math.abs(v));
      ranges.set(name, m);
    }
  }
  return ranges;
}

/**
 * Without a calibration file the input is assumed to lie in [-1, 1] (the common normalisation),
 * propagated through the graph as random samples in that box, so the scales of later tensors still
 * come from measured values rather than guesses. Documented in the README.
 */
export function fallbackSamples(graph: FloatGraph, count = 64, seed = 1): number[][] {
  const n = graph.input.shape.reduce((a, b) => a * b, 1);
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  // Boolean inputs take 0 or 1, integer inputs small integers; float inputs values in [-1, 1].
  const kinds: string[] = new Array(n).fill("float");
  for (const p of graph.inputs ?? []) for (let i = 0; i < p.shape.reduce((a, b) => a * b, 1); i++) kinds[p.offset + i] = p.elem;
  const draw = (kind: string) => (kind === "bool" ? (rand() < 0.5 ? 0 : 1) : kind === "int" ? Math.floor(rand() * 17) - 8 : rand() * 2 - 1);
  const out: number[][] = [];
  for (let k = 0; k < count; k++) out.push(Array.from({ length: n }, (_, i) => draw(kinds[i])));
  return out;
}
