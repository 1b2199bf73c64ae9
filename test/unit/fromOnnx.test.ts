/**
 * ONNX models exported by PyTorch → the trainable models repositories start from: the weights land
 * in the training layout, so the training reference predicts exactly what onnxruntime does.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import { trainableFromOnnx } from "../../src/repos/fromOnnx";
import { OrtReference } from "../../src/onnx/reference";
import { predictFloat, trainingSpec } from "../../src/training";
import { REPO } from "../helpers/circuit";
import { onnxPath } from "../helpers/fixtures";

const cancer = JSON.parse(fs.readFileSync(path.join(REPO, "fixtures/data/breast_cancer.json"), "utf8")) as { features: number[][] };

describe("trainable models from ONNX", () => {
  for (const [file, kind] of [["logreg_cancer", "logistic"], ["logreg_cancer_untrained", "logistic"], ["mlp_cancer_untrained", "mlp"]] as const) {
    it(`${file}: a ${kind} model whose predictions equal onnxruntime's`, async () => {
      const m = trainableFromOnnx(onnxPath(file));
      expect(m.kind).to.equal(kind);
      expect(m.d).to.equal(30);
      const spec = trainingSpec({ kind: m.kind, d: m.d, h: m.h });
      const ort = await OrtReference.load(onnxPath(file));
      for (const x of cancer.features.slice(0, 5)) expect(predictFloat(spec, m.weights, x)).to.be.closeTo((await ort.run(x))[0], 1e-5);
      await ort.release();
    });
  }

  it("refuses a model it cannot train, saying which shapes it can", () => {
    expect(() => trainableFromOnnx(onnxPath("cnn_digits"))).to.throw(/cannot train this model: repositories train logistic regression/);
  });
});
