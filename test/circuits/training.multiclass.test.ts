/**
 * Training circuits of the general layered models against the TypeScript executor: softmax
 * regression and a 2-hidden-layer MLP with a softmax head (plus logistic and linear heads), small
 * shapes. The witness equals the executor (new weights, metric, public signals) for random parents,
 * data and labels (fast-check, seeded); tampered witnesses and inputs are rejected: a wrong
 * probability, a wrong division remainder, a forged argmax, a label out of range, a forged ReLU
 * derivative or hidden delta, new weights not produced by the rule, a forged accuracy. The new
 * templates are checked on their own, and the cost estimate against the compiled (--O2) circuits.
 */
import { expect } from "chai";
import fc from "fast-check";
import fs from "fs";
import os from "os";
import path from "path";
import { Tester, compileMain, expectTamperRejected, readSignal, compileSource, compiledConstraints, witnessFails } from "../helpers/circuit";
import { FIELD_P, fromField, roundShift, toField } from "../../src/quant/fixed";
import { packedHash, poseidonHash } from "../../src/quant/commitment";
import {
  TrainingSpec, trainingSpec, generateTrainingCircuit, trainingCircuitInput, commitWeights, paramCount, headOf,
  labelBits, TrainingSecrets, softmaxTable, softmaxInt, expNegInt, trainingCost, weightsFromFloat, initialWeights,
} from "../../src/training";
import { RangeOverflowError } from "../../src/errors";
import { buildCircuitKeys, prove, shutdown, verify, wasmPath, KEY_FILES } from "../../src/zk";
import { usePtauDir } from "../helpers/fixtures";


const RUNS = 8;
const SEED = Number(process.env.FLAVUM_FC_SEED ?? 20261201);
const SECRETS: TrainingSecrets = { binding: FIELD_P - 4242n, salt: 0xc0ffeen };
const bigIntRange = (lo: bigint, hi: bigint) => fc.bigInt(lo, hi - 1n);
const signed = (bits: number) => bigIntRange(-(1n << BigInt(bits - 1)), 1n << BigInt(bits - 1));

/** Random parent weights (|w| < wReal in real units), data and labels for a spec. */
function caseArb(s: TrainingSpec, wReal: number) {
  const rows = s.n * s.K;
  const wLim = BigInt(Math.round(wReal * 2 ** s.sw));
  const head = headOf(s);
  return fc.record({
    w: fc.array(bigIntRange(-wLim, wLim), { minLength: paramCount(s), maxLength: paramCount(s) }),
    X: fc.array(fc.array(signed(s.bx), { minLength: s.d, maxLength: s.d }), { minLength: rows, maxLength: rows }),
    y: fc.array(head === "linear" ? signed(s.bp - 2) : head === "softmax" ? fc.bigInt(0n, BigInt(s.k! - 1)) : fc.bigInt(0n, 1n), { minLength: rows, maxLength: rows }),
    binding: fc.bigInt(0n, FIELD_P - 1n),
    salt: fc.bigInt(0n, FIELD_P - 1n),
  });
}

async function checkParity(t: Tester, s: TrainingSpec, parent: bigint[], X: bigint[][], y: bigint[], secrets = SECRETS) {
  const { input, result, publicSignals } = await trainingCircuitInput(s, parent, X, y, secrets);
  const w = await t.calculateWitness(input as unknown as Record<string, unknown>, true);
  await t.checkConstraints(w);
  publicSignals.forEach((v, i) => expect(w[1 + i], `public signal ${i}`).to.equal(toField(v)));
  result.weights.forEach((v, j) => expect(fromField(readSignal(t, w, `wk[${s.K}][${j}]`)), `new weight ${j}`).to.equal(v));
  if (headOf(s) !== "linear") expect(Number(readSignal(t, w, "correct"))).to.equal(result.correct);
  return { w, input, result };
}

async function parityProperty(t: Tester, s: TrainingSpec, wReal: number) {
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(caseArb(s, wReal), async ({ w, X, y, binding, salt }) => {
      try {
        await trainingCircuitInput(s, w, X, y, { binding, salt });
      } catch (e) {
        if (e instanceof RangeOverflowError) return;
        throw e;
      }
      const { w: wit, result } = await checkParity(t, s, w, X, y, { binding, salt });
      if (result.probabilities) {
        // The circuit's probabilities and argmax are the executor's, row by row.
        for (let k = 0; k < s.K; k++)
          for (let i = 0; i < s.n; i++) {
            result.probabilities[k * s.n + i].forEach((p, c) => expect(fromField(readSignal(t, wit, `sm[${k}][${i}].out[${c}]`)), `p[${k}][${i}][${c}]`).to.equal(p));
            expect(BigInt(readSignal(t, wit, `sm[${k}][${i}].arg`))).to.equal(result.predictions[k * s.n + i]);
          }
      }
      checked++;
    }),
    { numRuns: RUNS, seed: SEED },
  );
  if (process.env.FLAVUM_FC_SEED) console.log(`      seed ${SEED}: ${checked} of ${RUNS} cases in range`);
  expect(checked, "cases that did not overflow").to.be.greaterThan(RUNS / 2);
}

/** A data commitment for labels the executor would refuse (hashed as the circuit hashes them). */
async function rawDataHash(s: TrainingSpec, X: bigint[][], y: bigint[], salt: bigint): Promise<bigint> {
  const digest = await poseidonHash([await packedHash(X.flat(), s.bx), await packedHash(y, labelBits(s))]);
  return poseidonHash([digest, salt]);
}

describe("training circuits: multi-class and deeper models", function () {
  describe("new templates", () => {
    it("SgdUpdate: out = w - round(g / 2^shift); a remainder or quotient moved by one divisor fails", async () => {
      const t = await compileMain("sgdupd", ["SgdUpdate.circom"], `component main = SgdUpdate(6);`);
      await fc.assert(
        fc.asyncProperty(signed(18), signed(30), async (w, g) => {
          const x = await t.calculateWitness({ w: toField(w), g: toField(g) }, true);
          await t.checkConstraints(x);
          expect(fromField(readSignal(t, x, "out"))).to.equal(w - roundShift(g, 6));
        }),
        { numRuns: 40, seed: SEED },
      );
      const x = await t.calculateWitness({ w: 100n, g: toField(-1000n) }, true);
      const q = fromField(readSignal(t, x, "q"));
      expect(q).to.equal(roundShift(-1000n, 6));
      const r = readSignal(t, x, "r");
      await expectTamperRejected(t, x, { q: q + 1n, r: r - 64n, out: 100n - q - 1n });
      await expectTamperRejected(t, x, { q: q - 1n, r: r + 64n, out: 100n - q + 1n });
      await expectTamperRejected(t, x, { out: 100n - q + 1n });
    });

    it("LabelOneHot: the one-hot of a class in [0, k); no witness for k, -1 or a fraction", async () => {
      const t = await compileMain("labhot", ["LabelOneHot.circom"], `component main = LabelOneHot(4);`);
      for (let c = 0; c < 4; c++) {
        const x = await t.calculateWitness({ in: BigInt(c) }, true);
        for (let j = 0; j < 4; j++) expect(readSignal(t, x, `out[${j}]`)).to.equal(j === c ? 1n : 0n);
      }
      for (const bad of [4n, toField(-1n), (FIELD_P + 1n) / 2n /* 1/2 */]) expect(await witnessFails(t, { in: bad }), `label ${bad}`).to.equal(true);
      const x = await t.calculateWitness({ in: 2n }, true);
      await expectTamperRejected(t, x, { "out[2]": 0n, "out[3]": 1n });
      await expectTamperRejected(t, x, { "out[2]": 0n });
    });

    it("PiecewiseExp equals expNegInt over the whole table range", async () => {
      const s = trainingSpec({ kind: "softmax", d: 2, k: 3 });
      const tb = softmaxTable(s);
      const main = `template M() { signal input e; signal output out; component b = Num2Bits(${s.be}); b.in <== e; component p = PiecewiseExp(${s.be}, ${s.expSeg}, 0, [${tb.H}], [${tb.T}]); for (var i = 0; i < ${s.be}; i++) { p.bits[i] <== b.out[i]; } p.keep <== 1; out <== p.out; }\ncomponent main = M();`;
      const t = await compileMain("pexp", ["circomlib/circuits/bitify.circom", "PiecewiseExp.circom"], main);
      for (let e = 0; e < 2 ** s.be!; e += 7) {
        const x = await t.calculateWitness({ e: BigInt(e) }, true);
        expect(readSignal(t, x, "out"), `e=${e}`).to.equal(expNegInt(tb, BigInt(e)));
      }
    });

    describe("SoftmaxPL", () => {
      const s = trainingSpec({ kind: "softmax", d: 2, k: 4 });
      const tb = softmaxTable(s);
      let t: Tester;
      before(async () => {
        t = await compileMain("smpl", ["SoftmaxPL.circom"], `component main = SoftmaxPL(4, ${s.bz}, ${s.be}, ${s.expSeg}, ${s.sp}, ${s.bp}, ${tb.sumBits}, [${tb.H}], [${tb.T}]);`);
      });

      it("equals softmaxInt: probabilities and the first argmax (fast-check, ties and saturated gaps included)", async () => {
        const logit = fc.oneof(signed(s.bz), fc.bigInt(-3n, 3n), fc.constantFrom(-(1n << BigInt(s.bz - 1)), (1n << BigInt(s.bz - 1)) - 1n));
        await fc.assert(
          fc.asyncProperty(fc.array(logit, { minLength: 4, maxLength: 4 }), async (z) => {
            const r = softmaxInt(tb, z);
            const x = await t.calculateWitness({ in: z.map(toField) }, true);
            await t.checkConstraints(x);
            r.p.forEach((p, c) => expect(readSignal(t, x, `out[${c}]`), `p[${c}] for ${z}`).to.equal(p));
            expect(Number(readSignal(t, x, "arg"))).to.equal(r.arg);
          }),
          { numRuns: 60, seed: SEED },
        );
      });

      it("rejects a wrong probability, a wrong division remainder and a forged argmax", async () => {
        const z = [100n, 130n, 130n, -2000n];
        const r = softmaxInt(tb, z);
        expect(r.arg).to.equal(1);
        const x = await t.calculateWitness({ in: z.map(toField) }, true);
        const p0 = readSignal(t, x, "out[0]");
        const rem = readSignal(t, x, "div[0].rem");
        await expectTamperRejected(t, x, { "out[0]": p0 + 1n });
        await expectTamperRejected(t, x, { "div[0].rem": rem + 1n });
        // Moving one divisor 2S between quotient and remainder keeps the equation, not the range checks.
        await expectTamperRejected(t, x, { "out[0]": p0 + 1n, "div[0].rem": rem - 2n * r.sum });
        await expectTamperRejected(t, x, { "out[0]": p0 - 1n, "div[0].rem": rem + 2n * r.sum });
        // The tie at index 2 must not win: the first index does.
        await expectTamperRejected(t, x, { "hot[1]": 0n, "hot[2]": 1n, arg: 2n });
        await expectTamperRejected(t, x, { "hot[1]": 0n, "hot[0]": 1n, arg: 0n });
      });
    });
  });

  describe("softmax regression (d=3, k=3, n=2, K=2)", () => {
    const s = trainingSpec({ kind: "softmax", d: 3, k: 3, n: 2, K: 2, lr: 0.5 });
    let t: Tester;
    let file: string;
    before(async () => {
      ({ t, file } = await compileSource("train_softmax_small", generateTrainingCircuit(s).source));
    });

    it("witness equals the executor for random parents, data and labels (fast-check)", async () => {
      await parityProperty(t, s, 2);
    });

    it("costs what trainingCost estimated", async () => {
      expect(await compiledConstraints(file)).to.equal(trainingCost(s).constraints);
    });

    describe("soundness", () => {
      const parent = [4096n, -2048n, 1000n, -300n, 2500n, 700n, 0n, 900n, -4000n, 300n, -100n, 50n];
      const X = [[16n, -3n, 100n], [-128n, 127n, 0n], [5n, 5n, 5n], [-40n, 20n, -7n]];
      const y = [2n, 0n, 1n, 2n];
      let honest: Awaited<ReturnType<typeof checkParity>>;
      before(async () => {
        honest = await checkParity(t, s, parent, X, y);
      });

      it("rejects a wrong probability or a wrong division remainder", async () => {
        const p = fromField(readSignal(t, honest.w, "sm[0][0].out[1]"));
        expect(p).to.equal(honest.result.probabilities![0][1]);
        const rem = readSignal(t, honest.w, "sm[0][0].div[1].rem");
        await expectTamperRejected(t, honest.w, { "sm[0][0].out[1]": p + 1n });
        await expectTamperRejected(t, honest.w, { "sm[0][0].div[1].rem": rem + 1n });
        await expectTamperRejected(t, honest.w, { "sm[0][0].div[1].rem": rem - 1n });
        // The error the update uses must be the proven probability's.
        const e = fromField(readSignal(t, honest.w, "err[0][0][1]"));
        await expectTamperRejected(t, honest.w, { "err[0][0][1]": e + 1n });
      });

      it("rejects a label out of range, even committed with its own data hash", async () => {
        for (const bad of [3n, -1n, -4n]) {
          const yy = [bad, ...y.slice(1)];
          const dataHash = await rawDataHash(s, X, yy, SECRETS.salt);
          expect(await witnessFails(t, { ...honest.input, y: yy.map((v) => toField(v).toString()), dataHash: dataHash.toString() }), `label ${bad}`).to.equal(true);
        }
        // A one-hot pointing elsewhere than the committed label.
        await expectTamperRejected(t, honest.w, { "lab[0].out[2]": 0n, "lab[0].out[1]": 1n });
      });

      it("rejects new weights not produced by the rule", async () => {
        const forged = [...honest.result.weights];
        forged[4] += 1n;
        expect(await witnessFails(t, { ...honest.input, newHash: (await commitWeights(s, forged)).toString() })).to.equal(true);
        await expectTamperRejected(t, honest.w, { [`wk[${s.K}][4]`]: forged[4] });
        // Forging the update's quotient and remainder together.
        const q = fromField(readSignal(t, honest.w, `up0[${s.K - 1}][1][1].q`));
        const r = readSignal(t, honest.w, `up0[${s.K - 1}][1][1].r`);
        const shift = BigInt(1 << 13);
        await expectTamperRejected(t, honest.w, { [`up0[${s.K - 1}][1][1].q`]: q - 1n, [`up0[${s.K - 1}][1][1].r`]: r + shift, [`wk[${s.K}][4]`]: forged[4] });
      });

      it("proves and verifies with Groth16 (development ptau); another metric does not verify", async () => {
        usePtauDir();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-softmax-keys-"));
        try {
          const g = generateTrainingCircuit(s);
          const keys = await buildCircuitKeys({ source: g.source, base: "train", dir, publicSignals: g.publicSignals.length });
          expect(keys.constraints).to.equal(trainingCost(s).constraints);
          const res = await prove(wasmPath(dir, "train"), path.join(dir, KEY_FILES.zkey), honest.input);
          const vkey = path.join(dir, KEY_FILES.vkey);
          expect(res.publicSignals).to.deep.equal([honest.input.parentHash, honest.input.newHash, honest.input.dataHash, honest.input.metrics, honest.input.binding]);
          expect(await verify(vkey, res.publicSignals, res.proof)).to.equal(true);
          const forged = [...res.publicSignals];
          forged[3] = (BigInt(forged[3]) + 1n).toString();
          expect(await verify(vkey, forged, res.proof)).to.equal(false);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
          await shutdown();
        }
      });

      it("rejects a forged accuracy and a forged argmax", async () => {
        await expectTamperRejected(t, honest.w, { correct: BigInt(honest.result.correct + 1) });
        const metrics = BigInt(honest.input.metrics);
        await expectTamperRejected(t, honest.w, { metrics: metrics + 1n });
        const arg = Number(readSignal(t, honest.w, "sm[0][1].arg"));
        const other = (arg + 1) % 3;
        await expectTamperRejected(t, honest.w, { [`sm[0][1].hot[${arg}]`]: 0n, [`sm[0][1].hot[${other}]`]: 1n, "sm[0][1].arg": BigInt(other) });
      });
    });
  });

  describe("mlp with two hidden layers and a softmax head (d=3 → 3 → 2 → 3, n=2, K=2)", () => {
    const s = trainingSpec({ kind: "mlp", d: 3, hidden: [3, 2], head: "softmax", k: 3, n: 2, K: 2, lr: 0.25 });
    let t: Tester;
    let file: string;
    before(async () => {
      ({ t, file } = await compileSource("train_mlp2_softmax", generateTrainingCircuit(s).source));
    });

    it("witness equals the executor for random parents, data and labels (fast-check)", async () => {
      await parityProperty(t, s, 1);
    });

    it("costs what trainingCost estimated", async () => {
      expect(await compiledConstraints(file)).to.equal(trainingCost(s).constraints);
    });

    it("rejects a forged ReLU derivative, a forged hidden delta and forged new weights", async () => {
      const parent = weightsFromFloat(s, initialWeights(s, 11));
      const X = [[40n, -20n, 10n], [-30n, 50n, 60n], [70n, 10n, -5n], [-8n, -90n, 30n]];
      const y = [0n, 2n, 1n, 2n];
      const { w, result } = await checkParity(t, s, parent, X, y);
      for (const name of ["hs0[0][0][0].pos", "hs1[0][1][1].pos"]) {
        const pos = readSignal(t, w, name);
        await expectTamperRejected(t, w, { [name]: 1n - pos });
      }
      // The delta backpropagated into the first hidden layer, and its rounding.
      const d = fromField(readSignal(t, w, "bs0[0][0][1].out"));
      await expectTamperRejected(t, w, { "bs0[0][0][1].out": d + 1n });
      await expectTamperRejected(t, w, { "dl1[1][1][0]": fromField(readSignal(t, w, "dl1[1][1][0]")) + 1n });
      await expectTamperRejected(t, w, { [`wk[${s.K}][0]`]: result.weights[0] - 1n });
      await expectTamperRejected(t, w, { [`wk[${s.K}][${paramCount(s) - 1}]`]: result.weights[paramCount(s) - 1] + 1n });
    });
  });

  for (const [head, extra] of [["logistic", {}], ["linear", { lr: 0.0625 }]] as const) {
    describe(`mlp with two hidden layers and a ${head} head (d=3 → 2 → 2 → 1, n=2, K=2)`, () => {
      const s = trainingSpec({ kind: "mlp", d: 3, hidden: [2, 2], head, n: 2, K: 2, lr: 0.25, ...extra });
      it("witness equals the executor (fast-check) and the estimate the compiled size", async () => {
        const { t, file } = await compileSource(`train_mlp2_${head}`, generateTrainingCircuit(s).source);
        await parityProperty(t, s, 1);
        expect(await compiledConstraints(file)).to.equal(trainingCost(s).constraints);
      });
    });
  }
});
