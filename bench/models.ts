/**
 * The fixture models through Flavum's real pipeline (compileModel → proveInference → the generated
 * verifier on the Hardhat network), with their held-out fidelity and their baseline.
 */
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { WeightsMode } from "../src/codegen/circuit";
import { compileModel } from "../src/model/compile";
import { loadModel } from "../src/model/artifacts";
import { proveInference } from "../src/model/prove";
import { readSamples } from "../src/model/samples";
import { powerFor, solidityCalldata } from "../src/zk";
import { repoRoot } from "../src/zk/paths";
import { BenchOptions, errorMessage, median, progress, scoped, wants } from "./common";
import { heldoutFidelity, HeldoutFidelity } from "./fidelity";
import { benchBaseline, BaselineResult } from "./baseline";
import { commitmentConstraints } from "./commitment";
import { deployProjectVerifier, measureVerifyGas, VerifyGas } from "./gas";

export interface ModelSpec {
  /** Build name (build/models/<name>, contracts/verifiers/<Name>Verifier.sol). */
  name: string;
  /** fixtures/models/<fixture>.onnx and fixtures/data/<fixture>.*.json */
  fixture: string;
  weights: WeightsMode;
}

export const MODELS: ModelSpec[] = [
  { name: "mlp_digits", fixture: "mlp_digits", weights: "public" },
  { name: "mlp_digits_priv", fixture: "mlp_digits", weights: "private" },
  { name: "cnn_digits", fixture: "cnn_digits", weights: "public" },
  { name: "cnn_pad_avg_digits", fixture: "cnn_pad_avg_digits", weights: "public" },
  { name: "logreg_cancer", fixture: "logreg_cancer", weights: "public" },
];

export interface ModelResult {
  name: string;
  fixture: string;
  weights: WeightsMode;
  ops?: Record<string, number>;
  constraints?: number;
  wires?: number;
  publicSignals?: number;
  /** Powers of tau this circuit needs (2^power). */
  power?: number;
  witnessMs?: number;
  proveMs?: number;
  proveRuns?: number[];
  verifyGas?: VerifyGas;
  fidelity?: HeldoutFidelity;
  baseline?: BaselineResult;
  baselineError?: string;
  /** Constraints of the commitments alone (input hash; + weights hash in private mode). */
  commitmentConstraints?: number;
  /** constraints / baseline constraints. */
  ratio?: number;
  /** (constraints − commitments) / baseline constraints: the inference arithmetic alone. */
  ratioWithoutCommitments?: number;
  error?: string;
}

const fixtureFile = (...p: string[]) => path.join(repoRoot(), "fixtures", ...p);

export function selectedModels(opts: BenchOptions): ModelSpec[] {
  return MODELS.filter((m) => wants(opts, m.name));
}

/** Compiles (or reuses) every selected model; verifier contracts must exist before Hardhat compiles. */
export async function compileModels(specs: ModelSpec[], results: Map<string, ModelResult>): Promise<void> {
  for (const s of specs) {
    const r: ModelResult = { name: s.name, fixture: s.fixture, weights: s.weights };
    results.set(s.name, r);
    try {
      const { manifest } = await compileModel({
        onnx: fixtureFile("models", `${s.fixture}.onnx`),
        name: s.name,
        calibration: fixtureFile("data", `${s.fixture}.calibration.json`),
        weights: s.weights,
        progress: scoped(s.name),
      });
      Object.assign(r, {
        ops: manifest.ops,
        constraints: manifest.circuit.constraints,
        wires: manifest.circuit.wires,
        publicSignals: manifest.circuit.layout.publicSignals.length,
        power: powerFor(manifest.circuit.constraints, manifest.circuit.layout.publicSignals.length),
      });
    } catch (e) {
      r.error = `compile: ${errorMessage(e)}`;
      progress(`${s.name}: ${r.error}`);
    }
  }
}

export async function measureModel(hre: HardhatRuntimeEnvironment, r: ModelResult, opts: BenchOptions): Promise<void> {
  if (r.error) return;
  const log = scoped(r.name);
  try {
    const model = loadModel(r.name);
    const sample = readSamples(fixtureFile("data", `${r.fixture}.sample.json`))[0];
    const wit: number[] = [];
    const runs: number[] = [];
    let last;
    for (let k = 0; k < opts.proofs; k++) {
      last = await proveInference(model, sample);
      wit.push(last.file.timings.witnessMs);
      runs.push(last.file.timings.proveMs);
      log(`proof ${k + 1}/${opts.proofs}: witness ${Math.round(last.file.timings.witnessMs)} ms, prove ${Math.round(last.file.timings.proveMs)} ms`);
    }
    r.witnessMs = median(wit);
    r.proveMs = median(runs);
    r.proveRuns = runs.map(Math.round);
    r.commitmentConstraints = await commitmentConstraints(model.q, r.name, r.weights);
    const verifier = await deployProjectVerifier(hre, model.manifest.verifier.contract);
    r.verifyGas = await measureVerifyGas(verifier, solidityCalldata(last!.file.proof, last!.file.publicSignals));
    if (!r.verifyGas.accepted) throw new Error(`${model.manifest.verifier.contract} rejected a valid proof`);
    log(`verify gas ${r.verifyGas.tx} (execution ${r.verifyGas.exec})`);
    r.fidelity = await heldoutFidelity(model.q, fixtureFile("models", `${r.fixture}.onnx`), fixtureFile("data", `${r.fixture}.heldout.json`));
    log(`held-out: agreement ${(r.fidelity.agreement * 100).toFixed(1)}%`);
  } catch (e) {
    r.error = errorMessage(e);
    log(`failed: ${r.error}`);
  }
}

/** One baseline per fixture, shared by the public- and private-weights rows. */
export async function measureBaselines(
  hre: HardhatRuntimeEnvironment,
  results: ModelResult[],
  opts: BenchOptions,
): Promise<void> {
  const byFixture = new Map<string, { baseline?: BaselineResult; error?: string }>();
  for (const r of results) {
    if (r.error) continue;
    let b = byFixture.get(r.fixture);
    if (!b) {
      b = {};
      try {
        const model = loadModel(r.name);
        const sample = readSamples(fixtureFile("data", `${r.fixture}.sample.json`))[0];
        b.baseline = await benchBaseline(hre, model.q, r.fixture, sample, opts);
      } catch (e) {
        b.error = errorMessage(e);
        progress(`${r.fixture} baseline: failed: ${b.error}`);
      }
      byFixture.set(r.fixture, b);
    }
    r.baseline = b.baseline;
    r.baselineError = b.error;
    if (b.baseline && r.constraints !== undefined) {
      r.ratio = r.constraints / b.baseline.constraints;
      if (r.commitmentConstraints !== undefined)
        r.ratioWithoutCommitments = (r.constraints - r.commitmentConstraints) / b.baseline.constraints;
    }
  }
}
