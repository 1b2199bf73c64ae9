/**
 * Proving one inference of a compiled model, and checking a proof file. The integer executor runs
 * first: an input outside the calibrated range is refused before any proving work, and the proof's
 * public outputs are compared with the executor's (they must be identical).
 */
import { readJsonFile } from "../jsonFile";
import { circuitInput, decodePublic, PublicOutputs } from "../codegen/witness";
import { packedHash } from "../quant/commitment";
import { FlavumError } from "../errors";
import { prove, verify, Groth16Proof, Progress } from "../zk";
import { loadModel, LoadedModel } from "./artifacts";
import { predictQuantized } from "./inference";

export interface ProofFile {
  model: string;
  circuitHash: string;
  proof: Groth16Proof;
  publicSignals: string[];
  /** The public signals decoded: commitments, dequantized outputs and label. */
  claim: { inputHash: string; weightsHash?: string; output: number[]; argmax?: number };
  timings: { witnessMs: number; proveMs: number };
}

export interface ProveInferenceResult {
  file: ProofFile;
  decoded: PublicOutputs;
}

export async function proveInference(
  nameOrModel: string | LoadedModel,
  sample: readonly number[],
  progress?: Progress,
): Promise<ProveInferenceResult> {
  const model = typeof nameOrModel === "string" ? loadModel(nameOrModel) : nameOrModel;
  const { manifest, q } = model;
  const pred = predictQuantized(q, sample);
  const layout = manifest.circuit.layout;
  const input = circuitInput(q, layout, pred.int.input);
  const res = await prove(model.wasm, model.file("zkey"), input, { progress });
  const decoded = decodePublic(layout, res.publicSignals);

  // The circuit and the executor are one arithmetic; any difference is a bug, never a rounding.
  const expectedHash = await packedHash(pred.int.input, q.input.bits);
  const same =
    decoded.inputHash === expectedHash &&
    decoded.out.length === pred.int.output.length &&
    decoded.out.every((v, i) => v === pred.int.output[i]) &&
    (decoded.label === undefined || decoded.label === pred.int.argmax);
  if (!same)
    throw new FlavumError(
      `proof outputs differ from the integer executor for model "${manifest.name}" ` +
        `(circuit [${decoded.out.join(", ")}], executor [${pred.int.output.join(", ")}]): rebuild the model`,
      "PARITY",
    );
  const scale = manifest.outputScale;
  return {
    decoded,
    file: {
      model: manifest.name,
      circuitHash: manifest.circuit.hash,
      proof: res.proof,
      publicSignals: res.publicSignals,
      claim: {
        inputHash: decoded.inputHash.toString(),
        weightsHash: decoded.weightsHash?.toString(),
        output: decoded.out.map((v) => Number(v) / 2 ** scale),
        argmax: decoded.label,
      },
      timings: { witnessMs: res.witnessMs, proveMs: res.proveMs },
    },
  };
}

export function readProofFile(file: string): ProofFile {
  const p = readJsonFile(file, "proof file") as ProofFile;
  if (!p?.proof?.pi_a || !Array.isArray(p.publicSignals))
    throw new FlavumError(`proof file ${file} has no "proof" with pi_a/pi_b/pi_c and "publicSignals"`, "BAD_INPUT");
  return p;
}

export interface VerifyOutcome {
  valid: boolean;
  reason?: string;
}

/** Off-chain check against the model's verifying key, saying which check failed. */
export async function verifyProofFile(model: LoadedModel, p: ProofFile): Promise<VerifyOutcome> {
  const { manifest } = model;
  if (p.model !== manifest.name) return { valid: false, reason: `proof is for model "${p.model}", not "${manifest.name}"` };
  if (p.circuitHash !== manifest.circuit.hash)
    return { valid: false, reason: `proof was made for another build of "${manifest.name}" (circuit hash differs)` };
  const n = manifest.circuit.layout.publicSignals.length;
  if (p.publicSignals.length !== n)
    return { valid: false, reason: `proof has ${p.publicSignals.length} public signals, the circuit has ${n}` };
  const ok = await verify(model.file("vkey"), p.publicSignals, p.proof);
  return ok ? { valid: true } : { valid: false, reason: "the Groth16 pairing check failed (proof or public signals altered)" };
}
