/**
 * The circomlib-ml / keras2circom-style baseline of a model (src/codegen/baseline.ts), measured the
 * same way as Flavum's circuit: constraints, witness, Groth16 prove, verifier gas. Its files live in
 * build/bench/baseline/<name>/ and its verifier is compiled in memory, never written to contracts/.
 */
import fs from "fs";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { QGraph } from "../src/quant/qgraph";
import { quantizeInput, runInt } from "../src/quant/intExec";
import { baselineInput, decodeBaselinePublic, generateBaseline } from "../src/codegen/baseline";
import { powerFor, prove, renderVerifier, solidityCalldata, verify, witness } from "../src/zk";
import { compileCached, setupCached } from "./circuitCache";
import { benchDir, BenchOptions, median, scoped } from "./common";
import { deployInMemoryVerifier, measureVerifyGas, VerifyGas } from "./gas";

export interface BaselineResult {
  constraints: number;
  wires: number;
  publicSignals: number;
  power: number;
  witnessMs: number;
  /** The honest witness's public outputs equal the integer executor's. */
  matchesExecutor: boolean;
  proveMs?: number;
  proveRuns?: number[];
  verifyGas?: VerifyGas;
  /** Why prove/gas are missing, when they are. */
  note?: string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wtnsApi: { exportJson(f: { type: "mem"; data: Uint8Array }): Promise<bigint[]> } = require("snarkjs").wtns;

export async function benchBaseline(
  hre: HardhatRuntimeEnvironment,
  q: QGraph,
  name: string,
  sample: number[],
  opts: BenchOptions,
): Promise<BaselineResult> {
  const log = scoped(`${name} baseline`);
  const circuit = generateBaseline(q, name);
  const c = await compileCached(circuit.source, benchDir("baseline", name), `baseline_${name}`, log);
  const info = c.info;
  const nPub = circuit.publicSignals.length;
  const power = powerFor(info.constraints, nPub);
  log(`${info.constraints} constraints (2^${power})`);

  const xq = quantizeInput(q, sample);
  const expected = runInt(q, xq);
  const input = baselineInput(q, xq);
  const wit: number[] = [];
  let wtns: Uint8Array | undefined;
  for (let k = 0; k < opts.proofs; k++) {
    const w = await witness(c.wasm, input);
    wit.push(w.ms);
    wtns = w.wtns;
  }
  // Witness layout: [1, outputs..., inputs...]; the outputs are the public signals.
  const all = await wtnsApi.exportJson({ type: "mem", data: wtns! });
  const decoded = decodeBaselinePublic(circuit, all.slice(1, 1 + nPub));
  const matchesExecutor =
    decoded.out.every((v, i) => v === expected.output[i]) && (decoded.label === undefined || decoded.label === expected.argmax);

  const result: BaselineResult = {
    constraints: info.constraints,
    wires: info.wires,
    publicSignals: nPub,
    power,
    witnessMs: median(wit),
    matchesExecutor,
  };
  if (power > opts.maxPower) {
    result.note = `needs powers of tau 2^${power} > 2^${opts.maxPower} available: constraints and witness only (no setup/prove/gas)`;
    log(result.note);
    return result;
  }

  await setupCached(c, power, `baseline ${name}`, log);
  const vkey = JSON.parse(fs.readFileSync(c.vkeyFile, "utf8"));
  const runs: number[] = [];
  let proof;
  for (let k = 0; k < opts.proofs; k++) {
    proof = await prove(wtns!, c.zkey);
    runs.push(proof.proveMs);
    log(`proof ${k + 1}/${opts.proofs}: ${Math.round(proof.proveMs)} ms`);
  }
  if (!(await verify(vkey, proof!.publicSignals, proof!.proof))) throw new Error(`baseline ${name}: its own proof does not verify`);
  result.proveMs = median(runs);
  result.proveRuns = runs.map(Math.round);

  const contractName = `Baseline${name.split(/_+/).map((p) => p[0].toUpperCase() + p.slice(1)).join("")}Verifier`;
  const sol = await renderVerifier(c.zkey, contractName, `the benchmark baseline of "${name}"`, "npm run bench");
  const verifier = await deployInMemoryVerifier(hre, sol, contractName);
  result.verifyGas = await measureVerifyGas(verifier, solidityCalldata(proof!.proof, proof!.publicSignals));
  if (!result.verifyGas.accepted) throw new Error(`baseline ${name}: the deployed verifier rejected a valid proof`);
  return result;
}
