import fs from "fs";
import path from "path";
import { FlavumError, UnsupportedOpError } from "../errors";
import { FloatGraph, size } from "./ir";
import { importOnnx } from "./lower";
import { applyHead, runFloat } from "./floatExec";
import { OrtReference } from "./reference";

/** One model of a compatibility corpus (a folder holding network.onnx and input.json). */
export interface CorpusEntry {
  name: string;
  file: string;
  status: "imported" | "unsupported" | "error";
  /** The unsupported op's type, or the error message. */
  reason?: string;
  message?: string;
  /** FlavumError code: UNSUPPORTED_OP (reason is the op), UNSUPPORTED_MODEL (inputs/outputs/types), BAD_MODEL, ... */
  code?: string;
  ops?: Record<string, number>;
  head?: string;
  floatNodes?: number;
  /** Max |float graph − onnxruntime| on the first input, and whether it is within 1e-4 · max(1, |ort|). */
  ortMaxAbsDiff?: number;
  matchesOrt?: boolean;
  /** Against the corpus's own output_data (undefined when it has none); tolerance 1e-2 abs + 1e-2 rel. */
  outputDataMaxAbsDiff?: number;
  matchesOutputData?: boolean;
  /** Set when the model imported but running or comparing it failed. */
  compareError?: string;
}

export const ORT_TOLERANCE = 1e-4;
export const OUTPUT_DATA_TOLERANCE = 1e-2;

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** What the float graph shows for one input, in the form onnxruntime returns the graph output. */
export function floatModelOutput(graph: FloatGraph, input: number[]): number[] {
  const logits = runFloat(graph, input).get(graph.output) as Float64Array;
  const { output, argmax } = applyHead(graph, logits);
  return graph.head === "argmax" ? [argmax] : output;
}

function flat(v: unknown): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [Number(v)];
}

/**
 * The first sample of an input.json `input_data`: one flat list per model input (several samples
 * may be stored back to back in each), concatenated in the model's input order.
 */
export function corpusSample(graph: FloatGraph, inputData: unknown): number[] {
  const lists = Array.isArray(inputData) ? inputData : [];
  if (graph.inputs.length === 1) return flat(lists[0] ?? []).slice(0, size(graph.input.shape));
  return graph.inputs.flatMap((p, k) => flat(lists[k] ?? []).slice(0, size(p.shape)));
}

/** The stored output_data of the first sample: one list per model output (maybe fewer), concatenated. */
export function outputDataOf(graph: FloatGraph, outputData: unknown[]): number[] {
  if (graph.outputs.length === 1) return flat(outputData[0]).slice(0, size(graph.outputs[0].shape));
  return graph.outputs.slice(0, outputData.length).flatMap((p, k) => flat(outputData[k]).slice(0, size(p.shape)));
}

export async function scanModel(dir: string): Promise<CorpusEntry> {
  const file = path.join(dir, "network.onnx");
  const entry: CorpusEntry = { name: path.basename(dir), file, status: "error" };
  let graph: FloatGraph;
  try {
    graph = importOnnx(file);
  } catch (e) {
    if (e instanceof UnsupportedOpError) {
      entry.status = "unsupported";
      entry.reason = e.opType;
    } else if (e instanceof FlavumError) {
      entry.status = "unsupported";
      entry.reason = e.message;
    } else {
      entry.reason = (e as Error).message;
    }
    entry.message = (e as Error).message;
    if (e instanceof FlavumError) entry.code = e.code;
    return entry;
  }
  Object.assign(entry, { status: "imported", ops: graph.ops, head: graph.head, floatNodes: graph.nodes.length });
  try {
    const json = JSON.parse(fs.readFileSync(path.join(dir, "input.json"), "utf8"));
    const input = corpusSample(graph, json.input_data);
    const ours = floatModelOutput(graph, input);
    const ref = await OrtReference.load(file);
    try {
      const theirs = await ref.run(input);
      entry.ortMaxAbsDiff = maxAbsDiff(ours, theirs);
      entry.matchesOrt = entry.ortMaxAbsDiff <= ORT_TOLERANCE * Math.max(1, maxAbs(theirs));
    } finally {
      await ref.release();
    }
    if (Array.isArray(json.output_data) && json.output_data.length > 0) {
      // Some corpora store only the first of several outputs: compare the outputs that are there.
      const expected = outputDataOf(graph, json.output_data);
      const mine = ours.slice(0, expected.length);
      entry.outputDataMaxAbsDiff = maxAbsDiff(mine, expected);
      entry.matchesOutputData = mine.length === expected.length && expected.length > 0 &&
        mine.every((v, i) => Math.abs(v - expected[i]) <= OUTPUT_DATA_TOLERANCE * (1 + Math.abs(expected[i])));
    }
  } catch (e) {
    entry.compareError = (e as Error).message;
    entry.matchesOrt = false;
  }
  return entry;
}

/** Import and check every `<dir>/<model>/network.onnx`; never throws for one bad model. */
export async function scanCorpus(dir: string): Promise<CorpusEntry[]> {
  const names = fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, "network.onnx"))).sort();
  const out: CorpusEntry[] = [];
  for (const n of names) out.push(await scanModel(path.join(dir, n)));
  return out;
}
