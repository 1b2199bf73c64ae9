/**
 * How closely the quantized model follows the float model (onnxruntime-node) on a sample set, and,
 * given true labels, how accurate each of them is.
 */
import type { QGraph } from "../quant/qgraph";
import type { OrtReference } from "../onnx/reference";
import { RangeOverflowError } from "../errors";
import { labelOf, predictQuantized } from "./inference";
import type { Fidelity } from "./artifacts";

export interface LabelledFidelity extends Fidelity {
  /** Fraction of samples whose quantized class is the true label (overflows count as wrong). */
  quantAccuracy: number;
  floatAccuracy: number;
}

export async function measureFidelity(q: QGraph, ort: OrtReference, samples: number[][]): Promise<Fidelity>;
export async function measureFidelity(q: QGraph, ort: OrtReference, samples: number[][], labels: number[]): Promise<LabelledFidelity>;
export async function measureFidelity(q: QGraph, ort: OrtReference, samples: number[][], labels?: number[]): Promise<Fidelity | LabelledFidelity> {
  let agree = 0;
  let overflows = 0;
  let maxAbs = 0;
  let quantOk = 0;
  let floatOk = 0;
  for (const [k, s] of samples.entries()) {
    const float = await ort.run(s);
    const floatLabel = q.head === "argmax" ? float[0] : labelOf(q, float);
    if (labels && floatLabel === labels[k]) floatOk++;
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
    const quantLabel = q.head === "argmax" ? pred.argmax : pred.label;
    if (quantLabel === floatLabel) agree++;
    if (labels && quantLabel === labels[k]) quantOk++;
    if (q.head !== "argmax") pred.output.forEach((v, i) => (maxAbs = Math.max(maxAbs, Math.abs(v - float[i]))));
  }
  const n = samples.length;
  const base: Fidelity = { samples: n, argmaxAgreement: agree / n, maxAbsError: q.head === "argmax" ? null : maxAbs, overflows };
  return labels ? { ...base, quantAccuracy: quantOk / n, floatAccuracy: floatOk / n } : base;
}
