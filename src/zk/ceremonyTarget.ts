/**
 * How the ceremony commands name a circuit: a build folder (as a path, or relative to build/), or a
 * model's batch circuit by --model <name> --batch <B>; and which Solidity verifier each one has, so
 * finalize regenerates exactly the contract its build step would.
 */
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import { loadModel } from "../model/artifacts";
import { batchPaths, batchVerifierHeader } from "../rollup/batchBuild";
import type { VerifierTarget } from "./ceremony";
import { cacheRoot, repoRoot } from "./paths";

export interface CeremonyTarget {
  dir: string;
  /** The same circuit as command-line arguments, for the commands printed to participants. */
  args: string;
  verifier: VerifierTarget | null;
}

const verifiersDir = () => path.join(repoRoot(), "contracts", "verifiers");

/** Names as src/repos/circuits.ts gives them to the training and merge circuits of a spec. */
function trainingVerifier(dir: string): VerifierTarget | null {
  const base = path.basename(dir);
  const id = path.basename(path.dirname(dir));
  if (path.basename(path.dirname(path.dirname(dir))) !== "training" || !/^[0-9a-f]{12}$/.test(id)) return null;
  if (base === "train")
    return { contract: `Train${id}Verifier`, file: path.join(verifiersDir(), `Train${id}Verifier.sol`), source: `training circuit ${id}`, regenerate: "npx hardhat repo:create ..." };
  const m = /^merge(\d+)$/.exec(base);
  if (!m) return null;
  const contract = `Merge${m[1]}x${id}Verifier`;
  return { contract, file: path.join(verifiersDir(), `${contract}.sol`), source: `FedAvg merge of ${m[1]} circuit ${id}`, regenerate: "npx hardhat repo:create ..." };
}

function batchVerifier(name: string, batch: number): { dir: string; verifier: VerifierTarget } {
  const p = batchPaths(loadModel(name), batch);
  return {
    dir: p.dir,
    verifier: { contract: p.contract, file: p.verifierFile, ...batchVerifierHeader(name, batch) },
  };
}

export function resolveCeremonyTarget(a: { circuit?: string; model?: string; batch?: number }, userPath: (p: string) => string): CeremonyTarget {
  if (a.model !== undefined) {
    if (a.circuit) throw new FlavumError("give --circuit <folder> or --model <name> --batch <B>, not both", "BAD_INPUT");
    if (!a.batch)
      throw new FlavumError(
        `--model ${a.model} needs --batch <B>: ceremonies set up the batch circuits a model is registered with`,
        "BAD_INPUT",
      );
    return { ...batchVerifier(a.model, a.batch), args: `--model ${a.model} --batch ${a.batch}` };
  }
  if (!a.circuit) throw new FlavumError("name the circuit: --circuit <build folder> or --model <name> --batch <B>", "BAD_INPUT");
  const given = userPath(a.circuit);
  const dir = fs.existsSync(given) ? given : path.join(cacheRoot(), a.circuit);
  if (!fs.existsSync(dir))
    throw new FlavumError(`no circuit build folder ${a.circuit} (looked at ${given} and ${dir})`, "BAD_INPUT");
  if (fs.existsSync(path.join(dir, "manifest.json")))
    throw new FlavumError(
      `${dir} is a model's single-inference circuit, whose key its manifest records; run the ceremony on the batch circuit ` +
        `it is registered with (--model <name> --batch <B>)`,
      "BAD_INPUT",
    );
  const m = /^([A-Za-z][A-Za-z0-9_]*)\.batch-(\d+)$/.exec(path.basename(dir));
  if (m && path.resolve(path.dirname(dir)) === path.resolve(cacheRoot(), "models")) {
    const b = batchVerifier(m[1], Number(m[2]));
    return { dir, args: `--circuit ${a.circuit}`, verifier: b.verifier };
  }
  return { dir, args: `--circuit ${a.circuit}`, verifier: trainingVerifier(dir) };
}
