/**
 * A commit's objects over IPFS, so contributors on different machines share a repository without a
 * shared folder: the training spec, the weights and an optional ceremony transcript are each one raw
 * block (CIDv1, sha2-256), and a small manifest block links them. A commit records the manifest's
 * CID in its URI (commitUri); whoever pulls fetches by that CID and checks the weights against the
 * commitment the chain holds before trusting anything.
 *
 * Encodings, each with exactly one byte form per content so the same commit always has the same CIDs:
 *   - spec and manifest: canonical JSON (keys sorted, no whitespace, undefined fields dropped), UTF-8.
 *     A fetched block that is not in this form is refused, so no second CID can stand for one manifest.
 *   - weights: fixed-width two's complement, big-endian, ceil(bw/8) bytes per weight, in the spec's
 *     flat layout (tag "int<8·width>be"). Three bytes a weight at the default bw=18 where decimal JSON
 *     takes about eight; the exact length follows from the spec, so a wrong-sized weights link is
 *     refused before a byte of it is fetched; and values outside bw bits are refused on decoding, so
 *     the spare high bits cannot give one vector two encodings.
 * Every block is one raw block of at most MAX_OBJECT_BYTES (the manifest at most MAX_MANIFEST_BYTES):
 * bitswap caps a message at 4 MiB, and the limits bound what a hostile peer can make this node keep.
 *
 * The manifest is a raw block too, not dag-json: its links are plain CID strings the node never
 * walks, so pinning or fetching it cannot pull in anything the checks here have not looked at.
 */
import { FlavumError } from "../errors";
import { FIELD_P } from "../quant/fixed";
import { commitWeights } from "../training/commitment";
import { checkWeights } from "../training/executor";
import { paramCount, TrainingSpec, validateSpec } from "../training/spec";
import { createHash } from "crypto";
import { checkRawCid, fetchBlock, IpfsNode, MAX_TRACE_BYTES, publishBlock, rawBlockCid } from "../traceStore/ipfs";

export const MANIFEST_FORMAT = "flavum-commit-objects/1";
/** One object (spec, weights, transcript): one raw block, the same limit as a trace. */
export const MAX_OBJECT_BYTES = MAX_TRACE_BYTES;
/** A manifest is three links and a hash (about 400 bytes): anything far larger is not one. */
export const MAX_MANIFEST_BYTES = 16 * 1024;

export interface CommitObjects {
  spec: TrainingSpec;
  weights: bigint[];
  /** A ceremony transcript (or any bytes the commit carries along), stored as given. */
  transcript?: Uint8Array;
  /**
   * The spec's exact JSON text as the repository committed it (its sha256 is the on-chain
   * architectureHash), so a puller checks the spec against the chain; default canonical JSON.
   */
  specText?: string;
}

export interface PublishedCommit {
  /** The manifest's CID: what the commit records (commitUri). */
  cid: string;
  specCid: string;
  weightsCid: string;
  transcriptCid?: string;
  /** commitWeights(spec, weights), as the manifest records it. */
  weightsHash: bigint;
}

export interface FetchedCommit extends CommitObjects {
  weightsHash: bigint;
}

export interface Link {
  cid: string;
  size: number;
}

export interface CommitManifest {
  format: typeof MANIFEST_FORMAT;
  spec: Link;
  weights: Link & { encoding: string };
  transcript?: Link;
  /** commitWeights(spec, weights) in decimal. */
  weightsHash: string;
}

export interface FetchCommitOptions {
  /** The weights commitment the on-chain commit records (bigint, decimal or 0x hex string). */
  expectedWeightsHash?: bigint | string;
  /** sha256 (0x hex) the spec block must hash to: the repository's on-chain architectureHash. */
  expectedSpecHash?: string;
  /** For the whole fetch, manifest and parts (default 30 s). */
  timeoutMs?: number;
  /** Pin every block once all checks pass, so this node keeps and serves the commit. */
  pin?: boolean;
}

const MANIFEST_KIND = { what: "commit manifest", code: "MANIFEST", maxBytes: MAX_MANIFEST_BYTES };
const objectKind = (what: string, maxBytes = MAX_OBJECT_BYTES) => ({ what, code: "OBJECT", maxBytes });

// ---------------------------------------------------------------------------------------------
// Encodings.

/** JSON with sorted keys and no whitespace; refuses values JSON cannot carry exactly. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === "string" || typeof v === "boolean") return JSON.stringify(v);
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new FlavumError(`canonical JSON: ${v} is not a finite number`, "BAD_INPUT");
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (typeof v === "object") {
    const entries = Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  throw new FlavumError(`canonical JSON: a ${typeof v} has no JSON form`, "BAD_INPUT");
}

const weightBytes = (spec: TrainingSpec) => Math.ceil(spec.bw / 8);

/** The weights block's encoding tag for this spec, e.g. "int24be" at bw=18. */
export function weightsEncoding(spec: TrainingSpec): string {
  return `int${8 * weightBytes(spec)}be`;
}

export function encodeWeights(spec: TrainingSpec, weights: readonly bigint[]): Uint8Array {
  checkWeights(spec, weights);
  const width = weightBytes(spec);
  const out = new Uint8Array(weights.length * width);
  const mod = 1n << BigInt(8 * width);
  weights.forEach((w, i) => {
    let u = w < 0n ? w + mod : w;
    for (let b = width - 1; b >= 0; b--) {
      out[i * width + b] = Number(u & 0xffn);
      u >>= 8n;
    }
  });
  return out;
}

/** The inverse of encodeWeights; refuses a wrong length and values outside the spec's bw bits. */
export function decodeWeights(spec: TrainingSpec, bytes: Uint8Array): bigint[] {
  const width = weightBytes(spec);
  const params = paramCount(spec);
  if (bytes.length !== params * width)
    throw new FlavumError(
      `weights block: ${bytes.length} bytes, but ${params} weights of ${width} bytes (${weightsEncoding(spec)}) take ${params * width}`,
      "BAD_WEIGHTS",
    );
  const half = 1n << BigInt(8 * width - 1);
  const weights: bigint[] = new Array(params);
  for (let i = 0; i < params; i++) {
    let u = 0n;
    for (let b = 0; b < width; b++) u = (u << 8n) | BigInt(bytes[i * width + b]);
    weights[i] = u >= half ? u - 2n * half : u;
  }
  checkWeights(spec, weights, "fetched weights");
  return weights;
}

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"));

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new FlavumError(`the ${what} is not UTF-8 JSON: ${(e as Error).message}`, "BAD_OBJECT");
  }
}

/** The JSON value of a block, which must be its canonical form (ignoreBOM keeps a BOM visible to that check). */
function parseCanonical(bytes: Uint8Array, what: string): unknown {
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    value = JSON.parse(text);
  } catch (e) {
    throw new FlavumError(`the ${what} is not UTF-8 JSON: ${(e as Error).message}`, "BAD_OBJECT");
  }
  if (canonicalJson(value) !== text) throw new FlavumError(`the ${what} is not canonical JSON (sorted keys, no whitespace)`, "BAD_OBJECT");
  return value;
}

// ---------------------------------------------------------------------------------------------
// The manifest.

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function checkKeys(v: Record<string, unknown>, required: string[], optional: string[], what: string): void {
  for (const k of required) if (!(k in v)) throw new FlavumError(`the ${what} has no "${k}"`, "BAD_MANIFEST");
  for (const k of Object.keys(v))
    if (!required.includes(k) && !optional.includes(k)) throw new FlavumError(`the ${what} has an unknown field "${k}"`, "BAD_MANIFEST");
}

function checkLink(v: unknown, name: string, extra: string[] = []): Link {
  if (!isObject(v)) throw new FlavumError(`the manifest's ${name} link is not an object`, "BAD_MANIFEST");
  checkKeys(v, ["cid", "size", ...extra], [], `manifest's ${name} link`);
  if (typeof v.cid !== "string") throw new FlavumError(`the manifest's ${name} cid is not a string`, "BAD_MANIFEST");
  checkRawCid(v.cid, name);
  if (!Number.isInteger(v.size) || (v.size as number) < 0 || (v.size as number) > MAX_OBJECT_BYTES)
    throw new FlavumError(
      `the manifest's ${name} link declares ${JSON.stringify(v.size)} bytes: an object is 0 to ${MAX_OBJECT_BYTES} bytes (one raw block)`,
      "OBJECT_TOO_LARGE",
    );
  return v as unknown as Link;
}

function parseWeightsHash(v: unknown, what: string): bigint {
  const ok =
    (typeof v === "bigint" && v >= 0n) ||
    (typeof v === "string" && (/^(0|[1-9][0-9]{0,76})$/.test(v) || /^0x[0-9a-fA-F]{1,64}$/.test(v)));
  const h = ok ? BigInt(v as bigint | string) : -1n;
  if (h < 0n || h >= FIELD_P) throw new FlavumError(`${what} ${String(v)} is not a field element (decimal, 0x hex or bigint in [0, p))`, "BAD_INPUT");
  return h;
}

function parseManifest(bytes: Uint8Array): CommitManifest {
  const m = parseCanonical(bytes, "commit manifest");
  if (!isObject(m)) throw new FlavumError("the commit manifest is not a JSON object", "BAD_MANIFEST");
  checkKeys(m, ["format", "spec", "weights", "weightsHash"], ["transcript"], "commit manifest");
  if (m.format !== MANIFEST_FORMAT) throw new FlavumError(`the manifest's format is ${JSON.stringify(m.format)}, not "${MANIFEST_FORMAT}"`, "BAD_MANIFEST");
  checkLink(m.spec, "training spec");
  checkLink(m.weights, "weights", ["encoding"]);
  if (m.transcript !== undefined) checkLink(m.transcript, "transcript");
  // Canonical decimal only: a second spelling of one hash would give one commit two manifest CIDs.
  if (typeof m.weightsHash !== "string" || !/^(0|[1-9][0-9]*)$/.test(m.weightsHash))
    throw new FlavumError(`the manifest's weightsHash ${JSON.stringify(m.weightsHash)} is not a decimal string`, "BAD_MANIFEST");
  parseWeightsHash(m.weightsHash, "the manifest's weightsHash");
  return m as unknown as CommitManifest;
}

// ---------------------------------------------------------------------------------------------
// Publish and fetch.

/** A commit's blocks, computed without a node: what publishCommitObjects stores and its CIDs. */
export async function commitObjectBlocks(objects: CommitObjects): Promise<{ published: PublishedCommit; blocks: { what: string; bytes: Uint8Array; manifest?: boolean }[] }> {
  const { spec, weights, transcript } = objects;
  validateSpec(spec);
  const weightsHash = await commitWeights(spec, weights);
  if (transcript !== undefined && !(transcript instanceof Uint8Array)) throw new FlavumError("a transcript is a Uint8Array of bytes", "BAD_INPUT");
  const specText = objects.specText ?? canonicalJson(spec);
  if (objects.specText !== undefined && canonicalJson(JSON.parse(specText)) !== canonicalJson(spec))
    throw new FlavumError("specText is not the JSON of the spec given", "BAD_INPUT");
  const parts = [
    ["training spec", utf8(specText)],
    ["weights", encodeWeights(spec, weights)],
    ...(transcript === undefined ? [] : [["transcript", transcript]]),
  ] as [string, Uint8Array][];
  // All sizes before any block, so a refused commit leaves nothing half-published.
  for (const [what, bytes] of parts)
    if (bytes.length > MAX_OBJECT_BYTES)
      throw new FlavumError(`the ${what} is ${bytes.length} bytes: one object is at most ${MAX_OBJECT_BYTES} bytes (one raw block)`, "OBJECT_TOO_LARGE");
  const links: Link[] = parts.map(([, bytes]) => ({ cid: rawBlockCid(bytes), size: bytes.length }));
  const manifest: CommitManifest = {
    format: MANIFEST_FORMAT,
    spec: links[0],
    weights: { ...links[1], encoding: weightsEncoding(spec) },
    ...(links[2] ? { transcript: links[2] } : {}),
    weightsHash: weightsHash.toString(),
  };
  const manifestBytes = utf8(canonicalJson(manifest));
  return {
    published: { cid: rawBlockCid(manifestBytes), specCid: links[0].cid, weightsCid: links[1].cid, ...(links[2] ? { transcriptCid: links[2].cid } : {}), weightsHash },
    blocks: [...parts.map(([what, bytes]) => ({ what, bytes })), { what: "commit manifest", bytes: manifestBytes, manifest: true }],
  };
}

/** Stores the commit's objects and their manifest in the node (pinned) and returns their CIDs. */
export async function publishCommitObjects(node: IpfsNode, objects: CommitObjects): Promise<PublishedCommit> {
  const { published, blocks } = await commitObjectBlocks(objects);
  for (const b of blocks) await publishBlock(node, b.bytes, b.manifest ? MANIFEST_KIND : objectKind(b.what));
  return published;
}

/**
 * A commit's objects by its manifest CID, from this node or its connected peers, after checking
 * each block's hash and size, the manifest's form, the spec, and that the weights open both the
 * manifest's weightsHash and `expectedWeightsHash`.
 */
export async function fetchCommitObjects(node: IpfsNode, cid: string, opts: FetchCommitOptions = {}): Promise<FetchedCommit> {
  checkRawCid(cid, "commit manifest");
  const timeoutMs = opts.timeoutMs ?? 30_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new FlavumError(`timeoutMs must be a positive number, got ${opts.timeoutMs}`, "BAD_INPUT");
  const expected = opts.expectedWeightsHash === undefined ? undefined : parseWeightsHash(opts.expectedWeightsHash, "expectedWeightsHash");
  const deadline = Date.now() + timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  const where = `commit ${cid}`;
  const refuse = (e: unknown): never => {
    // Errors that already name the manifest CID are clear as they are.
    if (e instanceof FlavumError && !e.message.includes(cid)) throw new FlavumError(`${where}: ${e.message}`, e.code);
    throw e;
  };

  try {
    const manifest = parseManifest(await fetchBlock(node, cid, { ...MANIFEST_KIND, timeoutMs: remaining() }));
    const declared = BigInt(manifest.weightsHash);
    // Before the weights are fetched: a peer offering another commit's manifest costs no more bytes.
    if (expected !== undefined && declared !== expected)
      throw new FlavumError(`the manifest records weightsHash ${declared}, but the commit being pulled records ${expected}`, "WEIGHTS_HASH_MISMATCH");
    const part = async (link: Link, what: string) => {
      const bytes = await fetchBlock(node, link.cid, { ...objectKind(what, link.size), timeoutMs: remaining() });
      if (bytes.length !== link.size)
        throw new FlavumError(`the ${what} block ${link.cid} has ${bytes.length} bytes, the manifest declares ${link.size}`, "BAD_MANIFEST");
      return bytes;
    };

    const specBytes = await part(manifest.spec, "training spec");
    let spec: TrainingSpec;
    if (opts.expectedSpecHash !== undefined) {
      // Bound by the chain instead of by form: the repository's spec text, byte for byte.
      const got = "0x" + createHash("sha256").update(specBytes).digest("hex");
      if (got.toLowerCase() !== opts.expectedSpecHash.toLowerCase())
        throw new FlavumError(`the training spec block hashes to ${got}, but the repository's architectureHash is ${opts.expectedSpecHash}`, "SPEC_HASH_MISMATCH");
      spec = parseJson(specBytes, "training spec") as TrainingSpec;
    } else spec = parseCanonical(specBytes, "training spec") as TrainingSpec;
    if (!isObject(spec)) throw new FlavumError("the training spec is not a JSON object", "BAD_SPEC");
    validateSpec(spec);
    const encoding = weightsEncoding(spec);
    if (manifest.weights.encoding !== encoding)
      throw new FlavumError(`the weights are encoded as ${JSON.stringify(manifest.weights.encoding)}; a spec with bw=${spec.bw} needs ${encoding}`, "BAD_MANIFEST");
    const size = paramCount(spec) * Math.ceil(spec.bw / 8);
    if (manifest.weights.size !== size)
      throw new FlavumError(`the manifest declares ${manifest.weights.size} bytes of weights; ${paramCount(spec)} weights in ${encoding} are ${size}`, "BAD_MANIFEST");
    const weights = decodeWeights(spec, await part(manifest.weights, "weights"));

    const actual = await commitWeights(spec, weights);
    if (actual !== declared)
      throw new FlavumError(`the weights hash to ${actual} (commitWeights), but the manifest records weightsHash ${declared}`, "WEIGHTS_HASH_MISMATCH");
    const transcript = manifest.transcript === undefined ? undefined : await part(manifest.transcript, "transcript");

    if (opts.pin) {
      const links = [manifest.spec, manifest.weights, ...(manifest.transcript ? [manifest.transcript] : [])];
      // Local by now: this only pins, and only blocks every check above has passed.
      for (const l of links) await fetchBlock(node, l.cid, { ...objectKind("object", l.size), timeoutMs: remaining(), pin: true });
      await fetchBlock(node, cid, { ...MANIFEST_KIND, timeoutMs: remaining(), pin: true });
    }
    return { spec, weights, ...(transcript === undefined ? {} : { transcript }), weightsHash: actual };
  } catch (e) {
    return refuse(e);
  }
}

// ---------------------------------------------------------------------------------------------
// Commit URIs.

const URI_PREFIX = "ipfs://";

/** The URI a commit records for its objects. */
export function commitUri(cid: string): string {
  checkRawCid(cid, "commit manifest");
  return URI_PREFIX + cid;
}

/** The manifest CID of a commit URI; anything but ipfs://<raw sha2-256 CIDv1> is refused. */
export function cidFromCommitUri(uri: string): string {
  if (typeof uri !== "string" || !uri.startsWith(URI_PREFIX))
    throw new FlavumError(`"${uri}" is not a commit objects URI: expected ipfs://<CID of a commit manifest>, e.g. ipfs://bafkrei...`, "BAD_CID");
  const cid = uri.slice(URI_PREFIX.length);
  if (/[/?#]/.test(cid))
    throw new FlavumError(`"${uri}" has a path, query or fragment: a commit objects URI is exactly ipfs://<CID of a commit manifest>`, "BAD_CID");
  checkRawCid(cid, "commit manifest");
  return cid;
}
