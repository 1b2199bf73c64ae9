/**
 * Reading sample files: an array of samples, each a flat array of numbers in the model's row-major
 * input order; a single flat array is one sample. EZKL-style `{"input_data": [[...]]}` is accepted
 * too, so a peer's example inputs work unchanged.
 *
 * For a model with several inputs a sample is an array of flat arrays, one per model input in the
 * model's input order (a flat array of all of them concatenated is accepted too); EZKL's
 * `input_data` then holds one list per input, each with the samples back to back.
 */
import { readJsonFile } from "../jsonFile";
import { InputError } from "../errors";
import type { QGraph } from "../quant/qgraph";
import { inputAdjustments } from "../quant/intExec";
import { applyAdjustmentPolicy, AdjustmentPolicy } from "../quant/adjustments";

/** A model input as sample files see it: its name and shape. */
export interface SamplePort {
  name: string;
  shape: number[];
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function flatNumbers(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new InputError(`${what} is ${JSON.stringify(v)?.slice(0, 40)}, expected an array of numbers`);
  return v.map((x, i) => {
    // Boolean model inputs may be written as true/false.
    const n = typeof x === "boolean" ? (x ? 1 : 0) : x;
    if (typeof n !== "number" || !Number.isFinite(n)) throw new InputError(`${what}, value ${i} is ${JSON.stringify(x)}, expected a finite number`);
    return n;
  });
}

/** Samples of a model with several inputs, each returned as the inputs concatenated in order. */
function parseMultiInput(data: unknown, what: string, ports: SamplePort[], ezkl: boolean): number[][] {
  const sizes = ports.map((p) => count(p.shape));
  const total = sizes.reduce((a, b) => a + b, 0);
  const expected = `one flat array per model input (${ports.map((p, i) => `"${p.name}" [${p.shape.join(", ")}] = ${sizes[i]} values`).join(", ")})`;
  if (!Array.isArray(data) || data.length === 0) throw new InputError(`${what}: expected a non-empty array of samples, each ${expected}`);
  if (ezkl) {
    if (data.length !== ports.length) throw new InputError(`${what}: input_data has ${data.length} lists, expected ${expected}`);
    const lists = data.map((l, k) => flatNumbers(l, `${what}: input_data[${k}] ("${ports[k].name}")`));
    const n = lists[0].length / sizes[0];
    lists.forEach((l, k) => {
      if (l.length % sizes[k] !== 0 || l.length / sizes[k] !== n)
        throw new InputError(`${what}: input_data[${k}] ("${ports[k].name}") has ${l.length} values, expected ${n} sample(s) of ${sizes[k]}`);
    });
    return Array.from({ length: n }, (_, j) => lists.flatMap((l, k) => l.slice(j * sizes[k], (j + 1) * sizes[k])));
  }
  const isSample = (v: unknown) => Array.isArray(v) && (v.length === 0 || typeof v[0] === "number" || Array.isArray(v[0]));
  // One sample alone is either the flat concatenation or one array per input; otherwise a list of samples.
  const perInput = data.length === ports.length && data.every((d, k) => Array.isArray(d) && d.length === sizes[k] && typeof d[0] !== "object");
  const one = typeof data[0] === "number" || perInput;
  const samples = one ? [data] : data;
  return samples.map((s, k) => {
    if (!isSample(s)) throw new InputError(`${what}: sample ${k} is ${JSON.stringify(s)?.slice(0, 40)}, expected ${expected}`);
    const arr = s as unknown[];
    if (typeof arr[0] === "number") {
      const flat = flatNumbers(arr, `${what}: sample ${k}`);
      if (flat.length !== total) throw new InputError(`${what}: sample ${k} has ${flat.length} values, expected ${total} (${expected}, concatenated)`);
      return flat;
    }
    if (arr.length !== ports.length) throw new InputError(`${what}: sample ${k} has ${arr.length} arrays, expected ${expected}`);
    return arr.flatMap((part, j) => {
      const v = flatNumbers(part, `${what}: sample ${k}, input ${j} ("${ports[j].name}")`);
      if (v.length !== sizes[j]) throw new InputError(`${what}: sample ${k}, input ${j} ("${ports[j].name}") has ${v.length} values, expected ${sizes[j]}`);
      return v;
    });
  });
}

export function parseSamples(data: unknown, what: string, ports?: SamplePort[]): number[][] {
  const multi = ports && ports.length > 1;
  if (data && typeof data === "object" && !Array.isArray(data) && "input_data" in data) {
    const d = (data as { input_data: unknown }).input_data;
    return multi ? parseMultiInput(d, what, ports, true) : parseSamples(d, what);
  }
  if (data && typeof data === "object" && !Array.isArray(data) && "inputs" in data)
    return parseSamples((data as { inputs: unknown }).inputs, what, ports);
  if (multi) return parseMultiInput(data, what, ports, false);
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

export function readSamples(file: string, ports?: SamplePort[]): number[][] {
  return parseSamples(readJsonFile(file, "input file"), `input file ${file}`, ports);
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
