/**
 * ONNX → calibrated quantized graph → circom circuit → Groth16 keys → Solidity verifier, written
 * into the model's build folder. The folder is assembled beside the old one and swapped in at the
 * end, so a failure at any step leaves the previous build (or nothing) rather than half of one.
 * An unchanged circuit reuses the previous build's circuit and keys: setup is the slow step.
 */
import fs from "fs";
import path from "path";
import { importOnnx } from "../onnx/lower";
import { OrtReference } from "../onnx/reference";
import { calibrate, fallbackSamples } from "../quant/calibrate";
import { quantizeGraph } from "../quant/quantize";
import type { QuantOptions } from "../quant/qgraph";
import { generateCircuit, WeightsMode } from "../codegen/circuit";
import { weightLayout } from "../codegen/weights";
import { packedHash, poseidonHash } from "../quant/commitment";
import { buildCircuitKeys, exportVerifier, replaceDirAtomically, sourceHash, KEY_FILES, Progress, silent } from "../zk";
import { repoRoot } from "../zk/paths";
import { FlavumError } from "../errors";
import { MODEL_FILES, ModelManifest, modelDir, verifierContractName, verifierFile, validateName } from "./artifacts";
import { measureFidelity } from "./fidelity";
import { checkRecompile, registrationsFile } from "./registrations";
import { qgraphToJson } from "./qgraphJson";
import { readSamples } from "./samples";

export interface CompileModelOptions {
  onnx: string;
  name: string;
  calibration?: string;
  weights?: WeightsMode;
  quant?: Partial<QuantOptions>;
  progress?: Progress;
  /** Explicit powers-of-tau file (otherwise resolvePtau's order: env, cache, Hermez, dev ceremony). */
  ptau?: string;
  /** Overwrite the build of a model registered with another circuit (see registrations.ts). */
  force?: boolean;
}

export interface CompileModelResult {
  manifest: ModelManifest;
  dir: string;
  reusedKeys: boolean;
}

export async function compileModel(opts: CompileModelOptions): Promise<CompileModelResult> {
  const name = validateName(opts.name);
  const weights = opts.weights ?? "public";
  if (weights !== "public" && weights !== "private")
    throw new FlavumError(`--weights must be "public" or "private", got "${weights}"`, "BAD_INPUT");
  const log = opts.progress ?? silent;
  if (!fs.existsSync(opts.onnx)) throw new FlavumError(`ONNX file ${opts.onnx} does not exist`, "BAD_INPUT");

  const graph = importOnnx(opts.onnx);
  log(`imported ${path.basename(opts.onnx)}: ${Object.entries(graph.ops).map(([k, v]) => `${k}×${v}`).join(" ")}`);
  const samples = opts.calibration ? readSamples(opts.calibration, graph.inputs) : fallbackSamples(graph);
  if (!opts.calibration)
    log(`no --calibration given: calibrating on ${samples.length} random inputs in [-1, 1] (see README)`);
  const ranges = calibrate(graph, samples);
  const q = quantizeGraph(graph, ranges, opts.quant);
  const ort = await OrtReference.load(opts.onnx);
  const fidelity = await measureFidelity(q, ort, samples).finally(() => ort.release());

  const circuit = generateCircuit(q, name, weights);
  // Before the setup, the slow step: a refused compile should cost seconds, not minutes.
  checkRecompile(name, sourceHash(circuit.source), { force: opts.force, progress: log });
  const final = modelDir(name);
  return replaceDirAtomically(final, async (tmp) => {
    // The registrations belong to the name, not to one build: a recompile keeps them.
    if (fs.existsSync(registrationsFile(final))) fs.copyFileSync(registrationsFile(final), registrationsFile(tmp));
    fs.copyFileSync(opts.onnx, path.join(tmp, MODEL_FILES.onnx));
    fs.writeFileSync(path.join(tmp, MODEL_FILES.qgraph), qgraphToJson(q));
    const keys = await buildCircuitKeys({
      source: circuit.source, base: name, dir: tmp, previousDir: final,
      publicSignals: circuit.layout.publicSignals.length, ptau: opts.ptau, progress: log,
    });

    const layout = weightLayout(q);
    const weightsCommitment = await poseidonHash([
      await packedHash(layout.weights, layout.weightBits),
      await packedHash(layout.biases, layout.biasBits),
    ]);
    const contract = verifierContractName(name);
    const manifest: ModelManifest = {
      name,
      createdAt: new Date().toISOString(),
      source: path.resolve(opts.onnx),
      weights,
      quant: q.options,
      ops: graph.ops,
      head: graph.head,
      inputShape: graph.input.shape,
      outputShape: graph.outputShape,
      inputScale: q.input.scale,
      inputBits: q.input.bits,
      outputScale: q.tensors[q.output].scale,
      weightsCommitment: weightsCommitment.toString(),
      circuit: { template: circuit.templateName, hash: keys.hash, vkHash: keys.vkHash, constraints: keys.constraints, wires: keys.wires, layout: circuit.layout },
      ptau: keys.ptau,
      verifier: { contract, file: path.relative(repoRoot(), verifierFile(name)) },
      fidelity,
      timings: { circuitMs: keys.circuitMs, setupMs: keys.setupMs },
    };
    fs.writeFileSync(path.join(tmp, MODEL_FILES.manifest), JSON.stringify(manifest, null, 2));

    const regenerate = `npx hardhat model:compile --onnx ${path.relative(repoRoot(), path.resolve(opts.onnx))} --name ${name}` +
      (opts.calibration ? ` --calibration ${path.relative(repoRoot(), path.resolve(opts.calibration))}` : "") +
      (weights === "private" ? " --weights private" : "");
    await exportVerifier(path.join(tmp, KEY_FILES.zkey), contract, verifierFile(name), `model "${name}"`, regenerate);
    return { manifest, dir: final, reusedKeys: keys.reused };
  }, { progress: log });
}
