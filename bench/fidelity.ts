/**
 * Held-out fidelity: the quantized model (integer executor = what a proof carries) against the float
 * model (onnxruntime), and both against the true labels.
 */
import fs from "fs";
import type { QGraph } from "../src/quant/qgraph";
import { OrtReference } from "../src/onnx/reference";
import { RangeOverflowError } from "../src/errors";
import { labelOf, predictQuantized } from "../src/model/inference";

export interface HeldoutFidelity {
  samples: number;
  /** Fraction where the quantized class equals onnxruntime's. */
  agreement: number;
  quantAccuracy: number;
  floatAccuracy: number;
  /** Largest |quantized − float| over every output (after the model's head); null for ArgMax-head models. */
  maxAbsError: number | null;
  /** Samples outside the calibrated range (counted as disagreeing and wrong). */
  overflows: number;
}

export async function heldoutFidelity(q: QGraph, onnx: string, heldoutFile: string): Promise<HeldoutFidelity> {
  const data = JSON.parse(fs.readFileSync(heldoutFile, "utf8")) as { inputs: number[][]; labels: number[] };
  const ort = await OrtReference.load(onnx);
  let agree = 0, qOk = 0, fOk = 0, overflows = 0, maxAbs = 0;
  try {
    for (let k = 0; k < data.inputs.length; k++) {
      const x = data.inputs[k];
      const y = data.labels[k];
      const float = await ort.run(x);
      const fLabel = q.head === "argmax" ? float[0] : labelOf(q, float);
      if (fLabel === y) fOk++;
      let pred;
      try {
        pred = predictQuantized(q, x);
      } catch (e) {
        if (e instanceof RangeOverflowError) {
          overflows++;
          continue;
        }
        throw e;
      }
      const qLabel = q.head === "argmax" ? pred.argmax : pred.label;
      if (qLabel === fLabel) agree++;
      if (qLabel === y) qOk++;
      if (q.head !== "argmax") pred.output.forEach((v, i) => (maxAbs = Math.max(maxAbs, Math.abs(v - float[i]))));
    }
  } finally {
    await ort.release();
  }
  const n = data.inputs.length;
  return {
    samples: n,
    agreement: agree / n,
    quantAccuracy: qOk / n,
    floatAccuracy: fOk / n,
    maxAbsError: q.head === "argmax" ? null : maxAbs,
    overflows,
  };
}
