/**
 * TypeScript twin of circuits/lib/PackedHash.circom: a Poseidon commitment to signed values of a
 * fixed bit width. Inputs and private weights are committed this way, so the same numbers computed
 * here and inside the circuit must agree exactly.
 */
import { buildPoseidon } from "circomlibjs";
import { fitsSigned } from "./fixed";
import { FlavumError } from "../errors";

type Poseidon = ((inputs: bigint[]) => Uint8Array) & { F: { toObject(x: Uint8Array): bigint } };
let poseidonP: Promise<Poseidon> | undefined;

export function poseidon(): Promise<Poseidon> {
  poseidonP ??= buildPoseidon() as Promise<Poseidon>;
  return poseidonP;
}

export async function poseidonHash(inputs: bigint[]): Promise<bigint> {
  const p = await poseidon();
  return p.F.toObject(p(inputs));
}

export function packValues(values: readonly bigint[], bits: number): bigint[] {
  const per = Math.floor(250 / bits);
  const offset = 1n << BigInt(bits - 1);
  const packed: bigint[] = new Array(Math.ceil(values.length / per)).fill(0n);
  values.forEach((v, i) => {
    if (!fitsSigned(v, bits)) throw new FlavumError(`value ${v} at position ${i} does not fit ${bits} signed bits`);
    packed[Math.floor(i / per)] += (v + offset) << BigInt(bits * (i % per));
  });
  return packed;
}

export async function packedHash(values: readonly bigint[], bits: number): Promise<bigint> {
  const p = await poseidon();
  const packed = packValues(values, bits);
  let h = BigInt(values.length);
  for (let c = 0; c < packed.length; c += 15) {
    h = p.F.toObject(p([h, ...packed.slice(c, c + 15)]));
  }
  return h;
}
