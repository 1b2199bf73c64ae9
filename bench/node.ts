/**
 * The node end to end (`--only node`): signed requests over HTTP to a node on the in-process Hardhat
 * network, batched, proven and settled, until every proof is served. Throughput (inferences per
 * minute) with the node proving in its own process and with 1 and 2 `prover:worker` processes on a
 * real Redis queue, for mlp_digits at B = 8 and 16; and the latency from request to verified result
 * at a 5 s batch timeout (a lone request waits for the timeout, then one proof).
 */
import { spawn, type ChildProcess } from "child_process";
import os from "os";
import path from "path";
import fs from "fs";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Signer } from "ethers";
import { deployRollup } from "../src/chain/deployRollup";
import { openSequencer, registerModel } from "../src/rollup/service";
import { startNode } from "../src/node/node";
import { nodeProver } from "../src/node/provers";
import { encodeInput, layoutFromShape } from "../src/sdk/encodeInput";
import { INFERENCE_REQUEST_TYPES, requestDomain } from "../src/protocol/signedRequest";
import { readSamples } from "../src/model/samples";
import { repoRoot } from "../src/zk/paths";
import { loadModel } from "../src/model/artifacts";
import { batchPaths } from "../src/rollup/batchBuild";
import { nativeExecutable, witnessMode } from "../src/zk/nativeWitness";
import { startRedis } from "../test/helpers/redis";
import { BenchOptions, progress } from "./common";

export const NODE_MODEL = "mlp_digits";

/** Minutes of proving and a Redis server: only on request (`--only node`). */
export function wantsNode(opts: BenchOptions): boolean {
  return Boolean(opts.only?.includes("node"));
}
const BATCHES = 4;

export interface NodeRow {
  batchSize: number;
  provers: string;
  /** Which witness generator the provers ran (native when the batch circuit's C++ generator is built). */
  witness: string;
  inferences: number;
  seconds: number;
  perMinute: number;
}

export interface NodeSummary {
  rows: NodeRow[];
  latency: { batchTimeoutS: number; samplesMs: number[]; medianMs: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startWorkers(n: number, url: string): Promise<ChildProcess[]> {
  const workers = Array.from({ length: n }, () =>
    spawn("npx", ["hardhat", "prover:worker", "--queue", url], { cwd: repoRoot(), stdio: ["ignore", "ignore", "pipe"], detached: true }));
  await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
    let log = "";
    const t = setTimeout(() => reject(new Error(`prover:worker did not start: ${log}`)), 120_000);
    w.stderr!.on("data", (d: Buffer) => {
      log += d;
      if (/waiting for jobs|listening|ready/i.test(log)) {
        clearTimeout(t);
        resolve();
      }
    });
  })));
  return workers;
}

async function stopWorkers(ws: ChildProcess[]): Promise<void> {
  await Promise.all(ws.map((w) => new Promise<void>((resolve) => {
    if (!w.pid || w.exitCode !== null) return resolve();
    w.once("exit", () => resolve());
    process.kill(-w.pid, "SIGTERM");
  })));
}

export async function benchNode(hre: HardhatRuntimeEnvironment, batchSizes: number[] = [8, 16]): Promise<NodeSummary> {
  const signer = (await hre.ethers.getSigners())[1] as unknown as Signer;
  const samples = readSamples(path.join(repoRoot(), "fixtures/data/mlp_digits.heldout.json"));
  const redis = await startRedis();
  const rows: NodeRow[] = [];
  let nonce = 1n;
  let latency: NodeSummary["latency"] | undefined;
  try {
    for (const B of batchSizes) {
      const d = await deployRollup(hre, {});
      const store = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "flavum-bench-node-")), "sequencer.db");
      const seq = await openSequencer(hre, { store, addresses: d.addresses });
      progress(`node: registering ${NODE_MODEL} for batches of ${B} (a batch circuit is set up once and reused)`);
      const { modelId } = await registerModel(seq, hre, NODE_MODEL, B, progress);
      seq.store.close();
      const layout = layoutFromShape(await d.registry.shapeOf(modelId));
      const paths = batchPaths(loadModel(NODE_MODEL), B);
      const witness = witnessMode(nativeExecutable({ dir: paths.dir, base: paths.base }));
      const { chainId } = await hre.ethers.provider.getNetwork();
      const domain = requestDomain(chainId, await d.rollup.getAddress());
      const sign = async (i: number) => {
        const enc = await encodeInput(layout, samples[i % samples.length]);
        const msg = { modelId, inputHash: enc.inputHash, nonce: nonce++, deadline: BigInt(Math.floor(Date.now() / 1000) + 3600) };
        return JSON.stringify({ modelId: String(modelId), inputHash: String(enc.inputHash), nonce: String(msg.nonce), deadline: String(msg.deadline), input: enc.values.map(String), signature: await signer.signTypedData(domain, INFERENCE_REQUEST_TYPES, msg) });
      };
      const run = async (label: string, workers: number, timeoutMs: number, count: number) => {
        const ws = workers ? await startWorkers(workers, redis.url) : [];
        const prover = await nodeProver({ queue: workers ? redis.url : undefined, concurrency: 8 });
        const node = await startNode(hre, { port: 0, store, addresses: d.addresses, batchTimeoutMs: timeoutMs, pollMs: 100, prover: prover.prove, proverConcurrency: prover.concurrency, maxInflight: 8 });
        try {
          const bodies = await Promise.all(Array.from({ length: count }, (_, i) => sign(i)));
          const start = performance.now();
          const ids: { id: string; at: number }[] = [];
          for (const body of bodies) {
            const res = await fetch(`${node.url}/api/requests`, { method: "POST", headers: { "content-type": "application/json" }, body });
            const j = (await res.json()) as { requestId: string };
            ids.push({ id: j.requestId, at: performance.now() });
          }
          const done: number[] = [];
          for (const r of ids) {
            for (;;) {
              const t = (await (await fetch(`${node.url}/api/requests/${r.id}`)).json()) as { status: string; verified: boolean };
              if (t.status === "settled" && t.verified) break;
              if (t.status === "rejected" || t.status === "closed") throw new Error(`bench request ${r.id} ${t.status}`);
              await sleep(50);
            }
            done.push(performance.now() - r.at);
          }
          const seconds = (performance.now() - start) / 1000;
          progress(`node: ${label}, B = ${B}: ${count} inferences in ${seconds.toFixed(1)} s`);
          return { seconds, latencies: done };
        } finally {
          await node.stop();
          await prover.close();
          await stopWorkers(ws);
        }
      };
      const n = BATCHES * B;
      for (const [label, workers] of [["in-process prover", 0], ["1 worker", 1], ["2 workers", 2]] as const) {
        const { seconds } = await run(label, workers, 60_000, n);
        rows.push({ batchSize: B, provers: label, witness, inferences: n, seconds: +seconds.toFixed(1), perMinute: Math.round((n / seconds) * 60) });
      }
      if (!latency) {
        // A lone request: it waits out the batch timeout, then one proof and one transaction.
        const samplesMs: number[] = [];
        for (let i = 0; i < 3; i++) samplesMs.push(...(await run("latency", 0, 5_000, 1)).latencies);
        const sorted = [...samplesMs].sort((a, b) => a - b);
        latency = { batchTimeoutS: 5, samplesMs: samplesMs.map(Math.round), medianMs: Math.round(sorted[1]) };
      }
    }
  } finally {
    await redis.stop();
  }
  return { rows, latency: latency! };
}

export function formatNode(s: NodeSummary, out: string[]): void {
  out.push("", "## The node end to end (signed requests over HTTP → settled and verified)", "",
    "| B | provers | witness | inferences | seconds | inferences/min |", "|---|---|---|---|---|---|");
  for (const r of s.rows) out.push(`| ${r.batchSize} | ${r.provers} | ${r.witness} | ${r.inferences} | ${r.seconds} | ${r.perMinute} |`);
  out.push("", `latency, request → verified result, at --batch-timeout ${s.latency.batchTimeoutS}: median ${(s.latency.medianMs / 1000).toFixed(1)} s (${s.latency.samplesMs.map((x) => (x / 1000).toFixed(1)).join(", ")} s)`);
}
