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
