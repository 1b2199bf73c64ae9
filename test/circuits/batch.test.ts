/**
 * The batch circuit against its TypeScript twin (batchWitness + TraceTree + traceBinding), and
 * soundness: a tampered output, a wrong old root, a reordered trace, a padded slot dressed up as a
 * real inference, a count outside 1..B, another output layout, and a posted trace that differs from
 * the proven one (the random linear combination h) — each rejected.
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
import fc from "fast-check";
import { META } from "../../src/protocol/batch";
import { traceElements, traceRlc, FIELD_P } from "../../src/protocol/traceBinding";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { wasm: wasmTester } = require("circom_tester");

describe("batch circuit (logreg_cancer, B = 4)", function () {
  const B = 4;
  const q = quantizedFixture("logreg_cancer");
  const samples = heldout("logreg_cancer").inputs;
  const DOMAIN = 0x5fbdb2315678afecb367f032d93f642f64180aa3n;
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
      q, h, tree, modelId: 7n, batchSize: B, batchNumber: 1n, firstLeaf: 4n, domain: DOMAIN,
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

  /** Whether the circuit has no witness for the honest input with `patch` applied. */
  const noWitness = async (patch: Record<string, unknown>) => {
    let failed = false;
    try {
      await t.calculateWitness({ ...plan.circuitInput, ...patch }, true);
    } catch {
      failed = true;
    }
    return failed;
  };

  it("has no witness for a wrong old root, a reordered trace or a padding slot counted as real", async () => {
    const bad = async (patch: Record<string, unknown>) => expect(await noWitness(patch), JSON.stringify(Object.keys(patch))).to.equal(true);
    await bad({ oldRoot: (plan.oldRoot + 1n).toString() });
    const x = plan.circuitInput.x as string[][];
    await bad({ x: [x[1], x[0], x[2], x[3]] }); // same inputs, other order: other batch root
    const r = plan.circuitInput.requestId as string[];
    await bad({ requestId: [r[1], r[0], r[2], r[3]] });
    // Counting the padding slot as real changes its leaf from 0, so the batch root no longer matches.
    const meta = BigInt(plan.circuitInput.meta as string) + (1n << 168n);
    await bad({ meta: meta.toString() });
  });

  it("computes h over exactly the real entries, as the contract does, for any challenge r", async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 0n, max: FIELD_P - 1n }), async (r) => {
        const h = traceRlc(traceElements(plan.entries), r);
        const wit = await t.calculateWitness({ ...plan.circuitInput, r: r.toString(), h: h.toString() }, true);
        await t.checkConstraints(wit);
      }),
      { numRuns: 8, seed: 8 },
    );
  });

  it("binds the posted trace: another h, or a proven entry that differs from the posted one, has no witness", async () => {
    const h = BigInt(plan.circuitInput.h as string);
    expect(await noWitness({ h: ((h + 1n) % FIELD_P).toString() })).to.equal(true);
    // The sequencer proves request 100 but posts 999: the contract's h is over the posted entries.
    const posted = plan.entries.map((e, i) => (i === 0 ? { ...e, requestId: 999n } : e));
    expect(await noWitness({ h: traceRlc(traceElements(posted), plan.r).toString() })).to.equal(true);
    // The same for an output word, and for an input commitment.
    const posted2 = plan.entries.map((e, i) => (i === 1 ? { ...e, outputWord: e.outputWord + 1n } : e));
    expect(await noWitness({ h: traceRlc(traceElements(posted2), plan.r).toString() })).to.equal(true);
    const posted3 = plan.entries.map((e, i) => (i === 2 ? { ...e, inputHash: e.inputHash + 1n } : e));
    expect(await noWitness({ h: traceRlc(traceElements(posted3), plan.r).toString() })).to.equal(true);
    // Tampering with the RLC's own intermediate signals breaks a constraint.
    await expectTamperRejected(t, w, { "bound[0]": readSignal(t, w, "bound[0]") + 1n });
  });

  it("pins the count to 1..B, and the output layout and batch size to the circuit's", async () => {
    const meta = BigInt(plan.circuitInput.meta as string);
    const countMask = 0xffffn << META.countShift;
    const withCount = (c: bigint) => ((meta & ~countMask) | (c << META.countShift)).toString();
    expect(await noWitness({ meta: withCount(0n) })).to.equal(true);
    expect(await noWitness({ meta: withCount(BigInt(B + 1)) })).to.equal(true);
    // The registry claiming 2 outputs (or another width) for this one-output circuit.
    expect(await noWitness({ meta: (meta + (1n << (META.layoutShift + 8n))).toString() })).to.equal(true);
    expect(await noWitness({ meta: (meta + (1n << META.layoutShift)).toString() })).to.equal(true);
    // A proof of this B = 4 circuit cannot be made for a statement of another batch size.
    expect(await noWitness({ meta: (meta + (1n << META.levelsShift)).toString() })).to.equal(true);
  });
});
