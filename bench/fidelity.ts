/**
 * Held-out fidelity: the quantized model (integer executor = what a proof carries) against the float
 * model (onnxruntime), and both against the true labels.
 */
import fs from "fs";
import type { QGraph } from "../src/quant/qgraph";
import { OrtReference } from "../src/onnx/reference";
import { measureFidelity } from "../src/model/fidelity";

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
  try {
    const f = await measureFidelity(q, ort, data.inputs, data.labels);
    return {
      samples: f.samples, agreement: f.argmaxAgreement, quantAccuracy: f.quantAccuracy, floatAccuracy: f.floatAccuracy,
      maxAbsError: f.maxAbsError, overflows: f.overflows,
    };
  } finally {
    await ort.release();
  }
}
