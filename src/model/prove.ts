/**
 * Proving one inference of a compiled model, and checking a proof file. The integer executor runs
 * first: an input outside the calibrated range is refused before any proving work, and the proof's
 * public outputs are compared with the executor's (they must be identical).
 */
import { readJsonFile } from "../jsonFile";
import { circuitInput, decodePublic, PublicOutputs } from "../codegen/witness";
import { packedHash } from "../quant/commitment";
import { FlavumError } from "../errors";
import { prove, verify, shortHash, Groth16Proof, Progress } from "../zk";
import { softmax } from "../onnx/floatExec";
import type { Head } from "../onnx/ir";
import { loadModel, LoadedModel, modelVkHash } from "./artifacts";
import { labelOf, predictQuantized } from "./inference";
import { reviewSamples } from "./samples";

export interface ProofFile {
  model: string;
  circuitHash: string;
  /** The verifying key the proof was made for (src/zk/vkHash.ts); absent in files made before it existed. */
  vkHash?: string;
  proof: Groth16Proof;
  publicSignals: string[];
  /** What the prover says the public signals mean: commitments, dequantized outputs, argmax and class. */
  claim: { inputHash: string; weightsHash?: string; output: number[]; argmax?: number; label?: number };
  timings: { witnessMs: number; proveMs: number };
}

/** What a valid proof establishes, decoded from its public signals (never taken from the claim). */
export interface ProvenStatement {
  model: string;
  vkHash: string;
  inputHash: string;
  weightsHash?: string;
  /** The proven outputs, dequantized: logits for a Softmax-head model (the circuit stops before the Softmax). */
  output: number[];
  /** softmax(output) for a Softmax-head model, for display only: the proof holds the logits. */
  softmax?: number[];
  /** Proven by the circuit for models with more than one output. */
  argmax?: number;
  /** The class: the argmax, or for one output the threshold (0.5 after a Sigmoid, else 0) on the proven output. */
  label: number;
  head: Head;
}

export function provenStatement(model: LoadedModel, decoded: PublicOutputs): ProvenStatement {
  const { manifest, q } = model;
  const output = decoded.out.map((v) => Number(v) / 2 ** manifest.outputScale);
  const display = q.head === "softmax" ? softmax(output) : undefined;
  return {
    model: manifest.name,
    vkHash: modelVkHash(model),
    inputHash: decoded.inputHash.toString(),
    ...(decoded.weightsHash !== undefined ? { weightsHash: decoded.weightsHash.toString() } : {}),
    output,
    ...(display ? { softmax: display } : {}),
    ...(decoded.label !== undefined ? { argmax: decoded.label } : {}),
    label: decoded.label ?? labelOf(q, display ?? output),
    head: q.head,
  };
}

export interface ProveInferenceResult {
  file: ProofFile;
  decoded: PublicOutputs;
}

export interface ProveOptions {
  /** Refuse a sample the model would round instead of warning through `progress`. */
  strict?: boolean;
  /** The sample's position in its file, for the warnings. */
  sampleIndex?: number;
  /** Where the sample came from, for the warnings ("input file x.json"). */
  what?: string;
}

export async function proveInference(
  nameOrModel: string | LoadedModel,
  sample: readonly number[],
  progress?: Progress,
  opts: ProveOptions = {},
): Promise<ProveInferenceResult> {
  const model = typeof nameOrModel === "string" ? loadModel(nameOrModel) : nameOrModel;
  const { manifest, q } = model;
  reviewSamples(q, [sample], opts.what ?? "input", { strict: opts.strict, progress }, [opts.sampleIndex ?? 0]);
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
  const st = provenStatement(model, decoded);
  return {
    decoded,
    file: {
      model: manifest.name,
      circuitHash: manifest.circuit.hash,
      vkHash: st.vkHash,
      proof: res.proof,
      publicSignals: res.publicSignals,
      claim: { inputHash: st.inputHash, weightsHash: st.weightsHash, output: st.output, argmax: st.argmax, label: st.label },
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
  /** The claim field that disagrees with the proof, when that is why it is invalid. */
  field?: string;
  /** What the proof proves; present when it is valid. */
  statement?: ProvenStatement;
}

const show = (v: unknown) => {
  const t = typeof v === "number" ? String(+v.toPrecision(8)) : String(v);
  return t.length > 24 ? `${t.slice(0, 20)}…` : t;
};

/**
 * The claim against the statement. Outputs are compared as the quantized integers they stand for
 * (within half an LSB), so a claim re-serialised with other float formatting still matches.
 */
function claimMismatch(p: ProofFile, st: ProvenStatement, outputScale: number): { field: string; reason: string } | undefined {
  const c = p.claim;
  if (!c || typeof c !== "object") return { field: "claim", reason: `the proof file has no claim; the proof proves ${describeStatement(st)}` };
  const differ = (field: string, claimed: unknown, proven: unknown) => ({
    field,
    reason: `the claim says ${claimed === undefined || claimed === null ? `no ${field}` : `${field} ${show(claimed)}`} ` +
      `but the proof proves ${proven === undefined ? `no ${field}` : show(proven)}`,
  });
  const asBig = (v: unknown) => {
    try {
      return BigInt(v as string);
    } catch {
      return undefined;
    }
  };
  if (asBig(c.inputHash) !== BigInt(st.inputHash)) return differ("inputHash", c.inputHash, st.inputHash);
  const claimedWeights = c.weightsHash ?? undefined;
  if ((claimedWeights === undefined) !== (st.weightsHash === undefined) || (st.weightsHash !== undefined && asBig(claimedWeights) !== BigInt(st.weightsHash)))
    return differ("weightsHash", c.weightsHash, st.weightsHash);
  if (!Array.isArray(c.output) || c.output.length !== st.output.length)
    return { field: "output", reason: `the claim says ${Array.isArray(c.output) ? c.output.length : "no"} output(s) but the proof proves ${st.output.length}` };
  const halfLsb = 0.5 / 2 ** outputScale;
  for (let i = 0; i < st.output.length; i++)
    if (typeof c.output[i] !== "number" || !(Math.abs(c.output[i] - st.output[i]) < halfLsb)) return differ(`output[${i}]`, c.output[i], st.output[i]);
  if ((c.argmax ?? undefined) !== st.argmax) return differ("argmax", c.argmax, st.argmax);
  if (c.label !== undefined && c.label !== st.label) return differ("label", c.label, st.label);
  return undefined;
}

/** One line: what was proven. */
export function describeStatement(st: ProvenStatement): string {
  const nums = (v: number[]) => `[${v.map((x) => +x.toFixed(4)).join(", ")}]`;
  return (
    `model "${st.model}" (vk ${shortHash(st.vkHash)}) on input commitment ${st.inputHash}` +
    (st.weightsHash ? ` with weights commitment ${st.weightsHash}` : "") +
    ` gives ${st.head === "softmax" ? "logits " : "output "}${nums(st.output)}` +
    (st.softmax ? ` (softmax ${nums(st.softmax)}, applied for display only: the proof holds the logits)` : "") +
    `, label ${st.label}` + (st.argmax !== undefined ? " (proven argmax)" : "")
  );
}

/**
 * Off-chain check against the model's verifying key, then of the claim against the public signals:
 * a proof only proves what its public signals say, so a claim that disagrees makes the file invalid.
 */
export async function verifyProofFile(model: LoadedModel, p: ProofFile): Promise<VerifyOutcome> {
  const { manifest } = model;
  const name = manifest.name;
  if (p.model !== name) return { valid: false, reason: `proof is for model "${p.model}", not "${name}"` };
  const current = modelVkHash(model);
  const reprove = `re-prove it with \`npx hardhat model:prove --name ${name} --input <samples> --out <proof.json>\``;
  if (p.vkHash !== undefined && p.vkHash !== current)
    return {
      valid: false, field: "vkHash",
      reason: `proof was made with verifying key ${shortHash(p.vkHash)}, but model "${name}" now has ${shortHash(current)}: ` +
        `the model was recompiled after this proof was made; ${reprove}`,
    };
  if (p.vkHash === undefined && p.circuitHash !== manifest.circuit.hash)
    return { valid: false, field: "circuitHash", reason: `proof was made for another circuit of "${name}": the model was recompiled after this proof was made; ${reprove}` };
  const n = manifest.circuit.layout.publicSignals.length;
  if (p.publicSignals.length !== n)
    return { valid: false, reason: `proof has ${p.publicSignals.length} public signals, the circuit has ${n}` };
  if (!(await verify(model.file("vkey"), p.publicSignals, p.proof)))
    return {
      valid: false,
      reason: "the Groth16 pairing check failed (proof or public signals altered)" +
        (p.vkHash === undefined ? `, or the model was recompiled after this proof was made (the file records no vkHash); ${reprove}` : ""),
    };
  const st = provenStatement(model, decodePublic(manifest.circuit.layout, p.publicSignals));
  const bad = claimMismatch(p, st, manifest.outputScale);
  return bad ? { valid: false, ...bad } : { valid: true, statement: st };
}
