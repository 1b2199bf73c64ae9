/**
 * A repository's trained model → an ONNX file (`repo:pull --onnx out.onnx`), the inverse of
 * fromOnnx.ts: every dense layer of the training layout (src/training/spec.ts) becomes a
 * Gemm(transB = 1) whose float32 initializers are the layout's rows (one row of fan-in weights per
 * output unit, exactly Gemm's [out, in] B with transB), with Relu between layers and the head's own
 * activation last — Sigmoid (logistic), nothing (linear) or Softmax(axis = 1) — so onnxruntime
 * computes what evaluate() / forwardFloat() compute, and trainableFromOnnx() reads the same model back.
 *
 * With `base`, the head is grafted onto a frozen trunk (e.g. a convolutional feature extractor): the
 * base model is cut after node `upTo`, everything the cut tensor does not depend on is dropped (with
 * the initializers only the dropped part used), and the head reads the cut tensor through a Flatten.
 */
import { writeFileAtomically } from "../atomicFile";
import { onnx } from "onnx-proto";
import { InputError } from "../errors";
import { readModel } from "../onnx/load";
import { headOf, layerOffsets, outputCount, paramCount, TrainingSpec } from "../training/spec";

export interface ToOnnxOptions {
  /** Graft the head onto `onnx` (a model file), cut after the node named `upTo` (or producing the tensor `upTo`). */
  base?: { onnx: string; upTo: string };
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT = onnx.AttributeProto.AttributeType.INT;

const floatInfo = (name: string, dims: number[]): onnx.IValueInfoProto => ({
  name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});
const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, type: INT, i });

/** Every tensor name a node reads, including names its subgraphs (If / Loop bodies) capture from the outer scope. */
function reads(n: onnx.INodeProto): string[] {
  const names = [...(n.input ?? [])];
  for (const a of n.attribute ?? []) for (const g of [a.g, ...(a.graphs ?? [])]) for (const m of g?.node ?? []) names.push(...reads(m));
  return names.filter((s) => s !== "");
}

/** The base graph up to the cut: its kept nodes, initializers, inputs and value infos, and the cut tensor's name. */
function cutBase(file: string, upTo: string): { model: onnx.ModelProto; graph: onnx.IGraphProto; cut: string } {
  const model = readModel(file);
  const g = model.graph!;
  const nodes = g.node ?? [];
  // A node's name is what tools show; its output name is what PyTorch users see in the graph: accept either.
  let at = nodes.findIndex((n) => n.name === upTo);
  if (at < 0) at = nodes.findIndex((n) => (n.output ?? [])[0] === upTo);
  if (at < 0)
    throw new InputError(`base model "${file}" has no node named (or producing) "${upTo}"; its nodes are: ${nodes.map((n) => n.name || (n.output ?? [])[0]).join(", ")}`);
  const cut = nodes[at].output![0];

  // Walk back from the cut (nodes are topologically sorted, so only the prefix can feed it): a prefix
  // node the cut does not depend on is dead code once the graph's old outputs are gone.
  const needed = new Set([cut]);
  const kept: onnx.INodeProto[] = [];
  for (let i = at; i >= 0; i--) {
    if (!(nodes[i].output ?? []).some((o) => needed.has(o))) continue;
    kept.unshift(nodes[i]);
    for (const name of reads(nodes[i])) needed.add(name);
  }
  const produced = new Set(kept.flatMap((n) => n.output ?? []));
  const initNames = new Set((g.initializer ?? []).map((t) => t.name));
  return {
    model,
    cut,
    graph: {
      name: g.name,
      node: kept,
      initializer: (g.initializer ?? []).filter((t) => needed.has(t.name!)),
      sparseInitializer: (g.sparseInitializer ?? []).filter((t) => needed.has(t.values?.name ?? "")),
      // The model's real inputs stay (its interface); inputs that merely shadow initializers (old IR) follow them.
      input: (g.input ?? []).filter((v) => !initNames.has(v.name) || needed.has(v.name!)),
      valueInfo: (g.valueInfo ?? []).filter((v) => produced.has(v.name!)),
    },
  };
}

export function trainedModelToOnnx(spec: TrainingSpec, weights: number[], opts: ToOnnxOptions = {}): Uint8Array {
  if (weights.length !== paramCount(spec))
    throw new InputError(`cannot export the model: a ${spec.kind} spec with these shapes has ${paramCount(spec)} parameters, got ${weights.length} weights`);
  const base = opts.base ? cutBase(opts.base.onnx, opts.base.upTo) : undefined;

  // Head names must not collide with anything the kept trunk defines (a base may have its own fc1.weight).
  const taken = new Set<string>();
  for (const n of base?.graph.node ?? []) [n.name ?? "", ...(n.output ?? [])].forEach((s) => taken.add(s));
  for (const t of base?.graph.initializer ?? []) taken.add(t.name!);
  for (const v of base?.graph.input ?? []) taken.add(v.name!);
  const fresh = (name: string) => {
    let s = name;
    for (let i = 1; taken.has(s); i++) s = `${name}_${i}`;
    taken.add(s);
    return s;
  };

  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  let prev = base?.cut ?? "input";
  if (base) {
    // The head is dense: Flatten(axis 1) turns a [1, C, H, W] feature map into [1, C·H·W] (and leaves a [1, d] alone).
    const out = fresh("head.flatten.out");
    nodes.push({ name: fresh("head.flatten"), opType: "Flatten", input: [prev], output: [out], attribute: [intAttr("axis", 1)] });
    prev = out;
  }
  const layers = layerOffsets(spec);
  const head = headOf(spec);
  const output = fresh("output");
  layers.forEach((L, l) => {
    const tag = `fc${l + 1}`;
    const [W, b] = [fresh(`${tag}.weight`), fresh(`${tag}.bias`)];
    inits.push({ name: W, dataType: FLOAT, dims: [L.fanOut, L.fanIn], floatData: weights.slice(L.W, L.W + L.fanIn * L.fanOut) });
    inits.push({ name: b, dataType: FLOAT, dims: [L.fanOut], floatData: weights.slice(L.b, L.b + L.fanOut) });
    const last = l === layers.length - 1;
    const out = last && head === "linear" ? output : fresh(`${tag}.out`);
    nodes.push({ name: fresh(`${tag}/Gemm`), opType: "Gemm", input: [prev, W, b], output: [out], attribute: [intAttr("transB", 1)] });
    prev = out;
    if (!last) {
      const a = fresh(`relu${l + 1}.out`);
      nodes.push({ name: fresh(`relu${l + 1}`), opType: "Relu", input: [prev], output: [a] });
      prev = a;
    }
  });
  // Softmax, not the logits: repositories report probabilities (evaluate()), and fromOnnx accepts either.
  if (head === "logistic") nodes.push({ name: fresh("sigmoid"), opType: "Sigmoid", input: [prev], output: [output] });
  if (head === "softmax") nodes.push({ name: fresh("softmax"), opType: "Softmax", input: [prev], output: [output], attribute: [intAttr("axis", 1)] });

  const graph: onnx.IGraphProto = {
    name: base?.graph.name || "flavum_trained",
    node: [...(base?.graph.node ?? []), ...nodes],
    initializer: [...(base?.graph.initializer ?? []), ...inits],
    sparseInitializer: base?.graph.sparseInitializer ?? [],
    input: base ? base.graph.input : [floatInfo("input", [1, spec.d])],
    output: [floatInfo(output, [1, outputCount(spec)])],
    valueInfo: base?.graph.valueInfo ?? [],
  };
  // A grafted model keeps the trunk's IR and opsets (its ops were exported for them; Gemm, Relu,
  // Sigmoid, Flatten and a 2-D Softmax(axis 1) mean the same in every opset) and its local functions.
  const model: onnx.IModelProto = base
    ? { irVersion: base.model.irVersion, opsetImport: base.model.opsetImport, functions: base.model.functions, producerName: "flavum", graph }
    : { irVersion: 7, opsetImport: [{ domain: "", version: 13 }], producerName: "flavum", graph };
  return onnx.ModelProto.encode(model).finish();
}

/** Writes the exported model to `file` (creating its directory); a weights length that does not fit the spec is refused before anything is written. */
export function writeTrainedOnnx(file: string, spec: TrainingSpec, weights: number[], opts: ToOnnxOptions = {}): void {
  const bytes = trainedModelToOnnx(spec, weights, opts);
  // Through a temporary file: an interrupted write never leaves a truncated model under the name.
  writeFileAtomically(file, bytes);
}
