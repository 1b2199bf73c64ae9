import { expect } from "chai";
import fs from "fs";
import path from "path";
import { UnsupportedOpError } from "../../src/errors";
import { importOnnx } from "../../src/onnx/lower";
import { OrtReference } from "../../src/onnx/reference";
import { floatModelOutput, maxAbs, maxAbsDiff } from "../../src/onnx/corpus";

const ROOT = path.resolve(__dirname, "../../fixtures");
const model = (n: string) => path.join(ROOT, "models", `${n}.onnx`);

describe("onnx: project fixtures (PyTorch exports)", () => {
  for (const name of ["mlp_digits", "cnn_digits", "cnn_pad_avg_digits", "logreg_cancer"]) {
    it(`${name} imports and matches onnxruntime on every sample`, async function () {
      if (!fs.existsSync(model(name))) this.skip();
      const graph = importOnnx(model(name));
      const samples: number[][] = JSON.parse(fs.readFileSync(path.join(ROOT, "data", `${name}.sample.json`), "utf8"));
      expect(samples.length).to.be.greaterThan(0);
      const ref = await OrtReference.load(model(name));
      try {
        for (const s of samples) {
          const ort = await ref.run(s);
          expect(maxAbsDiff(floatModelOutput(graph, s), ort)).to.be.at.most(1e-4 * Math.max(1, maxAbs(ort)));
        }
      } finally {
        await ref.release();
      }
    });
  }

  it("unsupported_tanh (once refused, named for it) imports now: its Tanh becomes a table", function () {
    if (!fs.existsSync(model("unsupported_tanh"))) this.skip();
    const g = importOnnx(model("unsupported_tanh"));
    expect(g.nodes.map((n) => n.kind)).to.deep.equal(["affine", "pwl"]);
  });
});
