/**
 * Proving as a service: one Prover interface, an in-process warm prover, and a BullMQ queue with
 * workers so batch proofs scale out across processes and machines.
 */
export type { CircuitRef, ProofJob, ProofResult, Prover } from "./types";
export { circuitRef, fileSha256 } from "./circuitRef";
export { WarmProver, ProofRejectedError } from "./warmProver";
export type { WarmProverOptions, WitnessFn } from "./warmProver";
export { ProvingKeyError } from "./keyCache";
export { QueueProver } from "./queue";
export type { QueueProverOptions } from "./queue";
export { startProverWorker, DEFAULT_LOCK_MS } from "./worker";
export type { ProverWorker, ProverWorkerOptions } from "./worker";
export { DEFAULT_QUEUE, DEFAULT_REDIS_URL } from "./connection";
