import { BN254_Q, readLE, withBinFile } from "./binfile";

/** What Flavum needs to know about a .ptau file before trusting it with a setup. */
export interface PtauInfo {
  file: string;
  /** log2 of the number of powers it holds: it serves Groth16 domains up to 2^power. */
  power: number;
  /** The power of the ceremony it was cut from (Hermez files are truncated from 2^28). */
  ceremonyPower: number;
  /** Phase-2 preparation adds the Lagrange-basis sections (12+) that snarkjs's newZKey requires. */
  preparedForPhase2: boolean;
}

const PREPARED_SECTION = 12;

/**
 * Reads a ptau file's header without loading the file (they run to gigabytes). Section 1 holds
 * (u32 n8, n8-byte prime q, u32 power, u32 ceremonyPower), as snarkjs's readPTauHeader reads it.
 */
export function readPtauInfo(file: string): PtauInfo {
  return withBinFile(file, "ptau", (bf) => {
    const hdr = bf.section(1);
    const n8 = hdr.readUInt32LE(0);
    if (readLE(hdr, 4, n8) !== BN254_Q) {
      throw new Error(`${file} is for another curve than bn128 (BN254), which Flavum uses`);
    }
    return {
      file,
      power: hdr.readUInt32LE(4 + n8),
      ceremonyPower: hdr.readUInt32LE(8 + n8),
      preparedForPhase2: bf.sections.has(PREPARED_SECTION),
    };
  });
}
