/**
 * The batch circuit against its TypeScript twin (batchWitness + TraceTree), and soundness:
 * a tampered output, a wrong old root, a reordered trace, a padded slot dressed up as a real
 * inference, another chain id or rollup address — each rejected.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { generateBatchCircuit } from "../../src/codegen/batch";
import { planBatch, BatchPlan } from "../../src/rollup/batchWitness";
import { TraceTree, hasher, zeroRoots, Hash2 } from "../../src/rollup/merkle";
import { INCLUDE, Tester, expectTamperRejected, readSignal } from "../helpers/circuit";
import { quantizedFixture, heldout } from "../helpers/fixtures";
import { FIELD_P } from "../../src/quant/fixed";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { wasm: wasmTester } = require("circom_tester");

describe("batch circuit (logreg_cancer, B = 4)", function () {
  const B = 4;
  const q = quantizedFixture("logreg_cancer");
  const samples = heldout("logreg_cancer").inputs;
  const ROLLUP = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
  let t: Tester;
  let h: Hash2;
  let tree: TraceTree;
  let plan: BatchPlan;
  let w: bigint[];

  before(async () => {
    h = await hasher();
    const gen = generateBatchCircuit(q, "logreg_batch", B, zeroRoots(h)[2]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-batch-"));
    const file = path.join(dir, "batch.circom");
    fs.writeFileSync(file, gen.source);
    t = await wasmTester(file, { include: INCLUDE, output: dir });
    await t.loadSymbols();
    // A tree that already holds one batch, so the append has non-trivial siblings.
    tree = new TraceTree(h);
    tree.appendSubtree(0n, [11n, 12n, 13n, 14n]);
    plan = await planBatch({
      q, h, tree, modelId: 7n, batchSize: B, batchNumber: 1n, firstLeaf: 4n, rollup: ROLLUP, chainId: 31337n,
      requests: samples.slice(0, 3).map((s, i) => ({ requestId: BigInt(100 + i), sample: s })),
    });
    w = await t.calculateWitness(plan.circuitInput, true);
  });

  it("accepts the honest batch, and its new root is the tree's root after the append", async () => {
    await t.checkConstraints(w);
    const after = new TraceTree(h);
    after.appendSubtree(0n, [11n, 12n, 13n, 14n]);
    expect(after.appendSubtree(4n, plan.leaves)).to.equal(plan.newRoot);
    expect(plan.leaves[3]).to.equal(0n); // the padding slot
  });

  it("rejects a tampered output word", async () => {
    await expectTamperRejected(t, w, { "m[1].out[0]": plan.entries[1].output[0] + 1n });
  });

  it("has no witness for a wrong old root, another chain, another rollup or a reordered trace", async () => {
    const bad = async (patch: Record<string, unknown>) => {
      let failed = false;
      try {
        await t.calculateWitness({ ...plan.circuitInput, ...patch }, true);
      } catch {
        failed = true;
      }
      expect(failed, JSON.stringify(Object.keys(patch))).to.equal(true);
    };
    await bad({ oldRoot: (plan.oldRoot + 1n).toString() });
    const x = plan.circuitInput.x as string[][];
    await bad({ x: [x[1], x[0], x[2], x[3]] }); // same inputs, other order: other batch root
    const r = plan.circuitInput.requestId as string[];
    await bad({ requestId: [r[1], r[0], r[2], r[3]] });
    // Counting the padding slot as real changes its leaf from 0, so the batch root no longer matches.
    const meta = BigInt(plan.circuitInput.meta as string) + (1n << 168n);
    await bad({ meta: meta.toString() });
  });

  it("binds ctx (chain id and rollup address) into the constraints", async () => {
    expect(readSignal(t, w, "ctxSquared")).to.equal((plan.ctx * plan.ctx) % FIELD_P);
    await expectTamperRejected(t, w, { ctx: plan.ctx + 1n });
  });
});
