/**
 * `model:audit`: does a registered model's on-chain record (commitment, shapes, verifiers and their
 * code hashes) follow from its public material? Everything is rebuilt here rather than read from the
 * build's own bookkeeping (keys.json, registrations.json, the generated .sol files), because those are
 * exactly what a dishonest owner would edit:
 *   ONNX + quantized graph → weights (requantized at the recorded scales) → weights commitment,
 *   architecture hash, model circuit and batch circuit sources → circuit hash;
 *   batch circuit → r1cs (circom) → the zkey verified against it and the powers of tau (snarkjs) →
 *   verifying key → vk hash;
 *   zkey → Solidity verifier (the build's own generator) → solc in memory → runtime bytecode, against
 *   the code deployed at the registered verifier address and the code hash the registry fixed;
 *   the quantized graph's input/output tensors → the registered input and output layouts.
 * Each check says what it expected, what it found and whether they agree; the audit passes only if
 * every check does.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { keccak256, toUtf8Bytes } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { FlavumError } from "../errors";
import { importOnnx } from "../onnx/lower";
import type { FloatGraph, FloatNode } from "../onnx/ir";
import type { QGraph } from "../quant/qgraph";
import { quantizeValue } from "../quant/fixed";
import { packedHash, poseidonHash } from "../quant/commitment";
import { generateCircuit } from "../codegen/circuit";
import { generateBatchCircuit } from "../codegen/batch";
import { BATCH_PUBLIC_INPUTS } from "../protocol/batch";
import { affineNodes, weightLayout } from "../codegen/weights";
import { MODEL_FILES, ModelManifest, modelsRoot, validateName } from "../model/artifacts";
import { qgraphFromJson } from "../model/qgraphJson";
import { batchContractName, batchVerifierHeader } from "../rollup/batchBuild";
import { hasher, log2Exact, zeroRoots } from "../rollup/merkle";
import { architectureHash } from "../model/architectureHash";
import { outputLayoutWord } from "../protocol/batch";
import { PROOF_SYSTEM_ID } from "../chain/evmRollup";
import { compileCircuit } from "../zk/circom";
import { KEY_FILES, sourceHash } from "../zk/keys";
import { powerFor, resolvePtau } from "../zk/ptau";
import { renderVerifier } from "../zk/verifierContract";
import { vkHash } from "../zk/vkHash";
import { snarkjs } from "../zk/snarkjs";
import { Progress, silent, snarkjsLogger } from "../zk/log";

export interface AuditCheck {
  name: string;
  expected: string;
  actual: string;
  ok: boolean;
  /** How the comparison was made, when that matters for what "ok" means. */
  note?: string;
}

export interface AuditReport {
  ok: boolean;
  modelId: string;
  name: string;
  registry: string;
  batchSizes: number[];
  checks: AuditCheck[];
}

export interface AuditOptions {
  /** The local model name, when the registered URI is not `flavum://models/<name>`. */
  name?: string;
  /** Folder holding `<name>/` and `<name>.batch-<B>/` (default build/models). */
  modelsDir?: string;
  /**
   * Skip recompiling the batch circuit and verifying the zkey against it and the powers of tau (the
   * slow part, tens of seconds). Without it the vk hash still binds the verifier to the zkey, but not
   * the zkey to the circuit: a skipped check is reported as not ok.
   */
  skipZkeyVerify?: boolean;
  /** A powers-of-tau file for the zkey check (otherwise resolved like a build: FLAVUM_PTAU_DIR, cache, ...). */
  ptau?: string;
  progress?: Progress;
}

const URI_PREFIX = "flavum://models/";

interface OnchainModel {
  commitment: { weightsHash: string; architectureHash: string; circuitHash: string; vkHash: string; proofSystem: string };
  shape: {
    inputShape: bigint[]; outputShape: bigint[]; inputScale: bigint; outputScale: bigint;
    inputBits: bigint; outputBits: bigint; outputCount: bigint; hasLabel: boolean;
  };
  uri: string;
  batchSizes: number[];
}

/** Audits model `modelId` of the ModelRegistry at `registryAddress` on `hre`'s network. */
export async function auditModel(
  hre: HardhatRuntimeEnvironment,
  registryAddress: string,
  modelId: bigint,
  opts: AuditOptions = {},
): Promise<AuditReport> {
  const log = opts.progress ?? silent;
  const registry = await hre.ethers.getContractAt("ModelRegistry", registryAddress);
  if (!(await registry.isRegistered(modelId)))
    throw new FlavumError(`model ${modelId} is not registered in the ModelRegistry at ${registryAddress} (${await registry.modelCount()} models)`, "UNKNOWN_MODEL");
  const c = await registry.commitmentOf(modelId);
  const s = await registry.shapeOf(modelId);
  const onchain: OnchainModel = {
    commitment: { weightsHash: c.weightsHash, architectureHash: c.architectureHash, circuitHash: c.circuitHash, vkHash: c.vkHash, proofSystem: c.proofSystem },
    shape: {
      inputShape: [...s.inputShape], outputShape: [...s.outputShape], inputScale: s.inputScale, outputScale: s.outputScale,
      inputBits: s.inputBits, outputBits: s.outputBits, outputCount: s.outputCount, hasLabel: s.hasLabel,
    },
    uri: await registry.tokenURI(modelId),
    batchSizes: (await registry.batchSizesOf(modelId)).map(Number),
  };
  const name = resolveName(onchain.uri, opts.name, modelId);
  const checks: AuditCheck[] = [];
  // expected: what the public material rebuilds to; actual: what the chain (or the manifest) records.
  const add = (name: string, expected: unknown, actual: unknown, note?: string) => {
    const e = show(expected);
    const a = show(actual);
    checks.push({ name, expected: e, actual: a, ok: e === a, ...(note ? { note } : {}) });
  };

  add("commitment.proofSystem", keccak256(toUtf8Bytes(PROOF_SYSTEM_ID)), onchain.commitment.proofSystem, `keccak256("${PROOF_SYSTEM_ID}")`);

  const root = opts.modelsDir ? path.resolve(opts.modelsDir) : modelsRoot();
  const dir = path.join(root, name);
  const material = readMaterial(dir, name);
  const { manifest, q } = material;

  // ---- the model: ONNX → quantized graph → commitments
  log(`audit: re-importing ${material.onnx} and requantizing its weights at the recorded scales`);
  add("onnx.quantizedGraph", "the ONNX graph quantized at the recorded scales", onnxMismatch(importOnnx(material.onnx), q) ?? "the ONNX graph quantized at the recorded scales");
  add("manifest.quantizedGraph", show(qgraphView(q)), show(manifestView(manifest)),
    "the manifest's quantization options, scales, bits and shapes must be the quantized graph's");
  add("manifest.circuitHash", sourceHash(generateCircuit(q, name, manifest.weights).source), manifest.circuit.hash,
    "the single-inference circuit regenerated from the quantized graph");
  const layout = weightLayout(q);
  const weights = await poseidonHash([await packedHash(layout.weights, layout.weightBits), await packedHash(layout.biases, layout.biasBits)]);
  add("commitment.weightsHash", weights, BigInt(onchain.commitment.weightsHash), "Poseidon(PackedHash(weights), PackedHash(biases)) of the quantized graph");
  add("commitment.architectureHash", architectureHash(q), onchain.commitment.architectureHash);

  // ---- layouts the registry serves vs what the circuit computes
  const out = q.tensors[q.output];
  const sh = onchain.shape;
  add("layout.output", { outputBits: out.bits, outputCount: out.size, hasLabel: q.argmax },
    { outputBits: Number(sh.outputBits), outputCount: Number(sh.outputCount), hasLabel: sh.hasLabel }, "registered shape vs the batch circuit's output word");
  add("layout.outputScale", { outputShape: manifest.outputShape, outputScale: out.scale },
    { outputShape: sh.outputShape.map(Number), outputScale: Number(sh.outputScale) });
  add("layout.input", { inputShape: q.input.shape, inputScale: q.input.scale, inputBits: q.input.bits },
    { inputShape: sh.inputShape.map(Number), inputScale: Number(sh.inputScale), inputBits: Number(sh.inputBits) },
    "what requestInference validates and the input hash packs");

  // ---- per batch size: circuit, keys, verifier
  const h = await hasher();
  const [primary] = onchain.batchSizes;
  for (const B of onchain.batchSizes) {
    const tag = `batch${B}`;
    const bdir = path.join(root, `${name}.batch-${B}`);
    const gen = generateBatchCircuit(q, name, B, zeroRoots(h)[log2Exact(B)]);
    const circuitHash = "0x" + sourceHash(gen.source);
    // One commitment, several batch sizes: it names the circuit and key of the first one registered.
    if (B === primary) add("commitment.circuitHash", circuitHash, onchain.commitment.circuitHash, `batch-${B} circuit regenerated from the quantized graph`);
    const [verifier, layoutWord] = await registry.servingOf(modelId, B);
    add(`${tag}.layoutWord`, outputLayoutWord({ outputBits: out.bits, outputCount: out.size, hasLabel: q.argmax }), layoutWord,
      "the layout the rollup puts in the proof's meta input; the circuit accepts only its own");

    const zkey = path.join(bdir, KEY_FILES.zkey);
    if (!fs.existsSync(zkey)) {
      add(`${tag}.material`, zkey, "(missing)");
      continue;
    }
    if (opts.skipZkeyVerify) add(`${tag}.zkeyCircuit`, "zkey verified against the regenerated circuit", "(skipped)");
    else add(`${tag}.zkeyCircuit`, "zkey verified against the regenerated circuit", await verifyZkeyForSource(gen.source, `${name}_batch${B}`, zkey, opts.ptau, log));

    const vk = await snarkjs.zKey.exportVerificationKey(zkey);
    const vkh = "0x" + vkHash(vk);
    if (B === primary) add("commitment.vkHash", vkh, onchain.commitment.vkHash, "sha256 of the canonical verifying key exported from the zkey");
    const vkFile = path.join(bdir, KEY_FILES.vkey);
    if (fs.existsSync(vkFile)) add(`${tag}.vkFile`, vkh, "0x" + vkHash(vkFile), "verification_key.json must be the zkey's");

    log(`audit: regenerating and compiling the batch-${B} verifier`);
    const v = await compareVerifier(hre, zkey, name, B, verifier, log);
    add(`${tag}.verifierCode`, v.expected, v.actual, v.note);
    add(`${tag}.registeredCodeHash`, v.onchainHash, await registry.verifierCodeHashOf(modelId, B),
      "the code hash the registry fixed at registration vs the code at the address now");
  }
  return { ok: checks.every((k) => k.ok), modelId: modelId.toString(), name, registry: registryAddress, batchSizes: onchain.batchSizes, checks };
}

function resolveName(uri: string, given: string | undefined, modelId: bigint): string {
  if (given) return validateName(given);
  if (uri.startsWith(URI_PREFIX)) return validateName(uri.slice(URI_PREFIX.length));
  throw new FlavumError(`model ${modelId}'s URI is "${uri}", not ${URI_PREFIX}<name>: give the local model name with --name`, "BAD_INPUT");
}

function readMaterial(dir: string, name: string): { manifest: ModelManifest; q: QGraph; onnx: string } {
  const need = [MODEL_FILES.manifest, MODEL_FILES.qgraph, MODEL_FILES.onnx].map((f) => path.join(dir, f));
  const missing = need.filter((f) => !fs.existsSync(f));
  if (missing.length)
    throw new FlavumError(
      `the public material of model "${name}" is incomplete: missing ${missing.join(", ")}. Fetch the model's folder ` +
        `(manifest.json, qgraph.json, model.onnx) and its <name>.batch-<B>/ folders into ${path.dirname(dir)}, or pass --name / --dir`,
      "UNKNOWN_MODEL",
    );
  const manifest = JSON.parse(fs.readFileSync(need[0], "utf8")) as ModelManifest;
  const q = qgraphFromJson(fs.readFileSync(need[1], "utf8"));
  return { manifest, q, onnx: need[2] };
}

function show(v: unknown): string {
  if (typeof v === "string") return /^0x[0-9a-f]+$/i.test(v) ? v.toLowerCase() : v;
  if (typeof v === "bigint") return "0x" + v.toString(16).padStart(64, "0");
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

const manifestView = (m: ModelManifest) => ({
  quant: m.quant, inputShape: m.inputShape, inputScale: m.inputScale, inputBits: m.inputBits, outputScale: m.outputScale, head: m.head,
});
const qgraphView = (q: QGraph) => ({
  quant: q.options, inputShape: q.input.shape, inputScale: q.input.scale, inputBits: q.input.bits, outputScale: q.tensors[q.output].scale, head: q.head,
});

/**
 * Where the quantized graph departs from the ONNX model, or undefined. The scales are calibration
 * choices (committed by the architecture and circuit hashes); given them, the integer weights,
 * biases and the node sequence follow from the ONNX file alone, so they are recomputed exactly.
 */
export function onnxMismatch(g: FloatGraph, q: QGraph): string | undefined {
  if (JSON.stringify(g.input.shape) !== JSON.stringify(q.input.shape) || g.input.name !== q.input.name)
    return `input ${q.input.name} ${JSON.stringify(q.input.shape)} is ONNX input ${g.input.name} ${JSON.stringify(g.input.shape)}`;
  if (g.output !== q.output) return `output tensor ${q.output}, the ONNX graph's is ${g.output}`;
  let k = 0;
  const next = (): FloatNode | undefined => g.nodes[k++];
  for (const [i, n] of q.nodes.entries()) {
    const f = next();
    if (!f || f.kind !== n.kind) return `node ${i} is ${n.kind}, the ONNX graph has ${f?.kind ?? "nothing"} there`;
    if (n.kind === "affine" && f.kind === "affine") {
      if (JSON.stringify(n.inputs) !== JSON.stringify(f.inputs)) return `node ${i} reads ${n.inputs}, the ONNX node ${f.inputs}`;
      for (let t = 0; t < f.rows.length; t++) {
        const shift = n.accScale - q.tensors[n.inputs[t]].scale;
        for (let r = 0; r < f.rows[t].length; r++) {
          const fr = f.rows[t][r];
          const qr = n.rows[t]?.[r];
          if (!qr || qr.idx.length !== fr.idx.length || qr.idx.some((x, j) => x !== fr.idx[j]))
            return `node ${i} (${n.from.join(",")}) output ${r}: its weights connect other inputs than the ONNX node's`;
          for (let j = 0; j < fr.w.length; j++)
            if (qr.w[j] !== quantizeValue(fr.w[j], shift))
              return `node ${i} (${n.from.join(",")}) weight [${r}][${j}] is ${qr.w[j]}, the ONNX weight at 2^${shift} is ${quantizeValue(fr.w[j], shift)}`;
        }
      }
      for (let r = 0; r < f.bias.length; r++)
        if (n.bias[r] !== quantizeValue(f.bias[r], n.accScale))
          return `node ${i} (${n.from.join(",")}) bias ${r} is ${n.bias[r]}, the ONNX bias at 2^${n.accScale} is ${quantizeValue(f.bias[r], n.accScale)}`;
      if (n.act === "relu") {
        const relu = next();
        if (relu?.kind !== "relu") return `node ${i} applies a ReLU the ONNX graph does not have`;
        if (relu.out !== n.out) return `node ${i} writes ${n.out}, the ONNX graph ${relu.out}`;
        continue;
      }
    }
    if (n.kind === "leakyrelu" && f.kind === "leakyrelu" && n.alphaNum !== BigInt(Math.round(f.alpha * 2 ** n.alphaShift)))
      return `node ${i} has LeakyRelu alpha ${n.alphaNum}/2^${n.alphaShift}, the ONNX alpha is ${f.alpha}`;
    if (f.out !== n.out) return `node ${i} writes ${n.out}, the ONNX graph ${f.out}`;
  }
  if (k !== g.nodes.length) return `the ONNX graph has ${g.nodes.length - k} node(s) after the quantized graph's last`;
  return undefined;
}

/** Compiles `source` to r1cs and runs snarkjs's zkey verification (phase-2 chain included) against it and the ptau. */
async function verifyZkeyForSource(source: string, base: string, zkey: string, ptauFile: string | undefined, log: Progress): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-audit-"));
  try {
    const main = path.join(tmp, `${base}.circom`);
    fs.writeFileSync(main, source);
    log(`audit: compiling the regenerated circuit ${base}`);
    const compiled = await compileCircuit(main, tmp, { progress: log });
    const ptau = ptauFile ?? (await resolvePtau(powerFor(compiled.constraints, BATCH_PUBLIC_INPUTS.length), { progress: log })).file;
    log(`audit: verifying ${zkey} against the regenerated r1cs (${compiled.constraints} constraints) and ${ptau}`);
    const logger = snarkjsLogger(silent, "audit");
    // snarkjs reports some mismatches on console.log only; keep them for the report, off the terminal.
    const said: string[] = [];
    const saved = console.log;
    console.log = (...a: unknown[]) => said.push(a.join(" "));
    let ok: boolean;
    try {
      ok = await snarkjs.zKey.verifyFromR1cs(compiled.r1cs, ptau, zkey, logger);
    } finally {
      console.log = saved;
    }
    if (ok === true && !logger.errors.length) return "zkey verified against the regenerated circuit";
    const why = [...logger.errors, ...said].map((m) => m.replace(/\s+/g, " ").trim()).filter(Boolean).slice(0, 3).join("; ");
    return `zkey does not match the regenerated circuit (${compiled.constraints} constraints) and ${path.basename(ptau)}${why ? `: ${why}` : ""}`;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * solc appends CBOR metadata to the runtime code: its last two bytes give the CBOR's length, and it
 * holds the IPFS hash of the metadata JSON, which covers the source text (comments included), its
 * file name and the settings. It is never executed, so two codes that differ only there behave the same.
 */
export function stripMetadata(code: string): string {
  const hex = code.replace(/^0x/, "");
  if (hex.length < 4) return hex;
  const len = parseInt(hex.slice(-4), 16);
  const bytes = hex.length / 2;
  if (len + 2 > bytes) return hex;
  const cbor = hex.slice(hex.length - 4 - 2 * len, hex.length - 4);
  // A CBOR map whose keys include "ipfs" or "solc": anything else is not solc's trailer.
  if (!/^a[1-9]/.test(cbor) || !(cbor.includes("69706673") || cbor.includes("736f6c63"))) return hex;
  return hex.slice(0, hex.length - 4 - 2 * len);
}

interface VerifierComparison {
  expected: string;
  actual: string;
  note: string;
  onchainHash: string;
}

/**
 * The verifier the build would generate for this zkey, compiled like Hardhat compiles the project
 * (same solc-js, same settings, same source path and text), against the deployed code. Equal code
 * hashes prove the deployed contract is that compilation byte for byte; when only the metadata
 * trailer differs (the header comment, file name or metadata settings were not the build's) the
 * executable code is still identical, which is what verification soundness rests on, and the check
 * says which of the two it established.
 */
async function compareVerifier(hre: HardhatRuntimeEnvironment, zkey: string, name: string, B: number, address: string, log: Progress): Promise<VerifierComparison> {
  const contract = batchContractName(name, B);
  // The same header arguments as buildBatchCircuit, so an honest build reproduces the exact source text.
  const header = batchVerifierHeader(name, B);
  const source = await renderVerifier(zkey, contract, header.source, header.regenerate);
  const file = `contracts/verifiers/${contract}.sol`;
  const runtime = compileRuntime(hre, file, source, contract);
  const onchain = await hre.ethers.provider.getCode(address);
  const onchainHash = keccak256(onchain);
  const expectedHash = keccak256(runtime);
  if (onchain === "0x") return { expected: expectedHash, actual: `(no code at ${address})`, note: "verifier address has no code", onchainHash };
  if (expectedHash === onchainHash) return { expected: expectedHash, actual: onchainHash, note: "runtime bytecode identical, metadata included", onchainHash };
  const a = stripMetadata(runtime);
  const b = stripMetadata(onchain);
  if (a === b) {
    log(`audit: batch-${B} verifier differs from the regenerated one only in its metadata trailer`);
    return {
      expected: keccak256("0x" + a), actual: keccak256("0x" + b), onchainHash,
      note: "executable code identical; the metadata trailer differs (other header comment, file name or compiler metadata settings)",
    };
  }
  return {
    expected: expectedHash, actual: onchainHash, onchainHash,
    note: `the code at ${address} is not the verifier generated from this zkey (executable code differs, not just metadata)`,
  };
}

function compileRuntime(hre: HardhatRuntimeEnvironment, file: string, source: string, contract: string): string {
  const cfg = hre.config.solidity.compilers[0];
  const solc = require("solc");
  if (solc.version().split("+")[0] !== cfg.version.split("+")[0])
    throw new FlavumError(`the solc package is ${solc.version()}, but the project compiles with ${cfg.version}: install the matching solc`, "SOLC_VERSION");
  const input = {
    language: "Solidity",
    sources: { [file]: { content: source } },
    settings: { ...cfg.settings, outputSelection: { [file]: { [contract]: ["evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"] } } },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors ?? []).filter((e: { severity: string }) => e.severity === "error");
  if (errors.length) throw new FlavumError(`solc could not compile the regenerated ${contract}: ${errors.map((e: { formattedMessage: string }) => e.formattedMessage).join("\n")}`);
  const out = output.contracts[file][contract].evm.deployedBytecode;
  // Immutables are filled in at deployment; the generated verifier has none, so none may appear.
  if (Object.keys(out.immutableReferences ?? {}).length) throw new FlavumError(`${contract} has immutables; the audit cannot compare its code`);
  return "0x" + out.object;
}

/** One line per check that failed (or all, with `all`), for the terminal. */
export function formatAudit(r: AuditReport, all = false): string {
  const failed = r.checks.filter((c) => !c.ok);
  const head = r.ok
    ? `OK: model ${r.modelId} ("${r.name}", batch sizes ${r.batchSizes.join(", ")}) matches its public material (${r.checks.length} checks)`
    : `MISMATCH: model ${r.modelId} ("${r.name}"): ${failed.length} of ${r.checks.length} checks differ`;
  const rows = (all ? r.checks : failed).map(
    (c) => `  ${c.ok ? "ok  " : "DIFF"} ${c.name}\n       expected ${c.expected}\n       actual   ${c.actual}${c.note ? `\n       (${c.note})` : ""}`,
  );
  return [head, ...rows].join("\n");
}
