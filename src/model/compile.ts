/**
 * ONNX → calibrated quantized graph → circom circuit → Groth16 keys → Solidity verifier, written
 * into the model's build folder. The folder is assembled beside the old one and swapped in at the
 * end, so a failure at any step leaves the previous build (or nothing) rather than half of one.
 * An unchanged circuit reuses the previous build's circuit and keys: setup is the slow step.
 */
import crypto from "crypto";
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
import { compileCircuit, exportVerifier, powerFor, resolvePtau, setup, Progress, silent } from "../zk";
import { repoRoot } from "../zk/paths";
import { FlavumError } from "../errors";
import { MODEL_FILES, ModelManifest, modelDir, verifierContractName, verifierFile, validateName } from "./artifacts";
import { measureFidelity } from "./fidelity";
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
  const samples = opts.calibration ? readSamples(opts.calibration) : fallbackSamples(graph);
  if (!opts.calibration)
    log(`no --calibration given: calibrating on ${samples.length} random inputs in [-1, 1] (see README)`);
  const ranges = calibrate(graph, samples);
  const q = quantizeGraph(graph, ranges, opts.quant);
  const ort = await OrtReference.load(opts.onnx);
  const fidelity = await measureFidelity(q, ort, samples).finally(() => ort.release());

  const circuit = generateCircuit(q, name, weights);
  const hash = crypto.createHash("sha256").update(circuit.source).digest("hex");
  const final = modelDir(name);
  const tmp = `${final}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, MODEL_FILES.circuitDir), { recursive: true });
  try {
    const mainFile = path.join(tmp, MODEL_FILES.circuitDir, `${name}.circom`);
    fs.writeFileSync(mainFile, circuit.source);
    fs.copyFileSync(opts.onnx, path.join(tmp, MODEL_FILES.onnx));
    fs.writeFileSync(path.join(tmp, MODEL_FILES.qgraph), qgraphToJson(q));

    const previous = readPrevious(final);
    const reusedKeys = previous?.circuit.hash === hash && fs.existsSync(path.join(final, MODEL_FILES.zkey));
    let constraints: number, wires: number, circuitMs = 0, setupMs = 0;
    let ptau: ModelManifest["ptau"];
    if (reusedKeys && previous) {
      log(`circuit unchanged since the last build: reusing its constraints system and keys`);
      for (const f of [MODEL_FILES.zkey, MODEL_FILES.vkey]) fs.copyFileSync(path.join(final, f), path.join(tmp, f));
      fs.cpSync(path.join(final, MODEL_FILES.circuitDir), path.join(tmp, MODEL_FILES.circuitDir), { recursive: true });
      fs.writeFileSync(mainFile, circuit.source);
      ({ constraints, wires } = previous.circuit);
      ptau = previous.ptau;
    } else {
      const compiled = await compileCircuit(mainFile, path.join(tmp, MODEL_FILES.circuitDir), { progress: log });
      ({ constraints, wires } = compiled);
      circuitMs = compiled.ms;
      const power = powerFor(constraints, circuit.layout.publicSignals.length);
      const resolved = await resolvePtau(power, { path: opts.ptau, progress: log });
      ptau = { power: resolved.power, source: resolved.source };
      log(`${constraints} constraints → powers of tau 2^${power} (${resolved.source}: ${resolved.file})`);
      const s = await setup(compiled.r1cs, resolved.file, path.join(tmp, MODEL_FILES.zkey), { progress: log, name });
      setupMs = s.ms;
      // setup writes verification_key.json beside the zkey.
    }

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
      circuit: { template: circuit.templateName, hash, constraints, wires, layout: circuit.layout },
      ptau,
      verifier: { contract, file: path.relative(repoRoot(), verifierFile(name)) },
      fidelity,
      timings: { circuitMs, setupMs },
    };
    fs.writeFileSync(path.join(tmp, MODEL_FILES.manifest), JSON.stringify(manifest, null, 2));

    const regenerate = `npx hardhat model:compile --onnx ${path.relative(repoRoot(), path.resolve(opts.onnx))} --name ${name}` +
      (opts.calibration ? ` --calibration ${path.relative(repoRoot(), path.resolve(opts.calibration))}` : "") +
      (weights === "private" ? " --weights private" : "");
    await exportVerifier(path.join(tmp, MODEL_FILES.zkey), contract, verifierFile(name), `model "${name}"`, regenerate);

    const old = `${final}.old-${process.pid}`;
    if (fs.existsSync(final)) fs.renameSync(final, old);
    fs.renameSync(tmp, final);
    fs.rmSync(old, { recursive: true, force: true });
    return { manifest, dir: final, reusedKeys };
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function readPrevious(dir: string): ModelManifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MODEL_FILES.manifest), "utf8")) as ModelManifest;
  } catch {
    return undefined;
  }
}
