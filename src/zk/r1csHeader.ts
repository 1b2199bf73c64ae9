import { BN254_R, readLE, withBinFile } from "./binfile";

/** A circuit's size, as the compiler recorded it in the r1cs header. */
export interface R1csInfo {
  constraints: number;
  /** Public inputs, not counting outputs (which are public too). */
  publicInputs: number;
  privateInputs: number;
  outputs: number;
  /** All signals including the constant one. */
  wires: number;
  labels: number;
}

/**
 * Reads the counts from an r1cs header section (type 1): u32 n8, prime, u32 nWires, u32 nPubOut,
 * u32 nPubIn, u32 nPrvIn, u64 nLabels, u32 nConstraints — without loading the constraints, which
 * for a large circuit are hundreds of megabytes.
 */
export function readR1csInfo(file: string): R1csInfo {
  return withBinFile(file, "r1cs", (bf) => {
    const h = bf.section(1);
    const n8 = h.readUInt32LE(0);
    if (readLE(h, 4, n8) !== BN254_R) {
      throw new Error(`${file} was compiled for another prime than BN254's; compile with circom's default --prime bn128`);
    }
    let p = 4 + n8;
    const u32 = () => {
      const v = h.readUInt32LE(p);
      p += 4;
      return v;
    };
    const wires = u32();
    const outputs = u32();
    const publicInputs = u32();
    const privateInputs = u32();
    const labels = Number(h.readBigUInt64LE(p));
    p += 8;
    const constraints = u32();
    return { constraints, publicInputs, privateInputs, outputs, wires, labels };
  });
}
