/**
 * Multi-class and deeper models in the training rule (src/training): softmax regression and MLPs of
 * any depth with a logistic, linear or softmax head. The spec (defaults, validation, today's d→h→1
 * MLP as the special case of `hidden`), the fixed-point softmax and its measured error against
 * float, the executor against float SGD (fast-check, seeded), training accuracy improving over a
 * few steps, a federated-vs-central run on the bundled digits, and the cost estimate.
 */
import { expect } from "chai";
import fc from "fast-check";
import fs from "fs";
import path from "path";
import {
  TrainingSpec, trainingSpec, plan, paramCount, paramNames, layerWidths, headOf, quantizeData, weightsFromFloat,
  weightsToFloat, trainStep, trainCommit, sgdStepFloat, fedAvg, evaluate, trainFloat, initialWeights, labelBits,
  softmaxTable, softmaxInt, softmaxFloat, expNegInt, generateTrainingCircuit, trainingCost, forwardFloat, predictFloat,
  commitData, describeShape, trainingCostSummary,
} from "../../src/training";
import { FlavumError, InputError, RangeOverflowError } from "../../src/errors";

const DIGITS = path.resolve(__dirname, "../../fixtures/data/mlp_digits.heldout.json");
const real = (lo: number, hi: number) => fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });

/** The bundled digits (the 540-sample held-out split of scikit-learn's digits), pixels 0 … 16 mapped to [-2, 2]. */
function digits(): { X: number[][]; y: number[] } {
  const data = JSON.parse(fs.readFileSync(DIGITS, "utf8")) as { inputs: number[][]; labels: number[] };
  return { X: data.inputs.map((r) => r.map((v) => (v - 8) / 4)), y: data.labels };
}

/** Largest weight difference between K fixed-point and K float steps from the same start on the same data. */
function driftFromFloat(s: TrainingSpec, w0: number[], feats: number[][], labels: number[]): number {
  const q = quantizeData(s, feats, labels);
  let wq = weightsFromFloat(s, w0);
  let wf = weightsToFloat(s, wq);
  const xf = q.X.map((r) => r.map((v) => Number(v) / 2 ** s.sx));
  const yf = q.y.map((v) => (headOf(s) === "linear" ? Number(v) / 2 ** s.sp : Number(v)));
  let worst = 0;
  for (let k = 0; k < s.K; k++) {
    const rows = <T>(a: T[]) => a.slice(k * s.n, (k + 1) * s.n);
    wq = trainStep(s, wq, rows(q.X), rows(q.y), k).weights;
    wf = sgdStepFloat(s, wf, rows(xf), rows(yf));
    weightsToFloat(s, wq).forEach((v, j) => (worst = Math.max(worst, Math.abs(v - wf[j]))));
  }
  return worst;
}

/** Smallest |pre-activation| of any hidden unit over the rows: how close a ReLU kink is. */
function kinkMargin(s: TrainingSpec, w: number[], X: number[][]): number {
  let m = Infinity;
  const widths = layerWidths(s);
  for (const x of X) {
    let a = x;
    let at = 0;
    for (let l = 0; l + 1 < widths.length; l++) {
      const [fi, fo] = [widths[l], widths[l + 1]];
      const z = Array.from({ length: fo }, (_, u) => w[at + fi * fo + u] + a.reduce((acc, v, j) => acc + w[at + u * fi + j] * v, 0));
      at += fi * fo + fo;
      if (l + 2 < widths.length) z.forEach((v) => (m = Math.min(m, Math.abs(v))));
      a = z.map((v) => Math.max(v, 0));
    }
  }
  return m;
}

describe("training: multi-class and deeper models", function () {
  describe("spec", () => {
    it("fills softmax and general-mlp defaults and derives the layer widths", () => {
      const s = trainingSpec({ kind: "softmax", d: 64, k: 10 });
      expect([s.bz, s.be, s.expSeg, s.se, s.sz, s.sp, s.bp]).to.deep.equal([12, 10, 5, 16, 6, 12, 14]);
      expect(layerWidths(s)).to.deep.equal([64, 10]);
      expect(paramCount(s)).to.equal(650);
      expect(labelBits(s)).to.equal(5);
      const m = trainingSpec({ kind: "mlp", d: 64, hidden: [32, 16], head: "softmax", k: 10 });
      expect(layerWidths(m)).to.deep.equal([64, 32, 16, 10]);
      expect(paramCount(m)).to.equal(64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10);
      expect(paramNames(m).slice(0, 2)).to.deep.equal(["W1[0][0]", "W1[0][1]"]);
      expect(paramNames(m).at(-1)).to.equal("b3[9]");
      expect(describeShape(m)).to.equal("64 → 32 → 16 → 10 (softmax over 10 classes)");
      expect(m.sd).to.equal(16);
      const lin = trainingSpec({ kind: "mlp", d: 4, hidden: [3, 3], head: "linear" });
      expect([lin.sp, lin.bp]).to.deep.equal([8, 16]);
      // A stored spec read back is the same spec (the same JSON, hence the same build directory).
      for (const x of [s, m, lin]) expect(JSON.stringify(trainingSpec(x))).to.equal(JSON.stringify(x));
    });

    it("today's d→h→1 mlp is the special case hidden: [h] with a logistic head: the same spec and circuit", () => {
      const base = trainingSpec({ kind: "mlp", d: 30, h: 8, n: 16, K: 1, lr: 0.5 });
      const alts: (Partial<TrainingSpec> & Pick<TrainingSpec, "kind" | "d">)[] = [
        { kind: "mlp", d: 30, hidden: [8], n: 16, K: 1, lr: 0.5 },
        { kind: "mlp", d: 30, hidden: [8], head: "logistic", n: 16, K: 1, lr: 0.5 },
        { kind: "mlp", d: 30, h: 8, hidden: [8], head: "logistic", n: 16, K: 1, lr: 0.5 },
      ];
      for (const alt of alts) {
        const s = trainingSpec(alt);
        expect(JSON.stringify(s)).to.equal(JSON.stringify(base));
        expect(generateTrainingCircuit(s).source).to.equal(generateTrainingCircuit(base).source);
      }
      // The default width stays 8, and the plan is today's.
      expect(trainingSpec({ kind: "mlp", d: 3 }).h).to.equal(8);
      expect(plan(base).net).to.equal(undefined);
    });

    it("refuses malformed multi-class and deep specs with a reason", () => {
      expect(() => trainingSpec({ kind: "softmax", d: 3 })).to.throw(FlavumError, /k \(class count\) must be an integer >= 2/);
      expect(() => trainingSpec({ kind: "softmax", d: 3, k: 1 })).to.throw(FlavumError, /k \(class count\)/);
      expect(() => trainingSpec({ kind: "mlp", d: 3, hidden: [] })).to.throw(FlavumError, /hidden must be a non-empty list/);
      expect(() => trainingSpec({ kind: "mlp", d: 3, hidden: [2, 0], head: "softmax", k: 3 })).to.throw(FlavumError, /hidden must be/);
      expect(() => trainingSpec({ kind: "mlp", d: 3, hidden: [2, 2], head: "softmax" })).to.throw(FlavumError, /k \(class count\)/);
      expect(() => trainingSpec({ kind: "mlp", d: 3, hidden: [2, 2], k: 3 })).to.throw(FlavumError, /k \(class count\) is for softmax heads/);
      expect(() => trainingSpec({ kind: "mlp", d: 3, h: 4, hidden: [2, 2] })).to.throw(FlavumError, /not both/);
      expect(() => trainingSpec({ kind: "logistic", d: 3, k: 3 })).to.throw(FlavumError, /k is not a field of a logistic model/);
      expect(() => trainingSpec({ kind: "mlp", d: 3, h: 4, sd: 12 })).to.throw(FlavumError, /sd is not a field/);
      expect(() => trainingSpec({ kind: "softmax", d: 3, k: 3, hidden: [2] })).to.throw(FlavumError, /softmax regression/);
      expect(() => trainingSpec({ kind: "softmax", d: 3, k: 3, be: 13 })).to.throw(FlavumError, /be \(bits of the exp table's input\)/);
      expect(() => trainingSpec({ kind: "softmax", d: 3, k: 3, expSeg: 10 })).to.throw(FlavumError, /expSeg must be in/);
      expect(() => trainingSpec({ kind: "mlp", d: 3, hidden: [4], head: "softmax", k: 3, sd: 40 })).to.throw(FlavumError, /sd \(delta scale 40\)/);
      // Worst-case bounds grow with depth: a stack too deep for the field is refused up front.
      expect(() => trainingSpec({ kind: "mlp", d: 64, hidden: Array(24).fill(64), head: "softmax", k: 10 })).to.throw(FlavumError, /bits a field element safely holds/);
    });

    it("labels are class indices 0 … k-1: quantizeData and the executor refuse others", () => {
      const s = trainingSpec({ kind: "softmax", d: 2, k: 3, n: 2 });
      expect(quantizeData(s, [[0, 1], [1, 0]], [2, 0]).y).to.deep.equal([2n, 0n]);
      expect(() => quantizeData(s, [[0, 1]], [3])).to.throw(InputError, /class index 0 … 2/);
      expect(() => quantizeData(s, [[0, 1]], [1.5])).to.throw(InputError, /class index/);
      expect(() => trainStep(s, new Array(paramCount(s)).fill(0n), [[0n, 1n], [1n, 0n]], [0n, 3n])).to.throw(InputError, /label 1 = 3 is not a class index in 0 … 2/);
      expect(() => trainStep(s, new Array(5).fill(0n), [[0n, 1n], [1n, 0n]], [0n, 1n])).to.throw(InputError, /expected 9 parameters for a softmax model \(2 → 3/);
    });
  });

  describe("fixed-point softmax", () => {
    const s = trainingSpec({ kind: "softmax", d: 2, k: 10 });
    const t = softmaxTable(s);

    it("tables: H·T is exp(-e/2^sz) within one unit of 2^-se, exp(0) exact, 0 from 2^be on", () => {
      expect(expNegInt(t, 0n)).to.equal(1n << BigInt(2 * s.se!));
      let worst = 0;
      for (let e = 0; e < 2 ** s.be!; e++) worst = Math.max(worst, Math.abs(Number(expNegInt(t, BigInt(e))) / 2 ** (2 * s.se!) - Math.exp(-e / 2 ** s.sz)));
      expect(worst).to.be.below(2 ** -s.se!);
      expect(expNegInt(t, BigInt(2 ** s.be!))).to.equal(0n);
      expect(expNegInt(t, BigInt(2 ** s.bz - 1))).to.equal(0n);
    });

    it("argmax is the first index of the largest logit; probabilities are >= 0 and sum to 1 within k/2 units", () => {
      const r = softmaxInt(t, [5n, 9n, 9n, -3n, 0n, 1n, 2n, 9n, 4n, 4n]);
      expect(r.arg).to.equal(1);
      fc.assert(
        fc.property(fc.array(fc.bigInt(-(1n << 11n), (1n << 11n) - 1n), { minLength: 10, maxLength: 10 }), (z) => {
          const q = softmaxInt(t, z);
          const m = z.reduce((a, b) => (b > a ? b : a));
          expect(z[q.arg]).to.equal(m);
          expect(z.slice(0, q.arg).every((v) => v < m)).to.equal(true);
          q.p.forEach((v) => expect(v >= 0n && v <= 1n << BigInt(s.sp)).to.equal(true));
          const sum = q.p.reduce((a, b) => a + b, 0n);
          expect(Math.abs(Number(sum) - 2 ** s.sp)).to.be.at.most(s.k! / 2);
        }),
        { numRuns: 300, seed: 7 },
      );
      expect(() => softmaxInt(t, new Array(10).fill(1n << 11n))).to.throw(/outside the clamped range/);
    });

    it("error against float: measured over random logits, within the bound", () => {
      // Bound for logits on the grid (integers at 2^-sz, inside the clamp): the division rounds by at
      // most 2^-(sp+1); each exp_c = H·T is off by at most 2^-se (in units of exp(0) = 1, exact for the
      // largest logit), so with S >= 1, |Δp_c| <= |Δexp_c| + p_c·|ΔS| <= 2^-se + (k-1)·2^-se; the
      // table's cut-off drops at most (k-1)·exp(-2^(be-sz)). Real logits add their rounding to 2^-sz
      // (each off by <= 2^-(sz+1)): |Δp_c| <= Σ_j |∂p_c/∂z_j|·2^-(sz+1) = 2·p_c(1-p_c)·2^-(sz+1) <= 2^-(sz+2).
      let seed = 20261201;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648);
      const lim = 2 ** (s.bz - 1 - s.sz);
      for (const k of [2, 3, 10]) {
        const sk = trainingSpec({ kind: "softmax", d: 2, k });
        const tk = softmaxTable(sk);
        const gridBound = 2 ** -(sk.sp + 1) + k * 2 ** -sk.se! + (k - 1) * Math.exp(-(2 ** (sk.be! - sk.sz)));
        const realBound = gridBound + 2 ** -(sk.sz + 2);
        let grid = 0;
        let realErr = 0;
        for (let trial = 0; trial < 20000; trial++) {
          const spread = [1, 4, 16, lim][trial % 4];
          const zr = Array.from({ length: k }, () => Math.min(Math.max((2 * rnd() - 1) * spread, -lim), lim - 2 ** -sk.sz));
          const zq = zr.map((v) => BigInt(Math.round(v * 2 ** sk.sz)));
          const p = softmaxInt(tk, zq).p.map((v) => Number(v) / 2 ** sk.sp);
          const onGrid = softmaxFloat(zq.map((v) => Number(v) / 2 ** sk.sz));
          const exact = softmaxFloat(zr);
          p.forEach((v, c) => {
            grid = Math.max(grid, Math.abs(v - onGrid[c]));
            realErr = Math.max(realErr, Math.abs(v - exact[c]));
          });
        }
        console.log(
          `      k=${k}: max |p_fixed - p_float| = ${grid.toExponential(2)} on the 2^-${sk.sz} grid (bound ${gridBound.toExponential(2)}), ` +
            `${realErr.toExponential(2)} for real logits in [-${lim}, ${lim}) (bound ${realBound.toExponential(2)})`,
        );
        expect(grid).to.be.below(gridBound);
        expect(realErr).to.be.below(realBound);
      }
    });
  });

  describe("executor", () => {
    it("matches float SGD within quantization tolerance (fast-check): softmax regression and a 2-hidden-layer mlp", () => {
      const cases: [Partial<TrainingSpec> & Pick<TrainingSpec, "kind">, number][] = [
        [{ kind: "softmax", k: 3 }, 0.005],
        [{ kind: "mlp", hidden: [4, 3], head: "softmax", k: 3 }, 0.01],
        [{ kind: "mlp", hidden: [3, 3], head: "logistic" }, 0.01],
        [{ kind: "mlp", hidden: [3, 2], head: "linear", lr: 0.05 }, 0.005],
      ];
      for (const [extra, tol] of cases) {
        const s = trainingSpec({ d: 4, n: 8, K: 3, lr: 0.5, ...extra });
        const k = s.k ?? 2;
        const rows = s.n * s.K;
        fc.assert(
          fc.property(
            fc.array(real(-1, 1), { minLength: paramCount(s), maxLength: paramCount(s) }),
            fc.array(fc.array(real(-3, 3), { minLength: s.d, maxLength: s.d }), { minLength: rows, maxLength: rows }),
            fc.array(headOf(s) === "linear" ? real(-4, 4) : fc.integer({ min: 0, max: k - 1 }), { minLength: rows, maxLength: rows }),
            (w0, feats, labels) => {
              const w = s.kind === "mlp" ? w0.map((v) => (v < 0 ? -1 : 1) * (0.1 + 0.9 * Math.abs(v))) : w0;
              // A hidden pre-activation within rounding of 0 may take the other side of a ReLU in fixed
              // point than in float (the trajectories then legitimately part): such draws are skipped.
              fc.pre(kinkMargin(s, w, feats) > 0.05);
              expect(driftFromFloat(s, w, feats, labels), `${describeShape(s)}`).to.be.below(tol);
            },
          ),
          { numRuns: 25, seed: 20261122, maxSkipsPerRun: 1000 },
        );
      }
    });

    it("scores correct by the argmax before each row's step, over all n·K rows", () => {
      const s = trainingSpec({ kind: "softmax", d: 2, k: 3, n: 2, K: 2, lr: 0.5 });
      // W = [[4, 0], [0, 4], [0, 0]]: class 0 for x0 > max(x1, 0), class 1 for x1 > max(x0, 0).
      const w = weightsFromFloat(s, [4, 0, 0, 4, 0, 0, 0, 0, 0]);
      const q = quantizeData(s, [[1, 0], [0, 1], [-1, -1], [2, 0]], [0, 0, 2, 0]);
      const c = trainCommit(s, w, q.X, q.y);
      expect(c.predictions.slice(0, 2)).to.deep.equal([0n, 1n]);
      expect(c.correct).to.equal(3);
      expect(c.probabilities).to.have.length(4);
      c.probabilities!.forEach((p) => expect(p).to.have.length(3));
      // Ties go to the first index: with zero weights every row predicts class 0.
      const z = trainStep(s, new Array(paramCount(s)).fill(0n), q.X.slice(0, 2), [0n, 1n]);
      expect(z.predictions).to.deep.equal([0n, 0n]);
      expect(z.correct).to.equal(1);
    });

    it("reports a weight leaving its bits with its name, before any proof", () => {
      const s = trainingSpec({ kind: "mlp", d: 2, hidden: [2, 2], head: "softmax", k: 2, n: 2, lr: 64 });
      const q = quantizeData(s, [[7, 7], [6, 7]], [0, 0]);
      const w = weightsFromFloat(s, new Array(paramCount(s)).fill(0.5));
      expect(() => trainCommit(s, w, q.X, q.y)).to.throw(RangeOverflowError, /training step 0: W\d\[\d\]\[\d\] would become .*Lower the learning rate or raise bw/);
    });

    it("training accuracy improves over a few steps: a 2-hidden-layer mlp with a softmax head on digits", () => {
      const { X, y } = digits();
      const s = trainingSpec({ kind: "mlp", d: 64, hidden: [24, 16], head: "softmax", k: 10, n: 32, K: 1, lr: 0.25 });
      let w = weightsFromFloat(s, initialWeights(s, 3));
      const q = quantizeData(s, X.slice(0, 320), y.slice(0, 320));
      const acc: number[] = [];
      for (let epoch = 0; epoch < 6; epoch++) {
        let correct = 0;
        for (let b = 0; b < 10; b++) {
          const r = trainStep(s, w, q.X.slice(b * 32, b * 32 + 32), q.y.slice(b * 32, b * 32 + 32), b);
          correct += r.correct;
          w = r.weights;
        }
        acc.push(correct / 320);
      }
      console.log(`      training accuracy per epoch (each row scored before its step): ${acc.map((a) => (100 * a).toFixed(1) + "%").join(", ")}`);
      expect(acc[0]).to.be.below(0.5);
      expect(acc[acc.length - 1]).to.be.above(acc[0] + 0.3);
      expect(acc[acc.length - 1]).to.be.above(0.75);
      const held = evaluate(s, weightsToFloat(s, w), X.slice(320), y.slice(320));
      expect(held.accuracy!).to.be.above(0.7);
    });
  });

  describe("federated training on digits: 4 contributors, FedAvg, vs central float", () => {
    it("merged fixed-point softmax regression is within 3 accuracy points of central float softmax regression", () => {
      // The bundled digits: the 540-sample held-out split of scikit-learn's digits (fixtures/data).
      const { X, y } = digits();
      const [train, trainY, test, testY] = [X.slice(0, 400), y.slice(0, 400), X.slice(400), y.slice(400)];
      const s = trainingSpec({ kind: "softmax", d: 64, k: 10, n: 16, K: 6, lr: 0.5 });
      const rows = s.n * s.K;
      const parts = [0, 1, 2, 3].map((c) => train.map((_, i) => i).filter((i) => i % 4 === c).slice(0, rows));
      const local = parts.map((p) => quantizeData(s, p.map((i) => train[i]), p.map((i) => trainY[i])));
      let w = weightsFromFloat(s, initialWeights(s));
      const rounds = 5;
      for (let r = 0; r < rounds; r++) w = fedAvg(local.map((q) => trainCommit(s, w, q.X, q.y).weights), local.map((q) => q.y.length), s);
      const fed = evaluate(s, weightsToFloat(s, w), test, testY);
      const central = trainFloat(s, initialWeights(s), train, trainY, { epochs: 50, lr: 0.5 });
      const cen = evaluate(s, central, test, testY);
      console.log(
        `      federated (4 × ${rows} rows, ${rounds} rounds of ${s.K} fixed-point steps): test accuracy ${(100 * fed.accuracy!).toFixed(2)}%, loss ${fed.loss.toFixed(4)}\n` +
          `      central float softmax regression (50 epochs over ${train.length} rows): test accuracy ${(100 * cen.accuracy!).toFixed(2)}%, loss ${cen.loss.toFixed(4)}`,
      );
      expect(Math.abs(fed.accuracy! - cen.accuracy!)).to.be.at.most(0.03);
      expect(fed.accuracy!).to.be.above(0.85);
    });
  });

  describe("float models", () => {
    it("forwardFloat gives k probabilities; predictFloat the class; evaluate the categorical cross-entropy", () => {
      const s = trainingSpec({ kind: "softmax", d: 2, k: 3 });
      const w = [1, 0, 0, 1, 0, 0, 0, 0, 0.5];
      const p = forwardFloat(s, w, [2, 0]);
      expect(p.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-12);
      expect(predictFloat(s, w, [2, 0])).to.equal(0);
      expect(predictFloat(s, w, [-2, -2])).to.equal(2);
      const e = evaluate(s, w, [[2, 0], [-2, -2]], [0, 2]);
      expect(e.accuracy).to.equal(1);
      expect(e.loss).to.be.closeTo(-(Math.log(p[0]) + Math.log(forwardFloat(s, w, [-2, -2])[2])) / 2, 1e-12);
    });

    it("the salted data commitment binds class labels", async () => {
      const s = trainingSpec({ kind: "softmax", d: 2, k: 10, n: 2 });
      const X = [[1n, 2n], [3n, 4n]];
      expect(await commitData(s, X, [9n, 0n], 5n)).to.not.equal(await commitData(s, X, [8n, 0n], 5n));
    });
  });

  describe("cost before anything is built", () => {
    it("counts today's circuits exactly (compiled with --O2 at this revision)", () => {
      for (const [s, compiled] of [
        [{ kind: "logistic", d: 3, n: 4, K: 2, lr: 0.5 }, 3189],
        [{ kind: "linear", d: 3, n: 4, K: 2, lr: 0.125 }, 2462],
        [{ kind: "mlp", d: 3, h: 2, n: 4, K: 2, lr: 0.5 }, 4885],
        [{ kind: "logistic", d: 30, n: 16, K: 1, lr: 0.5 }, 11281],
        [{ kind: "mlp", d: 30, h: 8, n: 16, K: 1, lr: 0.5 }, 43063],
        [{ kind: "linear", d: 30, n: 16, K: 1, lr: 0.05 }, 9831],
      ] as const)
        expect(trainingCost(trainingSpec(s)).constraints, JSON.stringify(s)).to.equal(compiled);
    });

    it("says what one step of the issue's shapes costs and which powers of tau they need", () => {
      const soft = trainingCost(trainingSpec({ kind: "softmax", d: 64, k: 10, n: 16, K: 1 }));
      const mlp = trainingCost(trainingSpec({ kind: "mlp", d: 64, hidden: [32], head: "softmax", k: 10, n: 16, K: 1 }));
      const small = trainingCost(trainingSpec({ kind: "mlp", d: 64, hidden: [16], head: "softmax", k: 10, n: 8, K: 1 }));
      for (const [name, c] of [["softmax 64 → 10, n=16", soft], ["mlp 64 → 32 → 10, n=16", mlp], ["mlp 64 → 16 → 10, n=8", small]] as const)
        console.log(`      ${name}: ${c.constraints} constraints (one step ${c.perStep}, commitments ${c.fixed}), 2^${c.power}: ${JSON.stringify(c.step)}`);
      expect(trainingCostSummary(trainingSpec({ kind: "softmax", d: 64, k: 10, n: 16, K: 1 }))).to.match(/^one SGD step on 16 rows: ~58,986 constraints \(head 32,656, .*~97,428 constraints, powers of tau 2\^17$/);
      expect(soft.power).to.equal(17);
      expect(mlp.power).to.be.above(17);
      expect(small.power).to.equal(17);
      expect(soft.perStep).to.equal(Object.values(soft.step).reduce((a, b) => a + b, 0));
      // K steps cost K times one step, plus the commitments (which grow with the rows and the between-step checks).
      const k3 = trainingCost(trainingSpec({ kind: "softmax", d: 64, k: 10, n: 16, K: 3 }));
      expect(k3.perStep).to.equal(soft.perStep);
      expect(k3.constraints).to.equal(k3.fixed + 3 * k3.perStep);
      expect(k3.fixed).to.be.above(soft.fixed + 2 * 650 * 18);
    });
  });
});
