/**
 * A repository commit published as a servable model (src/repos/publishGraph.ts) and its batch
 * circuit with committed weights: the served forward pass is the training executor's (fast-check
 * against trainStep's predictions, every model kind), the batch circuit accepts the honest batch
 * with theta = the commit's weights and weightsHash = commitWeights(spec, theta), and refuses a
 * tampered weight and a weightsHash that is not the weights'. A CNN head on its frozen trunk is
 * served the same way: the trunk's weights constants, the head's committed.
 */
import { expect } from "chai";
import fc from "fast-check";
import { publishedGraph } from "../../src/repos/publishGraph";
import { batchPublicInputs, generateBatchCircuit } from "../../src/codegen/batch";
import { committedTheta } from "../../src/codegen/weights";
import { planBatch, BatchPlan } from "../../src/rollup/batchWitness";
import { TraceTree, hasher, zeroRoots, Hash2 } from "../../src/rollup/merkle";
import { runInt } from "../../src/quant/intExec";
import {
  TrainingSpec, trainingSpec, trainStep, commitWeights, paramCount, headOf, frozenTrunkModel, trunkTrainingSpec, trunkFeatures, weightsFromFloat,
} from "../../src/training";
import { calibrationSet, onnxPath } from "../helpers/fixtures";
import { REPO } from "../helpers/circuit";
import fs from "fs";
import path from "path";
import { Tester, compileSource, expectTamperRejected, witnessFails } from "../helpers/circuit";

const SEED = Number(process.env.FLAVUM_FC_SEED ?? 20261202);
const DOMAIN = 0x5fbdb2315678afecb367f032d93f642f64180aa3n;
const digits: { features: number[][]; split: { test: number[] } } = JSON.parse(fs.readFileSync(path.join(REPO, "fixtures/data/digits.json"), "utf8"));

// A tiny learning rate keeps trainStep's update in range: only its forward pass is compared.
const lr = 2 ** -12;
const SPECS: Record<string, TrainingSpec> = {
  logistic: trainingSpec({ kind: "logistic", d: 4, n: 1, lr }),
  linear: trainingSpec({ kind: "linear", d: 3, n: 1, lr }),
  mlp: trainingSpec({ kind: "mlp", d: 3, h: 4, n: 1, lr }),
  softmax: trainingSpec({ kind: "softmax", d: 3, k: 3, n: 1, lr }),
  deep: trainingSpec({ kind: "mlp", d: 3, hidden: [3, 2], head: "softmax", k: 3, n: 1, lr }),
};

const signedArb = (bits: number, frac = 1) => fc.bigInt(-(1n << BigInt(bits - 1)) / BigInt(frac), ((1n << BigInt(bits - 1)) - 1n) / BigInt(frac));

function caseArb(s: TrainingSpec) {
  // Weights within a quarter of their range and features within half: no clamp or overflow.
  return fc.record({
    w: fc.array(signedArb(s.bw, 4), { minLength: paramCount(s), maxLength: paramCount(s) }),
    x: fc.array(signedArb(s.bx, 2), { minLength: s.d, maxLength: s.d }),
  });
}

describe("published repository commits", () => {
  describe("the served forward pass is the training executor's", () => {
    for (const [kind, s] of Object.entries(SPECS)) {
      it(kind, () => {
        fc.assert(
          fc.property(caseArb(s), ({ w, x }) => {
            const q = publishedGraph(s, w);
            expect(committedTheta(q)).to.deep.equal(w);
            const res = runInt(q, x);
            const head = headOf(s);
            if (head === "linear") {
              // The linear prediction is the output itself.
              const step = trainStep(s, w, [x], [0n]);
              expect(res.output[0]).to.equal(step.predictions[0]);
            } else if (head === "softmax") {
              // Training clamps logits into bz bits before its softmax; the served argmax is over the
              // unclamped logits, so the two agree whenever no logit saturates the clamp.
              fc.pre(res.output.every((z) => z >= -(1n << BigInt(s.bz - 1)) && z < 1n << BigInt(s.bz - 1)));
              expect(BigInt(res.argmax)).to.equal(trainStep(s, w, [x], [0n]).predictions[0]);
            } else {
              // The logistic head is right on y = 1 exactly when its logit is >= 0, the served label.
              expect(res.output[0] >= 0n ? 1 : 0).to.equal(trainStep(s, w, [x], [1n]).correct);
            }
          }),
          { numRuns: 40, seed: SEED },
        );
      });
    }

    it("refuses weights outside the spec's range, naming them", () => {
      const s = SPECS.logistic;
      const w = Array(paramCount(s)).fill(0n);
      w[2] = 1n << BigInt(s.bw);
      expect(() => publishedGraph(s, w)).to.throw(/w\[2\]|weight/);
    });
  });

  describe("a CNN head on its frozen trunk (cnn_digits cut at /Flatten)", function () {
    let s: TrainingSpec;
    let theta: bigint[];
    let q: ReturnType<typeof publishedGraph>;
    const rows = () => digits.split.test.slice(0, 12).map((i) => digits.features[i].map((v) => BigInt(Math.round(v))));
    before(() => {
      const m = frozenTrunkModel(onnxPath("cnn_digits"), "/Flatten", calibrationSet("cnn_digits"));
      s = trunkTrainingSpec(m, { n: 8, K: 1, lr: 1 / 32 });
      theta = weightsFromFloat(s, m.head.weights);
      q = publishedGraph(s, theta);
    });

    it("serves the trunk with constant weights and the head on its outputs: the head's label on the trunk's features", () => {
      expect(committedTheta(q)).to.deep.equal(theta);
      expect(q.committed!.nodes).to.have.length(1);
      const headOnly = publishedGraph({ ...s, trunk: undefined }, theta);
      for (const x of rows()) {
        const [features] = trunkFeatures(s, [x]);
        const served = runInt(q, x);
        expect(served.output).to.deep.equal(runInt(headOnly, features).output);
        expect(BigInt(served.argmax)).to.equal(trainStep({ ...s, trunk: undefined, n: 1, lr }, theta, [features], [0n]).predictions[0]);
      }
    });

    it("its batch circuit binds only the head's weights to weightsHash; the trunk's are constants", async () => {
      const h = await hasher();
      const gen = generateBatchCircuit(q, "pub_cnn", 1, zeroRoots(h)[0]);
      expect(gen.source).to.include(`signal input theta[${theta.length}];`);
      const { t } = await compileSource("pub-cnn", gen.source);
      const plan = await planBatch({
        q, h, tree: new TraceTree(h), modelId: 4n, batchSize: 1, batchNumber: 0n, firstLeaf: 0n, domain: DOMAIN,
        requests: [{ requestId: 1n, quantized: rows()[0] }],
      });
      const w = await t.calculateWitness(plan.circuitInput, true);
      await t.checkConstraints(w);
      expect(w[7]).to.equal(await commitWeights(s, theta));
      await expectTamperRejected(t, w, { "theta[0]": theta[0] + 1n });
    });
  });

  for (const kind of ["softmax", "mlp"] as const) {
    describe(`batch circuit with committed weights (${kind}, B = 2)`, function () {
      const B = 2;
      const s = SPECS[kind];
      let q: ReturnType<typeof publishedGraph>;
      let t: Tester;
      let h: Hash2;
      let plan: BatchPlan;
      let w: bigint[];
      let theta: bigint[];

      before(async () => {
        h = await hasher();
        const rnd = fc.sample(caseArb(s), { numRuns: 3, seed: SEED });
        theta = rnd[0].w;
        q = publishedGraph(s, theta);
        const gen = generateBatchCircuit(q, `pub_${kind}`, B, zeroRoots(h)[1]);
        t = (await compileSource(`pub-${kind}`, gen.source)).t;
        plan = await planBatch({
          q, h, tree: new TraceTree(h), modelId: 3n, batchSize: B, batchNumber: 0n, firstLeaf: 0n, domain: DOMAIN,
          requests: rnd.slice(1).map((r, i) => ({ requestId: BigInt(10 + i), quantized: r.x })),
        });
        w = await t.calculateWitness(plan.circuitInput, true);
      });

      it("has the seven public inputs, the last the commit's weights commitment", async () => {
        expect(batchPublicInputs(q)).to.deep.equal(["oldRoot", "newRoot", "batchRoot", "meta", "r", "h", "weightsHash"]);
        const input = plan.circuitInput as Record<string, unknown>;
        expect(input.weightsHash).to.equal((await commitWeights(s, theta)).toString());
        expect(w[7]).to.equal(await commitWeights(s, theta));
        await t.checkConstraints(w);
      });

      it("has no witness for another weights commitment or other weights", async () => {
        const input = plan.circuitInput as Record<string, unknown>;
        expect(await witnessFails(t, { ...input, weightsHash: (BigInt(input.weightsHash as string) + 1n).toString() })).to.equal(true);
        const other = [...(input.theta as string[])];
        other[1] = (BigInt(other[1]) + 1n).toString();
        expect(await witnessFails(t, { ...input, theta: other })).to.equal(true);
      });

      it("rejects a tampered weight in an honest witness", async () => {
        // The instances' weights are theta's signals themselves (wiring), so theta is all there is to tamper.
        await expectTamperRejected(t, w, { "theta[0]": theta[0] + 1n });
        await expectTamperRejected(t, w, { [`theta[${theta.length - 1}]`]: theta[theta.length - 1] - 1n });
      });
    });
  }
});
