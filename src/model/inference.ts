/**
 * One quantized inference as users see it: the dequantized output after the model's head and its
 * argmax, computed by the integer executor (the numbers a proof will carry).
 */
import type { QGraph } from "../quant/qgraph";
import { quantizeInput, runInt, IntResult } from "../quant/intExec";
import { dequantize } from "../quant/fixed";
import { argmaxOf, softmax } from "../onnx/floatExec";

export interface QuantizedPrediction {
  int: IntResult;
  /** Dequantized output after the head (softmax applied for Softmax-head models). */
  output: number[];
  argmax: number;
  /** The predicted class: the argmax, or for a single output a threshold (0.5 after a sigmoid, else 0). */
  label: number;
}

export function labelOf(q: QGraph, output: readonly number[]): number {
  if (output.length > 1) return argmaxOf(output);
  const last = q.nodes[q.nodes.length - 1];
  const threshold = last?.kind === "sigmoid" && last.out === q.output ? 0.5 : 0;
  return output[0] >= threshold ? 1 : 0;
}


export function predictQuantized(q: QGraph, sample: readonly number[]): QuantizedPrediction {
  const int = runInt(q, quantizeInput(q, sample));
  const scale = q.tensors[q.output].scale;
  const logits = int.output.map((v) => dequantize(v, scale));
  const output = q.head === "softmax" ? softmax(logits) : logits;
  return { int, output, argmax: int.argmax, label: labelOf(q, output) };
}
