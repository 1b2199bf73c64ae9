/**
 * Where a compiled model lives and what its manifest records. One folder per model under
 * build/models/<name>/ (FLAVUM_CACHE_DIR moves build/), replaced atomically on recompile; the
 * generated verifier contract goes to contracts/verifiers/ so Hardhat compiles it.
 */
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import { cacheRoot, repoRoot } from "../zk/paths";
import { KEY_FILES, wasmPath } from "../zk/keys";
import { vkHash } from "../zk/vkHash";
import type { Head } from "../onnx/ir";
import type { QGraph, QuantOptions } from "../quant/qgraph";
import type { CircuitLayout, WeightsMode } from "../codegen/circuit";
import { qgraphFromJson } from "./qgraphJson";

export interface Fidelity {
  samples: number;
  /** Fraction of samples whose quantized class (argmax, or threshold for one output) equals onnxruntime's. */
  argmaxAgreement: number;
  /** Largest |quantized − float| over all outputs (after the head); null for ArgMax-head models. */
  maxAbsError: number | null;
  /** Samples that left the calibrated range (no witness exists for them). */
  overflows: number;
}

export interface ModelManifest {
  name: string;
  createdAt: string;
  source: string;
  weights: WeightsMode;
  quant: QuantOptions;
  ops: Record<string, number>;
  head: Head;
  inputShape: number[];
  outputShape: number[];
  inputScale: number;
  inputBits: number;
  outputScale: number;
  /** Poseidon(PackedHash(weights), PackedHash(biases)): the quantized model's commitment. */
  weightsCommitment: string;
  /** `hash`: the circuit source; `vkHash`: its key pair (absent in manifests written before it existed). */
  circuit: { template: string; hash: string; vkHash?: string; constraints: number; wires: number; layout: CircuitLayout };
  ptau: { power: number; source: string };
  verifier: { contract: string; file: string };
  fidelity: Fidelity;
  timings: { circuitMs: number; setupMs: number };
}

export const MODEL_FILES = {
  manifest: "manifest.json",
  qgraph: "qgraph.json",
  onnx: "model.onnx",
  zkey: KEY_FILES.zkey,
  vkey: KEY_FILES.vkey,
};

export function validateName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name))
    throw new FlavumError(
      `model name "${name}" is not valid: use a letter followed by letters, digits or _ (at most 64 characters)`,
      "BAD_NAME",
    );
  return name;
}

export function modelsRoot(): string {
  return path.join(cacheRoot(), "models");
}

export function modelDir(name: string): string {
  return path.join(modelsRoot(), validateName(name));
}

export function verifierContractName(name: string): string {
  const pascal = name
    .split(/_+/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join("");
  return `${pascal}Verifier`;
}

export function verifierFile(name: string): string {
  return path.join(repoRoot(), "contracts", "verifiers", `${verifierContractName(name)}.sol`);
}

export interface LoadedModel {
  dir: string;
  manifest: ModelManifest;
  q: QGraph;
  file: (key: keyof typeof MODEL_FILES) => string;
  wasm: string;
}

export function loadModel(name: string): LoadedModel {
  const dir = modelDir(name);
  const manifestFile = path.join(dir, MODEL_FILES.manifest);
  if (!fs.existsSync(manifestFile)) {
    const known = fs.existsSync(modelsRoot()) ? fs.readdirSync(modelsRoot()).filter((d) => !d.includes(".")) : [];
    throw new FlavumError(
      `no compiled model named "${name}" in ${modelsRoot()}; compile it with ` +
        `\`npx hardhat model:compile --onnx <file> --name ${name}\`` +
        (known.length ? ` (compiled models: ${known.join(", ")})` : ""),
      "UNKNOWN_MODEL",
    );
  }
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as ModelManifest;
  const q = qgraphFromJson(fs.readFileSync(path.join(dir, MODEL_FILES.qgraph), "utf8"));
  const file = (key: keyof typeof MODEL_FILES) => path.join(dir, MODEL_FILES[key]);
  const wasm = wasmPath(dir, name);
  return { dir, manifest, q, file, wasm };
}

/** The model's verifying-key hash (see src/zk/vkHash.ts); older manifests lack it, the key file has it. */
export function modelVkHash(model: LoadedModel): string {
  return model.manifest.circuit.vkHash ?? vkHash(model.file("vkey"));
}
