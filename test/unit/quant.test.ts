/**
 * The quantizer and integer executor: rounding semantics, fidelity against onnxruntime on held-out
 * data, and the errors a user meets (wrong length, NaN, out-of-range input, hidden overflow).
 */
import { expect } from "chai";
import fc from "fast-check";
import { floorShift, roundShift, fitsSigned, toField, fromField } from "../../src/quant/fixed";
import { quantizeInput, runInt } from "../../src/quant/intExec";
import { quantizeGraph, scaleFor } from "../../src/quant/quantize";
import { calibrate } from "../../src/quant/calibrate";
import { importOnnx } from "../../src/onnx/lower";
import { OrtReference } from "../../src/onnx/reference";
import { measureFidelity } from "../../src/model/fidelity";
import { InputError, RangeOverflowError } from "../../src/errors";
import type { FloatGraph } from "../../src/onnx/ir";
import type { QAffine } from "../../src/quant/qgraph";
import { generateCircuit } from "../../src/codegen/circuit";
import { FIXTURE_MODELS, calibrationSet, heldout, onnxPath, quantizedFixture, sampleSet } from "../helpers/fixtures";

describe("fixed-point arithmetic", () => {
  it("rounds half up and floors like the circuit's bit split", () => {
    fc.assert(
      fc.property(fc.bigInt(-(1n << 60n), 1n << 60n), fc.integer({ min: 0, max: 30 }), (a, k) => {
        const d = 1n << BigInt(k);
        const f = floorShift(a, k);
        expect(f * d <= a && a < (f + 1n) * d).to.equal(true);
        expect(roundShift(a, k)).to.equal(floorShift(a + (k ? d / 2n : 0n), k));
      }),
    );
  });

  it("maps signed values to the field and back", () => {
    fc.assert(
      fc.property(fc.bigInt(-(1n << 200n), 1n << 200n), (v) => {
        expect(fromField(toField(v))).to.equal(v);
      }),
    );
  });

  it("chooses the largest scale that keeps the calibrated range plus headroom inside the bits", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e4, noNaN: true }), fc.integer({ min: 8, max: 24 }), (m, bits) => {
        const s = scaleFor(m, bits, 1);
        expect(fitsSigned(BigInt(Math.round(m * 2 ** (s + 1))), bits)).to.equal(true);
        expect(fitsSigned(BigInt(Math.round(m * 2 ** (s + 3))), bits)).to.equal(false);
      }),
    );
  });
});

describe("quantized fixtures against onnxruntime", function () {
  for (const m of FIXTURE_MODELS) {
    it(`${m}: ≥ 99% class agreement with onnxruntime on the held-out split`, async () => {
      const q = quantizedFixture(m);
      const ort = await OrtReference.load(onnxPath(m));
      const f = await measureFidelity(q, ort, heldout(m).inputs);
      await ort.release();
      expect(f.overflows).to.equal(0);
      expect(f.argmaxAgreement).to.be.at.least(0.99);
    });
  }
});

describe("input quantization", () => {
  it("keeps integer-valued inputs (raw pixels 0..16) exact with only the bits they need", () => {
    const q = quantizedFixture("mlp_digits");
    expect(q.input.scale).to.equal(0);
    expect(q.input.bits).to.equal(7); // 16 needs 5 bits + sign + 1 bit headroom
    const xq = quantizeInput(q, sampleSet("mlp_digits")[0]);
    expect(xq.map(Number)).to.deep.equal(sampleSet("mlp_digits")[0]);
  });

  it("gives real-valued inputs a fractional scale", () => {
    const q = quantizedFixture("logreg_cancer");
    expect(q.input.scale).to.be.greaterThan(8);
    expect(q.input.bits).to.equal(16);
  });
});

describe("integer executor errors", () => {
  const q = quantizedFixture("mlp_digits");
  const sample = sampleSet("mlp_digits")[0];

  it("names expected and given length for a wrong input shape", () => {
    expect(() => quantizeInput(q, sample.slice(1))).to.throw(InputError, /63 values, expected 64 \(shape \[1, 64\]/);
  });

  it("names the index of a NaN", () => {
    const bad = [...sample];
    bad[5] = NaN;
    expect(() => quantizeInput(q, bad)).to.throw(InputError, /input value 5 is NaN/);
  });

  it("refuses an input outside the calibrated range before any proving", () => {
    const bad = [...sample];
    bad[0] = 1e6;
    expect(() => quantizeInput(q, bad)).to.throw(RangeOverflowError, /outside the calibrated input range/);
  });

  it("detects a hidden value leaving its calibrated bits and names the node", () => {
    // The first hidden layer is calibrated as if it never exceeded 0.01, so a real digit overflows it.
    const g = importOnnx(onnxPath("mlp_digits"));
    const ranges = calibrate(g, calibrationSet("mlp_digits"));
    const hidden = g.nodes.find((n) => n.kind === "affine")!;
    ranges.set(hidden.out, 0.01);
    const q2 = quantizeGraph(g, ranges);
    expect(() => runInt(q2, quantizeInput(q2, sample))).to.throw(RangeOverflowError, /affine node .* is outside its calibrated range/);
  });
});

describe("range checks the bounds already prove", () => {
  const ints = (a: number[]) => Int32Array.from(a);
  // Flags of two comparisons, then their sum and a large multiple of it: both exact (shift 0).
  const graph = (scaleOfBig: number): FloatGraph => ({
    input: { name: "x", shape: [2] }, inputs: [{ name: "x", shape: [2], offset: 0, elem: "float" }],
    outputs: [{ name: "y", shape: [2], offset: 0, elem: "float" }], head: "none", ops: {}, onnxOutput: "y", output: "y", outputShape: [2],
    nodes: [
      { kind: "compare", op: "gt", out: "c", input: "x", shape: [2], from: ["c"] },
      { kind: "affine", out: "s", inputs: ["c"], shape: [1], bias: Float64Array.of(1), from: ["sum"], rows: [[{ idx: ints([0, 1]), w: Float64Array.of(1, 1) }]] },
      { kind: "affine", out: "y", inputs: ["s", "c"], shape: [2], bias: new Float64Array(2), from: ["big"],
        rows: [[{ idx: ints([0]), w: Float64Array.of(scaleOfBig) }, { idx: ints([]), w: new Float64Array(0) }], [{ idx: ints([]), w: new Float64Array(0) }, { idx: ints([1]), w: Float64Array.of(1) }]] },
    ],
  });

  it("drops the range check of an exact map whose inputs bound it, with just the bits the bound needs", () => {
    const g = graph(3);
    const q = quantizeGraph(g, calibrate(g, [[1, -1], [-1, 1], [2, 2]]));
    const sum = q.nodes.find((n) => n.out === "s") as QAffine;
    expect(sum.shift).to.equal(0);
    expect(sum.unchecked).to.equal(true);
    // |1 + c0 + c1| <= 3 at its scale: 3 · 2^scale fits the bits chosen, and not one bit fewer.
    const bound = 3n << BigInt(q.tensors.s.scale);
    expect(1n << BigInt(sum.bits - 1) > bound && 1n << BigInt(sum.bits - 2) <= bound).to.equal(true);
    for (const x of [[1, 1], [-1, -1], [0.5, -2]]) expect(runInt(q, quantizeInput(q, x)).output).to.have.length(2);
  });

  it("keeps the range check where the bound does not prove the bits (and always with private weights)", () => {
    const g = graph(1e6);
    const q = quantizeGraph(g, calibrate(g, [[1, -1], [-1, 1], [2, 2]]));
    const y = q.nodes.find((n) => n.out === "y") as QAffine;
    expect(y.unchecked ?? false).to.equal(false);
    const circuit = generateCircuit(quantizeGraph(graph(3), calibrate(graph(3), [[1, 1]])), "t", "private").source;
    expect(circuit).to.not.contain("_v[");
  });
});
