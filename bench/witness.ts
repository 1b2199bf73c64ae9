/**
 * Witness figures: the WebAssembly witness generator (snarkjs, what proving uses by default) against
 * circom's native C++ one (src/zk/nativeWitness.ts) on the digits MLP's batch circuits, per witness
 * and as a ratio, with the native build time and a byte-for-byte check that both give the same
 * witness. `--only witness` runs just these; BENCH_NO_WITNESS=1 leaves them out of a full run.
 * Needs only the circuit and its wasm, never keys: a batch circuit that `npx hardhat demo` or the
 * rollup figures built is used in place, any other is compiled under build/bench/witness/.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { generateBatchCircuit } from "../src/codegen/batch";
import { loadModel, LoadedModel } from "../src/model/artifacts";
import { readSamples } from "../src/model/samples";
import { batchPaths } from "../src/rollup/batchBuild";
import { planBatch } from "../src/rollup/batchWitness";
import { hasher, log2Exact, TraceTree, zeroRoots } from "../src/rollup/merkle";
import { buildNativeWitness, CircuitRef, KEY_FILES, nativeToolchain, NativeToolchain, nativeWitness, readR1csInfo, sourceHash, witness } from "../src/zk";
import { templatesHash } from "../src/zk/keys";
import { repoRoot } from "../src/zk/paths";
import { benchDir, BenchOptions, errorMessage, median, scoped } from "./common";
import { compileCached } from "./circuitCache";

export const WITNESS_MODEL = "mlp_digits";
export const WITNESS_BATCHES = [8, 16];
/** Witnesses per generator and circuit; the reported times are medians. */
const RUNS = 7;

export interface WitnessRow {
  model: string;
  batchSize: number;
  /** Where the circuit came from: the rollup's batch build, or a bench-only compile. */
  circuit?: string;
  constraints?: number;
  wires?: number;
  wasmMs?: number;
  nativeMs?: number;
  /** wasmMs / nativeMs. */
  speedup?: number;
  /** Every native witness equal, byte for byte, to the wasm witness of the same input. */
  identical?: boolean;
  /** circom --c + make, or 0 when an up-to-date native build was reused. */
  nativeBuildMs?: number;
  nativeReused?: boolean;
  runs: number;
  error?: string;
}

export interface WitnessSummary {
  toolchain: NativeToolchain;
  rows: WitnessRow[];
  notes: string[];
  totalMs: number;
}

export function wantsWitness(opts: BenchOptions): boolean {
  if (opts.only) return opts.only.includes("witness");
  return process.env.BENCH_NO_WITNESS !== "1";
}

/** The batch circuit's wasm and source: the rollup's build if it is of this exact source, else a bench compile. */
async function batchCircuit(model: LoadedModel, B: number, log: (m: string) => void): Promise<{ wasm: string; r1cs: string; ref: CircuitRef; where: string }> {
  const h = await hasher();
  const gen = generateBatchCircuit(model.q, model.manifest.name, B, zeroRoots(h)[log2Exact(B)]);
  const p = batchPaths(model, B);
  const r1cs = path.join(p.dir, KEY_FILES.circuitDir, `${p.base}.r1cs`);
  try {
    const keys = JSON.parse(fs.readFileSync(path.join(p.dir, KEY_FILES.info), "utf8")) as { hash?: string; templates?: string };
    if (keys.hash === sourceHash(gen.source) && keys.templates === templatesHash() && fs.existsSync(p.wasm) && fs.existsSync(r1cs))
      return { wasm: p.wasm, r1cs, ref: { dir: p.dir, base: p.base }, where: path.relative(repoRoot(), p.dir) };
  } catch {
    // No batch build of this size yet: compiled below.
  }
  const dir = benchDir("witness", `${model.manifest.name}_batch${B}`);
  const c = await compileCached(gen.source, dir, p.base, log);
  return { wasm: c.wasm, r1cs: c.r1cs, ref: path.join(dir, `${p.base}.circom`), where: path.relative(repoRoot(), dir) };
}

async function benchOne(model: LoadedModel, B: number, samples: number[][]): Promise<WitnessRow> {
  const log = scoped(`witness B=${B}`);
  const row: WitnessRow = { model: model.manifest.name, batchSize: B, runs: RUNS };
  const c = await batchCircuit(model, B, log);
  row.circuit = c.where;
  const info = readR1csInfo(c.r1cs);
  row.constraints = info.constraints;
  row.wires = info.wires;
  const build = await buildNativeWitness(c.ref, { progress: log });
  row.nativeBuildMs = Math.round(build.compileMs + build.makeMs);
  row.nativeReused = build.reused;

  const h = await hasher();
  const inputs: Record<string, unknown>[] = [];
  for (let k = 0; k < RUNS; k++) {
    // Other samples each run, so no generator sees one input repeated.
    const window = Array.from({ length: B }, (_, i) => samples[(k * B + i) % samples.length]);
    const plan = await planBatch({
      q: model.q, h, tree: new TraceTree(h), modelId: 1n, batchSize: B, batchNumber: BigInt(k), firstLeaf: 0n,
      domain: 31337n,
      requests: window.map((s, i) => ({ requestId: BigInt(k * B + i + 1), sample: s })),
    });
    inputs.push(plan.circuitInput);
  }
  // One untimed call each: the first wasm compile and the first page-in of the executable are not per-witness costs.
  await witness(c.wasm, inputs[0]);
  await nativeWitness(build.exe, inputs[0]);
  // Each generator's runs back to back: interleaved, a native run lands in the garbage collection
  // of the wasm run before it (measured: ~110 ms instead of ~35 ms for the first native witness
  // after a wasm one), which is the wasm run's cost, not the native generator's.
  const native: { wtns: Uint8Array; ms: number }[] = [];
  for (const input of inputs) native.push(await nativeWitness(build.exe, input));
  const wasm: { wtns: Uint8Array; ms: number }[] = [];
  for (const input of inputs) wasm.push(await witness(c.wasm, input));
  const wasmMs = wasm.map((w) => w.ms);
  const nativeMs = native.map((n) => n.ms);
  const identical = wasm.every((w, i) => Buffer.compare(Buffer.from(w.wtns), Buffer.from(native[i].wtns)) === 0);
  row.wasmMs = median(wasmMs);
  row.nativeMs = median(nativeMs);
  row.speedup = row.wasmMs / row.nativeMs;
  row.identical = identical;
  log(`wasm ${row.wasmMs.toFixed(0)} ms, native ${row.nativeMs.toFixed(0)} ms per witness (×${row.speedup.toFixed(1)}), identical: ${identical}`);
  return row;
}

export async function benchWitness(modelError?: string): Promise<WitnessSummary> {
  const start = performance.now();
  const toolchain = nativeToolchain();
  const rows: WitnessRow[] = [];
  const notes = [
    `median of ${RUNS} witnesses per generator (each generator's runs back to back) after one untimed warm-up; ` +
      "wasm = snarkjs wtns.calculate in memory (as prove() runs it), native = write input.json, run the executable, read the .wtns back",
    // Timings on a shared machine say little without its load.
    `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores when the witness figures started`,
  ];
  if (!toolchain.ok || modelError) {
    const why = modelError ? `${WITNESS_MODEL} did not compile: ${modelError}` : `native toolchain missing: ${toolchain.ok ? "" : toolchain.missing.join(", ")}`;
    for (const B of WITNESS_BATCHES) rows.push({ model: WITNESS_MODEL, batchSize: B, runs: 0, error: why });
    return { toolchain, rows, notes, totalMs: Math.round(performance.now() - start) };
  }
  const model = loadModel(WITNESS_MODEL);
  // The build is named after its fixture (bench/models.ts MODELS), so the data has the same name.
  const samples = readSamples(path.join(repoRoot(), "fixtures", "data", `${WITNESS_MODEL}.heldout.json`));
  for (const B of WITNESS_BATCHES) {
    try {
      rows.push(await benchOne(model, B, samples));
    } catch (e) {
      rows.push({ model: WITNESS_MODEL, batchSize: B, runs: 0, error: errorMessage(e) });
    }
  }
  return { toolchain, rows, notes, totalMs: Math.round(performance.now() - start) };
}

const ms = (v?: number) => (v === undefined ? "—" : v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString("en-US"));

export function formatWitness(s: WitnessSummary, out: string[]): void {
  out.push("", "Witness generation: wasm (snarkjs) vs native (circom --c, g++ -O1), ms per witness");
  const head = ["  model", "B", "constraints", "wasm ms", "native ms", "speedup", "identical", "native build s", "circuit / note"];
  const rows = s.rows.map((r) => [
    `  ${r.model}`, String(r.batchSize), r.constraints?.toLocaleString("en-US") ?? "—", ms(r.wasmMs), ms(r.nativeMs),
    r.speedup === undefined ? "—" : `×${r.speedup.toFixed(1)}`, r.identical === undefined ? "—" : r.identical ? "yes" : "NO",
    r.nativeBuildMs === undefined ? "—" : r.nativeReused ? "reused" : (r.nativeBuildMs / 1000).toFixed(0), r.error ?? r.circuit ?? "",
  ]);
  const width = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(width[i]) : c.padStart(width[i]))).join("  ").trimEnd();
  out.push(line(head), width.map((w) => "-".repeat(w)).join("  "), ...rows.map(line));
  out.push(...s.notes.map((n) => `  note: ${n}`));
}
