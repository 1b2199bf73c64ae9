/**
 * The rollup's state circuit for one (tree depth, operations per batch): circuit, keys and verifier
 * contract `StateD<depth>N<ops>Verifier`, in build/state/d<depth>-n<ops>/ — rebuilt only when the generated
 * circuit changes, so every deployment with the same parameters reuses one setup.
 */
import path from "path";
import { generateStateCircuit } from "../codegen/stateCircuit";
import { buildCircuitKeys, exportVerifier, replaceDirAtomically, KEY_FILES, wasmPath, CircuitKeys, Progress } from "../zk";
import { repoRoot } from "../zk/paths";
import { STATE_PUBLIC_INPUTS, MAX_STATE_OPS } from "../protocol/stateBatch";
import { FlavumError } from "../errors";

export interface StateParameters {
  depth: number;
  opsPerBatch: number;
}

export interface StateBuild {
  dir: string;
  keys: CircuitKeys;
  contract: string;
  verifierFile: string;
  wasm: string;
  zkey: string;
  vkey: string;
}

/** The largest tree the on-chain contract takes (dp ids are 64-bit; exodus proofs climb `depth` levels). */
export const MAX_STATE_DEPTH = 32;

export function checkStateParameters(p: StateParameters): void {
  if (!(Number.isInteger(p.depth) && p.depth >= 2 && p.depth <= MAX_STATE_DEPTH))
    throw new FlavumError(`--state-depth must be an integer 2..${MAX_STATE_DEPTH}, got ${p.depth}`, "BAD_INPUT");
  const l = Math.log2(p.opsPerBatch);
  if (!(Number.isInteger(l) && p.opsPerBatch >= 1 && p.opsPerBatch <= MAX_STATE_OPS))
    throw new FlavumError(`--state-ops must be a power of two 1..${MAX_STATE_OPS}, got ${p.opsPerBatch}`, "BAD_INPUT");
}

export function statePaths(p: StateParameters) {
  const dir = path.join(repoRoot(), "build", "state", `d${p.depth}-n${p.opsPerBatch}`);
  const base = `state_d${p.depth}_n${p.opsPerBatch}`;
  const contract = `StateD${p.depth}N${p.opsPerBatch}Verifier`;
  return {
    dir, base, contract,
    verifierFile: path.join(repoRoot(), "contracts", "verifiers", `${contract}.sol`),
    wasm: wasmPath(dir, base), zkey: path.join(dir, KEY_FILES.zkey), vkey: path.join(dir, KEY_FILES.vkey),
  };
}

export async function buildStateCircuit(p: StateParameters, progress?: Progress, ptau?: string): Promise<StateBuild> {
  checkStateParameters(p);
  const gen = generateStateCircuit(p.depth, p.opsPerBatch);
  const paths = statePaths(p);
  const keys = await replaceDirAtomically(paths.dir, (tmp) =>
    buildCircuitKeys({ source: gen.source, base: paths.base, dir: tmp, previousDir: paths.dir, publicSignals: STATE_PUBLIC_INPUTS.length, ptau, progress }),
  );
  await exportVerifier(
    paths.zkey, paths.contract, paths.verifierFile,
    `the rollup state circuit, depth ${p.depth}, ${p.opsPerBatch} operations per batch`,
    `npx hardhat rollup:deploy --state-depth ${p.depth} --state-ops ${p.opsPerBatch}`,
  );
  return { ...paths, keys };
}
