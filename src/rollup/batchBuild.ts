/**
 * The batch circuit of a compiled model for one batch size: circuit, keys and verifier contract
 * `<Name>Batch<B>Verifier`, in build/models/<name>.batch-<B>/ — beside the model's folder, so a
 * recompile of an unchanged model keeps them; rebuilt only when the batch circuit changes.
 */
import path from "path";
import { batchPublicInputs, generateBatchCircuit } from "../codegen/batch";
import { buildCircuitKeys, exportVerifier, replaceDirAtomically, KEY_FILES, wasmPath, CircuitKeys, Progress } from "../zk";
import { repoRoot } from "../zk/paths";
import { LoadedModel, verifierContractName } from "../model/artifacts";
import { hasher, log2Exact, zeroRoots } from "./merkle";
import { MAX_BATCH } from "../protocol/batch";
import { FlavumError } from "../errors";

export interface BatchBuild {
  dir: string;
  keys: CircuitKeys;
  contract: string;
  verifierFile: string;
  wasm: string;
  zkey: string;
  vkey: string;
  batchSize: number;
}

export function batchContractName(model: string, batchSize: number): string {
  return verifierContractName(model).replace(/Verifier$/, `Batch${batchSize}Verifier`);
}

/**
 * The header a batch verifier is generated with: what it verifies and the command that regenerates
 * it. The build, a ceremony's finalize and model:audit all render the contract with it, so an honest
 * verifier is byte-for-byte reproducible.
 */
export function batchVerifierHeader(name: string, batchSize: number): { source: string; regenerate: string } {
  return { source: `model "${name}", batch size ${batchSize}`, regenerate: `npx hardhat model:register --name ${name} --batch ${batchSize}` };
}

export function batchPaths(model: LoadedModel, batchSize: number) {
  const dir = path.join(path.dirname(model.dir), `${model.manifest.name}.batch-${batchSize}`);
  const base = `${model.manifest.name}_batch${batchSize}`;
  const contract = batchContractName(model.manifest.name, batchSize);
  return {
    dir, base, contract,
    verifierFile: path.join(repoRoot(), "contracts", "verifiers", `${contract}.sol`),
    wasm: wasmPath(dir, base), zkey: path.join(dir, KEY_FILES.zkey), vkey: path.join(dir, KEY_FILES.vkey),
  };
}

export async function buildBatchCircuit(model: LoadedModel, batchSize: number, progress?: Progress, ptau?: string): Promise<BatchBuild> {
  if (!(batchSize >= 1 && batchSize <= MAX_BATCH)) throw new FlavumError(`--batch must be 1..${MAX_BATCH}, got ${batchSize}`, "BAD_INPUT");
  const levels = log2Exact(batchSize);
  if (model.manifest.weights !== "public" && !model.q.committed)
    throw new FlavumError(`model "${model.manifest.name}" has private weights; rollup batches support public-weights models for now`, "BAD_INPUT");
  const h = await hasher();
  const gen = generateBatchCircuit(model.q, model.manifest.name, batchSize, zeroRoots(h)[levels]);
  const p = batchPaths(model, batchSize);
  const keys = await replaceDirAtomically(p.dir, async (tmp) => {
    // The model folder may have been rebuilt since: reuse only what matches this exact source.
    return buildCircuitKeys({ source: gen.source, base: p.base, dir: tmp, previousDir: p.dir, publicSignals: batchPublicInputs(model.q).length, ptau, progress });
  });
  const header = batchVerifierHeader(model.manifest.name, batchSize);
  await exportVerifier(p.zkey, p.contract, p.verifierFile, header.source, header.regenerate);
  return { ...p, keys, batchSize };
}
