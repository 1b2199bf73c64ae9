/**
 * The node's API as the page calls it: same origin (the node serves this page), JSON in and out,
 * and an error that carries the node's own {code, message} so a view can show the reason verbatim.
 */
import type { Batch, DataPoint, DataPointSummary, InferenceRequest, Model, Repository, RequestSummary, Status } from "./types";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function get<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: "application/json" } });
  } catch (e) {
    throw new ApiError(0, "UNREACHABLE", `the node did not answer ${path} (${(e as Error).message})`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(res.status, "BAD_JSON", `the node answered ${path} with something that is not JSON (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? "HTTP", err?.message ?? `HTTP ${res.status} from ${path}`);
  }
  return body as T;
}

const id = (v: string) => encodeURIComponent(v);

export const api = {
  status: () => get<Status>("/api/status"),
  models: () => get<Model[]>("/api/models"),
  model: (modelId: string) => get<Model>(`/api/models/${id(modelId)}`),
  batches: (limit = 50) => get<Batch[]>(`/api/batches?limit=${limit}`),
  batch: (batchId: string) => get<Batch>(`/api/batches/${id(batchId)}`),
  requests: (limit = 50) => get<RequestSummary[]>(`/api/requests?limit=${limit}`),
  request: (requestId: string) => get<InferenceRequest>(`/api/requests/${id(requestId)}`),
  dataPoints: () => get<DataPointSummary[]>("/api/datapoints"),
  dataPoint: (dpId: string) => get<DataPoint>(`/api/datapoints/${id(dpId)}`),
  repositories: () => get<Repository[]>("/api/repositories"),
};

export type Api = typeof api;
