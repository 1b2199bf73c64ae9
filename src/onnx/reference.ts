import * as ort from "onnxruntime-node";
import { FlavumError, InputError } from "../errors";
import { size } from "./ir";
import { onnx } from "onnx-proto";
import { DataType, readModel, valueInfoElemType, valueInfoShape } from "./load";

/**
 * Tree exporters (hummingbird) cast to int8 and multiply int8 matrices, which onnxruntime has no
 * kernel for. Widening every int8 to int32 keeps every value (the products are small integers) and
 * gives onnxruntime a model it runs; a model without int8 is passed through untouched.
 */
export function widenInt8(model: onnx.ModelProto): onnx.ModelProto | undefined {
  const g = model.graph;
  if (!g) return undefined;
  let changed = false;
  for (const n of g.node ?? []) {
    if (n.opType !== "Cast") continue;
    for (const a of n.attribute ?? []) {
      if (a.name === "to" && Number(a.i) === DataType.INT8) {
        a.i = DataType.INT32;
        changed = true;
      }
    }
  }
  for (const t of g.initializer ?? []) {
    if (t.dataType !== DataType.INT8) continue;
    const raw = t.rawData && t.rawData.length > 0 ? Int8Array.from(t.rawData, (b) => (b << 24) >> 24) : Int32Array.from(t.int32Data ?? []);
    t.dataType = DataType.INT32;
    t.rawData = new Uint8Array(Int32Array.from(raw).buffer);
    t.int32Data = [];
    changed = true;
  }
  for (const v of [...(g.valueInfo ?? []), ...(g.input ?? []), ...(g.output ?? [])]) {
    const tt = v.type?.tensorType;
    if (tt && tt.elemType === DataType.INT8) {
      tt.elemType = DataType.INT32;
      changed = true;
    }
  }
  return changed ? model : undefined;
}

interface Port {
  name: string;
  shape: number[];
  type: number;
}

/** A flat slice of numbers as the ORT tensor type the model declares for that input. */
function ortTensor(p: Port, values: number[]): ort.Tensor {
  switch (p.type) {
    case DataType.DOUBLE: return new ort.Tensor("float64", Float64Array.from(values), p.shape);
    case DataType.INT64: return new ort.Tensor("int64", BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))), p.shape);
    case DataType.INT32: return new ort.Tensor("int32", Int32Array.from(values, (v) => Math.trunc(v)), p.shape);
    case DataType.BOOL: return new ort.Tensor("bool", Uint8Array.from(values, (v) => (v ? 1 : 0)), p.shape);
    default: return new ort.Tensor("float32", Float32Array.from(values), p.shape);
  }
}

/**
 * onnxruntime as the yardstick for the float graph: runs the original ONNX file on one sample.
 * A sample is the model's inputs concatenated in the model's input order (one flat array), and the
 * result is its outputs concatenated in order, as the float graph and the circuit see them.
 * Float inputs are float32 (what ORT sees), so comparisons with the float64 executor need a tolerance.
 */
export class OrtReference {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputs: Port[],
    readonly outputNames: string[],
  ) {}

  /** Kept for callers of a one-input model. */
  get inputName(): string {
    return this.inputs[0].name;
  }

  get inputShape(): number[] {
    return this.inputs[0].shape;
  }

  static async load(file: string): Promise<OrtReference> {
    const model = readModel(file);
    const g = model.graph;
    const inits = new Set((g?.initializer ?? []).map((t) => t.name));
    const inputs = (g?.input ?? []).filter((v) => !inits.has(v.name));
    if (inputs.length < 1 || (g?.output ?? []).length < 1) {
      throw new FlavumError(`"${file}": the reference runner needs an input and an output, found ${inputs.length} inputs`, "UNSUPPORTED_MODEL");
    }
    let session: ort.InferenceSession;
    try {
      const widened = widenInt8(model);
      session = widened ? await ort.InferenceSession.create(onnx.ModelProto.encode(widened).finish()) : await ort.InferenceSession.create(file);
    } catch (e) {
      throw new FlavumError(`onnxruntime cannot load "${file}": ${(e as Error).message}`, "ORT_LOAD");
    }
    const ports = inputs.map((v) => ({ name: v.name ?? "", shape: valueInfoShape(v), type: valueInfoElemType(v) }));
    return new OrtReference(session, ports, (g?.output ?? []).map((o) => o.name ?? ""));
  }

  async run(input: number[]): Promise<number[]> {
    const total = this.inputs.reduce((a, p) => a + size(p.shape), 0);
    if (input.length !== total) {
      const what = this.inputs.map((p) => `"${p.name}" [${p.shape.join(", ")}]`).join(", ");
      throw new InputError(`the model's input${this.inputs.length > 1 ? "s" : ""} ${what} take ${total} values, got ${input.length} values`);
    }
    const feeds: Record<string, ort.Tensor> = {};
    let o = 0;
    for (const p of this.inputs) {
      const n = size(p.shape);
      feeds[p.name] = ortTensor(p, input.slice(o, o + n));
      o += n;
    }
    const res = await this.session.run(feeds, this.outputNames);
    // Integer outputs come back as BigInt64Array, booleans as Uint8Array: all become numbers.
    return this.outputNames.flatMap((n) => Array.from(res[n].data as ArrayLike<number | bigint | boolean>, (v) => Number(v)));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
