/**
 * For dApp developers: turn a float sample into the `input` and `inputHash` that
 * `FlavumRollup.requestInference` expects, from nothing but the model's shape as the registry
 * records it (`ModelRegistry.shapeOf` or `inputLayoutOf`). No compiled model files are needed, so a
 * dApp's backend or frontend can request inferences of any registered model.
 *
 * Encoding (the NatSpec of `IFlavumInference.requestInference` states it too):
 *   q_i = round(x_i · 2^inputScale), each in inputBits signed bits, row-major;
 *   input = abi.encode(int256[] q);  inputHash = PackedHash(q, inputBits), the circuit's commitment.
 */
import { AbiCoder } from "ethers";
import { InputError } from "../errors";
import { fitsSigned, quantizeValue } from "../quant/fixed";
import { packedHash } from "../quant/commitment";

/** What encoding an input takes, as read from the registry. */
export interface InputLayout {
  inputSize: number;
  inputScale: number;
  inputBits: number;
}

/** The fields of `IModelRegistry.ModelShape` this module reads (ethers returns numbers as bigint). */
export interface OnchainShape {
  inputShape: readonly (bigint | number)[];
  inputScale: bigint | number;
  inputBits: bigint | number;
}

export interface EncodedInput {
  /** The quantized values, as the circuit sees them. */
  values: bigint[];
  /** `abi.encode(int256[] values)`: the `input` argument of requestInference. */
  input: string;
  /** The Poseidon commitment to `values`: the `inputHash` argument of requestInference. */
  inputHash: bigint;
}

export function layoutFromShape(shape: OnchainShape): InputLayout {
  const inputSize = shape.inputShape.reduce<number>((n, d) => n * Number(d), 1);
  return { inputSize, inputScale: Number(shape.inputScale), inputBits: Number(shape.inputBits) };
}

/** Reads the layout of `modelId` from a ModelRegistry contract (an ethers Contract or typechain instance). */
export async function readInputLayout(
  registry: { shapeOf(modelId: bigint): Promise<OnchainShape> },
  modelId: bigint,
): Promise<InputLayout> {
  return layoutFromShape(await registry.shapeOf(modelId));
}

/**
 * Float sample → quantized values, with the rounding of the model compiler. A value that does not fit
 * inputBits is refused: the model has no witness for it, so the request would never be served.
 */
export function quantizeSample(layout: InputLayout, sample: readonly number[]): bigint[] {
  if (sample.length !== layout.inputSize)
    throw new InputError(`input has ${sample.length} values, the model takes ${layout.inputSize}`);
  const lim = 2 ** (layout.inputBits - 1 - layout.inputScale);
  return sample.map((x, i) => {
    if (typeof x !== "number" || !Number.isFinite(x)) throw new InputError(`input value ${i} is ${x}, expected a finite number`);
    const v = quantizeValue(x, layout.inputScale);
    if (!fitsSigned(v, layout.inputBits))
      throw new InputError(`input value ${i} = ${x} is outside the model's input range [-${lim}, ${lim}) (${layout.inputBits} bits at scale 2^-${layout.inputScale})`);
    return v;
  });
}

/** Already quantized values → `input` and `inputHash`. */
export async function encodeQuantized(layout: InputLayout, values: readonly bigint[]): Promise<EncodedInput> {
  if (values.length !== layout.inputSize)
    throw new InputError(`input has ${values.length} values, the model takes ${layout.inputSize}`);
  values.forEach((v, i) => {
    if (!fitsSigned(v, layout.inputBits)) throw new InputError(`input value ${i} = ${v} does not fit ${layout.inputBits} signed bits`);
  });
  const input = AbiCoder.defaultAbiCoder().encode(["int256[]"], [values]);
  return { values: [...values], input, inputHash: await packedHash(values, layout.inputBits) };
}

/** Float sample → everything requestInference needs. */
export async function encodeInput(layout: InputLayout, sample: readonly number[]): Promise<EncodedInput> {
  return encodeQuantized(layout, quantizeSample(layout, sample));
}
