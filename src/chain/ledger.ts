/**
 * Everything the rollup's off-chain code says to a ledger. The EVM adapter (evmRollup.ts) serves any
 * EVM chain; another ledger is another implementation of this interface plus a contract port.
 */
import type { SolidityCalldata } from "../zk";

export interface RollupState {
  stateRoot: bigint;
  nextLeaf: bigint;
  batchCount: bigint;
  chainId: bigint;
  rollup: string;
}

export interface ModelRegistration {
  weightsHash: bigint;
  architectureHash: string;
  circuitHash: string;
  vkHash: string;
  inputShape: number[];
  outputShape: number[];
  inputScale: number;
  outputScale: number;
  outputBits: number;
  outputCount: number;
  hasLabel: boolean;
  uri: string;
}

export interface BatchSubmission {
  modelId: bigint;
  batchSize: number;
  count: number;
  newRoot: bigint;
  batchRoot: bigint;
  proof: Omit<SolidityCalldata, "pub">;
  trace: Uint8Array;
}

export interface SettledBatchEvent {
  batchId: bigint;
  modelId: bigint;
  firstLeaf: bigint;
  count: number;
  batchSize: number;
  oldRoot: bigint;
  newRoot: bigint;
  batchRoot: bigint;
  txHash: string;
}

export interface OnchainRequest {
  requestId: bigint;
  modelId: bigint;
  inputHash: bigint;
  input: string;
  callback: string;
}

export interface InferenceProof {
  modelId: bigint;
  requestId: bigint;
  inputHash: bigint;
  outputWord: bigint;
  index: number;
  path: bigint[];
}

export type TxOutcome = { status: "ok"; gasUsed: bigint; block: number } | { status: "failed" | "unknown" };

export interface RollupLedger {
  readonly network: string;
  state(): Promise<RollupState>;
  registerModel(m: ModelRegistration): Promise<{ modelId: bigint; txHash: string }>;
  deployVerifier(contract: string, key: string, buildId: string): Promise<string>;
  setVerifier(modelId: bigint, batchSize: number, verifier: string): Promise<void>;
  verifierOf(modelId: bigint, batchSize: number): Promise<string | undefined>;
  /** Sends a batch and returns as soon as it is broadcast, so its hash can be recorded first. */
  sendBatch(b: BatchSubmission): Promise<string>;
  waitTx(txHash: string): Promise<TxOutcome>;
  settledBatches(): Promise<SettledBatchEvent[]>;
  verifyInference(batchId: bigint, p: InferenceProof): Promise<boolean>;
  onchainRequests(): Promise<OnchainRequest[]>;
  fulfill(requestId: bigint, batchId: bigint, p: InferenceProof): Promise<string>;
}
