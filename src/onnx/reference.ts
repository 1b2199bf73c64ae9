import * as ort from "onnxruntime-node";
import { FlavumError, InputError } from "../errors";
import { size } from "./ir";
import { readModel, valueInfoShape } from "./load";

/**
 * onnxruntime as the yardstick for the float graph: runs the original ONNX file on one sample.
 * Inputs are float32 (what ORT sees), so comparisons with the float64 executor need a tolerance.
 */
export class OrtReference {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputName: string,
    readonly inputShape: number[],
    readonly outputName: string,
  ) {}

  static async load(file: string): Promise<OrtReference> {
    const g = readModel(file).graph;
    const inits = new Set((g?.initializer ?? []).map((t) => t.name));
    const inputs = (g?.input ?? []).filter((v) => !inits.has(v.name));
    if (inputs.length !== 1 || (g?.output ?? []).length < 1) {
      throw new FlavumError(`"${file}": the reference runner needs exactly one input and an output, found ${inputs.length} inputs`, "UNSUPPORTED_MODEL");
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file);
    } catch (e) {
      throw new FlavumError(`onnxruntime cannot load "${file}": ${(e as Error).message}`, "ORT_LOAD");
    }
    return new OrtReference(session, inputs[0].name ?? "", valueInfoShape(inputs[0]), g?.output?.[0]?.name ?? "");
  }

  async run(input: number[]): Promise<number[]> {
    const n = size(this.inputShape);
    if (input.length !== n) {
      throw new InputError(`input "${this.inputName}" expects shape [${this.inputShape.join(", ")}] (${n} values), got ${input.length} values`);
    }
    const feeds = { [this.inputName]: new ort.Tensor("float32", Float32Array.from(input), this.inputShape) };
    const res = await this.session.run(feeds, [this.outputName]);
    const data = res[this.outputName].data;
    // ArgMax heads give int64 (BigInt64Array); everything else numeric.
    return Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
