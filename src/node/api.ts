/**
 * The node's JSON API (docs/openapi.json describes it): status, the EIP-712 domain to sign requests
 * with, signed inference requests, one request with the inclusion proof `verifyInference` takes,
 * models, batches, data points, repositories and a stream of events. Every value a contract takes
 * is a decimal string, exactly as the contract gets it.
 */
import { getAddress, toBeHex, type Contract } from "ethers";
import { FlavumError, InputError } from "../errors";
import { signedRequestId, type Sequencer, type TraceReport } from "../rollup/sequencer";
import type { BatchRow } from "../rollup/store";
import type { TraceEntry } from "../rollup/batchWitness";
import type { InferenceProof } from "../chain/ledger";
import { DATA_POINT_OP_TYPES, INFERENCE_REQUEST_TYPES, requestDomain, requestSigner, stateDomain } from "../protocol/signedRequest";
import { parseDataPointOp, relayDataPointOp } from "./dataPointOps";
import type { EvmStateLedger } from "../chain/evmState";
import type { EvmRepoLedger } from "../chain/evmRepos";
import { rebuilt, showDataPoint } from "../rollup/dataPoints";
import { eventStream, HttpError, Route, STREAMED } from "./http";
import type { NodeEvent, Pipeline } from "./pipeline";

export interface ApiContext {
  seq: Sequencer;
  chainId: bigint;
  rollup: string;
  registry: Contract;
  rollupContract: Contract;
  /** The chain's JSON-RPC URL as the explorer reaches it (for its on-chain check). */
  rpcUrl?: string;
  network: string;
  pipeline?: Pipeline;
  state?: EvmStateLedger;
  repos?: EvmRepoLedger;
  readOnly: boolean;
  batchTimeoutMs?: number;
  openapi: unknown;
}

const dec = (what: string, v: unknown): bigint => {
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v !== "string" || !/^-?[0-9]+$/.test(v)) throw new InputError(`${what} must be an integer as a decimal string, got ${JSON.stringify(v)}`);
  return BigInt(v);
};

const idParam = (what: string, v: string): bigint => {
  if (!/^[0-9]+$/.test(v)) throw new HttpError(400, `${what} must be a non-negative integer, got "${v}"`);
  return BigInt(v);
};

const limitOf = (q: URLSearchParams): number => {
  const v = q.get("limit");
  if (v === null) return 50;
  if (!/^[0-9]+$/.test(v) || +v < 1 || +v > 500) throw new HttpError(400, `limit must be 1..500, got "${v}"`);
  return +v;
};

function batchView(b: BatchRow, withEntries: boolean) {
  const entries = b.entries as TraceEntry[];
  return {
    localId: b.localId, batchId: b.batchId?.toString() ?? null, modelId: b.modelId.toString(), batchNumber: b.batchNumber.toString(),
    batchSize: b.batchSize, count: b.count, status: b.status, firstLeaf: b.firstLeaf.toString(),
    oldRoot: b.oldRoot.toString(), newRoot: b.newRoot.toString(), batchRoot: b.batchRoot.toString(),
    txHash: b.txHash, gasUsed: b.gasUsed?.toString() ?? null, proveMs: Math.round(b.proveMs),
    ...(withEntries && {
      entries: entries.map((e) => ({ index: e.index, requestId: String(e.requestId), inputHash: String(e.inputHash), outputWord: String(e.outputWord), label: e.label })),
    }),
  };
}

/** The sequencer's inclusion proof as the arguments of FlavumRollup.verifyInference(batchId, entry, index, path). */
function inclusionArgs(p: InferenceProof) {
  return {
    batchId: String(p.batchId),
    entry: { modelId: String(p.modelId), requestId: String(p.requestId), inputHash: String(p.inputHash), outputWord: String(p.outputWord) },
    index: p.index,
    path: p.path.map(String),
  };
}

export function apiRoutes(ctx: ApiContext): Route[] {
  const { seq } = ctx;
  const domain = requestDomain(ctx.chainId, ctx.rollup);
  return [
    {
      method: "GET", path: "/api/status",
      handler: async () => ({
        network: ctx.network, chainId: ctx.chainId.toString(), rollup: ctx.rollup, registry: await ctx.registry.getAddress(),
        state: ctx.state?.address ?? null, repositories: ctx.repos ? await ctx.repos.contract.getAddress() : null,
        rpcUrl: ctx.rpcUrl ?? null, readOnly: ctx.readOnly, batchTimeoutMs: ctx.batchTimeoutMs ?? null,
        traceStore: (await seq.ledger.state()).traceStore ?? "calldata",
        pending: seq.store.pendingCount(), inflight: seq.store.inflightBatches().length,
        models: seq.store.models().length,
      }),
    },
    {
      method: "GET", path: "/api/eip712",
      handler: async () => ({
        domain: { ...domain, chainId: ctx.chainId.toString() }, types: INFERENCE_REQUEST_TYPES, primaryType: "InferenceRequest",
        ...(ctx.state && { dataPoints: { domain: { ...stateDomain(ctx.chainId, ctx.state.address), chainId: ctx.chainId.toString() }, types: DATA_POINT_OP_TYPES } }),
      }),
    },
    { method: "GET", path: "/openapi.json", handler: async () => ctx.openapi },
    {
      method: "GET", path: "/api/models",
      handler: async () => Promise.all(seq.store.models().map((m) => modelView(ctx, m.modelId))),
    },
    { method: "GET", path: "/api/models/:id", handler: async (r) => modelView(ctx, idParam("model id", r.params.id)) },
    {
      method: "POST", path: "/api/requests",
      handler: async (r) => {
        if (ctx.readOnly) throw new HttpError(403, "this node is read-only: it serves proofs but takes no requests", "READ_ONLY");
        const b = r.body as Record<string, unknown> | undefined;
        if (!b || typeof b !== "object") throw new HttpError(400, `send {"modelId","input":[…],"nonce","deadline","signature"} as JSON`);
        if (!Array.isArray(b.input)) throw new InputError(`input must be an array of the quantized input values as decimal strings`);
        if (typeof b.signature !== "string") throw new InputError(`signature must be the EIP-712 signature (hex) of the InferenceRequest; GET /api/eip712 gives the domain and types`);
        const msg = { modelId: dec("modelId", b.modelId), inputHash: dec("inputHash", b.inputHash), nonce: dec("nonce", b.nonce), deadline: dec("deadline", b.deadline) };
        const signer = requestSigner(domain, msg, b.signature);
        // A resend of a request accepted before its deadline gets its id, whenever it comes.
        if (!seq.store.getRequest(signedRequestId(signer, msg.nonce)) && msg.deadline < BigInt(Math.floor(Date.now() / 1000)))
          throw new FlavumError(`the request's deadline ${msg.deadline} has passed; sign it again with a later deadline`, "BAD_SIGNATURE");
        if (b.signer !== undefined && String(b.signer).toLowerCase() !== signer.toLowerCase())
          throw new FlavumError(`the signature is by ${signer}, not by the given signer ${b.signer}: it was signed over other values or another domain`, "BAD_SIGNATURE");
        const values = (b.input as unknown[]).map((v, i) => dec(`input[${i}]`, v));
        const { id, duplicate } = await seq.requestSigned(msg.modelId.toString(), values, { inputHash: msg.inputHash, signer, nonce: msg.nonce, signature: b.signature });
        if (!duplicate) {
          ctx.pipeline?.event("request.accepted", { requestId: id.toString(), modelId: msg.modelId.toString(), signer });
          ctx.pipeline?.wake();
        }
        return { requestId: id.toString(), signer, duplicate };
      },
    },
    {
      method: "GET", path: "/api/requests",
      handler: async (r) => {
        const model = r.query.get("model");
        return seq.store.recentRequests(limitOf(r.query), model ? idParam("model", model) : undefined).map((x) => ({
          requestId: x.id.toString(), modelId: x.modelId.toString(), status: x.status, createdAt: x.createdAt, reason: x.reason,
          batchLocalId: x.batchLocalId, index: x.entryIndex,
        }));
      },
    },
    { method: "GET", path: "/api/requests/:id", handler: async (r) => requestView(ctx, idParam("request id", r.params.id)) },
    {
      method: "GET", path: "/api/batches",
      handler: async (r) => {
        const model = r.query.get("model");
        return seq.store.recentBatches(limitOf(r.query), model ? idParam("model", model) : undefined).map((b) => batchView(b, false));
      },
    },
    {
      method: "GET", path: "/api/batches/:id",
      handler: async (r) => {
        const b = seq.store.batchById(idParam("batch id", r.params.id));
        if (!b) throw new HttpError(404, `no settled batch ${r.params.id} on this node (GET /api/batches lists them)`);
        return { ...batchView(b, true), traceStore: (await seq.ledger.state()).traceStore ?? "calldata" };
      },
    },
    {
      method: "GET", path: "/api/datapoints",
      handler: async () => {
        if (!ctx.state) return [];
        const s = await rebuilt(ctx.state);
        return [...s.tree.dataPoints()].map(([id, d]) => ({
          dataPoint: id.toString(), owner: toBeHex(d.owner, 20), kind: d.kind === 1 ? "common" : "owned", contentHash: d.contentHash.toString(),
          balance: d.balance.toString(), asset: d.asset === 0n ? "ETH" : toBeHex(d.asset, 20),
        }));
      },
    },
    {
      method: "GET", path: "/api/datapoints/:id",
      handler: async (r) => {
        if (!ctx.state) throw new HttpError(404, "this rollup has no data-point state");
        return showDataPoint(ctx.state.hre, ctx.state, ctx.rollupContract, idParam("data point id", r.params.id));
      },
    },
    {
      method: "POST", path: "/api/datapoints/ops",
      handler: async (r) => {
        if (ctx.readOnly) throw new HttpError(403, "this node is read-only: it relays no operations", "READ_ONLY");
        if (!ctx.state) throw new HttpError(404, "this rollup has no data-point state");
        const op = parseDataPointOp(r.body);
        const out = await relayDataPointOp(ctx.state, op);
        ctx.pipeline?.event("datapoint.op", { op: op.op, dataPoint: op.dpId.toString(), owner: op.owner, opIndex: out.opIndex, txHash: out.txHash });
        ctx.pipeline?.wake();
        return { ...out, op: op.op, dataPoint: op.dpId.toString(), owner: op.owner };
      },
    },
    { method: "GET", path: "/api/repositories", handler: async () => (ctx.repos ? repositories(ctx.repos) : []) },
    {
      method: "GET", path: "/api/events",
      handler: async (_r, res) => {
        if (!ctx.pipeline) throw new HttpError(404, "this node runs no pipeline, so it has no events");
        const p = ctx.pipeline;
        const listener = (e: NodeEvent) => write(e.type, e);
        const write = eventStream(res, () => p.off("event", listener));
        p.on("event", listener);
        return STREAMED;
      },
    },
  ];
}

async function modelView(ctx: ApiContext, modelId: bigint) {
  const m = ctx.seq.store.model(modelId.toString());
  if (!m) throw new HttpError(404, `model ${modelId} is not served by this node (GET /api/models lists them)`);
  const [c, shape, sizes] = await Promise.all([ctx.registry.commitmentOf(modelId), ctx.registry.shapeOf(modelId), ctx.registry.batchSizesOf(modelId)]);
  const verifiers = await Promise.all((sizes as bigint[]).map(async (b) => ({
    batchSize: Number(b), address: await ctx.registry.verifierOf(modelId, b), codeHash: await ctx.registry.verifierCodeHashOf(modelId, b),
  })));
  const trace = await ctx.seq.ledger.modelTrace(modelId);
  return {
    modelId: modelId.toString(), name: m.name, batchSize: m.batchSize, verifiers,
    commitment: { weightsHash: c.weightsHash, architectureHash: c.architectureHash, circuitHash: c.circuitHash, vkHash: c.vkHash, proofSystem: c.proofSystem },
    shape: { inputShape: [...shape.inputShape].map(Number), outputShape: [...shape.outputShape].map(Number), inputScale: Number(shape.inputScale), outputScale: Number(shape.outputScale), inputBits: Number(shape.inputBits), outputBits: Number(shape.outputBits), outputCount: Number(shape.outputCount), hasLabel: shape.hasLabel },
    trace: { root: trace.root.toString(), nextLeaf: trace.nextLeaf.toString(), batches: trace.batches.toString() },
    // What this node checked of the model itself: its local build matches the registered keys.
    audit: { servedVkHash: m.vkHash ?? null, circuitHash: m.circuitHash ?? null, command: `npx hardhat model:audit --id ${modelId}` },
  };
}

async function requestView(ctx: ApiContext, id: bigint): Promise<TraceReport & Record<string, unknown>> {
  if (!ctx.seq.store.getRequest(id)) throw new HttpError(404, `no request ${id} on this node`);
  const t = await ctx.seq.trace(id);
  const r = ctx.seq.store.getRequest(id)!;
  const signed = ctx.seq.store.signerOf(id);
  const out: TraceReport & Record<string, unknown> = { ...t, ...(signed && { signer: getAddress(signed.signer), nonce: signed.nonce.toString() }) };
  if (r.batchLocalId !== null) {
    const b = ctx.seq.store.getBatch(r.batchLocalId)!;
    if (b.status === "settled" && b.batchId !== null) out.proof = inclusionArgs(ctx.seq.inclusion(b, (b.entries as TraceEntry[])[r.entryIndex!]));
  }
  return out;
}

/** Every repository with its branches and commit graph (parents, metrics), from the contract's views. */
async function repositories(repos: EvmRepoLedger) {
  const created = await repos.contract.queryFilter(repos.contract.filters.RepositoryCreated());
  const out = [];
  for (const e of created) {
    const a = (e as unknown as { args: { repoId: bigint; owner: string } }).args;
    const id = a.repoId;
    const r = await repos.repository(id);
    const commits = await Promise.all((await repos.commitsOf(id)).map((c) => repos.commit(c)));
    out.push({
      repoId: id.toString(), name: r.name, owner: a.owner, uri: r.uri,
      branches: (await repos.branches(id)).map((b) => ({ name: b.name, head: b.head.toString() })),
      commits: commits.map((c) => ({
        id: c.id.toString(), author: c.author, kind: c.kind, status: c.status, branch: c.branch, parents: c.parents.map(String),
        weightsHash: c.weightsHash.toString(), samples: c.samples, correct: c.correct, accuracy: c.samples ? c.correct / c.samples : null,
      })),
    });
  }
  return out;
}
