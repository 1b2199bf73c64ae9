/**
 * Frozen trunks: an ONNX model cut at a node into a trunk (every node up to and including it) whose
 * weights stay public and fixed, and a dense head (the rest, as src/repos/fromOnnx.ts accepts it)
 * that repositories train. `repo:create --onnx cnn.onnx --train-from <node>` makes such a spec.
 *
 * The trunk is compiled as any Flavum model is (src/quant: calibrated on raw rows, quantized with
 * public weights) and stored in the spec (TrunkSpec: its quantized graph and its input and output
 * formats). A commit then commits to the RAW rows (at the trunk's input scale and bits), and its
 * training circuit runs one instance of the trunk's circuit (src/codegen/circuit.ts, public weights,
 * no input hash of its own: the data hash range-checks and binds the rows) per row: the head's
 * features are the trunk's integer outputs, exactly runInt's (src/quant/intExec.ts), at the
 * trunk's output scale and bits (the spec's sx and bx: no second rounding). The trunk's own range
 * checks make its outputs the unique values a row gives. The executor computes the same features
 * with runInt and trains the head on them, so executor and circuit stay bit-exact.
 *
 * Float evaluation rebuilds the float trunk from the ONNX file (its sha256 is in the spec) and runs
 * the float head on its outputs.
 */
import crypto from "crypto";
import fs from "fs";
import type { onnx } from "onnx-proto";
import { FlavumError, InputError } from "../errors";
import { decodeModel, DataType } from "../onnx/load";
import { lowerModel } from "../onnx/lower";
import { runFloat } from "../onnx/floatExec";
import type { FloatGraph } from "../onnx/ir";
import { calibrate } from "../quant/calibrate";
import { quantizeGraph } from "../quant/quantize";
import { runInt } from "../quant/intExec";
import type { QGraph, QNode, QuantOptions } from "../quant/qgraph";
import { qgraphFromJson, qgraphToJson } from "../model/qgraphJson";
import { generateCircuit } from "../codegen/circuit";
import { trainableFromGraph, trainableShape, TrainableModel } from "../repos/fromOnnx";
import { evaluate, Evaluation } from "./evaluate";
import { trainingSpec, TrainingSpec, TrunkSpec } from "./spec";

/** Node kinds (src/quant/qgraph.ts) a frozen trunk may contain: trunkRowCost knows their constraints. */
const TRUNK_KINDS = new Set<QNode["kind"]>(["affine", "relu", "leakyrelu", "maxpool", "select"]);
const TRUNK_OPS = "linear layers (Conv, Gemm, MatMul, BatchNormalization, AveragePool, Pad, constant Add/Mul …), Relu, LeakyRelu and MaxPool";

/** An ONNX model cut in two at a tensor: the trunk computes it from the input, the head reads it. */
export interface OnnxSplit {
  trunk: onnx.IModelProto;
  /** The rest, taking the cut tensor (with the trunk's output shape) as its only input. */
  head: onnx.IModelProto;
  /** The node the cut ends at and the tensor it outputs. */
  node: string;
  tensor: string;
  /** The float trunk (the cut tensor is its output). */
  trunkGraph: FloatGraph;
}

const nodeLabel = (n: onnx.INodeProto, k: number) => n.name || `${n.opType}#${k}`;

/** "name" (Op → output), … for every node, in graph order: what --train-from may name. */
export function onnxNodeNames(model: onnx.IModelProto): string[] {
  return (model.graph?.node ?? []).map((n, k) => `"${nodeLabel(n, k)}" (${n.opType} → ${(n.output ?? []).join(", ")})`);
}

function cutError(upTo: string, label: string, why: string, model: onnx.IModelProto): FlavumError {
  return new FlavumError(`--train-from "${upTo}" (${label}): ${why}. The model's nodes, in order: ${onnxNodeNames(model).join(", ")}`, "BAD_TRUNK");
}

/**
 * Cuts `model` after the node named `upTo` (a node's name, or the name of the tensor it outputs):
 * the trunk is every node up to it, the head every node after it. The head may read the cut
 * tensor, constants and its own tensors only (Constant nodes before the cut are copied into it).
 */
export function splitOnnx(model: onnx.IModelProto, upTo: string, label = "<model>"): OnnxSplit {
  const g = model.graph;
  const nodes = g?.node ?? [];
  let k = nodes.findIndex((n, i) => nodeLabel(n, i) === upTo);
  const tensor = k >= 0 ? nodes[k].output?.[0] ?? "" : upTo;
  if (k < 0) k = nodes.findIndex((n) => (n.output ?? []).includes(upTo));
  if (!g || k < 0) throw cutError(upTo, label, "no node has this name, and no node outputs a tensor of this name", model);
  const node = nodeLabel(nodes[k], k);
  const outputs = (g.output ?? []).map((o) => o.name ?? "");
  if (outputs.includes(tensor)) throw cutError(upTo, label, `node "${node}" produces the model's output: nothing remains to train after it`, model);
  const trunkNodes = nodes.slice(0, k + 1);
  const headNodes = nodes.slice(k + 1);
  if (headNodes.length === 0) throw cutError(upTo, label, `node "${node}" is the model's last node: nothing remains to train after it`, model);

  const producer = new Map<string, onnx.INodeProto>();
  for (const n of trunkNodes) for (const o of n.output ?? []) if (o) producer.set(o, n);
  const inputNames = new Set((g.input ?? []).map((v) => v.name ?? ""));
  const initializers = new Set((g.initializer ?? []).map((t) => t.name ?? ""));
  const copied: onnx.INodeProto[] = [];
  for (const n of headNodes)
    for (const t of n.input ?? []) {
      if (!t || t === tensor || initializers.has(t)) continue;
      const p = producer.get(t);
      if (p?.opType === "Constant") {
        if (!copied.includes(p)) copied.push(p);
      } else if (p || inputNames.has(t)) {
        throw cutError(upTo, label, `the nodes after "${node}" also read "${t}", computed before the cut; cut where one tensor connects the trunk to the rest`, model);
      }
    }

  const trunk: onnx.IModelProto = {
    ...model,
    graph: { ...g, node: trunkNodes, output: [{ name: tensor, type: { tensorType: { elemType: DataType.FLOAT } } }] },
  };
  let trunkGraph: FloatGraph;
  try {
    trunkGraph = lowerModel(trunk);
  } catch (e) {
    if (e instanceof FlavumError) throw new FlavumError(`--train-from "${upTo}" (${label}): the trunk up to node "${node}" cannot be compiled: ${e.message}`, e.code);
    throw e;
  }
  const shape = trunkGraph.outputShape;
  const head: onnx.IModelProto = {
    ...model,
    graph: {
      ...g,
      node: [...copied, ...headNodes],
      input: [
        { name: tensor, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: shape.map((v) => ({ dimValue: v })) } } } },
        ...(g.input ?? []).filter((v) => initializers.has(v.name ?? "")),
      ],
    },
  };
  return { trunk, head, node, tensor, trunkGraph };
}

function readOnnx(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new FlavumError(`cannot read ONNX model "${file}": ${(e as Error).message}`, "MODEL_NOT_FOUND");
  }
}

const sha256 = (b: Uint8Array | string) => crypto.createHash("sha256").update(b).digest("hex");

export interface FrozenTrunkModel {
  /** The trainable dense head (as trainableFromOnnx returns it), d = the trunk's feature count. */
  head: TrainableModel;
  trunk: TrunkSpec;
}

export interface FrozenTrunkOptions {
  /** Quantization of the trunk (default src/quant/qgraph.ts DEFAULT_QUANT: 16-bit activations). */
  quant?: Partial<QuantOptions>;
}

/**
 * An ONNX model → a frozen trunk (everything up to the node `upTo`, calibrated on
 * `calibrationRows` — raw input rows, as the data files hold them — and quantized with public
 * weights) and the dense head after it, with its float weights. Refuses (a FlavumError listing the
 * model's nodes) an unknown node, a cut that leaves nothing or more than one tensor between trunk
 * and head, a trunk using ops a trunk cannot (see TRUNK_OPS), and a remainder that is not a
 * trainable dense head (Gemm [→ Relu → Gemm …] [→ Softmax / Sigmoid]).
 */
export function frozenTrunkModel(onnxFile: string, upTo: string, calibrationRows: readonly (readonly number[])[], o: FrozenTrunkOptions = {}): FrozenTrunkModel {
  const bytes = readOnnx(onnxFile);
  const model = decodeModel(bytes, onnxFile);
  const split = splitOnnx(model, upTo, onnxFile);
  const tg = split.trunkGraph;
  const fail = (why: string): never => {
    throw cutError(upTo, onnxFile, why, model);
  };
  if (tg.inputs.length !== 1) fail(`the trunk has ${tg.inputs.length} inputs; a frozen trunk takes one`);
  let headGraph: FloatGraph;
  let head: TrainableModel;
  try {
    headGraph = lowerModel(split.head);
    head = trainableFromGraph(headGraph);
  } catch (e) {
    if (e instanceof FlavumError) fail(`the model after node "${split.node}" is not a trainable dense head: ${e.message}`);
    throw e;
  }
  const d0 = tg.input.shape.reduce((a, b) => a * b, 1);
  if (calibrationRows.length === 0) throw new InputError(`calibration data for the trunk: no rows (give raw input rows of ${d0} values)`);
  calibrationRows.forEach((r, i) => {
    if (r.length !== d0) throw new InputError(`calibration data for the trunk: row ${i} has ${r.length} values, the model's input "${tg.input.name}" [${tg.input.shape.join(", ")}] has ${d0}`);
  });
  const q = quantizeGraph(tg, calibrate(tg, calibrationRows.map((r) => [...r])), o.quant);
  // The trunk's outputs are features, not a prediction: no argmax, no head.
  q.argmax = false;
  q.head = "none";
  const foreign = q.nodes.filter((n) => !TRUNK_KINDS.has(n.kind));
  if (foreign.length > 0)
    fail(`the trunk up to node "${split.node}" computes ${foreign.map((n) => `${n.kind} (${n.from.join(", ")})`).join("; ")}; a frozen trunk may use ${TRUNK_OPS}`);
  const out = q.tensors[q.output];
  if (out.scale < 0) fail(`the trunk's output "${q.output}" needs a scale of 2^${out.scale} (values up to ${2 ** (out.bits - 1 - out.scale)}); the features of a training step must have a scale of at least 2^0`);
  if (head.d !== out.size) fail(`internal: the head reads ${head.d} features but the trunk gives ${out.size}`);
  const trunk: TrunkSpec = {
    onnxSha256: sha256(bytes), upTo, d0: q.input.size, inputScale: q.input.scale, inputBits: q.input.bits,
    features: out.size, outScale: out.scale, outBits: out.bits, qgraph: qgraphToJson(q),
  };
  return { head, trunk };
}

/** The training spec of a frozen-trunk model: `trainingSpec` with the head's shape, the trunk, and its features' sx / bx. */
export function trunkTrainingSpec(m: FrozenTrunkModel, o: Partial<TrainingSpec> = {}): TrainingSpec {
  return trainingSpec({ ...trainableShape(m.head), ...o, trunk: m.trunk });
}

// ------------------------------------------------------------------------------- the quantized trunk

const graphs = new Map<string, QGraph>();
const CACHE = 8;

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const hit = cache.get(key);
  if (hit) return hit;
  const v = make();
  if (cache.size >= CACHE) cache.delete(cache.keys().next().value as string);
  cache.set(key, v);
  return v;
}

function requireTrunk(spec: TrainingSpec): TrunkSpec {
  if (!spec.trunk) throw new FlavumError(`internal: the ${spec.kind} spec has no trunk`);
  return spec.trunk;
}

/** The spec's quantized trunk, checked against the spec's trunk fields (parsed once per graph). */
export function trunkGraph(spec: TrainingSpec): QGraph {
  const t = requireTrunk(spec);
  return remember(graphs, t.qgraph, () => {
    let q: QGraph;
    try {
      q = qgraphFromJson(t.qgraph);
    } catch (e) {
      throw new FlavumError(`training spec: trunk.qgraph is not a quantized graph (${(e as Error).message})`, "BAD_SPEC");
    }
    const out = q.tensors[q.output];
    const bad = (what: string) => new FlavumError(`training spec: the trunk's graph ${what}`, "BAD_SPEC");
    if (!out) throw bad(`has no output tensor "${q.output}"`);
    if (q.input.size !== t.d0 || q.input.scale !== t.inputScale || q.input.bits !== t.inputBits)
      throw bad(`takes ${q.input.size} values at scale 2^${q.input.scale} in ${q.input.bits} bits, the spec says ${t.d0} at 2^${t.inputScale} in ${t.inputBits}`);
    if (out.size !== t.features || out.scale !== t.outScale || out.bits !== t.outBits)
      throw bad(`gives ${out.size} values at scale 2^${out.scale} in ${out.bits} bits, the spec says ${t.features} at 2^${t.outScale} in ${t.outBits}`);
    if (q.argmax) throw bad(`proves an argmax; a trunk's outputs are features`);
    const foreign = q.nodes.filter((n) => !TRUNK_KINDS.has(n.kind));
    if (foreign.length > 0) throw bad(`has nodes a trunk may not have: ${foreign.map((n) => n.kind).join(", ")}`);
    return q;
  });
}

/**
 * The head's integer features of committed raw rows (integers at the trunk's input scale, as
 * quantizeData gives them): runInt's trunk outputs, row by row — exactly the circuit's. A row that
 * leaves the trunk's calibrated ranges has no witness: RangeOverflowError (naming the row).
 */
export function trunkFeatures(spec: TrainingSpec, rawRows: readonly (readonly bigint[])[]): bigint[][] {
  const q = trunkGraph(spec);
  return rawRows.map((r, i) => {
    if (r.length !== q.input.size) throw new InputError(`trunk: row ${i} has ${r.length} values, the trunk takes ${q.input.size}`);
    try {
      return runInt(q, [...r]).output;
    } catch (e) {
      if (e instanceof FlavumError) throw Object.assign(e, { message: `row ${i}: ${e.message}` });
      throw e;
    }
  });
}

// ----------------------------------------------------------------------------------- the float trunk

const floatTrunks = new Map<string, FloatGraph>();

/** The float trunk of the spec, rebuilt from the ONNX file (a path or its bytes), whose sha256 must be the spec's. */
export function floatTrunk(spec: TrainingSpec, onnxFileOrBytes: string | Uint8Array): FloatGraph {
  const t = requireTrunk(spec);
  return remember(floatTrunks, `${t.onnxSha256}/${t.upTo}`, () => {
    const label = typeof onnxFileOrBytes === "string" ? onnxFileOrBytes : "<bytes>";
    const bytes = typeof onnxFileOrBytes === "string" ? readOnnx(onnxFileOrBytes) : onnxFileOrBytes;
    const sum = sha256(bytes);
    if (sum !== t.onnxSha256)
      throw new FlavumError(`${label} is not the ONNX model this repository's trunk was cut from (sha256 ${sum}, the spec's is ${t.onnxSha256})`, "BAD_TRUNK");
    return splitOnnx(decodeModel(bytes, label), t.upTo, label).trunkGraph;
  });
}

/** The float trunk's outputs (the float features) of raw rows, as given (no rounding, no clamping). */
export function trunkFeaturesFloat(spec: TrainingSpec, onnxFileOrBytes: string | Uint8Array, rawRows: readonly (readonly number[])[]): number[][] {
  const g = floatTrunk(spec, onnxFileOrBytes);
  return rawRows.map((r) => Array.from(runFloat(g, [...r]).get(g.output)!));
}

/** Float evaluation of a trunk repository: the float trunk (from the ONNX file), then the float head with `weights`. */
export function evaluateTrunk(
  spec: TrainingSpec, weights: readonly number[], onnxFileOrBytes: string | Uint8Array, rawRows: readonly (readonly number[])[], labels: readonly number[],
): Evaluation {
  const t = requireTrunk(spec);
  rawRows.forEach((r, i) => {
    if (r.length !== t.d0) throw new InputError(`data shape mismatch: row ${i} has ${r.length} values, the model's input has ${t.d0}`);
  });
  return evaluate(spec, weights, trunkFeaturesFloat(spec, onnxFileOrBytes, rawRows), labels);
}

// ------------------------------------------------------------------------------ the trunk's circuit

/** The signal a training circuit's steps read the features from: a trunk's outputs (xf), or the private rows x themselves. */
export function featureSignal(spec: Pick<TrainingSpec, "trunk">): string {
  return spec.trunk ? TRUNK_FEATURES : "x";
}
const TRUNK_FEATURES = "xf";

const templates = new Map<string, { template: string; templateName: string; includes: string[] }>();

/** The trunk as a circom template (public weights, no input hash): x[d0] → out[features]. */
export function trunkTemplate(spec: TrainingSpec): { template: string; templateName: string; includes: string[] } {
  const t = requireTrunk(spec);
  return remember(templates, t.qgraph, () => {
    const g = generateCircuit(trunkGraph(spec), `trunk_${sha256(t.qgraph).slice(0, 12)}`, "public", { inputCommit: false });
    return { template: g.template, templateName: g.templateName, includes: g.includes.map((i) => `${i}.circom`) };
  });
}

/**
 * Emits, after the data commitment of the raw rows x[R][d0], one trunk instance per row and the
 * features xf[R][d] the head's steps read: each exactly the trunk's output (no free signal).
 */
export function trunkRows(spec: TrainingSpec, L: (line: string) => void): void {
  const t = requireTrunk(spec);
  const R = spec.n * spec.K;
  const { templateName } = trunkTemplate(spec);
  L(`signal ${TRUNK_FEATURES}[${R}][${t.features}];`);
  L(`component tr[${R}];`);
  L(`for (var i = 0; i < ${R}; i++) {`);
  L(`    tr[i] = ${templateName}();`);
  L(`    for (var l = 0; l < ${t.d0}; l++) { tr[i].x[l] <== x[i][l]; }`);
  L(`    for (var l = 0; l < ${t.features}; l++) { ${TRUNK_FEATURES}[i][l] <== tr[i].out[l]; }`);
  L(`}`);
}

/**
 * Constraints of one trunk instance under --O2, from its graph (the costs of the templates
 * src/codegen/circuit.ts instantiates): a rescale RescaleAct(bits, shift, relu) bits + shift (+1
 * with ReLU), an unchecked affine map none, Relu(bits) bits + 1, LeakyRelu(bits, ·, s) 2·bits + s + 1,
 * MaxN(m, bits) m·bits + m - 1 per window, a selection none.
 */
export function trunkRowCost(q: QGraph): number {
  let total = 0;
  for (const n of q.nodes) {
    const size = q.tensors[n.out].size;
    switch (n.kind) {
      case "affine":
        if (!n.unchecked) total += size * (n.bits + n.shift + (n.act === "relu" ? 1 : 0));
        break;
      case "relu":
        total += size * (n.bits + 1);
        break;
      case "leakyrelu":
        total += size * (2 * n.bits + n.alphaShift + 1);
        break;
      case "maxpool":
        for (const w of n.windows) total += w.length * n.bits + w.length - 1;
        break;
      case "select":
        break;
      default:
        throw new FlavumError(`internal: a trunk node of kind ${n.kind} has no cost`);
    }
  }
  return total;
}

/** What the rows of a spec with a trunk look like, for messages: "64 raw values (scale 2^0, 7 bits) → 36 features". */
export function describeTrunk(t: TrunkSpec): string {
  return `${t.d0} raw values (scale 2^${t.inputScale}, ${t.inputBits} bits) → frozen trunk up to "${t.upTo}" → ${t.features} features (scale 2^${t.outScale}, ${t.outBits} bits)`;
}
