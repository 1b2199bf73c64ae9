import crypto from "crypto";
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import { setupEstimate } from "./estimate";
import { heartbeat, Progress, silent, snarkjsLogger, Stage, timed } from "./log";
import { readR1csInfo } from "./r1csHeader";
import { Groth16Proof, MemFile, snarkjs, VerificationKey } from "./snarkjs";

export type { Groth16Proof, VerificationKey } from "./snarkjs";

export interface SetupOptions {
  progress?: Progress;
  /** Recorded in the zkey as the contributor's name. */
  name?: string;
}

/** The verifying key is written next to the zkey under this name. */
export const VKEY_FILE = "verification_key.json";

const points = (section: string) => new RegExp(`(points (start|end)|big array) ${section}:`);

/** newZKey's parts in the order it runs them (snarkjs 0.7 zkey_new.js), then the contribution. */
export const SETUP_STAGES: Stage[] = [
  { name: "reading r1cs and ptau", match: /^Reading / },
  { name: "constraints", match: /^processing constraints/ },
  { name: "coefficients", match: /^writing coeffs/ },
  { name: "IC points", match: points("IC") },
  { name: "H points", match: /^splitting buffer|^HashingHPoints/ },
  { name: "C points", match: points("C") },
  { name: "A points", match: points("A") },
  { name: "B1 points", match: points("B1") },
  { name: "B2 points", match: points("B2") },
  { name: "phase-2 contribution", match: /^phase-2 contribution$|^Applying key/ },
];

/**
 * Groth16 circuit-specific setup: the phase-2 key from the r1cs and a prepared ptau, plus one
 * contribution with fresh random entropy so the key does not rest on snarkjs's deterministic initial
 * values. Writes `zkeyOut` and a sibling verification_key.json.
 */
export async function setup(
  r1cs: string,
  ptau: string,
  zkeyOut: string,
  opts: SetupOptions = {},
): Promise<{ zkey: string; vkey: VerificationKey; vkeyFile: string; ms: number }> {
  const zkey = path.resolve(zkeyOut);
  fs.mkdirSync(path.dirname(zkey), { recursive: true });
  const initial = `${zkey}.init-${process.pid}`;
  const next = `${zkey}.next-${process.pid}`;
  const estimate = setupEstimate({ ...readR1csInfo(r1cs), file: r1cs });
  const hb = heartbeat(opts.progress, `groth16 setup ${path.basename(r1cs)}`, {
    estimateMs: estimate.ms, basis: estimate.basis, stages: SETUP_STAGES,
  });
  const logger = snarkjsLogger(opts.progress, "setup", hb.note);
  const start = performance.now();
  try {
    const result = await timed(opts.progress, `groth16 setup ${path.basename(r1cs)}`, () =>
      snarkjs.zKey.newZKey(r1cs, ptau, initial, logger),
    );
    // newZKey reports failures (circuit too big, ptau not prepared) by logging and returning -1.
    if (result.value === -1 || logger.errors.length) {
      throw new FlavumError(
        `groth16 setup of ${r1cs} with ${ptau} failed: ${logger.errors.join("; ") || "snarkjs gave no reason"}. ` +
          `Use a prepared ptau of power ≥ powerFor(constraints, public signals)`,
        "SETUP_FAILED",
      );
    }
    hb.note("phase-2 contribution");
    await timed(opts.progress, "phase-2 contribution", () =>
      snarkjs.zKey.contribute(initial, next, opts.name ?? "Flavum", crypto.randomBytes(64).toString("hex"), logger),
    );
    fs.renameSync(next, zkey);
  } finally {
    hb.stop();
    fs.rmSync(initial, { force: true });
    fs.rmSync(next, { force: true });
  }
  const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
  const vkeyFile = path.join(path.dirname(zkey), VKEY_FILE);
  fs.writeFileSync(vkeyFile, JSON.stringify(vkey, null, 1));
  return { zkey, vkey, vkeyFile, ms: performance.now() - start };
}

/** Witness generation failed: the input does not satisfy the circuit or does not match its signals. */
export class WitnessError extends FlavumError {
  constructor(wasm: string, cause: string) {
    super(
      `cannot compute the witness with ${path.basename(wasm)}: ${cause.trim()}. ` +
        `Check the input names and sizes against the circuit's signals and that every value is in the range ` +
        `the circuit's constraints allow`,
      "WITNESS",
    );
  }
}

/**
 * Runs the circuit's witness generator in memory (no .wtns file) and times it apart from proving,
 * because the two costs scale differently and benchmarks report both.
 */
export async function witness(wasm: string, input: object): Promise<{ wtns: Uint8Array; ms: number }> {
  const mem: MemFile = { type: "mem" };
  const start = performance.now();
  try {
    await snarkjs.wtns.calculate(input, wasm, mem);
  } catch (err) {
    throw new WitnessError(wasm, ((err as Error).message ?? String(err)).replace(/^Error:\s*/, ""));
  }
  if (!mem.data) throw new WitnessError(wasm, "snarkjs produced no witness data");
  return { wtns: mem.data, ms: performance.now() - start };
}

export interface ProveResult {
  proof: Groth16Proof;
  publicSignals: string[];
  witnessMs: number;
  proveMs: number;
}

/**
 * Proves with `zkey`. Give the witness generator's wasm plus the input, or a witness already computed
 * by `witness()` (then `input` is ignored and witnessMs is 0).
 */
export async function prove(
  wasmOrWtns: string | Uint8Array,
  zkey: string,
  input?: object,
  opts: { progress?: Progress } = {},
): Promise<ProveResult> {
  let wtns: Uint8Array;
  let witnessMs = 0;
  if (typeof wasmOrWtns === "string") {
    if (!input) throw new FlavumError(`prove(${wasmOrWtns}, …) needs the circuit input to compute the witness`, "BAD_INPUT");
    ({ wtns, ms: witnessMs } = await witness(wasmOrWtns, input));
  } else {
    wtns = wasmOrWtns;
  }
  const logger = snarkjsLogger(opts.progress, "prove");
  const mem: MemFile = { type: "mem", data: wtns };
  const { value, ms: proveMs } = await timed(opts.progress, `groth16 prove ${path.basename(zkey)}`, () =>
    snarkjs.groth16.prove(zkey, mem, logger),
  );
  return { ...value, witnessMs, proveMs };
}

/** Checks a proof. `vkey` is the key object or a path to its JSON file. */
export async function verify(vkey: object | string, publicSignals: string[], proof: Groth16Proof): Promise<boolean> {
  const key = typeof vkey === "string" ? JSON.parse(fs.readFileSync(vkey, "utf8")) : vkey;
  return snarkjs.groth16.verify(key, publicSignals, proof, snarkjsLogger(silent));
}

/** Arguments for snarkjs's Solidity verifier `verifyProof(uint[2], uint[2][2], uint[2], uint[N])`. */
export interface SolidityCalldata {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
  pub: bigint[];
}

/**
 * Typed calldata for an ethers v6 call. G2 coordinates are swapped within each pair because the
 * EVM pairing precompile (EIP-197) takes Fp2 elements as (imaginary, real), while snarkjs stores
 * them (real, imaginary).
 */
export function solidityCalldata(proof: Groth16Proof, publicSignals: string[]): SolidityCalldata {
  const n = (s: string) => BigInt(s);
  return {
    a: [n(proof.pi_a[0]), n(proof.pi_a[1])],
    b: [
      [n(proof.pi_b[0][1]), n(proof.pi_b[0][0])],
      [n(proof.pi_b[1][1]), n(proof.pi_b[1][0])],
    ],
    c: [n(proof.pi_c[0]), n(proof.pi_c[1])],
    pub: publicSignals.map(n),
  };
}

type Terminable = { terminate?: () => Promise<void> };

/**
 * Stops the worker threads snarkjs (through ffjavascript) starts for bn128/bls12-381 arithmetic:
 * they keep Node's event loop alive, so a Hardhat task or script would never exit. ffjavascript
 * keeps its one multi-threaded curve per kind in globalThis.curve_bn128 / curve_bls12381, and its
 * terminate() clears that slot, so this loop is safe to call repeatedly and a later snarkjs call
 * simply builds a fresh curve.
 */
export async function shutdown(): Promise<void> {
  const g = globalThis as unknown as Record<string, Terminable | null | undefined>;
  for (const slot of ["curve_bn128", "curve_bls12381"]) {
    for (let guard = 0; g[slot] && guard < 4; guard++) {
      const curve = g[slot];
      if (typeof curve?.terminate !== "function") break;
      await curve.terminate();
      if (g[slot] === curve) g[slot] = null;
    }
  }
}
