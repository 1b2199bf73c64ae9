/** Test helper: encode small ONNX models by hand with onnx-proto, so lowering rules can be tested in isolation. */
import fs from "fs";
import os from "os";
import path from "path";
import { onnx } from "onnx-proto";
import type { FloatGraph } from "../../src/onnx/ir";
import { importOnnx } from "../../src/onnx/lower";
import { OrtReference } from "../../src/onnx/reference";
import { floatModelOutput, maxAbsDiff } from "../../src/onnx/corpus";

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

/** Forces a float attribute (an integral JS number would otherwise encode as INT). */
export class F {
  constructor(readonly v: number) {}
}
export const f = (v: number) => new F(v);

export type AttrValue = number | F | number[] | string | onnx.ITensorProto;

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
  domain?: string;
}

export interface ModelSpec {
  inputs: { name: string; shape: (number | string)[]; elemType?: number }[];
  outputs: { name: string; shape?: (number | string)[]; elemType?: number }[];
  nodes: NodeSpec[];
  initializers?: onnx.ITensorProto[];
  opset?: number;
}

export function tensor(name: string, dims: number[], data: number[], dataType: number = T.FLOAT): onnx.ITensorProto {
  const t: onnx.ITensorProto = { name, dims, dataType };
  if (dataType === T.FLOAT) t.floatData = data;
  else if (dataType === T.DOUBLE) t.doubleData = data;
  else if (dataType === T.INT64) t.int64Data = data;
  else t.int32Data = data;
  return t;
}

/** Same tensor with little-endian raw_data, as PyTorch writes initializers. */
export function rawTensor(name: string, dims: number[], data: number[], dataType: number = T.FLOAT): onnx.ITensorProto {
  const width = dataType === T.FLOAT || dataType === T.INT32 ? 4 : 8;
  const buf = Buffer.alloc(width * data.length);
  data.forEach((v, i) => {
    if (dataType === T.FLOAT) buf.writeFloatLE(v, i * 4);
    else if (dataType === T.DOUBLE) buf.writeDoubleLE(v, i * 8);
    else if (dataType === T.INT64) buf.writeBigInt64LE(BigInt(v), i * 8);
    else buf.writeInt32LE(v, i * 4);
  });
  return { name, dims, dataType, rawData: buf };
}

function attr(name: string, v: AttrValue): onnx.IAttributeProto {
  if (v instanceof F) return { name, type: A.FLOAT, f: v.v };
  if (typeof v === "number") return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
  if (typeof v === "string") return { name, type: A.STRING, s: Buffer.from(v) };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  return { name, type: A.TENSOR, t: v };
}

function valueInfo(name: string, shape: (number | string)[] | undefined, elemType: number): onnx.IValueInfoProto {
  const dim = (shape ?? []).map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: shape ? { dim } : undefined } } };
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: "flavum-test",
    opsetImport: [{ domain: "", version: spec.opset ?? 13 }],
    graph: {
      name: "test",
      node: spec.nodes.map((n, k) => ({
        opType: n.op, input: n.inputs, output: n.outputs, name: n.name ?? `${n.op}_${k}`, domain: n.domain ?? "",
        attribute: Object.entries(n.attrs ?? {}).map(([k2, v]) => attr(k2, v)),
      })),
      initializer: spec.initializers ?? [],
      input: spec.inputs.map((i) => valueInfo(i.name, i.shape, i.elemType ?? T.FLOAT)),
      output: spec.outputs.map((o) => valueInfo(o.name, o.shape, o.elemType ?? T.FLOAT)),
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

let counter = 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-onnx-test-"));
process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));

/** Write the model to a fresh temporary file (onnxruntime and importOnnx read files). */
export function writeModel(spec: ModelSpec | Uint8Array): string {
  const file = path.join(dir, `m${counter++}.onnx`);
  fs.writeFileSync(file, spec instanceof Uint8Array ? spec : buildModel(spec));
  return file;
}

export const DT = T;

/** Runs the model through Flavum's float graph and onnxruntime; returns the graph and the max difference. */
export async function vsOrt(spec: ModelSpec, input: number[]): Promise<{ graph: FloatGraph; diff: number; ort: number[]; ours: number[] }> {
  const file = writeModel(spec);
  const graph = importOnnx(file);
  const ref = await OrtReference.load(file);
  const ort = await ref.run(input);
  await ref.release();
  const ours = floatModelOutput(graph, input);
  return { graph, diff: maxAbsDiff(ours, ort), ort, ours };
}
