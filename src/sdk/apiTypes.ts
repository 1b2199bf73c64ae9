/**
 * The JSON a Flavum node's API answers and takes (docs/openapi.json is the contract), declared once
 * for every reader of it: the SDK's client (src/sdk/client.ts, re-exported by @flavum/sdk) and the
 * explorer page (explorer/src/types.ts).
 *
 * Types only, and no import of any kind: the explorer's browser bundle and its tsconfig (DOM, no
 * Node types) reach this file as well as the SDK package, so nothing here may need either side.
 *
 * Integers a contract takes arrive as decimal strings and stay strings: nothing is ever rounded
 * through a JS number on the way back to the chain.
 */

/** An integer as the API carries it: a decimal string, exactly as the contract takes it. */
export type Dec = string;

/** Where the deployment posts batch traces. */
export type TraceStoreKind = "calldata" | "blob" | "ipfs";

/** GET /api/status */
export interface NodeStatus {
  network: string;
  chainId: Dec;
  rollup: string;
  registry: string;
  state: string | null;
  repositories: string | null;
  rpcUrl: string | null;
  readOnly: boolean;
  batchTimeoutMs: number | null;
  traceStore: TraceStoreKind;
  pending: number;
  inflight: number;
  models: number;
}

/** GET /api/eip712: the domain and types inference requests are signed with. */
export interface Eip712Info {
  domain: { name: string; version: string; chainId: Dec; verifyingContract: string };
  types: Record<string, { name: string; type: string }[]>;
  primaryType: "InferenceRequest";
}

/** A model's registered input and output layout (the registry's ModelShape). */
export interface ModelShape {
  inputShape: number[];
  outputShape: number[];
  inputScale: number;
  outputScale: number;
  inputBits: number;
  outputBits: number;
  outputCount: number;
  hasLabel: boolean;
}

/** One of a model's verifiers, fixed at registration: one per batch size. */
export interface ModelVerifier {
  batchSize: number;
  address: string;
  codeHash: string;
}

/** GET /api/models, /api/models/:id */
export interface NodeModel {
  modelId: Dec;
  name: string;
  batchSize: number;
  verifiers: ModelVerifier[];
  commitment: { weightsHash: string; architectureHash: string; circuitHash: string; vkHash: string; proofSystem: string };
  shape: ModelShape;
  trace: { root: Dec; nextLeaf: Dec; batches: Dec };
  audit: { servedVkHash: string | null; circuitHash: string | null; command: string };
}

export type RequestStatus = "pending" | "batched" | "settled" | "rejected" | "closed";

/** The arguments of FlavumRollup.verifyInference(batchId, entry, index, path), as the node serves them. */
export interface InclusionProof {
  batchId: Dec;
  entry: { modelId: Dec; requestId: Dec; inputHash: Dec; outputWord: Dec };
  index: number;
  path: Dec[];
}

/** What the sequencer and the ledger say about one request: the part of a RequestView that is not about its signer. */
export interface RequestTrace {
  requestId: Dec;
  modelId: Dec;
  status: RequestStatus;
  /** Why the node set the request aside (rejected or closed). */
  reason?: string;
  inputHash?: Dec;
  /** Dequantized outputs and the class label, as the node reads the proven output word. */
  output?: number[];
  label?: number;
  outputWord?: Dec;
  batch?: Dec;
  index?: number;
  batchRoot?: Dec;
  stateRoot?: Dec;
  txHash?: string | null;
  path?: Dec[];
  /** The node asked the rollup and it confirmed the entry (check it yourself with verifyOnChain). */
  verified: boolean;
}

/** GET /api/requests/:id */
export interface RequestView extends RequestTrace {
  /** A signed request's signer and nonce. */
  signer?: string;
  nonce?: Dec;
  /** Once its batch is settled. */
  proof?: InclusionProof;
}

/** GET /api/requests: the latest requests, newest first. */
export interface RequestSummary {
  requestId: Dec;
  modelId: Dec;
  status: RequestStatus;
  createdAt: string;
  reason: string | null;
  batchLocalId: number | null;
  index: number | null;
}

export type BatchStatus = "planned" | "proven" | "submitting" | "settled";

/** One inference of a batch, in its leaf order. */
export interface BatchEntry {
  index: number;
  requestId: Dec;
  inputHash: Dec;
  outputWord: Dec;
  label: number;
}

/** GET /api/batches (without entries), /api/batches/:id (with them). */
export interface BatchView {
  localId: number;
  batchId: Dec | null;
  modelId: Dec;
  batchNumber: Dec;
  batchSize: number;
  count: number;
  status: BatchStatus;
  firstLeaf: Dec;
  oldRoot: Dec;
  newRoot: Dec;
  batchRoot: Dec;
  txHash: string | null;
  gasUsed: Dec | null;
  proveMs: number;
  traceStore?: string;
  entries?: BatchEntry[];
}

/** The body POST /api/requests takes. */
export interface SignedInferenceRequest {
  modelId: Dec;
  inputHash: Dec;
  input: Dec[];
  nonce: Dec;
  deadline: Dec;
  signature: string;
  /** Who the sender says signed: the node refuses the request if the signature is by someone else. */
  signer?: string;
}

/** POST /api/requests's answer. */
export interface Accepted {
  requestId: Dec;
  signer: string;
  duplicate: boolean;
}
