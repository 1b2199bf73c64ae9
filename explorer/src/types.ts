/**
 * The shapes of the node's JSON API as the explorer reads them (docs/openapi.json is the contract).
 * Those the SDK's client reads too are declared once, in src/sdk/apiTypes.ts (types only, no import:
 * the bundle takes nothing from it), under the names the explorer's code uses.
 * Integers a contract takes arrive as decimal strings and stay strings here: the page displays them
 * and hands them back to the chain unchanged, so nothing is ever rounded through a JS number.
 */

export type {
  NodeStatus as Status,
  NodeModel as Model,
  ModelVerifier as Verifier,
  BatchView as Batch,
  BatchEntry,
  RequestSummary,
  RequestView as InferenceRequest,
  InclusionProof,
} from "../../src/sdk/apiTypes";

/** The shapes only the explorer reads (data points, model repositories, the event stream). */

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
