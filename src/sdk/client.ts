/**
 * For dApp developers: a typed client of a Flavum node's JSON API (docs/openapi.json). It signs
 * inference requests (EIP-712, over the domain the node names, checked against the chain and rollup
 * the caller expects), sends them, waits for their proofs and checks those proofs on chain. The node
 * is trusted for nothing but liveness: a proof it hands out means something only once the rollup
 * contract says true to it, which `verifyOnChain` asks.
 *
 * Runs wherever `fetch` does (Node 18+, browsers); it needs no file and no Hardhat.
 */
import { getAddress, randomBytes, toBigInt, type ContractRunner, type Signer } from "ethers";
import { FlavumError, InputError } from "../errors";
import { EIP712_NAME, EIP712_VERSION, INFERENCE_REQUEST_TYPES, type InferenceRequestMessage } from "../protocol/signedRequest";
import { encodeQuantized, layoutFromShape, quantizeSample, type InputLayout } from "./encodeInput";
import { IFlavumInference__factory } from "./contracts";
import type { Accepted, BatchView, Eip712Info, InclusionProof, NodeModel, NodeStatus, RequestStatus, RequestSummary, RequestView, SignedInferenceRequest } from "./apiTypes";

/** The node's JSON shapes, declared once for the SDK and the explorer. */
export * from "./apiTypes";

/** An integer as the client takes it from its caller. */
export type IntLike = bigint | number | string;

export type SettledRequest = RequestView & { status: "settled"; proof: InclusionProof };

/** Which deployment the caller means: a node serving another one is refused before anything is signed. */
export interface ExpectedDeployment {
  chainId?: IntLike;
  /** The FlavumRollup address (the EIP-712 verifyingContract). */
  rollup?: string;
}

export interface RequestInput {
  modelId: IntLike;
  /** A float sample, quantized with the model's registered layout... */
  sample?: readonly number[];
  /** ...or values already quantized. */
  values?: readonly IntLike[];
  signer: Signer;
  /** Default: a random 128-bit nonce. Sending the same signer and nonce again returns the same request. */
  nonce?: IntLike;
  /** Unix seconds after which the node refuses the signature; default an hour from now. */
  deadline?: IntLike;
  expect?: ExpectedDeployment;
}

export interface Submitted extends Accepted {
  /** What was sent: resend it as is with `send` to get the same request back. */
  request: SignedInferenceRequest;
}

export interface ClientOptions {
  fetch?: typeof fetch;
  /** Checked against the node's EIP-712 domain before signing, and used by verifyOnChain. */
  expect?: ExpectedDeployment;
  /** Per HTTP call (default 30 s). */
  timeoutMs?: number;
}

export interface WaitOptions {
  /** Default 10 minutes: a batch that is not full waits for the node's batch timeout, then is proven. */
  timeoutMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** Called with each status the request is seen in. */
  onStatus?: (r: RequestView) => void;
}

export const DEFAULT_DEADLINE_SECONDS = 3600;

/** A 4xx/5xx answer of the node ({error:{code,message}}), or the node not answering at all (status 0). */
export class FlavumNodeError extends FlavumError {
  constructor(readonly status: number, code: string, message: string, readonly url?: string) {
    super(message, code);
  }
}

/** A request that will not get a proof (rejected or closed by the node), or did not get one in time. */
export class FlavumRequestError extends FlavumError {
  constructor(
    readonly requestId: string,
    readonly status: RequestStatus | "unknown",
    code: "REQUEST_REJECTED" | "REQUEST_CLOSED" | "PROOF_TIMEOUT",
    message: string,
    readonly reason?: string,
  ) {
    super(message, code);
  }
}

const dec = (what: string, v: IntLike): bigint => {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^-?[0-9]+$/.test(v.trim())) return BigInt(v.trim());
  throw new InputError(`${what} must be an integer (bigint, safe integer or decimal string), got ${JSON.stringify(String(v))}`);
};

/** 128 random bits: two users (or two tabs) never pick the same nonce by accident. */
export function randomNonce(): bigint {
  // ethers' source of randomness, which Node 18 (no global crypto) and browsers both have.
  return toBigInt(randomBytes(16));
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(t);
      reject(signal!.reason ?? new Error("aborted"));
    }
    signal?.addEventListener("abort", abort, { once: true });
  });

export class FlavumNodeClient {
  readonly url: string;
  private readonly fetchFn: typeof fetch;
  private readonly expected?: ExpectedDeployment;
  private readonly timeoutMs: number;
  private eip712Info?: Promise<Eip712Info>;
  /** A model's layout is fixed at registration, so it is read once. */
  private readonly layouts = new Map<string, Promise<InputLayout>>();

  constructor(url: string, opts: ClientOptions = {}) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new InputError(`the node URL must be an http(s) URL like http://127.0.0.1:8480, got "${url}"`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new InputError(`the node URL must be http(s), got "${url}"`);
    this.url = u.toString().replace(/\/+$/, "");
    const f = opts.fetch ?? globalThis.fetch;
    if (typeof f !== "function") throw new InputError(`no fetch in this runtime: pass {fetch} to FlavumNodeClient (Node 18+ and browsers have one)`);
    // Called unbound: a browser's fetch throws when invoked as a method of another object.
    this.fetchFn = (input, init) => f(input, init);
    this.expected = opts.expect;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const where = `${method} ${this.url}${path}`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(this.url + path, {
        method,
        headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // The body can fail too (the node went away mid-answer, the timeout struck): the same cause.
      text = await res.text();
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new FlavumNodeError(0, "UNREACHABLE", `cannot reach the Flavum node at ${this.url} (${cause}): is it running (npx hardhat sequencer:serve)?`, where);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // Not the node's API (a proxy's error page, another service on the port).
      throw new FlavumNodeError(res.status, res.ok ? "BAD_RESPONSE" : `HTTP_${res.status}`, `${where} answered ${res.status} with something that is not JSON: ${text.slice(0, 200)}`, where);
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new FlavumNodeError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `${where} answered ${res.status}`, where);
    }
    return json as T;
  }

  status(): Promise<NodeStatus> {
    return this.call("GET", "/api/status");
  }

  /** The domain and types requests are signed with; the node's answer cannot change while it runs. */
  eip712(): Promise<Eip712Info> {
    this.eip712Info ??= this.call<Eip712Info>("GET", "/api/eip712").catch((e) => {
      this.eip712Info = undefined;
      throw e;
    });
    return this.eip712Info;
  }

  models(): Promise<NodeModel[]> {
    return this.call("GET", "/api/models");
  }

  model(id: IntLike): Promise<NodeModel> {
    return this.call("GET", `/api/models/${dec("model id", id)}`);
  }

  request(id: IntLike): Promise<RequestView> {
    return this.call("GET", `/api/requests/${dec("request id", id)}`);
  }

  requests(opts: { limit?: number; model?: IntLike } = {}): Promise<RequestSummary[]> {
    return this.call("GET", `/api/requests${query(opts)}`);
  }

  batches(opts: { limit?: number; model?: IntLike } = {}): Promise<BatchView[]> {
    return this.call("GET", `/api/batches${query(opts)}`);
  }

  /** A settled batch by its rollup batch id (modelId << 64 | the model's batch number). */
  batch(id: IntLike): Promise<BatchView> {
    return this.call("GET", `/api/batches/${dec("batch id", id)}`);
  }

  /** The model's input layout, from the shape the node read from the registry. */
  layout(modelId: IntLike): Promise<InputLayout> {
    const key = dec("model id", modelId).toString();
    let l = this.layouts.get(key);
    if (!l) {
      l = this.model(key).then((m) => layoutFromShape(m.shape));
      l.catch(() => this.layouts.delete(key));
      this.layouts.set(key, l);
    }
    return l;
  }

  /**
   * The domain to sign over, refused if it is not the deployment the caller expects (a node of
   * another chain or rollup would take the signature nowhere, or somewhere unintended) or not the
   * protocol version this SDK signs.
   */
  async domain(expect: ExpectedDeployment | undefined = this.expected): Promise<{ name: string; version: string; chainId: bigint; verifyingContract: string }> {
    const info = await this.eip712();
    const d = info.domain;
    if (d.name !== EIP712_NAME || d.version !== EIP712_VERSION || !sameTypes(info.types, INFERENCE_REQUEST_TYPES))
      throw new FlavumError(
        `the node at ${this.url} signs requests as ${d.name} version ${d.version} with other fields than this SDK (${EIP712_NAME} version ${EIP712_VERSION}): use the SDK version that matches the node`,
        "PROTOCOL_MISMATCH",
      );
    const chainId = dec("the node's chainId", d.chainId);
    if (expect?.chainId !== undefined && dec("expected chainId", expect.chainId) !== chainId)
      throw new FlavumError(`the node at ${this.url} serves chain ${chainId}, not the expected chain ${expect.chainId}`, "WRONG_DEPLOYMENT");
    if (expect?.rollup !== undefined && getAddress(expect.rollup) !== getAddress(d.verifyingContract))
      throw new FlavumError(`the node at ${this.url} serves rollup ${d.verifyingContract}, not the expected rollup ${expect.rollup}`, "WRONG_DEPLOYMENT");
    return { name: d.name, version: d.version, chainId, verifyingContract: d.verifyingContract };
  }

  /** Encodes and signs a request without sending it (send it with `send`, as often as needed). */
  async signRequest(r: RequestInput): Promise<SignedInferenceRequest> {
    if ((r.sample === undefined) === (r.values === undefined)) throw new InputError(`give either sample (float values) or values (quantized), not ${r.sample ? "both" : "neither"}`);
    const modelId = dec("modelId", r.modelId);
    const [domain, layout] = await Promise.all([this.domain(r.expect ?? this.expected), this.layout(modelId)]);
    const values = r.sample !== undefined ? quantizeSample(layout, r.sample) : r.values!.map((v, i) => dec(`values[${i}]`, v));
    const enc = await encodeQuantized(layout, values);
    const msg: InferenceRequestMessage = {
      modelId,
      inputHash: enc.inputHash,
      nonce: r.nonce === undefined ? randomNonce() : dec("nonce", r.nonce),
      deadline: r.deadline === undefined ? BigInt(Math.floor(Date.now() / 1000) + DEFAULT_DEADLINE_SECONDS) : dec("deadline", r.deadline),
    };
    if (msg.nonce < 0n || msg.deadline < 0n) throw new InputError(`nonce and deadline must be non-negative`);
    const signature = await r.signer.signTypedData(domain, INFERENCE_REQUEST_TYPES, msg);
    return {
      modelId: modelId.toString(), inputHash: msg.inputHash.toString(), input: enc.values.map(String),
      nonce: msg.nonce.toString(), deadline: msg.deadline.toString(), signature, signer: await r.signer.getAddress(),
    };
  }

  /** POSTs a signed request; the same signer and nonce again give the same request (duplicate: true). */
  send(body: SignedInferenceRequest): Promise<Accepted> {
    return this.call("POST", "/api/requests", body);
  }

  async submit(r: RequestInput): Promise<Submitted> {
    const request = await this.signRequest(r);
    return { ...(await this.send(request)), request };
  }

  /**
   * Polls the request until its batch is settled and returns it with its proof; a request the node
   * set aside rejects with the node's reason. A node that does not answer for a while (restarting)
   * is polled again until the timeout, which names the last status seen.
   */
  async waitForProof(requestId: IntLike, opts: WaitOptions = {}): Promise<SettledRequest> {
    const id = dec("request id", requestId).toString();
    const timeoutMs = opts.timeoutMs ?? 600_000;
    const pollMs = opts.pollMs ?? 1000;
    const end = Date.now() + timeoutMs;
    let last: RequestView | undefined;
    let lastError: FlavumNodeError | undefined;
    for (;;) {
      opts.signal?.throwIfAborted();
      try {
        last = await this.request(id);
        lastError = undefined;
        opts.onStatus?.(last);
        if (last.status === "settled" && last.proof) return last as SettledRequest;
        if (last.status === "rejected" || last.status === "closed")
          throw new FlavumRequestError(id, last.status, last.status === "rejected" ? "REQUEST_REJECTED" : "REQUEST_CLOSED",
            `request ${id} was ${last.status} by the node: ${last.reason ?? "no reason given"}`, last.reason);
      } catch (e) {
        // Only a node that is not answering (or failing) is waited out; a 4xx is the answer.
        if (!(e instanceof FlavumNodeError) || (e.status >= 400 && e.status < 500)) throw e;
        lastError = e;
      }
      const left = end - Date.now();
      if (left <= 0) {
        const seen = last ? `still ${last.status}${last.status === "settled" ? " (no proof yet)" : ""}` : "never seen";
        throw new FlavumRequestError(id, last?.status ?? "unknown", "PROOF_TIMEOUT",
          `no proof for request ${id} after ${Math.round(timeoutMs / 1000)} s: ${seen}${lastError ? `; last error: ${lastError.message}` : ""}`);
      }
      await sleep(Math.min(pollMs, left), opts.signal);
    }
  }

  /**
   * Asks the rollup contract whether the proof holds: true only if the entry is in a settled batch.
   * `target` is the rollup contract (any object with verifyInference) or a provider/signer; with the
   * latter the rollup address is `opts.rollup`, else the client's expected rollup, else the one the
   * node names — which trusts the node for the address, so pin it (`expect.rollup`) for a check that
   * trusts nobody but the chain.
   */
  async verifyOnChain(proof: InclusionProof, target: VerifyTarget, opts: { rollup?: string } = {}): Promise<boolean> {
    const args = [BigInt(proof.batchId), {
      modelId: BigInt(proof.entry.modelId), requestId: BigInt(proof.entry.requestId), inputHash: BigInt(proof.entry.inputHash), outputWord: BigInt(proof.entry.outputWord),
    }, BigInt(proof.index), proof.path.map((p) => BigInt(p))] as const;
    if (isVerifier(target)) return target.verifyInference(...args);
    const address = opts.rollup ?? this.expected?.rollup ?? (await this.domain()).verifyingContract;
    // A provider is its own runner's provider; a signer names its provider.
    const net = target.provider ? await target.provider.getNetwork() : undefined;
    const expectedChain = this.expected?.chainId !== undefined ? dec("expected chainId", this.expected.chainId) : (await this.domain()).chainId;
    if (net && net.chainId !== expectedChain)
      throw new FlavumError(`the provider is on chain ${net.chainId}, but the proof is for chain ${expectedChain}: connect to that chain to verify it`, "WRONG_CHAIN");
    return IFlavumInference__factory.connect(address, target).verifyInference(...args);
  }
}

/** What verifyOnChain checks against: the rollup contract itself, or what reaches the chain. */
export type VerifyTarget = ContractRunner | { verifyInference(batchId: bigint, entry: { modelId: bigint; requestId: bigint; inputHash: bigint; outputWord: bigint }, index: bigint, path: bigint[]): Promise<boolean> };

function isVerifier(t: VerifyTarget): t is Extract<VerifyTarget, { verifyInference: unknown }> {
  return typeof (t as { verifyInference?: unknown }).verifyInference === "function";
}

function query(opts: { limit?: number; model?: IntLike }): string {
  const q = new URLSearchParams();
  if (opts.limit !== undefined) q.set("limit", String(opts.limit));
  if (opts.model !== undefined) q.set("model", dec("model", opts.model).toString());
  const s = q.toString();
  return s ? `?${s}` : "";
}

function sameTypes(a: Eip712Info["types"], b: typeof INFERENCE_REQUEST_TYPES): boolean {
  const fields = (t: Eip712Info["types"]) => JSON.stringify((t.InferenceRequest ?? []).map((f) => [f.name, f.type]));
  return fields(a) === fields(b);
}
