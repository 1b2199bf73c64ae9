/**
 * Trained models → ONNX (src/repos/toOnnx.ts): for every model kind, onnxruntime on the exported file
 * computes the per-row outputs the repository's evaluation uses (forwardFloat, which evaluate() reads),
 * trainableFromOnnx reads back the same shape and float32 weights, a head grafted onto the digits
 * CNN's trunk reproduces the original model, and a weights vector of the wrong length is refused.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { onnx } from "onnx-proto";
import * as ort from "onnxruntime-node";
import { InputError } from "../../src/errors";
import { decodeModel, decodeTensor, readModel } from "../../src/onnx/load";
import { trainableFromOnnx, trainableShape } from "../../src/repos/fromOnnx";
import { trainedModelToOnnx, writeTrainedOnnx } from "../../src/repos/toOnnx";
import { forwardFloat, paramCount, TrainingSpec, trainingSpec } from "../../src/training";

const REPO = path.resolve(__dirname, "../..");
const CNN = path.join(REPO, "fixtures/models/cnn_digits.onnx");

let seed = 7;
/** Seeded uniform in [-a, a), so a failure reproduces. */
const rnd = (a = 1) => ((seed = (seed * 1103515245 + 12345) % 2147483648), (seed / 2147483648 - 0.5) * 2 * a);
const vec = (n: number, a = 1) => Array.from({ length: n }, () => rnd(a));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-to-onnx-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function session(bytes: Uint8Array) {
  const s = await ort.InferenceSession.create(bytes);
  return {
    async run(x: number[], shape: number[]): Promise<number[]> {
      const r = await s.run({ [s.inputNames[0]]: new ort.Tensor("float32", Float32Array.from(x), shape) });
      return Array.from(r[s.outputNames[0]].data as Float32Array);
    },
    release: () => s.release(),
  };
}

/** ORT computes in float32; the reference gets the same float32-rounded weights and inputs. */
function expectClose(got: number[], want: number[]): void {
  expect(got.length).to.equal(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i])).to.be.at.most(1e-5 * Math.max(1, Math.abs(want[i])), `output ${i}: ${g} vs ${want[i]}`));
}

const CASES: [string, TrainingSpec][] = [
  ["logistic regression", trainingSpec({ kind: "logistic", d: 5 })],
  ["linear regression", trainingSpec({ kind: "linear", d: 4 })],
  ["legacy mlp (h)", trainingSpec({ kind: "mlp", d: 6, h: 3 })],
  ["softmax regression", trainingSpec({ kind: "softmax", d: 5, k: 4 })],
  ["mlp 6 → 5 → 4 → softmax over 3", trainingSpec({ kind: "mlp", d: 6, hidden: [5, 4], head: "softmax", k: 3 })],
  ["mlp 5 → 4 → 3 → linear", trainingSpec({ kind: "mlp", d: 5, hidden: [4, 3], head: "linear" })],
  ["mlp 4 → 3 → 2 → logistic", trainingSpec({ kind: "mlp", d: 4, hidden: [3, 2], head: "logistic" })],
];

describe("trained models to ONNX", () => {
  for (const [label, spec] of CASES) {
    describe(label, () => {
      const weights = vec(paramCount(spec));
      const rows = Array.from({ length: 6 }, () => vec(spec.d, 2));

      it("runs in onnxruntime with the outputs evaluate() computes", async () => {
        const s = await session(trainedModelToOnnx(spec, weights));
        const w32 = weights.map(Math.fround);
        for (const x of rows) expectClose(await s.run(x, [1, spec.d]), forwardFloat(spec, w32, x.map(Math.fround)));
        await s.release();
      });

      it("round-trips through trainableFromOnnx", () => {
        const file = path.join(dir, label.replace(/\W+/g, "_"), "model.onnx");
        writeTrainedOnnx(file, spec, weights);
        const m = trainableFromOnnx(file);
        expect(trainingSpec(trainableShape(m))).to.deep.equal(spec);
        expect(m.weights).to.deep.equal(weights.map(Math.fround));
      });
    });
  }

  it("is a plain opset-13 model: input [1, d], output [1, k], producer flavum", () => {
    const spec = CASES[4][1];
    const m = decodeModel(trainedModelToOnnx(spec, vec(paramCount(spec))));
    const g = m.graph!;
    expect(Number(m.irVersion)).to.equal(7);
    expect((m.opsetImport ?? []).map((o) => [o.domain, Number(o.version)])).to.deep.equal([["", 13]]);
    expect(m.producerName).to.equal("flavum");
    expect(g.node!.map((n) => n.opType)).to.deep.equal(["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"]);
    expect(g.initializer!.map((t) => t.name)).to.deep.equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]);
    const port = (v: onnx.IValueInfoProto) => [v.name, v.type!.tensorType!.shape!.dim!.map((x) => Number(x.dimValue))];
    expect(port(g.input![0])).to.deep.equal(["input", [1, 6]]);
    expect(port(g.output![0])).to.deep.equal(["output", [1, 3]]);
  });

  describe("a head grafted onto the digits CNN's trunk", () => {
    // The fixture's own classifier (Gemm 36 → 10, then Softmax) as a trained softmax regression.
    const spec = trainingSpec({ kind: "softmax", d: 36, k: 10 });
    const byName = new Map(readModel(CNN).graph!.initializer!.map((t) => [t.name, Array.from(decodeTensor(t).data)]));
    const weights = [...byName.get("fc.weight")!, ...byName.get("fc.bias")!];
    const rows = (JSON.parse(fs.readFileSync(path.join(REPO, "fixtures/data/cnn_digits.sample.json"), "utf8")) as number[][]).slice(0, 5);

    for (const upTo of ["/Flatten", "/pool/MaxPool_output_0"]) {
      it(`cut at ${upTo}: the original model's outputs, without the dropped classifier's initializers`, async () => {
        const bytes = trainedModelToOnnx(spec, weights, { base: { onnx: CNN, upTo } });
        const g = decodeModel(bytes).graph!;
        const nodes = g.node!;
        expect(g.initializer!.map((t) => t.name).sort()).to.deep.equal(
          ["bn.bias", "bn.running_mean", "bn.running_var", "bn.weight", "conv.bias", "conv.weight", "fc1.bias", "fc1.weight"],
        );
        const trunkEnd = upTo === "/Flatten" ? "Flatten" : "MaxPool";
        expect(nodes.map((n) => n.opType).slice(-4)).to.deep.equal([trunkEnd, "Flatten", "Gemm", "Softmax"]);
        expect(nodes.some((n) => n.name === "/fc/Gemm" || n.name === "/Softmax")).to.equal(false);

        const [ours, orig] = [await session(bytes), await session(fs.readFileSync(CNN))];
        for (const x of rows) expectClose(await ours.run(x, [1, 1, 8, 8]), await orig.run(x, [1, 1, 8, 8]));
        await ours.release();
        await orig.release();
      });
    }

    it("refuses a cut point the base model does not have, listing its nodes", () => {
      expect(() => trainedModelToOnnx(spec, weights, { base: { onnx: CNN, upTo: "/nope" } }))
        .to.throw(InputError, /no node named \(or producing\) "\/nope".*\/conv\/Conv/);
    });
  });

  it("refuses weights that do not fit the spec, writing nothing", () => {
    const spec = trainingSpec({ kind: "mlp", d: 6, h: 3 });
    const file = path.join(dir, "bad", "model.onnx");
    expect(() => writeTrainedOnnx(file, spec, vec(paramCount(spec) - 1))).to.throw(InputError, /has 25 parameters, got 24 weights/);
    expect(fs.existsSync(file)).to.equal(false);
  });
});
