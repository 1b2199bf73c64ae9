/** The human-readable summary model:compile prints. */
import type { ModelManifest } from "./artifacts";

export function formatCompileSummary(m: ModelManifest, reusedKeys: boolean): string {
  const f = m.fidelity;
  const ops = Object.entries(m.ops).map(([k, v]) => `${k}×${v}`).join(", ");
  return [
    `model "${m.name}" compiled (weights ${m.weights})`,
    `  ops:          ${ops}`,
    `  input:        [${m.inputShape.join(", ")}] as ${m.inputBits}-bit integers at scale 2^-${m.inputScale}; output [${m.outputShape.join(", ")}] at 2^-${m.outputScale}${m.head !== "none" ? ` then ${m.head}` : ""}`,
    `  quantization: ${m.quant.bits}-bit activations, ${m.quant.weightBits}-bit weights, ${m.quant.headroomBits} bit headroom`,
    `  circuit:      ${m.circuit.constraints} constraints, ${m.circuit.layout.publicSignals.length} public signals, ptau 2^${m.ptau.power} (${m.ptau.source})${reusedKeys ? ", keys reused (circuit unchanged)" : ""}`,
    `  fidelity:     ${(f.argmaxAgreement * 100).toFixed(2)}% class agreement with onnxruntime on ${f.samples} calibration samples` +
      (f.maxAbsError !== null ? `, max |error| ${f.maxAbsError.toPrecision(3)}` : "") +
      (f.overflows ? `, ${f.overflows} out of range` : ""),
    `  commitment:   ${m.weightsCommitment}`,
    `  verifier:     ${m.verifier.contract} (${m.verifier.file})`,
  ].join("\n");
}
