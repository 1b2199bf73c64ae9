/** model:predict — quantized (provable) outputs side by side with onnxruntime's float outputs. */
import { OrtReference } from "../onnx/reference";
import type { LoadedModel } from "./artifacts";
import { predictQuantized } from "./inference";
import { reviewSamples } from "./samples";
import type { AdjustmentPolicy } from "../quant/adjustments";

export interface Prediction {
  output: number[];
  argmax: number;
  /** The predicted class (argmax, or a threshold when the model has one output). */
  label: number;
  float: number[];
}

export async function predictSamples(
  model: LoadedModel, samples: number[][], policy: AdjustmentPolicy & { what?: string } = {},
): Promise<{ predictions: Prediction[] }> {
  reviewSamples(model.q, samples, policy.what ?? "input", policy);
  const ort = await OrtReference.load(model.file("onnx"));
  try {
    const predictions: Prediction[] = [];
    for (const s of samples) {
      const q = predictQuantized(model.q, s);
      predictions.push({ output: q.output, argmax: q.argmax, label: q.label, float: await ort.run(s) });
    }
    return { predictions };
  } finally {
    await ort.release();
  }
}
