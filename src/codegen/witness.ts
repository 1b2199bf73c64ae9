/**
 * Circuit inputs for one inference, and the meaning of the public signals a proof carries.
 */
import type { QGraph } from "../quant/qgraph";
import { toField, fromField } from "../quant/fixed";
import type { CircuitLayout } from "./circuit";
import { weightLayout } from "./weights";
import { unpackOutputWord } from "../protocol/batch";

export type CircuitInput = Record<string, string[]>;

export function circuitInput(q: QGraph, layout: CircuitLayout, xq: readonly bigint[]): CircuitInput {
  const input: CircuitInput = { x: xq.map((v) => toField(v).toString()) };
  if (layout.mode === "private") {
    const w = weightLayout(q);
    input.w = w.weights.map((v) => toField(v).toString());
    input.b = w.biases.map((v) => toField(v).toString());
  }
  return input;
}

export interface PublicOutputs {
  inputHash: bigint;
  weightsHash?: bigint;
  out: bigint[];
  label?: number;
}

export function decodePublic(layout: CircuitLayout, signals: readonly (string | bigint)[]): PublicOutputs {
  if (signals.length !== layout.publicSignals.length)
    throw new Error(`proof has ${signals.length} public signals, the circuit declares ${layout.publicSignals.length}`);
  let k = 0;
  const next = () => BigInt(signals[k++]);
  const res: PublicOutputs = { inputHash: next(), out: [] };
  if (layout.mode === "private") res.weightsHash = next();
  if (layout.packed) {
    const { label, out } = unpackOutputWord(next(), layout.outputSize, layout.outputBits);
    res.out = out;
    if (layout.argmax) res.label = label;
  } else {
    for (let i = 0; i < layout.outputSize; i++) res.out.push(fromField(next()));
    if (layout.argmax) res.label = Number(next());
  }
  return res;
}
