/**
 * Everything the rollup's off-chain code says to a ledger. The EVM adapter (evmRollup.ts) serves any
 * EVM chain; another ledger is another implementation of this interface plus a contract port.
 */
import type { SolidityCalldata } from "../zk";
import type { TraceStoreMode } from "../traceStore/commitment";

export interface RollupState {
  chainId: bigint;
  rollup: string;
  /** The rollup's domain id (what its proofs bind) and this chain's tag in it (src/protocol/domain.ts). */
  domain: bigint;
  chainTag: number;
  /** Where the deployment posts batch traces (calldata when absent). */
  traceStore?: TraceStoreMode;
}

/** One model's trace tree on the ledger: its root, next free leaf, batches settled and rollovers. */
export interface ModelTraceState {
  root: bigint;
  nextLeaf: bigint;
  batches: bigint;
  epoch: bigint;
}

/** An on-chain request's status, as IFlavumInference.RequestStatus numbers it. */
export const REQUEST_STATUS = ["none", "pending", "included", "fulfilled", "cancelled", "rejected", "authorizing"] as const;
export type OnchainRequestStatus = (typeof REQUEST_STATUS)[number];

export interface ModelRegistration {
  weightsHash: bigint;
  architectureHash: string;
  circuitHash: string;
  vkHash: string;
  inputShape: number[];
  outputShape: number[];
  inputScale: number;
  outputScale: number;
  /** Signed width of each quantized input value: with inputShape and inputScale, what a dApp needs to encode and hash an input. */
  inputBits: number;
  outputBits: number;
  outputCount: number;
  hasLabel: boolean;
  uri: string;
  /** The verifiers, fixed at registration: one per batch size. */
  verifiers: { batchSize: number; address: string }[];
  /**
   * A model published from a repository commit (`ModelRegistry.publish`): the registry checks the
   * weightsHash is the commit's, and `contributorBps` of every inference fee goes to its contributors.
   */
  provenance?: { repository: string; repoId: bigint; commitId: bigint; contributorBps: number };
}

export interface BatchSubmission {
  modelId: bigint;
  batchSize: number;
  count: number;
  newRoot: bigint;
  batchRoot: bigint;
  proof: Omit<SolidityCalldata, "pub">;
  trace: Uint8Array;
  /** The proven RLC of the entries (public input h): sent as is when the trace is posted outside calldata. */
  h?: bigint;
}

export interface SettledBatchEvent {
  /** The rollup's id of the batch: modelId << 64 | modelBatch. */
  batchId: bigint;
  modelId: bigint;
  /** The model's own batch number (the one its proof binds). */
  modelBatch: bigint;
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
  /** The batch that proves it (needed for requests in blob or IPFS batches, delivered by fulfillFromBatch). */
  batchId?: bigint;
}

/** A transaction as sent: hash, sender and nonce (so its fate can be told and a replacement can reuse the nonce). */
export interface SentTx {
  hash: string;
  nonce?: number;
  from?: string;
}

/**
 * How a sent transaction stands. "pending": not mined yet and it may still be (never resend it);
 * "dropped": it can never be mined (unknown to the node, its nonce used by another transaction).
 */
export type TxOutcome =
  | { status: "ok"; gasUsed: bigint; block: number }
  | { status: "failed"; block: number }
  | { status: "pending"; waitedMs: number; nonce?: number }
  | { status: "dropped"; nonce: number };

export interface WaitTxOptions {
  /** 0 checks once without waiting; default the ledger's timeout (FLAVUM_TX_TIMEOUT_MS, 10 min). */
  timeoutMs?: number;
  /** What the transaction does, for progress lines. */
  what?: string;
  progress?: (msg: string) => void;
}

export interface RollupLedger {
  readonly network: string;
  state(): Promise<RollupState>;
  modelTrace(modelId: bigint): Promise<ModelTraceState>;
  registerModel(m: ModelRegistration): Promise<{ modelId: bigint; txHash: string }>;
  deployVerifier(contract: string, key: string, buildId: string): Promise<string>;
  verifierOf(modelId: bigint, batchSize: number): Promise<string | undefined>;
  /**
   * Sends a batch and returns as soon as it is broadcast, so its hash and nonce can be recorded
   * first. With `replacing`, a deliberate replacement: the same nonce as that pending transaction and
   * higher fees, so at most one of the two is ever mined.
   */
  sendBatch(b: BatchSubmission, replacing?: SentTx): Promise<SentTx>;
  /** Waits (with a timeout) until the transaction is mined or can no longer be. */
  waitTx(tx: string | SentTx, opts?: WaitTxOptions): Promise<TxOutcome>;
  /** The settlement history over every batch settled here (src/protocol/history.ts): root and count. */
  history(): Promise<{ root: bigint; batches: number }>;
  /** The chains the admin lists as settling this rollup's domain. */
  settlements(): Promise<{ chainId: bigint; rollup: string; tag: number }[]>;
  /** Settled batches, all or one model's, in settlement order. */
  settledBatches(modelId?: bigint): Promise<SettledBatchEvent[]>;
  verifyInference(batchId: bigint, p: InferenceProof): Promise<boolean>;
  /** Requests made on chain, all or those in blocks [fromBlock, toBlock]. */
  onchainRequests(range?: { fromBlock: number; toBlock: number }): Promise<OnchainRequest[]>;
  /** The chain's latest block: where an incremental scan of requests stops. */
  blockNumber(): Promise<number>;
  requestStatus(requestId: bigint): Promise<OnchainRequestStatus>;
  /** Refuses a request that cannot be proven; the ledger refunds its fee. */
  rejectRequest(requestId: bigint, reason: string): Promise<string>;
  /** Delivers an included request's proven result (its callback runs). */
  fulfill(requestId: bigint, p: InferenceProof): Promise<string>;
}
