/**
 * The peer corpus (EZKL's example models): import/unsupported/error counts from scanCorpus, and for
 * every imported model a real compile + Groth16 prove with Flavum's pipeline, calibrated on the
 * model's own input_data. Everything it writes stays in build/bench/corpus/ (no verifier contracts).
 */
import fs from "fs";
import path from "path";
import { CorpusEntry, corpusSample, maxAbs, maxAbsDiff, outputDataOf, scanCorpus } from "../src/onnx/corpus";
import { importOnnx } from "../src/onnx/lower";
import { OrtReference } from "../src/onnx/reference";
import { FloatGraph, size } from "../src/onnx/ir";
import { calibrate } from "../src/quant/calibrate";
import { quantizeGraph } from "../src/quant/quantize";
import type { QGraph } from "../src/quant/qgraph";
import { generateCircuit } from "../src/codegen/circuit";
import { circuitInput, decodePublic } from "../src/codegen/witness";
import { labelOf, predictQuantized } from "../src/model/inference";
import { RangeOverflowError } from "../src/errors";
import { powerFor, prove, verify } from "../src/zk";
import { benchDir, BenchOptions, errorMessage, progress, scoped } from "./common";
import { compileCached, setupCached } from "./circuitCache";

export type ProveStatus = "proved" | "quantize-failed" | "overflow" | "compile-failed" | "too-large" | "prove-failed" | "skipped-time";

export interface CorpusProveResult {
  name: string;
  status: ProveStatus;
  reason?: string;
  constraints?: number;
  power?: number;
  proveMs?: number;
  totalMs: number;
  /** The proof's public outputs equal the integer executor's. */
  matchesExecutor?: boolean;
  /** Quantized vs onnxruntime on the model's input: same class, and max |diff| (not for ArgMax heads). */
  quantSameClass?: boolean;
  quantMaxAbsErr?: number;
  /** Quantized within QUANT_TOLERANCE of onnxruntime on the corpus sample and 8 samples around it. */
  quantWithin?: boolean;
  fidelitySamples?: number;
  /** The circuit's size before issue 11 (bench/corpus.baseline.json), for the models that imported then. */
  baselineConstraints?: number;
  /** Quantized output against the corpus's stored output_data (when it has one). */
  quantVsOutputData?: number;
  quantWithinOutputData?: boolean;
}

export interface CorpusSummary {
  dir: string;
  missing?: string;
  models: number;
  imported: number;
  unsupported: number;
  errors: number;
  /** Unsupported models grouped by the op (or, for a non-op refusal, by the reason). */
  unsupportedBy: Record<string, string[]>;
  errorList: { name: string; reason: string }[];
  matchesOrt: number;
  withOutputData: number;
  matchesOutputData: number;
  mismatches: { name: string; ortMaxAbsDiff?: number; outputDataMaxAbsDiff?: number; compareError?: string }[];
  prove?: {
    attempted: number;
    proved: number;
    matchesExecutor: number;
    quantSameClass: number;
    /** Proved, the proof's outputs equal the executor's, and the quantized model is within tolerance of onnxruntime. */
    provedAndMatching: number;
    byStatus: Record<string, number>;
    results: CorpusProveResult[];
  };
}

function flat(v: unknown): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [Number(v)];
}

function groupKey(e: CorpusEntry): string {
  if (e.code === "UNSUPPORTED_OP" && e.reason) return e.reason;
  return `${e.code ?? "other"}: ${(e.message ?? e.reason ?? "").replace(/^.*?: /, "").slice(0, 80)}`;
}

/**
 * A cheap upper estimate of the circuit size from the quantized graph, to skip models far beyond the
 * benchmark's largest ptau without spending minutes in the compiler.
 */
export function estimateConstraints(q: QGraph): number {
  let n = q.input.size * (q.input.bits + 1) + 300 * Math.ceil(q.input.size / 8);
  for (const node of q.nodes) {
    const sz = q.tensors[node.out].size;
    if (node.kind === "affine") n += node.unchecked ? 0 : sz * (node.bits + node.shift + 1);
    else if (node.kind === "maxpool") n += node.windows.reduce((a, w) => a + w.length * (node.bits + 1), 0);
    else if (node.kind === "sigmoid") n += sz * (node.bitsIn + 2 ** node.segBits + node.bits + node.lowBits + node.guard);
    else if (node.kind === "leakyrelu") n += sz * (node.bits + node.alphaShift + 3);
    else if (node.kind === "pwl") n += sz * (node.bitsIn + 2 ** node.segBits + node.bits + node.lowBits + node.guard);
    else if (node.kind === "mul") n += node.ia.reduce((a, ia) => a + ia.length, 0) + sz * (node.bits + node.shift);
    else if (node.kind === "div") n += sz * (3 * node.bitsB + node.bits + 8);
    else if (node.kind === "sqrt") n += sz * (2 * (node.bitsIn + Math.abs(node.e) + 4) + node.bits + 2);
    else if (node.kind === "compare") n += sz * (node.bitsIn + 2);
    else if (node.kind === "argindex") n += node.windows.reduce((a, w) => a + w.length * (node.bitsIn + 2), 0);
    else if (node.kind === "round") n += sz * (node.bitsIn + 3);
    else if (node.kind === "select") n += 0;
    else n += sz * (node.bits + 1);
  }
  if (q.argmax) n += q.tensors[q.output].size * (q.tensors[q.output].bits + 2);
  return n;
}

/** Constraint counts of the models that imported before the op families of issue 11, measured then. */
const BASELINE: { constraints: Record<string, number> } = JSON.parse(fs.readFileSync(path.join(__dirname, "corpus.baseline.json"), "utf8"));

/** Tolerance of the quantized model against onnxruntime: 5% of the output's magnitude (at least 0.05 absolute). */
export const QUANT_TOLERANCE = 0.05;

/**
 * Inputs around the corpus's one sample: each float or boolean model input's values shuffled among
 * its own positions, floats also shrunk by a factor in [0.8, 1]. Signs, zeros and the value set
 * survive, so inputs that must stay in a function's domain (sqrt, acos) still do. Integer inputs are
 * kept: they are indices, whose structure (unique scatter targets, in-range gathers) the model needs.
 */
export function samplesAround(graph: FloatGraph, base: number[], n: number, seed: number): number[][] {
  let st = seed >>> 0;
  const rand = () => ((st = (Math.imul(st, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out: number[][] = [];
  for (let k = 0; k < n; k++) {
    const s = [...base];
    for (const p of graph.inputs) {
      if (p.elem === "int") continue;
      const len = size(p.shape);
      const part = base.slice(p.offset, p.offset + len);
      for (let i = len - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [part[i], part[j]] = [part[j], part[i]];
      }
      const f = 1 - 0.2 * rand();
      // Integer-valued float inputs (pixels, counts) stay integers: their scale is 2^0 for a reason.
      const integral = part.every(Number.isInteger);
      part.forEach((v, i) => (s[p.offset + i] = p.elem !== "float" ? v : integral ? Math.round(v * f) : Math.fround(v * f)));
    }
    out.push(s);
  }
  return out;
}

interface QuantFidelity {
  samples: number;
  /** Largest |quantized − onnxruntime| over the samples, and the largest |onnxruntime| it is measured against. */
  maxAbsErr: number;
  maxAbsOrt: number;
  sameClass: boolean;
  within: boolean;
}

async function quantFidelity(q: QGraph, file: string, inputs: number[][]): Promise<QuantFidelity> {
  const ort = await OrtReference.load(file);
  try {
    let err = 0;
    let mag = 0;
    let same = true;
    for (const input of inputs) {
      const float = await ort.run(input);
      const pred = predictQuantized(q, input);
      if (q.head === "argmax") {
        same &&= pred.argmax === float[0];
        continue;
      }
      pred.output.forEach((v, i) => {
        err = Math.max(err, Math.abs(v - float[i]));
        mag = Math.max(mag, Math.abs(float[i]));
      });
      same &&= pred.label === labelOf(q, float);
    }
    const within = q.head === "argmax" ? same : err <= QUANT_TOLERANCE * Math.max(1, mag);
    return { samples: inputs.length, maxAbsErr: err, maxAbsOrt: mag, sameClass: same, within };
  } finally {
    await ort.release();
  }
}

async function proveOne(e: CorpusEntry, opts: BenchOptions, deadline: number): Promise<CorpusProveResult> {
  const start = performance.now();
  const name = e.name;
  const res: CorpusProveResult = { name, status: "proved", totalMs: 0 };
  const done = (status: ProveStatus, reason?: string) => {
    Object.assign(res, { status, reason, totalMs: Math.round(performance.now() - start) });
    return res;
  };
  const log = scoped(`corpus ${name}`);
  const modelDeadline = Math.min(deadline, start + opts.corpusModelMs);
  const late = () => performance.now() > modelDeadline;

  let q: QGraph;
  let input: number[];
  let calibration: number[][];
  let held: number[][];
  let outputData: number[] | undefined;
  try {
    const graph = importOnnx(e.file);
    const json = JSON.parse(fs.readFileSync(path.join(path.dirname(e.file), "input.json"), "utf8"));
    input = corpusSample(graph, json.input_data);
    calibration = [input, ...samplesAround(graph, input, 16, 1)];
    held = samplesAround(graph, input, 8, 2);
    q = quantizeGraph(graph, calibrate(graph, calibration));
    if (Array.isArray(json.output_data) && json.output_data.length > 0) {
      outputData = outputDataOf(graph, json.output_data);
    }
  } catch (err) {
    return done("quantize-failed", errorMessage(err));
  }
  let xq: bigint[];
  let expected;
  try {
    const pred = predictQuantized(q, input);
    xq = pred.int.input;
    expected = pred.int;
    const f = await quantFidelity(q, e.file, [input, ...held]);
    res.quantSameClass = f.sameClass;
    res.quantMaxAbsErr = f.maxAbsErr;
    res.quantWithin = f.within;
    res.fidelitySamples = f.samples;
    if (outputData && q.head !== "argmax") {
      const ours = pred.output.slice(0, outputData.length);
      res.quantVsOutputData = maxAbsDiff(ours, outputData);
      res.quantWithinOutputData = ours.length === outputData.length && res.quantVsOutputData <= QUANT_TOLERANCE * Math.max(1, maxAbs(outputData));
    }
  } catch (err) {
    return done(err instanceof RangeOverflowError ? "overflow" : "quantize-failed", errorMessage(err));
  }
  const estimate = estimateConstraints(q);
  if (estimate > 2 * 2 ** opts.maxPower)
    return done("too-large", `~${estimate} constraints estimated, above 2^${opts.maxPower}; not compiled`);

  const circuitName = `peer_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  const circuit = generateCircuit(q, circuitName, "public");
  let c;
  try {
    c = await compileCached(circuit.source, benchDir("corpus", circuitName), circuitName, log);
  } catch (err) {
    return done("compile-failed", errorMessage(err));
  }
  res.constraints = c.info.constraints;
  res.baselineConstraints = BASELINE.constraints[name];
  res.power = powerFor(c.info.constraints, circuit.layout.publicSignals.length);
  if (res.power > opts.maxPower)
    return done("too-large", `${res.constraints} constraints need 2^${res.power} > 2^${opts.maxPower}; not proven`);
  if (late()) return done("skipped-time", "time cap reached after compiling");
  try {
    await setupCached(c, res.power, circuitName, log);
    if (late()) return done("skipped-time", "time cap reached after setup");
    const p = await prove(c.wasm, c.zkey, circuitInput(q, circuit.layout, xq));
    res.proveMs = Math.round(p.proveMs);
    const decoded = decodePublic(circuit.layout, p.publicSignals);
    res.matchesExecutor =
      decoded.out.every((v, i) => v === expected.output[i]) && (decoded.label === undefined || decoded.label === expected.argmax);
    const vkey = JSON.parse(fs.readFileSync(c.vkeyFile, "utf8"));
    if (!(await verify(vkey, p.publicSignals, p.proof))) return done("prove-failed", "the proof does not verify");
  } catch (err) {
    return done("prove-failed", errorMessage(err));
  }
  return done("proved");
}

export async function benchCorpus(opts: BenchOptions): Promise<CorpusSummary> {
  const dir = opts.corpusDir;
  const empty = {
    dir, models: 0, imported: 0, unsupported: 0, errors: 0, unsupportedBy: {}, errorList: [],
    matchesOrt: 0, withOutputData: 0, matchesOutputData: 0, mismatches: [],
  };
  if (!fs.existsSync(dir)) return { ...empty, missing: `corpus folder ${dir} not found: skipped` };

  progress(`corpus: scanning ${dir}`);
  const entries = await scanCorpus(dir);
  const imported = entries.filter((e) => e.status === "imported");
  const unsupportedBy: Record<string, string[]> = {};
  for (const e of entries.filter((x) => x.status === "unsupported")) (unsupportedBy[groupKey(e)] ??= []).push(e.name);
  const withData = imported.filter((e) => e.matchesOutputData !== undefined);
  const summary: CorpusSummary = {
    ...empty,
    models: entries.length,
    imported: imported.length,
    unsupported: entries.filter((e) => e.status === "unsupported").length,
    errors: entries.filter((e) => e.status === "error").length,
    unsupportedBy,
    errorList: entries.filter((e) => e.status === "error").map((e) => ({ name: e.name, reason: e.reason ?? "" })),
    matchesOrt: imported.filter((e) => e.matchesOrt).length,
    withOutputData: withData.length,
    matchesOutputData: withData.filter((e) => e.matchesOutputData).length,
    mismatches: imported
      .filter((e) => !e.matchesOrt || e.matchesOutputData === false)
      .map((e) => ({ name: e.name, ortMaxAbsDiff: e.ortMaxAbsDiff, outputDataMaxAbsDiff: e.outputDataMaxAbsDiff, compareError: e.compareError })),
  };
  progress(`corpus: ${summary.imported} imported, ${summary.unsupported} unsupported, ${summary.errors} errors`);

  const deadline = performance.now() + opts.corpusBudgetMs;
  const results: CorpusProveResult[] = [];
  for (const [k, e] of imported.entries()) {
    if (performance.now() > deadline) {
      results.push({ name: e.name, status: "skipped-time", reason: "corpus time budget used up", totalMs: 0 });
      continue;
    }
    const r = await proveOne(e, opts, deadline);
    results.push(r);
    progress(`corpus ${k + 1}/${imported.length} ${e.name}: ${r.status}${r.constraints ? ` (${r.constraints} constraints)` : ""}` +
      `${r.reason ? ` — ${r.reason}` : ""} [${(r.totalMs / 1000).toFixed(1)} s]`);
  }
  const byStatus: Record<string, number> = {};
  for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  summary.prove = {
    attempted: results.length,
    proved: byStatus.proved ?? 0,
    matchesExecutor: results.filter((r) => r.matchesExecutor).length,
    quantSameClass: results.filter((r) => r.quantSameClass).length,
    provedAndMatching: results.filter((r) => r.status === "proved" && r.matchesExecutor && r.quantWithin).length,
    byStatus,
    results,
  };
  return summary;
}
