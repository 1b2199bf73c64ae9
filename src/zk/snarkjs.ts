/**
 * The part of snarkjs Flavum uses, typed. snarkjs ships no type declarations; naming the calls here
 * keeps `any` out of the rest of src/zk and documents which snarkjs API each module depends on.
 */
import type { SnarkjsLogger } from "./log";

/** A snarkjs/fastfile in-memory file: `data` is filled in when the writer closes it. */
export interface MemFile {
  type: "mem";
  data?: Uint8Array;
}

export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: string;
  curve: string;
}

export interface VerificationKey {
  protocol: string;
  curve: string;
  nPublic: number;
  [k: string]: unknown;
}

export interface SnarkjsApi {
  powersOfTau: {
    newAccumulator(curve: unknown, power: number, file: string, logger?: SnarkjsLogger): Promise<unknown>;
    contribute(oldFile: string, newFile: string, name: string, entropy: string, logger?: SnarkjsLogger): Promise<unknown>;
    preparePhase2(oldFile: string, newFile: string, logger?: SnarkjsLogger): Promise<unknown>;
  };
  curves: { getCurveFromName(name: string): Promise<unknown> };
  r1cs: {
    info(file: string, logger?: SnarkjsLogger): Promise<{
      nConstraints: number;
      nVars: number;
      nOutputs: number;
      nPubInputs: number;
      nPrvInputs: number;
      nLabels: number;
    }>;
  };
  zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: SnarkjsLogger): Promise<unknown>;
    /** Returns the 64-byte contribution hash. */
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: SnarkjsLogger): Promise<Uint8Array>;
    /** Returns the contribution hash, or false (after logging why) for a bad beacon or iteration count. */
    beacon(oldZkey: string, newZkey: string, name: string, beaconHashHex: string, numIterationsExp: number, logger?: SnarkjsLogger): Promise<Uint8Array | false>;
    verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: SnarkjsLogger): Promise<boolean>;
    verifyFromInit(initZkey: string, ptau: string, zkey: string, logger?: SnarkjsLogger): Promise<boolean>;
    exportVerificationKey(zkey: string, logger?: SnarkjsLogger): Promise<VerificationKey>;
    exportSolidityVerifier(zkey: string, templates: Record<string, string>, logger?: SnarkjsLogger): Promise<string>;
  };
  wtns: {
    calculate(input: object, wasm: string, out: string | MemFile, options?: object): Promise<void>;
  };
  groth16: {
    prove(zkey: string, wtns: string | MemFile, logger?: SnarkjsLogger): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(vkey: object, publicSignals: string[], proof: Groth16Proof, logger?: SnarkjsLogger): Promise<boolean>;
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const snarkjs: SnarkjsApi = require("snarkjs");
