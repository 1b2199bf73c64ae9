/**
 * The node proving through the job queue (real Redis, two real workers, real proofs): batches are
 * planned ahead with their roots fixed, their proofs come back in whatever order the workers finish —
 * here the first batch's proof is held back on purpose — and the node still settles them in order,
 * each exactly once, with every inclusion proof verifying on chain.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { startNode, RunningNode } from "../../src/node/node";
import { nodeProver, NodeProver } from "../../src/node/provers";
import { startProverWorker, type ProverWorker } from "../../src/prover";
import type { BatchProver } from "../../src/rollup/sequencer";
import type { NodeEvent } from "../../src/node/pipeline";
import { encodeInput, layoutFromShape } from "../../src/sdk/encodeInput";
import { INFERENCE_REQUEST_TYPES, requestDomain } from "../../src/protocol/signedRequest";
import { startRedis, type RedisServer } from "../helpers/redis";
import { heldout } from "../helpers/fixtures";
import { compileRollupModel, copyStore, registeredRollup } from "../helpers/rollup";

const B = 4;
const registeredOnce = () => registeredRollup(B);

describe("sequencer node with provers on the job queue", function () {
  before(compileRollupModel);
  let redis: RedisServer | undefined;
  let workers: ProverWorker[] = [];
  let prover: NodeProver | undefined;
  let node: RunningNode | undefined;
  after(async () => {
    await node?.stop();
    await prover?.close();
    for (const w of workers) await w.close();
    await redis?.stop();
  });

  it("takes proofs back in any order and settles the batches in order, each once", async () => {
    const f = await loadFixture(registeredOnce);
    redis = await startRedis();
    workers = await Promise.all([1, 2].map((i) => startProverWorker({ url: redis!.url, name: `worker-${i}` })));
    prover = await nodeProver({ queue: redis.url, concurrency: 3 });
    // The first batch's proof comes back last: its job is sent to the queue only after the others.
    let first: string | undefined;
    const later: BatchProver = async (job) => {
      first ??= job.id;
      if (job.id === first) await new Promise((r) => setTimeout(r, 6_000));
      return prover!.prove(job);
    };
    const events: NodeEvent[] = [];
    node = await startNode(hre, { port: 0, store: copyStore(f.store, "node-queue"), addresses: f.d.addresses, batchTimeoutMs: 60_000, pollMs: 100, prover: later, proverConcurrency: 3, maxInflight: 3 });
    node.pipeline!.on("event", (e: NodeEvent) => events.push(e));

    const [, alice] = await hre.ethers.getSigners();
    const layout = layoutFromShape(await f.d.registry.shapeOf(f.modelId));
    const domain = requestDomain((await hre.ethers.provider.getNetwork()).chainId, await f.d.rollup.getAddress());
    const ids: string[] = [];
    for (const [i, sample] of heldout("logreg_cancer").inputs.slice(0, 3 * B).entries()) {
      const enc = await encodeInput(layout, sample);
      const msg = { modelId: f.modelId, inputHash: enc.inputHash, nonce: BigInt(i + 1), deadline: BigInt(Math.floor(Date.now() / 1000) + 600) };
      const body = { modelId: String(f.modelId), inputHash: String(enc.inputHash), nonce: String(msg.nonce), deadline: String(msg.deadline), input: enc.values.map(String), signature: await alice.signTypedData(domain, INFERENCE_REQUEST_TYPES, msg) };
      const res = await fetch(`${node.url}/api/requests`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      ids.push(((await res.json()) as { requestId: string }).requestId);
    }
    const deadline = Date.now() + 240_000;
    while (events.filter((e) => e.type === "batch.settled").length < 3) {
      if (Date.now() > deadline) throw new Error(`not all batches settled: ${events.map((e) => e.type).join(", ")}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const proven = events.filter((e) => e.type === "batch.proven").map((e) => e.batch);
    const settled = events.filter((e) => e.type === "batch.settled").map((e) => e.batch);
    // Batches 1 and 2 prove side by side on the two workers; batch 0 comes back last.
    expect(proven[2]).to.equal("0");
    expect([...proven].sort()).to.deep.equal(["0", "1", "2"]);
    expect(settled).to.deep.equal(["0", "1", "2"]);
    expect((await f.d.rollup.queryFilter(f.d.rollup.filters.BatchSubmitted(undefined, f.modelId))).length).to.equal(3);
    // Both workers took jobs: the queue spread them.
    expect(workers.map((w) => w.stats.completed).every((n) => n > 0), JSON.stringify(workers.map((w) => w.stats))).to.equal(true);
    for (const id of ids) {
      const r = (await (await fetch(`${node.url}/api/requests/${id}`)).json()) as { status: string; proof: { batchId: string; entry: unknown; index: number; path: string[] } };
      expect(r.status).to.equal("settled");
      expect(await f.d.rollup.verifyInference(r.proof.batchId, r.proof.entry as never, r.proof.index, r.proof.path)).to.equal(true);
    }
  });
});
