/**
 * The main job on the in-process network with the bundled digits MLP: compile → predict →
 * prove → verify off-chain → verify on-chain through the generated verifier.
 */
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { repoRoot } from "../zk/paths";
import type { Progress } from "../zk";
import { compileModel } from "./compile";
import { loadModel } from "./artifacts";
import { readSamples } from "./samples";
import { predictSamples } from "./predict";
import { proveInference, verifyProofFile } from "./prove";
import { formatCompileSummary } from "./summary";
import { verifyOnChain } from "../chain/verifier";

export const DEMO_MODEL = { name: "mlp_digits", onnx: "fixtures/models/mlp_digits.onnx", data: "fixtures/data/mlp_digits" };

export async function runDemo(hre: HardhatRuntimeEnvironment, say: (s: string) => void, progress: Progress) {
  const root = repoRoot();
  const file = (p: string) => path.join(root, p);
  say(`1. compile ${DEMO_MODEL.onnx} (calibrated on ${DEMO_MODEL.data}.calibration.json)`);
  const { manifest, reusedKeys } = await compileModel({
    onnx: file(DEMO_MODEL.onnx), name: DEMO_MODEL.name, calibration: file(`${DEMO_MODEL.data}.calibration.json`), progress,
  });
  say(formatCompileSummary(manifest, reusedKeys));
  await hre.run("compile", { quiet: true });

  const model = loadModel(DEMO_MODEL.name);
  const samples = readSamples(file(`${DEMO_MODEL.data}.sample.json`));
  say(`2. predict ${samples.length} held-out digits (quantized vs onnxruntime float)`);
  const { predictions } = await predictSamples(model, samples);
  predictions.forEach((p, i) => say(`   sample ${i}: quantized argmax ${p.argmax}, float argmax ${p.float.indexOf(Math.max(...p.float))}`));

  say(`3. prove sample 0`);
  const { file: proof } = await proveInference(model, samples[0], progress);
  say(`   output argmax ${proof.claim.argmax}, witness ${proof.timings.witnessMs.toFixed(0)} ms, prove ${proof.timings.proveMs.toFixed(0)} ms`);

  const off = await verifyProofFile(model, proof);
  say(`4. verify off-chain: ${off.valid ? "valid" : `INVALID (${off.reason})`}`);

  const on = await verifyOnChain(hre, model, proof);
  say(`5. verify on-chain (${hre.network.name}): ${manifest.verifier.contract} at ${on.address} says ${on.valid ? "valid" : "INVALID"}, ${on.gas} gas`);

  const forged = { ...proof, publicSignals: [...proof.publicSignals] };
  const last = forged.publicSignals.length - 1;
  forged.publicSignals[last] = String((Number(forged.publicSignals[last]) + 1) % manifest.circuit.layout.outputSize);
  const bad = await verifyOnChain(hre, model, forged);
  say(`6. the same proof claiming argmax ${forged.publicSignals[last]} instead: on-chain verifier says ${bad.valid ? "valid (BUG)" : "invalid"}`);
  if (!off.valid || !on.valid || bad.valid) throw new Error("demo failed: a check did not give the expected answer");
}
