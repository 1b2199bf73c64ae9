/**
 * The training and merge circuits of a repository's architecture: built once per training spec
 * (kind, shapes, batch shape, steps, learning rate, scales, update bound) under
 * build/training/<spec id>/, with their generated verifiers `Train<id>Verifier` and
 * `Merge<k>x<id>Verifier`. The training circuit's id leaves out the merge-only fields (the rule), so
 * repositories that differ only in how they merge share one training circuit and verifier.
 */
import crypto from "crypto";
import path from "path";
import {
  aggregationOf, generateMergeCircuit, generateTrainingCircuit, mergeCircuitInput, TrainingSpec, trainingPart,
} from "../training";
import { generateRobustMergeCircuit, robustMergeCircuitInput } from "../training/robustMerge";
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
  const id = specId(kind === "train" ? trainingPart(spec) : spec);
  const base = kind === "train" ? "train" : `merge${k}`;
  const dir = path.join(cacheRoot(), "training", id, base);
  const contract = kind === "train" ? `Train${id}Verifier` : `Merge${k}x${id}Verifier`;
  const keys = await replaceDirAtomically(dir, (tmp) => buildCircuitKeys({ source, base, dir: tmp, previousDir: dir, publicSignals, progress }));
  const zkey = path.join(dir, KEY_FILES.zkey);
  await exportVerifier(zkey, contract, path.join(repoRoot(), "contracts", "verifiers", `${contract}.sol`),
    `${kind === "train" ? "training" : `${aggregationOf(spec)} merge of ${k}`} circuit ${id}`, "npx hardhat repo:create ...");
  return { kind, k, dir, contract, wasm: wasmPath(dir, base), zkey, vkey: path.join(dir, KEY_FILES.vkey), keys };
}

export async function buildTrainingCircuit(spec: TrainingSpec, progress?: Progress): Promise<BuiltCircuit> {
  const g = generateTrainingCircuit(trainingPart(spec));
  return build("train", spec, g.source, g.publicSignals.length, undefined, progress);
}

/** Values a robust rule drops at each end of a coordinate: the median keeps the middle one or two. */
export function trimOf(spec: TrainingSpec, k: number): number {
  return aggregationOf(spec) === "median" ? Math.floor((k - 1) / 2) : spec.trim!;
}

/** The merge circuit of k commits under the spec's rule (all share FedAvg's public signals). */
export function mergeCircuitOf(spec: TrainingSpec, k: number) {
  return aggregationOf(spec) === "fedavg" ? generateMergeCircuit(spec, k) : generateRobustMergeCircuit(spec, k, trimOf(spec, k));
}

/** The merge's witness input and merged weights under the spec's rule. */
export async function mergeInput(spec: TrainingSpec, weightsList: readonly (readonly bigint[])[], counts: readonly (number | bigint)[]) {
  return aggregationOf(spec) === "fedavg"
    ? mergeCircuitInput(spec, weightsList, counts)
    : robustMergeCircuitInput(spec, weightsList, counts, trimOf(spec, weightsList.length));
}

export async function buildMergeCircuit(spec: TrainingSpec, k: number, progress?: Progress): Promise<BuiltCircuit> {
  const g = mergeCircuitOf(spec, k);
  return build("merge", spec, g.source, g.publicSignals.length, k, progress);
}

export async function buildRepoCircuits(spec: TrainingSpec, sizes: readonly number[] = MERGE_COUNTS, progress?: Progress) {
  const train = await buildTrainingCircuit(spec, progress);
  const merges: BuiltCircuit[] = [];
  for (const k of sizes) merges.push(await buildMergeCircuit(spec, k, progress));
  return { train, merges };
}
