/**
 * The training and merge circuits of a repository's architecture: built once per training spec
 * (kind, shapes, batch shape, steps, learning rate, scales) under build/training/<spec id>/, with
 * their generated verifiers `Train<id>Verifier` and `Merge<k>x<id>Verifier`.
 */
import crypto from "crypto";
import path from "path";
import { generateMergeCircuit, generateTrainingCircuit, TrainingSpec } from "../training";
import { buildCircuitKeys, exportVerifier, replaceDirAtomically, KEY_FILES, wasmPath, Progress, CircuitKeys } from "../zk";
import { cacheRoot, repoRoot } from "../zk/paths";
import { MERGE_COUNTS } from "../chain/deployRepos";

export interface BuiltCircuit {
  kind: "train" | "merge";
  k?: number;
  dir: string;
  contract: string;
  wasm: string;
  zkey: string;
  vkey: string;
  keys: CircuitKeys;
}

export function specId(spec: TrainingSpec): string {
  return crypto.createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 12);
}

async function build(kind: "train" | "merge", spec: TrainingSpec, source: string, publicSignals: number, k: number | undefined, progress?: Progress): Promise<BuiltCircuit> {
  const id = specId(spec);
  const base = kind === "train" ? "train" : `merge${k}`;
  const dir = path.join(cacheRoot(), "training", id, base);
  const contract = kind === "train" ? `Train${id}Verifier` : `Merge${k}x${id}Verifier`;
  const keys = await replaceDirAtomically(dir, (tmp) => buildCircuitKeys({ source, base, dir: tmp, previousDir: dir, publicSignals, progress }));
  const zkey = path.join(dir, KEY_FILES.zkey);
  await exportVerifier(zkey, contract, path.join(repoRoot(), "contracts", "verifiers", `${contract}.sol`),
    `${kind === "train" ? "training" : `FedAvg merge of ${k}`} circuit ${id}`, "npx hardhat repo:create ...");
  return { kind, k, dir, contract, wasm: wasmPath(dir, base), zkey, vkey: path.join(dir, KEY_FILES.vkey), keys };
}

export async function buildTrainingCircuit(spec: TrainingSpec, progress?: Progress): Promise<BuiltCircuit> {
  const g = generateTrainingCircuit(spec);
  return build("train", spec, g.source, g.publicSignals.length, undefined, progress);
}

export async function buildMergeCircuit(spec: TrainingSpec, k: number, progress?: Progress): Promise<BuiltCircuit> {
  const g = generateMergeCircuit(spec, k);
  return build("merge", spec, g.source, g.publicSignals.length, k, progress);
}

export async function buildRepoCircuits(spec: TrainingSpec, progress?: Progress) {
  const train = await buildTrainingCircuit(spec, progress);
  const merges: BuiltCircuit[] = [];
  for (const k of MERGE_COUNTS) merges.push(await buildMergeCircuit(spec, k, progress));
  return { train, merges };
}
