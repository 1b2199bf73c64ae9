/**
 * Prover figures (src/prover/): what keeping a prover warm saves, and what proving through the
 * BullMQ queue costs and gains, on the digits MLP's batch circuits at B = 8 and 16 with real batch
 * inputs (planBatch over held-out samples):
 *   - in-process: a cold proof (curve torn down, key not yet read) against warm proofs of the same
 *     circuit, and today's sequencer path (prove() from src/zk/groth16.ts, zkey read from disk);
 *   - queue: batches per minute through a real redis-server with 1 and 2 `prover:worker` child
 *     processes on N jobs submitted at once (workers warmed first), and the queue's overhead per job:
 *     the wall time the node waits for one job on an idle warm worker minus that job's witness +
 *     prove time.
 * `--only provers` runs just these (never part of a full run: it needs redis-server and minutes of
 * proving). BENCH_PROVER_BATCHES=8,16 and BENCH_PROVER_JOBS=4 change the sizes and N.
 */
import type { ChildProcess } from "child_process";
import crypto from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import { loadModel, LoadedModel } from "../src/model/artifacts";
import { readSamples } from "../src/model/samples";
import { buildBatchCircuit } from "../src/rollup/batchBuild";
import { planBatch } from "../src/rollup/batchWitness";
import { hasher, TraceTree } from "../src/rollup/merkle";
import { circuitRef, QueueProver, WarmProver, type CircuitRef, type ProofResult } from "../src/prover";
import { checkRedis } from "../src/prover/connection";
import { prove, shutdown, verify } from "../src/zk";
import { snarkjs } from "../src/zk/snarkjs";
import { repoRoot } from "../src/zk/paths";
import { startRedis, type RedisServer } from "../test/helpers/redis";
import { onLines, spawnHardhat } from "../test/helpers/processes";
import { BenchOptions, errorMessage, median, scoped } from "./common";
import { ptauFile } from "./rollup";

export const PROVERS_MODEL = "mlp_digits";
const BATCHES = (process.env.BENCH_PROVER_BATCHES ?? "8,16").split(",").map(Number).filter((n) => n > 0);
const JOBS = Math.max(1, Number(process.env.BENCH_PROVER_JOBS ?? 4));
/** Sequential jobs on an idle warm worker for the overhead figure. */
const OVERHEAD_JOBS = 3;

export interface QueueRow {
  workers: number;
  jobs: number;
  /** From submitting the N jobs at once to the last verified result. */
  wallMs: number;
  batchesPerMinute: number;
  /** Proofs in the round made by a worker's first proof of the circuit (its warm-up missed it). */
  coldProofs: number;
  /** How the jobs spread over the workers. */
  perWorker: number[];
}

export interface ProverRow {
  batchSize: number;
  constraints?: number;
  zkeyBytes?: number;
  /** In-process, first proof: curve built and key read inside (witness + prove + verify + loading). */
  coldMs?: number;
  /** In-process, median of the warm proofs (same scope as coldMs). */
  warmMs?: number;
  warmWitnessMs?: number;
  warmProveMs?: number;
  /** prove() as the sequencer calls it today (zkey from disk, curve already built), witness + prove. */
  fileProveMs?: number;
  /** What a cold proof does on top of a warm one, timed alone: building the curve, reading + hashing the zkey. */
  curveBuildMs?: number;
  keyLoadMs?: number;
  /**
   * Longest stretch the event loop was blocked during the warm proofs (a 50 ms ticker): what the
   * BullMQ lock renewal must tolerate (it renews every lockMs / 4 and needs one renewal per lockMs / 2).
   */
  maxLoopBlockMs?: number;
  queue: QueueRow[];
  /** Median over OVERHEAD_JOBS of (wall time per job − witnessMs − proveMs) on an idle warm worker. */
  overheadMs?: number;
  overheadSamples?: number[];
  error?: string;
}

export interface ProversSummary {
  model: string;
  redis?: string;
  jobs: number;
  rows: ProverRow[];
  /** os.loadavg() (1 min) at the start and the end: other work on the machine skews every time here. */
  load: { start: number; end?: number };
  notes: string[];
  totalMs: number;
}

export function wantsProvers(opts: BenchOptions): boolean {
  return !!opts.only?.includes("provers");
}

/** One `npx hardhat prover:worker` child in its own process group. */
interface ChildWorker {
  child: ChildProcess;
  pid?: number;
  lines: string[];
  stop(): Promise<void>;
}

async function spawnWorker(url: string, queueName: string, log: (m: string) => void): Promise<ChildWorker> {
  const child = spawnHardhat(["prover:worker", "--queue", url, "--queue-name", queueName]);
  const lines: string[] = [];
  const w: ChildWorker = {
    child, lines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      // The worker itself (npx would report the signal as its own exit 143); the group if it hangs.
      try {
        process.kill(w.pid ?? -child.pid!, "SIGTERM");
      } catch {
        /* gone */
      }
      const timer = new Promise((r) => setTimeout(r, 90_000));
      await Promise.race([exited, timer]);
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    },
  };
  await new Promise<void>((resolve, reject) => {
    onLines(child, (line) => {
      if (/npm warn/.test(line)) return;
      lines.push(line);
      if (/job .*: (done|failed)|ready on queue/.test(line)) log(`[worker ${w.pid ?? child.pid}] ${line}`);
      const ready = line.match(/prover worker \S*\/(\d+) ready/);
      if (ready) {
        w.pid = Number(ready[1]);
        resolve();
      }
    });
    child.once("exit", (code, signal) => reject(new Error(`prover:worker exited (${code ?? signal}) before it was ready: ${lines.slice(-3).join(" | ")}`)));
  });
  return w;
}

async function batchInput(model: LoadedModel, B: number, samples: number[][]): Promise<Record<string, unknown>> {
  const h = await hasher();
  const plan = await planBatch({
    q: model.q, h, tree: new TraceTree(h), modelId: 1n, batchSize: B, batchNumber: 0n, firstLeaf: 0n,
    domain: 0xfan,
    requests: samples.slice(0, B).map((sample, i) => ({ requestId: BigInt(i + 1), sample })),
  });
  return plan.circuitInput;
}

async function inProcess(row: ProverRow, circuit: CircuitRef, input: Record<string, unknown>, proofs: number, log: (m: string) => void): Promise<void> {
  await shutdown();
  let t = performance.now();
  await snarkjs.curves.getCurveFromName("bn128");
  row.curveBuildMs = Math.round(performance.now() - t);
  t = performance.now();
  crypto.createHash("sha256").update(fs.readFileSync(circuit.zkey)).digest("hex");
  row.keyLoadMs = Math.round(performance.now() - t);
  // Cold as in a fresh process: no curve, no key in memory.
  await shutdown();
  const wp = new WarmProver({ name: "bench" });
  try {
    t = performance.now();
    const cold = await wp.prove({ id: "cold", circuit, input });
    row.coldMs = Math.round(performance.now() - t);
    if (cold.warm) throw new Error("the first proof reported warm");
    const warm: { ms: number; r: ProofResult }[] = [];
    let last = performance.now();
    let maxGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 50);
    try {
      for (let i = 0; i < proofs; i++) {
        t = performance.now();
        const r = await wp.prove({ id: `warm-${i}`, circuit, input });
        warm.push({ ms: performance.now() - t, r });
      }
    } finally {
      clearInterval(ticker);
    }
    row.maxLoopBlockMs = Math.round(maxGap);
    row.warmMs = Math.round(median(warm.map((x) => x.ms)));
    row.warmWitnessMs = Math.round(median(warm.map((x) => x.r.witnessMs)));
    row.warmProveMs = Math.round(median(warm.map((x) => x.r.proveMs)));
    const files: number[] = [];
    for (let i = 0; i < Math.min(proofs, 2); i++) {
      const r = await prove(circuit.wasm, circuit.zkey, input);
      if (!(await verify(circuit.vkey, r.publicSignals, r.proof))) throw new Error("prove() gave a proof that does not verify");
      files.push(r.witnessMs + r.proveMs);
    }
    row.fileProveMs = Math.round(median(files));
    log(
      `in-process: cold ${row.coldMs} ms (curve build ${row.curveBuildMs}, key read + sha256 ${row.keyLoadMs}), warm ${row.warmMs} ms ` +
        `(witness ${row.warmWitnessMs}, prove ${row.warmProveMs}; event loop blocked ≤ ${row.maxLoopBlockMs} ms), prove() from the zkey file ${row.fileProveMs} ms`,
    );
  } finally {
    await wp.close();
  }
}

async function queueRound(
  redis: RedisServer, B: number, workers: number, circuit: CircuitRef, input: Record<string, unknown>, log: (m: string) => void,
): Promise<{ row: QueueRow; overhead?: number[] }> {
  const queueName = `bench-b${B}-w${workers}-${process.pid}`;
  const q = await QueueProver.connect(redis.url, { queueName, timeoutMs: 30 * 60_000 });
  const children: ChildWorker[] = [];
  try {
    for (let i = 0; i < workers; i++) children.push(await spawnWorker(redis.url, queueName, log));
    // Warm-up: one job per worker at once (an idle worker takes the next job), so the round
    // measures warm workers; a worker that missed its warm-up shows up as a cold proof below.
    await Promise.all(children.map((_, i) => q.prove({ id: `warm-${i}`, circuit, input })));
    const start = performance.now();
    const results = await Promise.all(Array.from({ length: JOBS }, (_, i) => q.prove({ id: `job-${i}`, circuit, input })));
    const wallMs = performance.now() - start;
    const by = new Map<string, number>();
    for (const r of results) by.set(r.worker, (by.get(r.worker) ?? 0) + 1);
    const row: QueueRow = {
      workers, jobs: JOBS, wallMs: Math.round(wallMs), batchesPerMinute: Number(((JOBS * 60_000) / wallMs).toFixed(2)),
      coldProofs: results.filter((r) => !r.warm).length, perWorker: [...by.values()].sort((a, b) => b - a),
    };
    log(`queue, ${workers} worker(s): ${JOBS} batches in ${(wallMs / 1000).toFixed(1)} s = ${row.batchesPerMinute}/min (jobs per worker ${row.perWorker.join("/")}, cold ${row.coldProofs})`);
    let overhead: number[] | undefined;
    if (workers === 1) {
      overhead = [];
      for (let i = 0; i < OVERHEAD_JOBS; i++) {
        const t = performance.now();
        const r = await q.prove({ id: `seq-${i}`, circuit, input });
        overhead.push(Math.round(performance.now() - t - r.witnessMs - r.proveMs));
      }
      log(`queue overhead per job (idle warm worker): ${overhead.join(", ")} ms`);
    }
    return { row, overhead };
  } finally {
    for (const c of children) await c.stop();
    await q.close();
  }
}

export async function benchProvers(opts: BenchOptions, compileError?: string): Promise<ProversSummary> {
  const start = performance.now();
  const summary: ProversSummary = { model: PROVERS_MODEL, jobs: JOBS, rows: [], load: { start: os.loadavg()[0] }, notes: [], totalMs: 0 };
  const log = scoped("provers");
  if (compileError) {
    summary.notes.push(`${PROVERS_MODEL} did not compile (${compileError}): no prover figures`);
    return summary;
  }
  const ptau = ptauFile(opts.maxPower);
  if (!ptau) {
    summary.notes.push("no prepared powers of tau found (FLAVUM_PTAU / FLAVUM_PTAU_DIR): batch circuits not built, no prover figures");
    return summary;
  }
  const model = loadModel(PROVERS_MODEL);
  const samples = readSamples(path.join(repoRoot(), "fixtures", "data", "mlp_digits.heldout.json"));
  let redis: RedisServer | undefined;
  try {
    redis = await startRedis();
    summary.redis = await checkRedis(redis.url);
    for (const B of BATCHES) {
      const row: ProverRow = { batchSize: B, queue: [] };
      summary.rows.push(row);
      const blog = scoped(`provers B=${B}`);
      try {
        const build = await buildBatchCircuit(model, B, blog, ptau.file);
        row.constraints = build.keys.constraints;
        const circuit = await circuitRef(build);
        row.zkeyBytes = fs.statSync(circuit.zkey).size;
        const input = await batchInput(model, B, samples);
        await inProcess(row, circuit, input, opts.proofs, blog);
        for (const workers of [1, 2]) {
          const { row: qr, overhead } = await queueRound(redis, B, workers, circuit, input, blog);
          row.queue.push(qr);
          if (overhead) {
            row.overheadSamples = overhead;
            row.overheadMs = Math.round(median(overhead));
          }
        }
      } catch (e) {
        row.error = errorMessage(e);
        blog(`failed: ${row.error}`);
      }
    }
  } finally {
    await redis?.stop();
  }
  summary.load.end = os.loadavg()[0];
  summary.notes.push(
    `machine load (1-min average) ${summary.load.start.toFixed(1)} at the start, ${summary.load.end.toFixed(1)} at the end, on ${os.cpus().length} cores: ` +
      `with other work running, differences of a few hundred ms (cold vs warm) are within the noise; curve build and key read are timed alone for that reason`,
    `cold = first proof in a process with no curve and no key in memory (curve build + zkey read + sha256 check + witness + prove + verify); ` +
      `warm = the same circuit's later proofs (median of ${opts.proofs}); prove() = src/zk/groth16.ts as the sequencer calls it, zkey read from disk each time, curve warm`,
    `queue: redis-server ${summary.redis ?? "?"} on 127.0.0.1, \`npx hardhat prover:worker\` children on this machine, ${JOBS} jobs submitted at once after one warm-up job per worker; ` +
      `each result verified by the submitter; all workers share the machine's cores (each proof already uses every core through ffjavascript's threads)`,
    `overhead = wall time of one job on an idle warm worker minus its witness + prove time (queue add, hand-off, the worker's verify, result storage and event, the submitter's verify)`,
  );
  summary.totalMs = Math.round(performance.now() - start);
  return summary;
}

const int = (v?: number) => (v === undefined ? "—" : Math.round(v).toLocaleString("en-US"));

export function formatProvers(s: ProversSummary, out: string[]): void {
  out.push("", `Provers: ${s.model} batch circuits, in-process warm prover and the BullMQ queue (ms unless marked)`);
  const head = ["B", "constraints", "cold", "curve build", "key read", "warm", "warm witness", "warm prove", "loop blocked", "prove() today", "1 worker /min", "2 workers /min", "queue overhead"];
  const rows = s.rows.map((r) => {
    const q = (n: number) => r.queue.find((x) => x.workers === n);
    return [
      r.batchSize, int(r.constraints), int(r.coldMs), int(r.curveBuildMs), int(r.keyLoadMs), int(r.warmMs), int(r.warmWitnessMs), int(r.warmProveMs),
      int(r.maxLoopBlockMs), int(r.fileProveMs),
      q(1)?.batchesPerMinute ?? "—", q(2)?.batchesPerMinute ?? "—", r.overheadMs === undefined ? "—" : `${r.overheadMs} (${r.overheadSamples!.join(", ")})`,
    ].map(String);
  });
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(width[i])).join("  ");
  out.push(line(head), width.map((w) => "-".repeat(w)).join("  "), ...rows.map(line));
  for (const r of s.rows) {
    for (const q of r.queue)
      out.push(`  B = ${r.batchSize}, ${q.workers} worker(s): ${q.jobs} batches in ${(q.wallMs / 1000).toFixed(1)} s, jobs per worker ${q.perWorker.join("/")}, cold proofs ${q.coldProofs}`);
    if (r.error) out.push(`  B = ${r.batchSize}: error: ${r.error}`);
  }
  out.push(...s.notes.map((n) => `  note: ${n}`));
}
