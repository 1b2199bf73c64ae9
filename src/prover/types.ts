/**
 * The proving interface the rollup talks to, whether the proof is made in this process or by a
 * worker on another machine behind a job queue: one shape, so the sequencer need not care which.
 */
import type { Groth16Proof } from "../zk/snarkjs";

export interface CircuitRef {
  wasm: string;
  zkey: string;
  vkey: string;
  /** sha256 of the zkey file: a worker on another machine checks it has the same key */
  zkeyHash: string;
}

export interface ProofJob {
  /** Names the proof for the queue's idempotence: the same id is proven once. */
  id: string;
  circuit: CircuitRef;
  /** Circuit input; bigints are allowed and travel as decimal strings in job data. */
  input: Record<string, unknown>;
}

export interface ProofResult {
  proof: Groth16Proof;
  publicSignals: string[];
  witnessMs: number;
  proveMs: number;
  /** Who proved it (host/pid, or a configured name). */
  worker: string;
  /** False for the first proof of a circuit in the proving process (keys and curve loaded then). */
  warm: boolean;
}

export interface Prover {
  prove(job: ProofJob): Promise<ProofResult>;
  close(): Promise<void>;
}
