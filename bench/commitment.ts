/**
 * How many of a Flavum circuit's constraints are its commitments (PackedHash of the input, and in
 * private mode of the weights and biases, with their range checks), which the baseline does not
 * have: measured by compiling the commitments alone, so "ours without commitments" compares the
 * inference arithmetic like for like.
 */
import type { QGraph } from "../src/quant/qgraph";
import type { WeightsMode } from "../src/codegen/circuit";
import { weightLayout } from "../src/codegen/weights";
import { benchDir, scoped } from "./common";
import { compileCached } from "./circuitCache";

export async function commitmentConstraints(q: QGraph, name: string, mode: WeightsMode): Promise<number> {
  const lines = [
    `pragma circom 2.1.6;`,
    `include "PackedHash.circom";`,
    `template Commitments() {`,
    `    signal input x[${q.input.size}];`,
    `    signal output inputHash <== PackedHash(${q.input.size}, ${q.input.bits})(x);`,
  ];
  if (mode === "private") {
    const l = weightLayout(q);
    lines.push(
      `    signal input w[${l.weights.length}];`,
      `    signal input b[${l.biases.length}];`,
      `    signal wh <== PackedHash(${l.weights.length}, ${l.weightBits})(w);`,
      `    signal bh <== PackedHash(${l.biases.length}, ${l.biasBits})(b);`,
      `    signal output weightsHash <== Poseidon(2)([wh, bh]);`,
    );
  }
  lines.push(`}`, `component main = Commitments();`, ``);
  const c = await compileCached(lines.join("\n"), benchDir("commitments", name), `commit_${name}`, scoped(`${name} commitments`));
  return c.info.constraints;
}
