import fs from "fs";
import { onnx } from "onnx-proto";
import { FlavumError } from "../errors";

/** protobufjs returns 64-bit integers as Long objects unless they fit a JS number at decode time. */
type IntLike = number | { toNumber(): number } | null | undefined;

export function toNum(v: IntLike): number {
  if (v === null || v === undefined) return 0;
  return typeof v === "number" ? v : v.toNumber();
}

export const DataType = onnx.TensorProto.DataType;

/** A constant tensor: values widened to float64 (exact for every int the shape logic meets). */
export interface ConstTensor {
  dims: number[];
  data: Float64Array;
  dataType: number;
}

export function readModel(file: string): onnx.ModelProto {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new FlavumError(`cannot read ONNX model "${file}": ${(e as Error).message}`, "MODEL_NOT_FOUND");
  }
  return decodeModel(bytes, file);
}

export function decodeModel(bytes: Uint8Array, label = "<bytes>"): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new FlavumError(`"${label}" is not an ONNX model (protobuf decode failed: ${(e as Error).message})`, "NOT_ONNX");
  }
  // Almost any byte string decodes as *some* protobuf message; an ONNX file always carries a graph with nodes or outputs.
  if (!model.graph || ((model.graph.node ?? []).length === 0 && (model.graph.output ?? []).length === 0)) {
    throw new FlavumError(`"${label}" is not an ONNX model (no graph found)`, "NOT_ONNX");
  }
  return model;
}

export function dataTypeName(t: number): string {
  return (DataType as unknown as Record<number, string>)[t] ?? `type ${t}`;
}

/** Decode an initializer or Constant value into float64 values. */
export function decodeTensor(t: onnx.ITensorProto): ConstTensor {
  const dims = (t.dims ?? []).map(toNum);
  const n = dims.reduce((a, b) => a * b, 1);
  const dataType = t.dataType ?? 0;
  const name = t.name || "<unnamed>";
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new FlavumError(`tensor "${name}" uses external data; save the model with all weights inside the .onnx file`, "UNSUPPORTED_MODEL");
  }
  const out = new Float64Array(n);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const width: Record<number, number> = {
      [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT64]: 8, [DataType.INT32]: 4,
      [DataType.INT8]: 1, [DataType.UINT8]: 1, [DataType.BOOL]: 1, [DataType.INT16]: 2, [DataType.UINT16]: 2,
    };
    const w = width[dataType];
    if (w === undefined) throw unsupportedType(name, dataType);
    if (raw.byteLength !== w * n) {
      throw new FlavumError(`tensor "${name}": raw_data has ${raw.byteLength} bytes, expected ${w * n} for dims [${dims}]`, "BAD_MODEL");
    }
    for (let i = 0; i < n; i++) {
      const o = i * w;
      switch (dataType) {
        case DataType.FLOAT: out[i] = view.getFloat32(o, true); break;
        case DataType.DOUBLE: out[i] = view.getFloat64(o, true); break;
        case DataType.INT64: out[i] = Number(view.getBigInt64(o, true)); break;
        case DataType.INT32: out[i] = view.getInt32(o, true); break;
        case DataType.INT16: out[i] = view.getInt16(o, true); break;
        case DataType.UINT16: out[i] = view.getUint16(o, true); break;
        case DataType.INT8: out[i] = view.getInt8(o); break;
        default: out[i] = view.getUint8(o); break;
      }
    }
    return { dims, data: out, dataType };
  }
  let src: IntLike[];
  switch (dataType) {
    case DataType.FLOAT: src = t.floatData ?? []; break;
    case DataType.DOUBLE: src = t.doubleData ?? []; break;
    case DataType.INT64: src = (t.int64Data ?? []) as IntLike[]; break;
    // ONNX stores every narrow integer type and BOOL in int32_data.
    case DataType.INT32: case DataType.INT16: case DataType.UINT16: case DataType.INT8: case DataType.UINT8: case DataType.BOOL:
      src = t.int32Data ?? []; break;
    default: throw unsupportedType(name, dataType);
  }
  if (src.length !== n) {
    throw new FlavumError(`tensor "${name}" has ${src.length} values, expected ${n} for dims [${dims}]`, "BAD_MODEL");
  }
  for (let i = 0; i < n; i++) out[i] = toNum(src[i]);
  return { dims, data: out, dataType };
}

function unsupportedType(name: string, dataType: number): FlavumError {
  return new FlavumError(`tensor "${name}" has element type ${dataTypeName(dataType)}, which Flavum cannot read`, "UNSUPPORTED_MODEL");
}

/** Typed access to a node's attributes, with ONNX defaults supplied by the caller. */
export class Attrs {
  private readonly byName = new Map<string, onnx.IAttributeProto>();

  constructor(node: onnx.INodeProto) {
    for (const a of node.attribute ?? []) this.byName.set(a.name ?? "", a);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  int(name: string, dflt: number): number {
    const a = this.byName.get(name);
    return a ? toNum(a.i as IntLike) : dflt;
  }

  float(name: string, dflt: number): number {
    const a = this.byName.get(name);
    return a ? a.f ?? 0 : dflt;
  }

  string(name: string, dflt: string): string {
    const a = this.byName.get(name);
    return a && a.s ? Buffer.from(a.s).toString("utf8") : dflt;
  }

  ints(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a ? (a.ints ?? []).map((v) => toNum(v as IntLike)) : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a ? [...(a.floats ?? [])] : undefined;
  }

  tensor(name: string): onnx.ITensorProto | undefined {
    const a = this.byName.get(name);
    return a?.t ?? undefined;
  }
}

/** Shape of a graph input/output; symbolic or unknown dimensions (the batch) become 1. */
export function valueInfoShape(v: onnx.IValueInfoProto): number[] {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => {
    const n = toNum(d.dimValue as IntLike);
    return d.dimParam || n <= 0 ? 1 : n;
  });
}

export function valueInfoElemType(v: onnx.IValueInfoProto): number {
  return v.type?.tensorType?.elemType ?? 0;
}
