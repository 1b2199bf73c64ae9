/**
 * The shapes of the node's JSON API as the explorer reads them (docs/openapi.json is the contract).
 * Integers a contract takes arrive as decimal strings and stay strings here: the page displays them
 * and hands them back to the chain unchanged, so nothing is ever rounded through a JS number.
 */

export interface Status {
  network: string;
  chainId: string;
  rollup: string;
  registry: string;
  state: string | null;
  repositories: string | null;
  rpcUrl: string | null;
  readOnly: boolean;
  batchTimeoutMs: number | null;
  traceStore: string;
  pending: number;
  inflight: number;
  models: number;
}

export interface Verifier {
  batchSize: number;
  address: string;
  codeHash: string;
}

export interface Model {
  modelId: string;
  name: string;
  batchSize: number;
  verifiers: Verifier[];
  commitment: Record<string, string>;
  shape: {
    inputShape: number[];
    outputShape: number[];
    inputScale: number;
    outputScale: number;
    inputBits: number;
    outputBits: number;
    outputCount: number;
    hasLabel: boolean;
  };
  trace: { root: string; nextLeaf: string; batches: string };
  audit: { servedVkHash: string | null; circuitHash: string | null; command: string };
}

export interface BatchEntry {
  index: number;
  requestId: string;
  inputHash: string;
  outputWord: string;
  label: number;
}

export interface Batch {
  localId: number;
  batchId: string | null;
  modelId: string;
  batchNumber: string;
  batchSize: number;
  count: number;
  status: string;
  firstLeaf: string;
  oldRoot: string;
  newRoot: string;
  batchRoot: string;
  txHash: string | null;
  gasUsed: string | null;
  proveMs: number;
  traceStore?: string;
  entries?: BatchEntry[];
}

export interface RequestSummary {
  requestId: string;
  modelId: string;
  status: string;
  createdAt: string;
  reason: string | null;
  batchLocalId?: number | null;
  index?: number | null;
}

/** The arguments of FlavumRollup.verifyInference(batchId, entry, index, path), as the node gives them. */
export interface InclusionProof {
  batchId: string;
  entry: { modelId: string; requestId: string; inputHash: string; outputWord: string };
  index: number;
  path: string[];
}

export interface InferenceRequest {
  requestId: string;
  modelId: string;
  status: string;
  reason?: string;
  inputHash?: string;
  output?: number[];
  label?: number;
  outputWord?: string;
  batch?: string;
  index?: number;
  batchRoot?: string;
  stateRoot?: string;
  txHash?: string | null;
  path?: string[];
  verified: boolean;
  signer?: string;
  nonce?: string;
  proof?: InclusionProof;
}

export interface DataPointSummary {
  dataPoint: string;
  owner: string;
  kind: string;
  contentHash: string;
  balance: string;
  asset: string;
}

export interface DataPoint extends Omit<DataPointSummary, "owner"> {
  owner: string | null;
  location: string;
  results: { modelId: string; label: number; output: string; batch: string; verified: boolean }[];
}

export interface Commit {
  id: string;
  author: string;
  /** IModelRepository.CommitKind as its number. */
  kind: number;
  /** IModelRepository.CommitStatus as its number. */
  status: number;
  branch: string;
  parents: string[];
  weightsHash: string;
  samples: number;
  correct: number;
  accuracy: number | null;
}

export interface Repository {
  repoId: string;
  name: string;
  owner: string;
  uri: string;
  branches: { name: string; head: string }[];
  commits: Commit[];
}

/** One server-sent event: its type, when, and what it is about. */
export interface NodeEvent {
  type: string;
  at: string;
  [k: string]: unknown;
}
