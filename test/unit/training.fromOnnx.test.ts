/**
 * Multi-class and deeper ONNX models → trainable specs (src/repos/fromOnnx.ts): the PyTorch-exported
 * digits MLP (x·1/16 → Gemm → Relu → Gemm, 10 logits) and hand-built PyTorch-style Gemm stacks (with
 * and without a final Softmax, several hidden layers, logistic and linear heads) import into the
 * matching spec, with weights in the training layout whose float predictions equal onnxruntime's;
 * anything else is refused with the op named.
 */
import { expect } from "chai";
import { trainableFromOnnx, trainableShape } from "../../src/repos/fromOnnx";
import { OrtReference } from "../../src/onnx/reference";
import { forwardFloat, paramCount, softmaxFloat, trainingSpec, generateTrainingCircuit } from "../../src/training";
import { heldout, onnxPath } from "../helpers/fixtures";
import { NodeSpec, rawTensor, writeModel } from "./onnxBuilder";

let seed = 31;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed / 2147483648 - 0.5);

/** A PyTorch-style export of Linear / ReLU layers: Gemm(transB = 1) with [out, in] weights, then `tail`. */
function gemmStack(widths: number[], tail: "none" | "softmax" | "sigmoid" | "tanh" | "argmax"): string {
  const nodes: NodeSpec[] = [];
  const inits = [];
  let prev = "input";
  for (let l = 0; l + 1 < widths.length; l++) {
    const [fi, fo] = [widths[l], widths[l + 1]];
    inits.push(rawTensor(`fc${l}.weight`, [fo, fi], Array.from({ length: fo * fi }, rnd)));
    inits.push(rawTensor(`fc${l}.bias`, [fo], Array.from({ length: fo }, rnd)));
    const out = l + 2 === widths.length && tail === "none" ? "output" : `/fc${l}/Gemm_output_0`;
    nodes.push({ op: "Gemm", inputs: [prev, `fc${l}.weight`, `fc${l}.bias`], outputs: [out], attrs: { transB: 1 } });
    prev = out;
    if (l + 2 < widths.length) {
      nodes.push({ op: "Relu", inputs: [prev], outputs: [`/relu${l}/Relu_output_0`] });
      prev = `/relu${l}/Relu_output_0`;
    }
  }
  if (tail === "softmax") nodes.push({ op: "Softmax", inputs: [prev], outputs: ["output"], attrs: { axis: 1 } });
  if (tail === "sigmoid") nodes.push({ op: "Sigmoid", inputs: [prev], outputs: ["output"] });
  if (tail === "tanh") nodes.push({ op: "Tanh", inputs: [prev], outputs: ["output"] });
  if (tail === "argmax") nodes.push({ op: "ArgMax", inputs: [prev], outputs: ["output"], attrs: { axis: 1, keepdims: 0 } });
  const k = widths[widths.length - 1];
  return writeModel({
    inputs: [{ name: "input", shape: [1, widths[0]] }],
    outputs: [{ name: "output", shape: tail === "argmax" ? [1] : [1, k], elemType: tail === "argmax" ? 7 : undefined }],
    nodes,
    initializers: inits,
  });
}

/** The training spec's float model reproduces onnxruntime on some inputs (softmax of the logits when the export stops at them). */
async function matchesOrt(file: string, inputs: number[][], logitsOnly: boolean) {
  const m = trainableFromOnnx(file);
  const spec = trainingSpec({ ...trainableShape(m) });
  expect(m.weights).to.have.length(paramCount(spec));
  const ort = await OrtReference.load(file);
  for (const x of inputs) {
    const want = await ort.run(x);
    const got = forwardFloat(spec, m.weights, x);
    const ref = logitsOnly && want.length > 1 ? softmaxFloat(want) : want;
    got.forEach((v, c) => expect(v).to.be.closeTo(ref[c], 1e-5));
  }
  await ort.release();
  return { m, spec };
}

describe("trainable multi-class and deep models from ONNX", () => {
  it("mlp_digits (PyTorch: x·1/16 → Linear(64, 32) → ReLU → Linear(32, 10)): an mlp with a 10-class softmax head", async () => {
    const { m, spec } = await matchesOrt(onnxPath("mlp_digits"), heldout("mlp_digits").inputs.slice(0, 5), true);
    expect([m.kind, m.d, m.hidden, m.head, m.k]).to.deep.equal(["mlp", 64, [32], "softmax", 10]);
    expect(spec.hidden).to.deep.equal([32]);
    expect(generateTrainingCircuit(spec).templateName).to.equal("FlavumTrain_mlp_d64_h32_softmax10_n16_K1");
  });

  it("a Gemm stack with two hidden layers and a final Softmax: mlp, hidden [5, 4], softmax head", async () => {
    const inputs = [[0.5, -1, 2, 0.25, 1], [1, 1, 1, 1, 1], [-2, 0, 0.5, 3, -1]];
    const { m } = await matchesOrt(gemmStack([5, 5, 4, 3], "softmax"), inputs, false);
    expect([m.kind, m.hidden, m.head, m.k]).to.deep.equal(["mlp", [5, 4], "softmax", 3]);
  });

  it("Gemm with k outputs, with or without Softmax: softmax regression", async () => {
    for (const tail of ["softmax", "none"] as const) {
      const { m } = await matchesOrt(gemmStack([4, 3], tail), [[1, -1, 0.5, 2], [0, 0, 0, 0]], tail === "none");
      expect([m.kind, m.d, m.k, m.hidden]).to.deep.equal(["softmax", 4, 3, undefined]);
    }
  });

  it("one output: a deep logistic head, a linear head, and today's one-hidden-layer sigmoid mlp", async () => {
    const deep = await matchesOrt(gemmStack([3, 4, 2, 1], "sigmoid"), [[1, 2, -1]], false);
    expect([deep.m.kind, deep.m.hidden, deep.m.head]).to.deep.equal(["mlp", [4, 2], "logistic"]);
    const lin = await matchesOrt(gemmStack([3, 4, 1], "none"), [[1, 2, -1]], false);
    expect([lin.m.kind, lin.m.hidden, lin.m.head]).to.deep.equal(["mlp", [4], "linear"]);
    const today = await matchesOrt(gemmStack([3, 4, 1], "sigmoid"), [[1, 2, -1]], false);
    expect([today.m.kind, today.m.h, today.m.hidden]).to.deep.equal(["mlp", 4, undefined]);
    expect(today.spec.h).to.equal(4);
  });

  it("refuses anything else, naming the op or the shape", () => {
    expect(() => trainableFromOnnx(onnxPath("cnn_digits"))).to.throw(/cannot train this model: .*uses Conv, BatchNormalization, MaxPool/);
    expect(() => trainableFromOnnx(onnxPath("cnn_pad_avg_digits"))).to.throw(/uses Conv, Pad, AveragePool, GlobalAveragePool/);
    expect(() => trainableFromOnnx(gemmStack([4, 3, 2], "tanh"))).to.throw(/uses Tanh/);
    expect(() => trainableFromOnnx(gemmStack([4, 3], "argmax"))).to.throw(/ends in ArgMax, which has no gradient/);
    expect(() => trainableFromOnnx(gemmStack([4, 3], "sigmoid"))).to.throw(/applies Sigmoid to 3 outputs/);
    expect(() => trainableFromOnnx(gemmStack([4, 1], "softmax"))).to.throw(/applies Softmax to a single output/);
  });
});
