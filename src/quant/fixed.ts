/** Exact integer helpers shared by the quantizer, the integer executor and witness builders. */

/** The BN254 scalar field: every circuit value lives here. */
export const FIELD_P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** floor(a / 2^k) for any sign (BigInt `/` truncates toward zero, the circuit's bit split floors). */
export function floorShift(a: bigint, k: number): bigint {
  if (k === 0) return a;
  return a >> BigInt(k); // BigInt >> is an arithmetic (flooring) shift
}

/** round(a / 2^k), ties toward +inf: the rescale every circuit template performs. */
export function roundShift(a: bigint, k: number): bigint {
  if (k === 0) return a;
  return (a + (1n << BigInt(k - 1))) >> BigInt(k);
}

/** Signed integer in [-2^(bits-1), 2^(bits-1))? */
export function fitsSigned(v: bigint, bits: number): boolean {
  const h = 1n << BigInt(bits - 1);
  return v >= -h && v < h;
}

/** Field representation of a signed integer (negatives wrap to p - |v|). */
export function toField(v: bigint): bigint {
  const r = v % FIELD_P;
  return r < 0n ? r + FIELD_P : r;
}

/** Inverse of toField for values known to be small in magnitude. */
export function fromField(f: bigint | string): bigint {
  const v = BigInt(f);
  return v > FIELD_P / 2n ? v - FIELD_P : v;
}

export function quantizeValue(x: number, scale: number): bigint {
  return BigInt(Math.round(x * 2 ** scale));
}

export function dequantize(q: bigint, scale: number): number {
  return Number(q) / 2 ** scale;
}
