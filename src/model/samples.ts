/**
 * Reading sample files: an array of samples, each a flat array of numbers in the model's row-major
 * input order; a single flat array is one sample. EZKL-style `{"input_data": [[...]]}` is accepted
 * too, so a peer's example inputs work unchanged.
 */
import { readJsonFile } from "../jsonFile";
import { InputError } from "../errors";
import type { QGraph } from "../quant/qgraph";
import { inputAdjustments } from "../quant/intExec";
import { applyAdjustmentPolicy, AdjustmentPolicy } from "../quant/adjustments";

export function parseSamples(data: unknown, what: string): number[][] {
  if (data && typeof data === "object" && !Array.isArray(data) && "input_data" in data)
    return parseSamples((data as { input_data: unknown }).input_data, what);
  if (data && typeof data === "object" && !Array.isArray(data) && "inputs" in data)
    return parseSamples((data as { inputs: unknown }).inputs, what);
  if (!Array.isArray(data) || data.length === 0)
    throw new InputError(`${what}: expected a non-empty array of samples (each a flat array of numbers) or one flat array`);
  const samples = typeof data[0] === "number" ? [data] : data;
  return samples.map((s, k) => {
    if (!Array.isArray(s)) throw new InputError(`${what}: sample ${k} is ${JSON.stringify(s)?.slice(0, 40)}, expected an array of numbers`);
    return s.map((v, i) => {
      if (typeof v !== "number" || !Number.isFinite(v))
        throw new InputError(`${what}: sample ${k}, value ${i} is ${JSON.stringify(v)}, expected a finite number`);
      return v;
    });
  });
}

export function readSamples(file: string): number[][] {
  return parseSamples(readJsonFile(file, "input file"), `input file ${file}`);
}

/**
 * Warns about (or, strict, refuses) every value of the samples the model would round, before any
 * of them is run. `indices` are the samples' positions in their file when only some are used.
 */
export function reviewSamples(
  q: QGraph, samples: readonly (readonly number[])[], what: string, policy: AdjustmentPolicy, indices?: readonly number[],
): void {
  const list = samples.flatMap((s, k) => inputAdjustments(q, s, indices?.[k] ?? k));
  applyAdjustmentPolicy(list, what, policy);
}
