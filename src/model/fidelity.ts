/**
 * How closely the quantized model follows the float model (onnxruntime-node) on a sample set.
 */
import type { QGraph } from "../quant/qgraph";
import type { OrtReference } from "../onnx/reference";
import { RangeOverflowError } from "../errors";
import { labelOf, predictQuantized } from "./inference";
import type { Fidelity } from "./artifacts";

export async function measureFidelity(q: QGraph, ort: OrtReference, samples: number[][]): Promise<Fidelity> {
  let agree = 0;
  let overflows = 0;
  let maxAbs = 0;
  for (const s of samples) {
    const float = await ort.run(s);
    let pred;
    try {
      pred = predictQuantized(q, s);
    } catch (e) {
      if (e instanceof RangeOverflowError) {
        overflows++;
        continue;
      }
      throw e;
    }
    if (q.head === "argmax") {
      if (pred.argmax === float[0]) agree++;
      continue;
    }
    if (pred.label === labelOf(q, float)) agree++;
    pred.output.forEach((v, i) => (maxAbs = Math.max(maxAbs, Math.abs(v - float[i]))));
  }
  return {
    samples: samples.length,
    argmaxAgreement: agree / samples.length,
    maxAbsError: q.head === "argmax" ? null : maxAbs,
    overflows,
  };
}
