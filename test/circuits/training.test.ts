/**
 * Training and merge circuits against the TypeScript executor (src/training): the witness equals
 * the executor (new weights, metric, public signals) for random small cases (fast-check) and for a
 * realistic logistic commit (d = 30, n = 16) on the breast-cancer fixture; tampered witnesses and
 * inputs are rejected: new weights not produced by the rule, other data than committed, another
 * salt, another parent, a forged metric, a binding detached from its constraint, a merge over other
 * weights or counts, a wrong division remainder.
 */
import { expect } from "chai";
import fc from "fast-check";
import fs from "fs";
import path from "path";
import { Tester, compileMain, expectTamperRejected, readSignal, compileSource, witnessFails, constraintsOf } from "../helpers/circuit";
import { FIELD_P, fromField, toField } from "../../src/quant/fixed";
import {
  TrainingSpec, trainingSpec, generateTrainingCircuit, trainingCircuitInput, commitWeights, commitData,
  generateMergeCircuit, mergeCircuitInput, fedAvgMergeCost, paramCount, quantizeData, weightsFromFloat, roundDiv, initialWeights,
  TrainingSecrets, trainStep,
} from "../../src/training";
import { RangeOverflowError } from "../../src/errors";


const RUNS = 8;

const bigIntRange = (lo: bigint, hi: bigint) => fc.bigInt(lo, hi - 1n);
/** A binding and a salt as the workflow would give them (any field elements). */
const SECRETS: TrainingSecrets = { binding: FIELD_P - 12345n, salt: 0xfeedn };
const signed = (bits: number) => bigIntRange(-(1n << BigInt(bits - 1)), 1n << BigInt(bits - 1));

/** Random parent weights (|w| < 2 in real units), data and labels for a spec. */
function caseArb(s: TrainingSpec) {
  const rows = s.n * s.K;
  const wLim = 1n << BigInt(s.sw + 1);
  return fc.record({
    w: fc.array(bigIntRange(-wLim, wLim), { minLength: paramCount(s), maxLength: paramCount(s) }),
    X: fc.array(fc.array(signed(s.bx), { minLength: s.d, maxLength: s.d }), { minLength: rows, maxLength: rows }),
    y: fc.array(s.kind === "linear" ? signed(s.bp - 2) : fc.bigInt(0n, 1n), { minLength: rows, maxLength: rows }),
    binding: fc.bigInt(0n, FIELD_P - 1n),
    salt: fc.bigInt(0n, FIELD_P - 1n),
  });
}

/** Witness for (spec, parent, X, y): equals the executor on new weights, metric and public signals. */
async function checkParity(t: Tester, s: TrainingSpec, parent: bigint[], X: bigint[][], y: bigint[], secrets = SECRETS) {
  const { input, result, publicSignals } = await trainingCircuitInput(s, parent, X, y, secrets);
  const w = await t.calculateWitness(input as unknown as Record<string, unknown>, true);
  await t.checkConstraints(w);
  // Public signals sit at witness[1..]: outputs first, then public inputs in declaration order.
  publicSignals.forEach((v, i) => expect(w[1 + i], `public signal ${i}`).to.equal(toField(v)));
  result.weights.forEach((v, j) => expect(fromField(readSignal(t, w, `wk[${s.K}][${j}]`)), `new weight ${j}`).to.equal(v));
  return { w, input, result };
}

async function parityProperty(t: Tester, s: TrainingSpec) {
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(caseArb(s), async ({ w, X, y, binding, salt }) => {
      try {
        await trainingCircuitInput(s, w, X, y, { binding, salt });
      } catch (e) {
        // A weight or prediction leaving its range: the executor refuses before proving.
        if (e instanceof RangeOverflowError) return;
        throw e;
      }
      await checkParity(t, s, w, X, y, { binding, salt });
      checked++;
    }),
    // Seeded: how many random cases overflow varies from seed to seed, and the count below must not.
    { numRuns: RUNS, seed: Number(process.env.FLAVUM_FC_SEED ?? 20261201) },
  );
  if (process.env.FLAVUM_FC_SEED) console.log(`      seed ${process.env.FLAVUM_FC_SEED}: ${checked} of ${RUNS} cases in range`);
  expect(checked, "cases that did not overflow").to.be.greaterThan(RUNS / 2);
}

describe("training circuits", function () {
  describe("new templates", () => {
    it("RescaleClamp equals clamp(round(in / 2^shift)) and its sign", async () => {
      const t = await compileMain("rclamp", ["RescaleClamp.circom"], `component main = RescaleClamp(12, 4, 6);`);
      await fc.assert(
        fc.asyncProperty(signed(15), async (acc) => {
          const q = (acc + 8n) >> 4n;
          const want = q < -32n ? -32n : q > 31n ? 31n : q;
          const w = await t.calculateWitness({ in: toField(acc) }, true);
          expect(fromField(readSignal(t, w, "out"))).to.equal(want);
          expect(readSignal(t, w, "pos")).to.equal(q >= 0n ? 1n : 0n);
        }),
        { numRuns: 40 },
      );
      for (const acc of [-513n, -512n, 503n, 504n, 1000n, -1000n, 0n]) {
        const w = await t.calculateWitness({ in: toField(acc) }, true);
        await t.checkConstraints(w);
      }
      const w = await t.calculateWitness({ in: toField(5000n) }, true);
      expect(fromField(readSignal(t, w, "out"))).to.equal(31n);
      // A saturated value passed off as in range, or a forged sign.
      await expectTamperRejected(t, w, { out: 312n });
      await expectTamperRejected(t, w, { inRange: 1n, out: 313n });
      await expectTamperRejected(t, w, { pos: 0n });
    });

    it("RescaleSign gives the quotient and its sign; a forged sign fails", async () => {
      const t = await compileMain("rsign", ["RescaleSign.circom"], `component main = RescaleSign(10, 3);`);
      await fc.assert(
        fc.asyncProperty(signed(12), async (acc) => {
          const w = await t.calculateWitness({ in: toField(acc) }, true);
          const q = (acc + 4n) >> 3n;
          expect(fromField(readSignal(t, w, "out"))).to.equal(q);
          expect(readSignal(t, w, "pos")).to.equal(q >= 0n ? 1n : 0n);
        }),
        { numRuns: 30 },
      );
      const w = await t.calculateWitness({ in: toField(-100n) }, true);
      const q = fromField(readSignal(t, w, "out"));
      expect(q).to.equal(-12n);
      await expectTamperRejected(t, w, { pos: 1n });
      await expectTamperRejected(t, w, { out: q + 1n });
    });

    it("RoundDiv proves round(num / den); a wrong remainder or quotient fails", async () => {
      const t = await compileMain("rdiv", ["RoundDiv.circom"], `component main = RoundDiv(16, 10);`);
      await fc.assert(
        fc.asyncProperty(signed(20), fc.bigInt(1n, 1023n), async (num, den) => {
          const q = roundDiv(num, den);
          fc.pre(q >= -(1n << 15n) && q < 1n << 15n);
          const w = await t.calculateWitness({ num: toField(num), den }, true);
          expect(fromField(readSignal(t, w, "out"))).to.equal(q);
          expect(q).to.equal(BigInt(Math.floor(Number(num) / Number(den) + 0.5)));
        }),
        { numRuns: 40 },
      );
      const num = -1234n;
      const den = 100n;
      const w = await t.calculateWitness({ num: toField(num), den }, true);
      const q = fromField(readSignal(t, w, "out"));
      const r = readSignal(t, w, "rem");
      expect(q).to.equal(-12n);
      // Shifting one divisor between quotient and remainder keeps the equation, not the range checks.
      await expectTamperRejected(t, w, { out: q + 1n, rem: r - 2n * den });
      await expectTamperRejected(t, w, { out: q - 1n, rem: r + 2n * den });
      await expectTamperRejected(t, w, { rem: r + 1n });
      expect(await witnessFails(t, { num: 5n, den: 0n }), "division by zero").to.equal(true);
    });
  });

  describe("logistic regression (d=3, n=4, K=2)", () => {
    const s = trainingSpec({ kind: "logistic", d: 3, n: 4, K: 2, lr: 0.5 });
    let t: Tester;
    before(async () => {
      t = (await compileSource("train_logistic_small", generateTrainingCircuit(s).source)).t;
    });

    it("witness equals the executor for random parents and data (fast-check)", async () => {
      await parityProperty(t, s);
    });

    describe("soundness", () => {
      const parent = [4096n, -2048n, 1000n, 300n];
      const X = [[16n, -3n, 100n], [-128n, 127n, 0n], [5n, 5n, 5n], [-40n, 20n, -7n], [1n, 2n, 3n], [-9n, 60n, 33n], [0n, 0n, 0n], [77n, -77n, 12n]];
      const y = [1n, 0n, 1n, 0n, 1n, 1n, 0n, 0n];
      let honest: Awaited<ReturnType<typeof checkParity>>;
      before(async () => {
        honest = await checkParity(t, s, parent, X, y);
      });

      it("rejects new weights not produced by the rule", async () => {
        const forged = [...honest.result.weights];
        forged[1] += 1n;
        const input = { ...honest.input, newHash: (await commitWeights(s, forged)).toString() };
        expect(await witnessFails(t, input), "claimed newHash of other weights").to.equal(true);
        const j = 1;
        await expectTamperRejected(t, honest.w, { [`wk[${s.K}][${j}]`]: forged[j] });
        // Forging the last update's rescale output instead.
        const delta = fromField(readSignal(t, honest.w, `upd[${s.K - 1}][${j}].out`));
        await expectTamperRejected(t, honest.w, { [`upd[${s.K - 1}][${j}].out`]: delta - 1n, [`wk[${s.K}][${j}]`]: forged[j] });
      });

      it("rejects data other than committed", async () => {
        const x = honest.input.x.map((r) => [...r]);
        x[5][2] = toField(34n).toString();
        expect(await witnessFails(t, { ...honest.input, x }), "other features").to.equal(true);
        const yy = [...honest.input.y];
        yy[3] = "1";
        expect(await witnessFails(t, { ...honest.input, y: yy }), "other labels").to.equal(true);
        const otherHash = await commitData(s, X.map((r, i) => (i === 5 ? [r[0], r[1], 34n] : r)), y, SECRETS.salt);
        expect(await witnessFails(t, { ...honest.input, dataHash: otherHash.toString() }), "dataHash of other data").to.equal(true);
        // A non-binary label cannot be committed either, even with its own data hash.
        const y2 = [...y];
        y2[0] = -1n;
        expect(await witnessFails(t, { ...honest.input, y: y2.map((v) => toField(v).toString()) })).to.equal(true);
      });

      it("rejects another parent", async () => {
        const other = [...parent];
        other[0] += 1n;
        expect(await witnessFails(t, { ...honest.input, w: other.map((v) => toField(v).toString()) }), "other parent weights").to.equal(true);
        const input = { ...honest.input, parentHash: (await commitWeights(s, other)).toString() };
        expect(await witnessFails(t, input), "parentHash of other weights").to.equal(true);
      });

      it("rejects another salt than the data commitment's: salted and unsalted, the rows are bound", async () => {
        expect(await witnessFails(t, { ...honest.input, salt: String(SECRETS.salt + 1n) }), "other salt").to.equal(true);
        await expectTamperRejected(t, honest.w, { salt: SECRETS.salt + 1n });
        // The commitment the contributor made with another salt is another dataHash entirely.
        const resalted = await commitData(s, X, y, SECRETS.salt + 1n);
        expect(resalted).to.not.equal(BigInt(honest.input.dataHash));
        expect(await witnessFails(t, { ...honest.input, salt: String(SECRETS.salt + 1n), dataHash: resalted.toString() }), "consistent re-salt").to.equal(false);
      });

      it("keeps the binding in a constraint: a witness with another binding than its square fails", async () => {
        const b = BigInt(honest.input.binding);
        expect(readSignal(t, honest.w, "bindingSq")).to.equal((b * b) % FIELD_P);
        await expectTamperRejected(t, honest.w, { binding: b + 1n });
        await expectTamperRejected(t, honest.w, { bindingSq: readSignal(t, honest.w, "bindingSq") + 1n });
        // The binding is public input 5 of 5 (statement order), after the metrics.
        expect(honest.w[5]).to.equal(b);
      });

      it("counts correct over both steps' rows (K = 2), each scored by its own step's weights", async () => {
        const first = trainStep(s, parent, X.slice(0, 4), y.slice(0, 4), 0);
        const second = trainStep(s, first.weights, X.slice(4), y.slice(4), 1);
        expect(second.correct, "the second step's rows must count for this test to tell").to.be.greaterThan(0);
        expect(honest.result.correct).to.equal(first.correct + second.correct);
        expect(Number(readSignal(t, honest.w, "correct"))).to.equal(honest.result.correct);
        expect(BigInt(honest.input.metrics)).to.equal(BigInt(honest.result.correct) | (8n << 32n));
      });

      it("rejects a forged accuracy metric or sample count", async () => {
        await expectTamperRejected(t, honest.w, { correct: BigInt(honest.result.correct + 1) });
        const metrics = BigInt(honest.input.metrics);
        await expectTamperRejected(t, honest.w, { metrics: metrics + 1n }); // one more right
        await expectTamperRejected(t, honest.w, { metrics: metrics + (1n << 32n) }); // one more sample
        expect(await witnessFails(t, { ...honest.input, metrics: String(metrics + (16n << 32n)) }), "overstated samples").to.equal(true);
      });
    });
  });

  describe("linear regression (d=3, n=4, K=2)", () => {
    const s = trainingSpec({ kind: "linear", d: 3, n: 4, K: 2, lr: 0.125 });
    let t: Tester;
    before(async () => {
      t = (await compileSource("train_linear_small", generateTrainingCircuit(s).source)).t;
    });
    it("witness equals the executor for random parents and data (fast-check)", async () => {
      await parityProperty(t, s);
    });
    it("rejects a forged loss and forged new weights", async () => {
      const parent = [4096n, -2048n, 1000n, 300n];
      const X = Array.from({ length: 8 }, (_, i) => [BigInt(i * 3 - 10), BigInt(20 - i * 5), BigInt(i)]);
      const y = X.map((r) => r[0] * 8n - r[1] * 4n + 100n);
      const { w, result } = await checkParity(t, s, parent, X, y);
      await expectTamperRejected(t, w, { sse: result.sse + 1n });
      await expectTamperRejected(t, w, { [`wk[${s.K}][0]`]: result.weights[0] + 1n });
    });
  });

  describe("MLP (d=3 → h=2 → 1, n=4, K=2)", () => {
    const s = trainingSpec({ kind: "mlp", d: 3, h: 2, n: 4, K: 2, lr: 0.5 });
    let t: Tester;
    before(async () => {
      t = (await compileSource("train_mlp_small", generateTrainingCircuit(s).source)).t;
    });
    it("witness equals the executor for random parents and data (fast-check)", async () => {
      await parityProperty(t, s);
    });
    it("rejects a forged ReLU derivative and forged new weights", async () => {
      const parent = weightsFromFloat(s, initialWeights(s, 7));
      const X = Array.from({ length: 8 }, (_, i) => [BigInt(i * 13 - 50), BigInt(40 - i * 9), BigInt(i * 2)]);
      const y = X.map((r) => (r[0] > 0n ? 1n : 0n));
      const { w, result } = await checkParity(t, s, parent, X, y);
      const pos = readSignal(t, w, "a[0][0][0].pos");
      await expectTamperRejected(t, w, { "a[0][0][0].pos": 1n - pos });
      await expectTamperRejected(t, w, { [`wk[${s.K}][0]`]: result.weights[0] - 1n });
    });
  });

  describe("realistic logistic commit: breast cancer, d=30, n=16, one step", () => {
    const s = trainingSpec({ kind: "logistic", d: 30, n: 16, K: 1, lr: 0.5 });
    it("witness equals the executor", async () => {
      const data = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../fixtures/data/breast_cancer.json"), "utf8"));
      const rows: number[] = data.split.train.slice(0, 16);
      const q = quantizeData(s, rows.map((i) => data.features[i]), rows.map((i) => data.labels[i]));
      const parent = weightsFromFloat(s, Array.from({ length: 31 }, (_, j) => (j % 3) * 0.25 - 0.2));
      const t = (await compileSource("train_logistic_d30", generateTrainingCircuit(s).source)).t;
      const { w, result } = await checkParity(t, s, parent, q.X, q.y);
      expect(Number(readSignal(t, w, "correct"))).to.equal(result.correct);
      expect(result.weights).to.not.deep.equal(parent);
    });
  });

  describe("FedAvg merge", () => {
    const s = trainingSpec({ kind: "logistic", d: 30 });
    let t: Tester;
    before(async () => {
      t = (await compileSource("merge_k4", generateMergeCircuit(s, 4).source)).t;
    });

    const vecArb = fc.array(signed(s.bw), { minLength: 31, maxLength: 31 });
    it("costs what fedAvgMergeCost says (compiled, --O2)", async function () {
      this.timeout(300_000);
      expect(await constraintsOf(generateMergeCircuit(s, 3).source)).to.equal(fedAvgMergeCost(s, 3));
    });

    it("witness equals fedAvg for random weights and counts (fast-check)", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(vecArb, { minLength: 4, maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 100000 }), { minLength: 4, maxLength: 4 }), async (ws, counts) => {
          const { input, weights, publicSignals } = await mergeCircuitInput(s, ws, counts);
          const w = await t.calculateWitness(input as unknown as Record<string, unknown>, true);
          await t.checkConstraints(w);
          publicSignals.forEach((v, i) => expect(w[1 + i], `public signal ${i}`).to.equal(toField(v)));
          weights.forEach((v, j) => expect(fromField(readSignal(t, w, `avg[${j}].out`))).to.equal(v));
        }),
        { numRuns: 4 },
      );
    });

    describe("soundness", () => {
      const ws = [0, 1, 2, 3].map((i) => Array.from({ length: 31 }, (_, j) => BigInt((j - 15) * 97 * (i + 1) + i * 13)));
      const counts = [96, 80, 64, 3];
      let honest: Awaited<ReturnType<typeof mergeCircuitInput>>;
      let w: bigint[];
      before(async () => {
        honest = await mergeCircuitInput(s, ws, counts);
        w = await t.calculateWitness(honest.input as unknown as Record<string, unknown>, true);
      });

      it("rejects merged weights other than the average", async () => {
        const forged = [...honest.weights];
        forged[7] += 1n;
        expect(await witnessFails(t, { ...honest.input, newHash: (await commitWeights(s, forged)).toString() })).to.equal(true);
        await expectTamperRejected(t, w, { "avg[7].out": forged[7] });
      });

      it("rejects a merge over other weights than the committed ones", async () => {
        const other = honest.input.w.map((r) => [...r]);
        other[2][4] = toField(ws[2][4] + 1n).toString();
        expect(await witnessFails(t, { ...honest.input, w: other })).to.equal(true);
      });

      it("rejects wrong sample counts", async () => {
        expect(await witnessFails(t, { ...honest.input, counts: ["96", "80", "64", "4"] })).to.equal(true);
        expect(await witnessFails(t, { ...honest.input, counts: ["80", "96", "64", "3"] })).to.equal(true);
      });

      it("rejects a wrong division remainder", async () => {
        const N = BigInt(counts.reduce((a, b) => a + b, 0));
        const q = fromField(readSignal(t, w, "avg[3].out"));
        const r = readSignal(t, w, "avg[3].rem");
        await expectTamperRejected(t, w, { "avg[3].rem": r + 1n });
        await expectTamperRejected(t, w, { "avg[3].out": q - 1n, "avg[3].rem": r + 2n * N });
      });
    });
  });
});
