/**
 * Frozen trunks (src/training/trunk.ts): the PyTorch-exported digits CNN cut at its Flatten — the
 * convolutional trunk (x·1/16 → Conv → BatchNormalization → Relu → MaxPool) frozen with public
 * weights, its dense head (Gemm 36 → 10 → Softmax) trained. The training circuit proves the trunk's
 * inference on every committed raw row: the witness equals the executor (new weights, data hash,
 * metrics, the features are runInt's trunk outputs) on real digits rows; a changed feature, trunk
 * intermediate or raw pixel is rejected; the constraint estimate equals the compiled (--O2) count;
 * cuts that leave no dense head are refused with the nodes listed; and executor training from the
 * fixture's head (or from zeros) keeps (gets) held-out accuracy near the fixture's 96.67%.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import { REPO, Tester, expectTamperRejected, readSignal, compileSource, constraintsOf, witnessFails } from "../helpers/circuit";
import { calibrationSet, onnxPath } from "../helpers/fixtures";
import { writeModel, rawTensor } from "../unit/onnxBuilder";
import { FIELD_P, fromField, toField } from "../../src/quant/fixed";
import { packedHash, poseidonHash } from "../../src/quant/commitment";
import {
  TrainingSpec, TrainingSecrets, FrozenTrunkModel, frozenTrunkModel, trunkTrainingSpec, trunkFeatures, trunkGraph, trunkRowCost,
  evaluateTrunk, generateTrainingCircuit, trainingCircuitInput, trainingCost, trainingSpec, quantizeData, weightsFromFloat,
  weightsToFloat, initialWeights, trainCommit, commitData, evaluate, labelBits,
} from "../../src/training";
import { FlavumError } from "../../src/errors";


const ONNX = onnxPath("cnn_digits");
const SECRETS: TrainingSecrets = { binding: FIELD_P - 777n, salt: 0xbeefn };
const digits: { features: number[][]; labels: number[]; split: { train: number[]; test: number[] } } = JSON.parse(
  fs.readFileSync(path.join(REPO, "fixtures/data/digits.json"), "utf8"),
);
const rowsOf = (idx: number[]) => ({ X: idx.map((i) => digits.features[i]), y: idx.map((i) => digits.labels[i]) });
const train = rowsOf(digits.split.train);
const test = rowsOf(digits.split.test);

/** PackedHash as the circuit forms it, without its range checks (values are offset and packed whatever their size). */
async function unrangedPackedHash(values: bigint[], bits: number): Promise<bigint> {
  const per = Math.floor(250 / bits);
  const packed: bigint[] = new Array(Math.ceil(values.length / per)).fill(0n);
  values.forEach((v, i) => (packed[Math.floor(i / per)] += (v + (1n << BigInt(bits - 1))) << BigInt(bits * (i % per))));
  let h = BigInt(values.length);
  for (let c = 0; c < packed.length; c += 15) h = await poseidonHash([h, ...packed.slice(c, c + 15)]);
  return h;
}

function refusal(f: () => unknown): FlavumError {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(FlavumError);
    return e as FlavumError;
  }
  throw new Error("expected a FlavumError");
}

describe("training a dense head on a frozen convolutional trunk (cnn_digits cut at its Flatten)", function () {
  const cal = calibrationSet("cnn_digits");
  let m: FrozenTrunkModel;
  let s: TrainingSpec;
  before(() => {
    m = frozenTrunkModel(ONNX, "/Flatten", cal);
    s = trunkTrainingSpec(m, { n: 8, K: 1, lr: 1 / 32 });
  });

  describe("the cut", () => {
    it("gives the trunk's integer outputs as features (sx, bx) and the fixture's Gemm 36 → 10 as a softmax head", () => {
      expect(m.head).to.include({ kind: "softmax", d: 36, k: 10 });
      expect(m.head.weights).to.have.length(370);
      expect(m.trunk).to.include({ upTo: "/Flatten", d0: 64, inputScale: 0, inputBits: 7, features: 36 });
      expect(m.trunk.onnxSha256).to.equal("84667c9545c262d769bcdb0b84e13f8e8461de6826aeeea841e02aad043af843");
      expect(s).to.include({ kind: "softmax", d: 36, k: 10, sx: m.trunk.outScale, bx: m.trunk.outBits, n: 8, K: 1 });
      console.log(`      trunk: 64 raw pixels (7 bits) → 36 features at 2^-${m.trunk.outScale} in ${m.trunk.outBits} bits; ${trunkRowCost(trunkGraph(s))} constraints per row`);
      // The Flatten's output, or the MaxPool before it, cut the same trunk (the Flatten moves to the head).
      for (const at of ["/Flatten_output_0", "/pool/MaxPool", "/pool/MaxPool_output_0"]) {
        const o = frozenTrunkModel(ONNX, at, cal);
        expect(JSON.parse(o.trunk.qgraph).nodes, at).to.deep.equal(JSON.parse(m.trunk.qgraph).nodes);
        expect({ ...o.trunk, qgraph: "", upTo: "" }, at).to.deep.equal({ ...m.trunk, qgraph: "", upTo: "" });
        expect(o.head.weights, at).to.deep.equal(m.head.weights);
      }
      // A spec whose features are not the trunk's outputs is refused.
      for (const bad of [{ sx: s.sx - 1 }, { bx: s.bx + 1 }, { d: 35 }])
        expect(() => trainingSpec({ ...s, ...bad }), JSON.stringify(bad)).to.throw(FlavumError, /trunk/);
      // Specs without a trunk have no such key: their JSON (and id) is unchanged.
      expect(Object.keys(trainingSpec({ kind: "softmax", d: 36, k: 10 }))).to.not.include("trunk");
    });

    it("refuses an unknown node and a remainder that is not a dense head, naming the node and listing the nodes", () => {
      const unknown = refusal(() => frozenTrunkModel(ONNX, "/conv/Convv", cal));
      expect(unknown.message).to.match(/"\/conv\/Convv".*no node has this name/);
      expect(unknown.message).to.include(`"/conv/Conv" (Conv → /conv/Conv_output_0)`).and.include(`"/Flatten" (Flatten → /Flatten_output_0)`);
      const conv = refusal(() => frozenTrunkModel(ONNX, "/conv/Conv", cal));
      expect(conv.message).to.match(/after node "\/conv\/Conv" is not a trainable dense head/).and.match(/BatchNormalization/).and.include(`"/pool/MaxPool" (MaxPool`);
      const gemm = refusal(() => frozenTrunkModel(ONNX, "/fc/Gemm", cal));
      expect(gemm.message).to.match(/after node "\/fc\/Gemm" is not a trainable dense head/);
      expect(refusal(() => frozenTrunkModel(ONNX, "/Softmax", cal)).message).to.match(/produces the model's output: nothing remains to train/);
    });

    it("refuses a cut the head reaches around (a tensor before the cut read after it) and a trunk op it cannot take", () => {
      // input → Gemm (g) → Relu (r); Add(r, g) → Gemm → Softmax: cutting at the Relu leaves g behind.
      const w = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed + i));
      const file = writeModel({
        inputs: [{ name: "input", shape: [1, 4] }],
        outputs: [{ name: "output", shape: [1, 3] }],
        nodes: [
          { op: "Gemm", name: "/fc1/Gemm", inputs: ["input", "w1", "b1"], outputs: ["g"], attrs: { transB: 1 } },
          { op: "Relu", name: "/Relu", inputs: ["g"], outputs: ["r"] },
          { op: "Add", name: "/Add", inputs: ["r", "g"], outputs: ["s"] },
          { op: "Gemm", name: "/fc2/Gemm", inputs: ["s", "w2", "b2"], outputs: ["z"], attrs: { transB: 1 } },
          { op: "Softmax", name: "/Softmax", inputs: ["z"], outputs: ["output"], attrs: { axis: 1 } },
        ],
        initializers: [rawTensor("w1", [6, 4], w(24, 1)), rawTensor("b1", [6], w(6, 2)), rawTensor("w2", [3, 6], w(18, 3)), rawTensor("b2", [3], w(3, 4))],
      });
      const rows = Array.from({ length: 16 }, (_, i) => w(4, 10 + i));
      expect(refusal(() => frozenTrunkModel(file, "/Relu", rows)).message).to.match(/nodes after "\/Relu" also read "g", computed before the cut/);
      // Cut after the Add, the rest is a dense head (the trunk has a standalone ReLU).
      const ok = frozenTrunkModel(file, "/Add", rows);
      expect(ok.head).to.include({ kind: "softmax", d: 6, k: 3 });
      // A trunk op outside the frozen-trunk set (here a Sigmoid table) is refused by name.
      const sig = writeModel({
        inputs: [{ name: "input", shape: [1, 4] }],
        outputs: [{ name: "output", shape: [1, 3] }],
        nodes: [
          { op: "Gemm", name: "/fc1/Gemm", inputs: ["input", "w1", "b1"], outputs: ["g"], attrs: { transB: 1 } },
          { op: "Sigmoid", name: "/Sigmoid", inputs: ["g"], outputs: ["s"] },
          { op: "Gemm", name: "/fc2/Gemm", inputs: ["s", "w2", "b2"], outputs: ["output"], attrs: { transB: 1 } },
        ],
        initializers: [rawTensor("w1", [6, 4], w(24, 1)), rawTensor("b1", [6], w(6, 2)), rawTensor("w2", [3, 6], w(18, 3)), rawTensor("b2", [3], w(3, 4))],
      });
      expect(refusal(() => frozenTrunkModel(sig, "/Sigmoid", rows)).message).to.match(/computes sigmoid \(\/Sigmoid\); a frozen trunk may use/);
    });
  });

  it("float evaluation: the float trunk and the fixture's head reproduce its 96.67% held-out; another ONNX file is refused", () => {
    const e = evaluateTrunk(s, m.head.weights, ONNX, test.X, test.y);
    expect(e.accuracy).to.be.closeTo(522 / 540, 1e-9);
    // The bytes are accepted too; a different file (sha256) is not.
    expect(evaluateTrunk(s, m.head.weights, fs.readFileSync(ONNX), test.X.slice(0, 20), test.y.slice(0, 20)).accuracy).to.be.a("number");
    const other = { ...s, trunk: { ...s.trunk!, onnxSha256: "0".repeat(64) } };
    expect(() => evaluateTrunk(other, m.head.weights, onnxPath("cnn_pad_avg_digits"), test.X.slice(0, 2), test.y.slice(0, 2))).to.throw(FlavumError, /sha256/);
    // Raw rows given where the head's features are expected are refused with the way out named.
    expect(() => evaluate(s, m.head.weights, test.X.slice(0, 2), test.y.slice(0, 2))).to.throw(/evaluateTrunk/);
  });

  describe("one training step on real digits rows (n = 8, K = 1)", () => {
    let t: Tester;
    let honest: { w: bigint[]; input: Awaited<ReturnType<typeof trainingCircuitInput>>["input"] };
    const rows = rowsOf(digits.split.train.slice(0, 8));
    before(async () => {
      ({ t } = await compileSource("train_trunk_cnn", generateTrainingCircuit(s).source));
    });

    it("the witness equals the executor: new weights hash, data hash of the raw rows, metrics; the features are the trunk's", async () => {
      const q = quantizeData(s, rows.X, rows.y);
      expect(q.clamped).to.equal(0);
      expect(q.X[0]).to.deep.equal(rows.X[0].map(BigInt)); // raw pixels at scale 2^0
      const parent = weightsFromFloat(s, m.head.weights);
      const { input, result, publicSignals } = await trainingCircuitInput(s, parent, q.X, q.y, SECRETS);
      expect(BigInt(input.dataHash)).to.equal(await commitData(s, q.X, q.y, SECRETS.salt));
      const w = await t.calculateWitness(input as unknown as Record<string, unknown>, true);
      await t.checkConstraints(w);
      publicSignals.forEach((v, i) => expect(w[1 + i], `public signal ${i}`).to.equal(toField(v)));
      expect(result).to.deep.include(trainCommit(s, parent, q.X, q.y));
      result.weights.forEach((v, j) => expect(fromField(readSignal(t, w, `wk[1][${j}]`)), `new weight ${j}`).to.equal(v));
      expect(Number(readSignal(t, w, "correct"))).to.equal(result.correct);
      const F = trunkFeatures(s, q.X);
      F.forEach((row, i) => row.forEach((v, l) => expect(fromField(readSignal(t, w, `xf[${i}][${l}]`)), `feature ${i},${l}`).to.equal(v)));
      expect(F.flat().some((v) => v > 0n)).to.equal(true);
      console.log(`      ${result.correct} / 8 rows classified right by the parent head`);
      honest = { w, input };
    });

    it("rejects a changed trunk feature or trunk intermediate, and a changed raw pixel against the data hash", async () => {
      const { w, input } = honest;
      // A feature (one witness signal with the trunk's output and its MaxPool's maximum, circom merges them).
      const f = fromField(readSignal(t, w, "xf[3][7]"));
      await expectTamperRejected(t, w, { "xf[3][7]": f + 1n });
      await expectTamperRejected(t, w, { "xf[3][7]": f - 1n });
      // The MaxPool's intermediates, the ReLU'd rescale below it, and a bit of the rescale's decomposition.
      await expectTamperRejected(t, w, { "tr[3].n1[7].prod[1]": readSignal(t, w, "tr[3].n1[7].prod[1]") + 1n });
      await expectTamperRejected(t, w, { "tr[3].n1[7].gap[0].out[0]": 1n - readSignal(t, w, "tr[3].n1[7].gap[0].out[0]") });
      const r = fromField(readSignal(t, w, "tr[2].n0[20].out"));
      await expectTamperRejected(t, w, { "tr[2].n0[20].out": r + 1n });
      const bit = readSignal(t, w, "tr[2].n0[20].split.out[5]");
      await expectTamperRejected(t, w, { "tr[2].n0[20].split.out[5]": 1n - bit });
      // Another pixel than committed: the data hash no longer opens.
      const x = input.x.map((row) => [...row]);
      x[0][30] = String(BigInt(x[0][30]) + 1n);
      expect(await witnessFails(t, { ...input, x }), "a changed raw pixel").to.equal(true);
      // A pixel outside the trunk's 7 input bits has no witness, even under the data hash its packing gives
      // (64 packs as -64 plus a carry into the next pixel: the range check is what tells them apart).
      const far = input.x.map((row) => row.map(BigInt));
      far[1][0] = 64n;
      const hy = await packedHash(rows.y.map(BigInt), labelBits(s));
      const forged = await poseidonHash([await poseidonHash([await unrangedPackedHash(far.flat(), 7), hy]), SECRETS.salt]);
      const aliased = far.map((row) => [...row]);
      aliased[1][0] = -64n;
      aliased[1][1] += 1n;
      expect(forged).to.equal(await poseidonHash([await poseidonHash([await packedHash(aliased.flat(), 7), hy]), SECRETS.salt]));
      expect(await witnessFails(t, { ...input, x: far.map((row) => row.map(String)), dataHash: forged.toString() })).to.equal(true);
    });

    it("costs what trainingCost estimated (--O2), within 2^17", async () => {
      const c = trainingCost(s);
      const compiled = await constraintsOf(generateTrainingCircuit(s).source);
      console.log(`      n = 8, K = 1: ${compiled} constraints (trunk ${c.step["trunk inference"]}, power 2^${c.power})`);
      expect(compiled).to.equal(c.constraints);
      expect(c.power).to.be.at.most(17);
      // n = 16 does not fit the largest development ptau: the estimate says so before anything compiles.
      expect(trainingCost(trunkTrainingSpec(m, { n: 16, K: 1, lr: 1 / 32 })).power).to.equal(18);
    });
  });

  it("the estimate also equals the compiled count for other trunks: cnn_pad_avg_digits at its Flatten, a standalone ReLU", async () => {
    const pad = frozenTrunkModel(onnxPath("cnn_pad_avg_digits"), "/Flatten", calibrationSet("cnn_pad_avg_digits"));
    const sp = trunkTrainingSpec(pad, { n: 2, K: 1, lr: 1 / 8 });
    expect(await constraintsOf(generateTrainingCircuit(sp).source)).to.equal(trainingCost(sp).constraints);
    const w = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed + i));
    const file = writeModel({
      inputs: [{ name: "input", shape: [1, 4] }],
      outputs: [{ name: "output", shape: [1, 3] }],
      nodes: [
        { op: "Gemm", name: "/fc1/Gemm", inputs: ["input", "w1", "b1"], outputs: ["g"], attrs: { transB: 1 } },
        { op: "Relu", name: "/Relu", inputs: ["g"], outputs: ["r"] },
        { op: "LeakyRelu", name: "/LeakyRelu", inputs: ["g"], outputs: ["l"], attrs: { alpha: 0.125 } },
        { op: "Add", name: "/Add", inputs: ["r", "l"], outputs: ["s"] },
        { op: "Gemm", name: "/fc2/Gemm", inputs: ["s", "w2", "b2"], outputs: ["output"], attrs: { transB: 1 } },
      ],
      initializers: [rawTensor("w1", [6, 4], w(24, 1)), rawTensor("b1", [6], w(6, 2)), rawTensor("w2", [3, 6], w(18, 3)), rawTensor("b2", [3], w(3, 4))],
    });
    const small = frozenTrunkModel(file, "/Add", Array.from({ length: 16 }, (_, i) => w(4, 10 + i)));
    const ss = trunkTrainingSpec(small, { n: 2, K: 1 });
    expect(trunkGraph(ss).nodes.map((n) => n.kind)).to.include.members(["relu", "leakyrelu"]);
    expect(await constraintsOf(generateTrainingCircuit(ss).source)).to.equal(trainingCost(ss).constraints);
  });

  it("executor training on digits train rows keeps the fixture head's held-out accuracy, and gets near it from zeros", () => {
    const q = quantizeData(s, train.X, train.y);
    expect(q.clamped).to.equal(0);
    const run = (spec: TrainingSpec, w0: number[], steps: number) => {
      let w = weightsFromFloat(spec, w0);
      let correct = 0;
      for (let k = 0; k < steps; k++) {
        const r = trainCommit(spec, w, q.X.slice(k * 8, k * 8 + 8), q.y.slice(k * 8, k * 8 + 8));
        w = r.weights;
        correct += r.correct;
      }
      return { acc: evaluateTrunk(spec, weightsToFloat(spec, w), ONNX, test.X, test.y).accuracy!, trainAcc: correct / (8 * steps) };
    };
    const steps = Math.floor(train.X.length / 8);
    const kept = run(s, m.head.weights, 50);
    const fromZeros = run(trunkTrainingSpec(m, { n: 8, K: 1, lr: 1 / 8 }), initialWeights(s), steps);
    console.log(
      `      held-out (540 rows): fixture head 96.67%; after 50 steps from it (lr 1/32) ${(kept.acc * 100).toFixed(2)}%; ` +
        `after ${steps} steps from zeros (lr 1/8, one epoch) ${(fromZeros.acc * 100).toFixed(2)}% (training accuracy ${(fromZeros.trainAcc * 100).toFixed(1)}%)`,
    );
    expect(kept.acc).to.be.at.least(0.955);
    expect(fromZeros.acc).to.be.at.least(0.93);
  });
});
