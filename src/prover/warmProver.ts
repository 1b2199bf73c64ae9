/**
 * An in-process Prover that stays warm: each circuit's zkey is read once into memory (KeyCache) and
 * the curve (ffjavascript's WebAssembly arithmetic and its worker threads, kept in
 * globalThis.curve_bn128) is built once and left running between proofs. For a batch circuit,
 * reading the key and building the curve are a large share of a cold proof, and a queue worker
 * proves the same few circuits over and over.
 *
 * Nothing here terminates the curve: src/zk/groth16.ts shutdown() is for the end of a process (tasks
 * call it on exit); a caller that shuts the curve down between proofs gets correct but cold proofs,
 * reported as `warm: false`.
 *
 * Every proof is verified against the circuit's verifying key before it is returned: a proof that
 * does not verify (key files that do not belong together, a faulty witness generator) is an error.
 */
import os from "os";
import { FlavumError } from "../errors";
import { witness as wasmWitness } from "../zk/groth16";
import { silent, snarkjsLogger, type Progress } from "../zk/log";
import { snarkjs, type Groth16Proof, type MemFile } from "../zk/snarkjs";
import { KeyCache } from "./keyCache";
import type { CircuitRef, ProofJob, ProofResult, Prover } from "./types";

/** Computes the witness (.wtns bytes) of `input` for `circuit`. */
export type WitnessFn = (wasm: string, input: object, circuit: CircuitRef) => Promise<{ wtns: Uint8Array; ms: number }>;

export interface WarmProverOptions {
  /** Reported as ProofResult.worker; default `<hostname>/<pid>`. */
  name?: string;
  /**
   * ── NATIVE WITNESS PLUG-IN POINT ──
   * The witness generator. Default: the circuit's WebAssembly generator through snarkjs
   * (src/zk/groth16.ts witness()). A native C++ generator (src/zk/nativeWitness.ts, in progress) goes
   * here with the same signature; nothing else in the prover changes.
   */
  witnessFn?: WitnessFn;
  progress?: Progress;
  /** Proving keys kept in memory at once (default 4). */
  maxKeys?: number;
}

/** snarkjs's groth16.prove reads the zkey through fastfile, which takes an in-memory file as well as a path. */
type ProveFromMemory = (zkey: MemFile | string, wtns: MemFile | string, logger?: unknown) => Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
const proveGroth16 = snarkjs.groth16.prove as unknown as ProveFromMemory;

const CURVE_SLOTS: Record<string, string> = { bn128: "curve_bn128", bn254: "curve_bn128", bls12381: "curve_bls12381" };
/**
 * One build at a time per curve: ffjavascript only stores a curve in its global slot once it is
 * built, so two proofs starting together on a cold process would each build one (two thread pools,
 * one never terminated).
 */
const building = new Map<string, Promise<unknown>>();

/** The proof was made but does not verify: never handed out. */
export class ProofRejectedError extends FlavumError {
  constructor(job: ProofJob) {
    super(
      `the proof of job ${job.id} made with ${job.circuit.zkey} does not verify against ${job.circuit.vkey}: ` +
        `the proving and verifying keys do not belong together, or the witness generator is faulty; no proof was returned`,
      "PROOF_REJECTED",
    );
  }
}

export class WarmProver implements Prover {
  readonly name: string;
  private readonly keys: KeyCache;
  private readonly witnessFn: WitnessFn;
  private readonly progress: Progress;
  private closed = false;

  constructor(opts: WarmProverOptions = {}) {
    this.name = opts.name ?? `${os.hostname()}/${process.pid}`;
    this.keys = new KeyCache(opts.maxKeys);
    this.witnessFn = opts.witnessFn ?? ((wasm, input) => wasmWitness(wasm, input));
    this.progress = opts.progress ?? silent;
  }

  async prove(job: ProofJob): Promise<ProofResult> {
    if (this.closed) throw new FlavumError(`prover ${this.name} is closed; job ${job.id} was not proven`, "PROVER_CLOSED");
    const key = await this.keys.get(job.circuit);
    const keyWarm = key.uses++ > 0;
    const curveWarm = await warmCurve(String(key.vkey.curve ?? "bn128"));
    const w = await this.witnessFn(job.circuit.wasm, job.input, job.circuit);
    const logger = snarkjsLogger(this.progress, "prove");
    const start = performance.now();
    const { proof, publicSignals } = await proveGroth16({ type: "mem", data: key.zkey }, { type: "mem", data: w.wtns }, logger);
    const proveMs = performance.now() - start;
    if (!(await snarkjs.groth16.verify(key.vkey, publicSignals, proof, snarkjsLogger(silent)))) throw new ProofRejectedError(job);
    return { proof, publicSignals, witnessMs: w.ms, proveMs, worker: this.name, warm: keyWarm && curveWarm };
  }

  /** Drops the keys held in memory. The curve stays: it is shared by the process (shutdown() ends it). */
  async close(): Promise<void> {
    this.closed = true;
    this.keys.clear();
  }
}

/** Builds the curve unless it is already in its global slot (warm: returns true). */
async function warmCurve(name: string): Promise<boolean> {
  const norm = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  const slot = CURVE_SLOTS[norm];
  if (!slot) throw new FlavumError(`the verifying key names curve "${name}", which snarkjs does not support`, "BAD_KEY");
  if ((globalThis as unknown as Record<string, unknown>)[slot]) return true;
  let pending = building.get(slot);
  if (!pending) {
    pending = snarkjs.curves.getCurveFromName(norm === "bls12381" ? "bls12381" : "bn128").finally(() => building.delete(slot));
    building.set(slot, pending);
  }
  await pending;
  return false;
}
