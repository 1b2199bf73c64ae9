/**
 * The IPFS trace store (`ipfs` mode, a validium): a batch's compact trace (src/protocol/traceBinding.ts)
 * is published as ONE raw IPFS block from an in-process Helia node, the rollup contract records the
 * block's sha2-256 digest (the CID minus its fixed prefix), and a data availability committee
 * (./dac.ts) signs that it fetched and holds the bytes.
 *
 * The CID of a trace is always CIDv1 / raw (0x55) / sha2-256 (0x12, 32 bytes), written in base32
 * ("b" multibase prefix): cid = "b" ‖ base32(0x01 0x55 0x12 0x20 ‖ sha256(trace)). The digest alone
 * therefore identifies it (cidDigest / cidFromDigest), and both are plain synchronous code here.
 *
 * The node. Helia's parts are assembled by hand instead of with the `helia` meta package, which
 * brings a whole public-network stack (WebRTC with a native addon, DHT, bootstrap lists, delegated
 * HTTP routing, trustless gateways, UPnP...) none of which this store may use:
 *   - libp2p with the TCP transport only, listening on 127.0.0.1 (port 0 by default), Noise and
 *     Yamux, and identify (bitswap only learns that a peer speaks bitswap through identify);
 *   - no peer discovery, no content or peer routers, no DHT, no bootstrap peers: a node talks to
 *     exactly the peers it is told to dial (connect), and a connection gater refuses any address
 *     outside the loopback range, dialled or inbound;
 *   - blocks move by bitswap only (@helia/block-brokers' bitswap broker; no HTTP gateway broker);
 *   - blocks live in memory, or in files under `dir` (one file per block, named by multihash);
 *     pins and the peer store stay in memory.
 *
 * Helia and libp2p are ESM-only packages while this project is CommonJS under ts-node, so they are
 * loaded with a real dynamic import that TypeScript cannot rewrite into require() (esmImport below)
 * and typed here by the few members this file uses; loadModules checks that each one is there.
 *
 * Node 20: these libp2p/Helia releases declare no engine but call Promise.withResolvers (ES2024,
 * Node >= 22). loadModules installs a spec-equivalent Promise.withResolvers when the runtime lacks
 * one, before loading them; on Node 22+ nothing is changed.
 */
import { createHash } from "crypto";
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";

// ---------------------------------------------------------------------------------------------
// CIDs: raw CIDv1 with a sha2-256 multihash, base32. Synchronous, dependency-free.

export const RAW_CODEC = 0x55;
export const SHA2_256 = 0x12;
/** The binary CID prefix of every trace: version 1, raw codec, sha2-256, 32-byte digest. */
const CID_PREFIX = Uint8Array.of(0x01, RAW_CODEC, SHA2_256, 0x20);
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
/** Largest trace one raw block may carry: the usual IPFS/bitswap block limit (bitswap messages cap at 4 MiB). */
export const MAX_TRACE_BYTES = 2 * 1024 * 1024;

function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31];
  return out;
}

function base32Decode(text: string): Uint8Array | undefined {
  const out: number[] = [];
  let bits = 0;
  let acc = 0;
  for (const ch of text) {
    const v = BASE32.indexOf(ch);
    if (v < 0) return undefined;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits >= 5 || acc !== 0) return undefined; // not the canonical (unpadded, zero-tailed) form
  return Uint8Array.from(out);
}

function toHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** The CID's binary form (36 bytes), or a FlavumError saying why `cid` is not a raw sha2-256 CIDv1 (`what`: the noun errors use). */
function cidBytes(cid: string, what = "trace"): Uint8Array {
  if (typeof cid !== "string" || !cid.startsWith("b"))
    throw new FlavumError(`"${cid}" is not a base32 CIDv1 (it should start with "b", e.g. bafkrei...)`, "BAD_CID");
  const bytes = base32Decode(cid.slice(1));
  if (bytes === undefined) throw new FlavumError(`"${cid}" is not valid lowercase base32`, "BAD_CID");
  if (bytes.length !== CID_PREFIX.length + 32 || CID_PREFIX.some((b, i) => bytes[i] !== b))
    throw new FlavumError(`"${cid}" is not a ${what} CID: a ${what} is a CIDv1 raw block with a 32-byte sha2-256 multihash`, "BAD_CID");
  return bytes;
}

/** Refuses (FlavumError BAD_CID, naming `what`) anything but a raw sha2-256 CIDv1 in base32. */
export function checkRawCid(cid: string, what = "block"): void {
  cidBytes(cid, what);
}

/** The sha2-256 digest inside a trace CID, as the 0x-prefixed bytes32 the rollup contract records. */
export function cidDigest(cid: string): string {
  return toHex(cidBytes(cid).subarray(CID_PREFIX.length));
}

/** The trace CID (CIDv1, raw, sha2-256, base32) of a recorded digest: the inverse of cidDigest. */
export function cidFromDigest(digest: string): string {
  if (typeof digest !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(digest))
    throw new FlavumError(`digest "${digest}" is not a 0x-prefixed bytes32`, "BAD_CID");
  const bytes = new Uint8Array(CID_PREFIX.length + 32);
  bytes.set(CID_PREFIX);
  bytes.set(Buffer.from(digest.slice(2), "hex"), CID_PREFIX.length);
  return "b" + base32Encode(bytes);
}

/** The CID a trace is published under (computed locally, no node needed). */
export function traceCid(bytes: Uint8Array): string {
  return cidFromDigest(toHex(sha256(bytes)));
}

/** The CID any bytes are published under as a raw block: traceCid under a name that fits every use. */
export const rawBlockCid = traceCid;

// ---------------------------------------------------------------------------------------------
// The ESM modules, loaded at run time and typed by what this file uses.

type AnyFn = (...args: any[]) => any;
interface Signal {
  signal?: AbortSignal;
}
/** A multiformats CID object (opaque here apart from toString and its multihash). */
export interface CIDObject {
  toString(): string;
  multihash: { bytes: Uint8Array; digest: Uint8Array; code: number };
}
export interface Multiaddr {
  toString(): string;
}
export interface Libp2pNode {
  peerId: { toString(): string };
  getMultiaddrs(): Multiaddr[];
  getConnections(peer?: unknown): unknown[];
  dial(target: unknown, opts?: Signal): Promise<unknown>;
}
export interface HeliaNode {
  libp2p: Libp2pNode;
  blockstore: {
    put(cid: CIDObject, bytes: Uint8Array, opts?: Signal): Promise<unknown>;
    get(cid: CIDObject, opts?: Signal & { offline?: boolean }): AsyncIterable<Uint8Array>;
    has(cid: CIDObject, opts?: Signal): Promise<boolean>;
    delete(cid: CIDObject, opts?: Signal): Promise<void>;
  };
  pins: {
    add(cid: CIDObject, opts?: Signal): AsyncIterable<unknown>;
    isPinned(cid: CIDObject, opts?: Signal): Promise<boolean>;
  };
  start(): Promise<void>;
  stop(): Promise<void>;
}
interface Modules {
  Helia: new (init: Record<string, unknown>) => HeliaNode;
  bitswap: AnyFn;
  createLibp2p: (opts: Record<string, unknown>) => Promise<Libp2pNode>;
  tcp: AnyFn;
  noise: AnyFn;
  yamux: AnyFn;
  identify: AnyFn;
  MemoryBlockstore: new () => object;
  BaseBlockstore: new () => object;
  MemoryDatastore: new () => object;
  CID: { parse(text: string): CIDObject; createV1(code: number, digest: unknown): CIDObject };
  digest: { decode(multihash: Uint8Array): unknown };
}

/** import() kept as a real dynamic import: TypeScript's CommonJS output would turn `import(s)` into require(s). */
const esmImport = new Function("s", "return import(s)") as (specifier: string) => Promise<Record<string, unknown>>;

function installWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers === "function") return;
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (v: T | PromiseLike<T>) => void;
      let reject!: (e?: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

let loading: Promise<Modules> | undefined;

function loadModules(): Promise<Modules> {
  loading ??= (async () => {
    installWithResolvers();
    const pick = async (pkg: string, names: string[]): Promise<Record<string, any>> => {
      let mod: Record<string, unknown>;
      try {
        mod = await esmImport(pkg);
      } catch (e) {
        throw new FlavumError(`cannot load ${pkg} for the IPFS trace store (run npm ci): ${(e as Error).message}`, "IPFS_LOAD");
      }
      for (const n of names)
        if (mod[n] === undefined || mod[n] === null)
          throw new FlavumError(`${pkg} does not export ${n}: the installed version is not the one package.json pins`, "IPFS_LOAD");
      return mod;
    };
    const [utils, brokers, libp2p, tcp, noise, yamux, identify, blockstore, datastore, mf] = await Promise.all([
      pick("@helia/utils", ["Helia"]),
      pick("@helia/block-brokers", ["bitswap"]),
      pick("libp2p", ["createLibp2p"]),
      pick("@libp2p/tcp", ["tcp"]),
      pick("@chainsafe/libp2p-noise", ["noise"]),
      pick("@chainsafe/libp2p-yamux", ["yamux"]),
      pick("@libp2p/identify", ["identify"]),
      pick("blockstore-core", ["MemoryBlockstore", "BaseBlockstore"]),
      pick("datastore-core", ["MemoryDatastore"]),
      pick("multiformats", ["CID", "digest"]),
    ]);
    return {
      Helia: utils.Helia,
      bitswap: brokers.bitswap,
      createLibp2p: libp2p.createLibp2p,
      tcp: tcp.tcp,
      noise: noise.noise,
      yamux: yamux.yamux,
      identify: identify.identify,
      MemoryBlockstore: blockstore.MemoryBlockstore,
      BaseBlockstore: blockstore.BaseBlockstore,
      MemoryDatastore: datastore.MemoryDatastore,
      CID: mf.CID,
      digest: mf.digest,
    };
  })();
  loading.catch(() => (loading = undefined)); // a failed load may be retried after npm ci
  return loading;
}

// ---------------------------------------------------------------------------------------------
// A file blockstore: one file per block under `dir`, named by the base32 multihash, written to a
// temporary name and renamed so a crash never leaves a truncated block under the real name.

function fsBlockstore(m: Modules, dir: string): object {
  fs.mkdirSync(dir, { recursive: true });
  const file = (cid: CIDObject) => path.join(dir, base32Encode(cid.multihash.bytes));
  const Base = m.BaseBlockstore as new () => object;
  class FsBlockstore extends Base {
    async put(cid: CIDObject, val: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts?: Signal) {
      opts?.signal?.throwIfAborted();
      const parts: Uint8Array[] = [];
      if (val instanceof Uint8Array) parts.push(val);
      else for await (const p of val) parts.push(p);
      const target = file(cid);
      const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
      await fs.promises.writeFile(tmp, Buffer.concat(parts));
      await fs.promises.rename(tmp, target);
      return cid;
    }
    async *get(cid: CIDObject, opts?: Signal) {
      opts?.signal?.throwIfAborted();
      let data: Buffer;
      try {
        data = await fs.promises.readFile(file(cid));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        const err = new Error(`block ${cid} is not in ${dir}`);
        err.name = "NotFoundError";
        throw err;
      }
      yield new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    async has(cid: CIDObject, opts?: Signal) {
      opts?.signal?.throwIfAborted();
      return fs.existsSync(file(cid));
    }
    async delete(cid: CIDObject, opts?: Signal) {
      opts?.signal?.throwIfAborted();
      await fs.promises.rm(file(cid), { force: true });
    }
    async *getAll(opts?: Signal) {
      for (const name of await fs.promises.readdir(dir)) {
        opts?.signal?.throwIfAborted();
        if (name.endsWith(".tmp")) continue;
        const mh = base32Decode(name);
        if (mh === undefined) continue;
        const data = await fs.promises.readFile(path.join(dir, name));
        yield {
          cid: m.CID.createV1(RAW_CODEC, m.digest.decode(mh)),
          bytes: (async function* () {
            yield new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
          })(),
        };
      }
    }
  }
  return new FsBlockstore();
}

// ---------------------------------------------------------------------------------------------
// The node.

export interface TraceNodeOptions {
  /** Keep blocks in files under this directory (created if missing); in memory when omitted. */
  dir?: string;
  /** TCP port on 127.0.0.1; 0 (the default) lets the OS choose. */
  port?: number;
}

export interface TraceNode {
  /** The libp2p peer id (base58 "12D3Koo..."). */
  readonly peerId: string;
  /** The addresses it listens on, all /ip4/127.0.0.1/tcp/<port>/p2p/<peerId>. */
  readonly multiaddrs: string[];
  /** Where its blocks are kept, when on disk. */
  readonly dir?: string;
  /** The Helia node itself, for callers that need more than this module offers (typed loosely). */
  readonly helia: HeliaNode;
  stopped: boolean;
}

/** True for /ip4/127.x.x.x/... and /ip6/::1/...: the only addresses a trace node talks to. */
export function isLoopbackMultiaddr(addr: { toString(): string } | string): boolean {
  const s = addr.toString();
  return /^\/ip4\/127\.\d{1,3}\.\d{1,3}\.\d{1,3}(\/|$)/.test(s) || /^\/ip6\/::1(\/|$)/.test(s);
}

/** Starts an in-process Helia node listening on 127.0.0.1 that talks only to peers it is connected to. */
export async function startTraceNode(opts: TraceNodeOptions = {}): Promise<TraceNode> {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FlavumError(`port must be 0..65535, got ${opts.port}`);
  const m = await loadModules();
  const datastore = new m.MemoryDatastore();
  const blockstore = opts.dir === undefined ? new m.MemoryBlockstore() : fsBlockstore(m, opts.dir);
  const libp2p = await m.createLibp2p({
    start: false,
    datastore,
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${port}`] },
    transports: [m.tcp()],
    connectionEncrypters: [m.noise()],
    streamMuxers: [m.yamux()],
    peerDiscovery: [],
    services: { identify: m.identify() },
    connectionGater: {
      denyDialMultiaddr: (ma: Multiaddr) => !isLoopbackMultiaddr(ma),
      denyInboundConnection: (conn: { remoteAddr?: Multiaddr }) => conn.remoteAddr === undefined || !isLoopbackMultiaddr(conn.remoteAddr),
    },
  });
  const helia = new m.Helia({ libp2p, datastore, blockstore, blockBrokers: [m.bitswap()], routers: [] });
  try {
    await helia.start();
  } catch (e) {
    await helia.stop().catch(() => undefined);
    throw new FlavumError(`the IPFS trace node did not start on 127.0.0.1:${port}: ${(e as Error).message}`, "IPFS_START");
  }
  return {
    peerId: libp2p.peerId.toString(),
    multiaddrs: libp2p.getMultiaddrs().map(String),
    dir: opts.dir,
    helia,
    stopped: false,
  };
}

/** Stops the node (closes its connections and its TCP listener). Stopping twice is harmless. */
export async function stopTraceNode(node: TraceNode): Promise<void> {
  if (node.stopped) return;
  node.stopped = true;
  await node.helia.stop();
}

// The node carries any raw block, not only traces: neutral names for callers that store other content.
export type IpfsNode = TraceNode;
export type IpfsNodeOptions = TraceNodeOptions;
export const startIpfsNode = startTraceNode;
export const stopIpfsNode = stopTraceNode;

function live(node: TraceNode, what: string): HeliaNode {
  if (node.stopped) throw new FlavumError(`cannot ${what}: the IPFS trace node ${node.peerId} is stopped`, "IPFS_STOPPED");
  return node.helia;
}

/** Dials b from a (over 127.0.0.1), so each can fetch what the other holds. */
export async function connect(a: TraceNode, b: TraceNode, opts: { timeoutMs?: number } = {}): Promise<void> {
  const ha = live(a, "connect");
  const hb = live(b, "connect");
  const addrs = hb.libp2p.getMultiaddrs();
  if (addrs.length === 0) throw new FlavumError(`peer ${b.peerId} listens on no address`, "IPFS_CONNECT");
  const timeoutMs = opts.timeoutMs ?? 10_000;
  try {
    await ha.libp2p.dial(addrs, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new FlavumError(`could not connect ${a.peerId} to ${b.peerId} (${addrs.join(", ")}): ${(e as Error).message}`, "IPFS_CONNECT");
  }
}

/**
 * Connects `node` to the peer listening at `address`, a multiaddr with its peer id
 * (/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo…), as `repo:serve` prints it.
 */
export async function dialAddress(node: TraceNode, address: string, opts: { timeoutMs?: number } = {}): Promise<void> {
  const h = live(node, "dial");
  let ma: Multiaddr;
  try {
    const { multiaddr } = (await esmImport("@multiformats/multiaddr")) as { multiaddr: (s: string) => Multiaddr };
    ma = multiaddr(address);
  } catch (e) {
    throw new FlavumError(`"${address}" is not a multiaddr (expected e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo…): ${(e as Error).message}`, "IPFS_CONNECT");
  }
  if (!/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(address))
    throw new FlavumError(`"${address}" names no peer: end it with /p2p/<peer id>, as repo:serve prints it`, "IPFS_CONNECT");
  try {
    await h.libp2p.dial(ma, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
  } catch (e) {
    throw new FlavumError(`could not connect to ${address}: ${(e as Error).message}`, "IPFS_CONNECT");
  }
}

/** Number of peers the node is connected to. */
export function peerCount(node: TraceNode): number {
  return new Set(live(node, "count peers").libp2p.getConnections().map((c) => String((c as { remotePeer: unknown }).remotePeer))).size;
}

async function pin(h: HeliaNode, cid: CIDObject): Promise<void> {
  if (await h.pins.isPinned(cid)) return;
  for await (const _ of h.pins.add(cid)) void _;
}

/**
 * How publishBlock / fetchBlock name what they move, in messages ("trace", "repository manifest")
 * and in error codes (`${code}_TOO_LARGE`, `${code}_UNAVAILABLE`, `${code}_CORRUPT`), and the most
 * bytes one block may hold.
 */
export interface BlockKind {
  what?: string;
  code?: string;
  maxBytes?: number;
}

const kindOf = (k: BlockKind) => ({ what: k.what ?? "block", code: k.code ?? "BLOCK", maxBytes: k.maxBytes ?? MAX_TRACE_BYTES });

/** Stores bytes as one raw block (CIDv1, sha2-256), pinned, and returns its CID. */
export async function publishBlock(node: TraceNode, bytes: Uint8Array, kind: BlockKind = {}): Promise<string> {
  const { what, code, maxBytes } = kindOf(kind);
  const h = live(node, `publish a ${what}`);
  if (!(bytes instanceof Uint8Array)) throw new FlavumError(`a ${what} is a Uint8Array of bytes`);
  if (bytes.length > maxBytes)
    throw new FlavumError(`a ${what} of ${bytes.length} bytes does not fit one IPFS block (at most ${maxBytes} bytes)`, `${code}_TOO_LARGE`);
  const m = await loadModules();
  const cid = traceCid(bytes);
  const c = m.CID.parse(cid);
  await h.blockstore.put(c, bytes);
  await pin(h, c);
  return cid;
}

export interface FetchBlockOptions extends BlockKind {
  /** How long to wait for a connected peer to send the block (default 30 s). */
  timeoutMs?: number;
  /** Pin the fetched block in this node. */
  pin?: boolean;
}

/**
 * The block with this CID: from the node's own store, else by bitswap from a connected peer. The
 * bytes are checked to hash to the CID and to fit `maxBytes` before they are returned; a CID no
 * connected peer holds ends in a FlavumError (`${code}_UNAVAILABLE`) after `timeoutMs`.
 */
export async function fetchBlock(node: TraceNode, cid: string, opts: FetchBlockOptions = {}): Promise<Uint8Array> {
  const { what, code, maxBytes } = kindOf(opts);
  const h = live(node, `fetch a ${what}`);
  const expected = toHex(cidBytes(cid, what).subarray(CID_PREFIX.length));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new FlavumError(`timeoutMs must be a positive number, got ${opts.timeoutMs}`);
  const m = await loadModules();
  const c = m.CID.parse(cid);
  const signal = AbortSignal.timeout(timeoutMs);
  const parts: Uint8Array[] = [];
  let size = 0;
  const started = Date.now();
  try {
    for await (const part of h.blockstore.get(c, { signal })) {
      size += part.length;
      // Stop collecting at the limit: what a peer sends must not decide how much this node keeps.
      if (size > maxBytes)
        throw new FlavumError(`${what} ${cid} is larger than the ${maxBytes} bytes allowed (received ${size} so far)`, `${code}_TOO_LARGE`);
      parts.push(part);
    }
  } catch (e) {
    if (e instanceof FlavumError) throw e;
    if (signal.aborted)
      throw new FlavumError(
        `${what} ${cid} was not found within ${timeoutMs} ms (waited ${Date.now() - started} ms): ` +
          `none of the ${peerCount(node)} connected peer(s) sent it`,
        `${code}_UNAVAILABLE`,
      );
    throw new FlavumError(`fetching ${what} ${cid} failed: ${(e as Error).message}`, `${code}_UNAVAILABLE`);
  }
  const bytes = parts.length === 1 ? parts[0] : new Uint8Array(Buffer.concat(parts));
  const got = toHex(sha256(bytes));
  if (got !== expected) {
    await h.blockstore.delete(c).catch(() => undefined); // a corrupt local copy must not be served again
    throw new FlavumError(`the bytes received for ${cid} hash to ${got}, not to ${expected}`, `${code}_CORRUPT`);
  }
  if (opts.pin) await pin(h, c);
  return bytes;
}

const TRACE_KIND = { what: "trace", code: "TRACE", maxBytes: MAX_TRACE_BYTES };

/**
 * Stores the trace as a raw block (CIDv1, sha2-256) in the node, pinned, and returns its CID.
 * Connected peers that want the block are sent it; others can fetch it by CID (fetchTrace).
 */
export async function publishTrace(node: TraceNode, bytes: Uint8Array): Promise<string> {
  live(node, "publish a trace");
  if (!(bytes instanceof Uint8Array)) throw new FlavumError("a trace is a Uint8Array of bytes");
  if (bytes.length === 0) throw new FlavumError("refusing to publish an empty trace (it starts with its word size)");
  return publishBlock(node, bytes, TRACE_KIND);
}

export interface FetchTraceOptions {
  /** How long to wait for a connected peer to send the block (default 30 s). */
  timeoutMs?: number;
  /** Pin the fetched trace in this node (what a committee member does before it signs). */
  pin?: boolean;
}

/**
 * The trace with this CID: from the node's own store, else by bitswap from a connected peer. The
 * bytes are checked to hash to the CID before they are returned; a CID no connected peer holds ends
 * in a FlavumError (code TRACE_UNAVAILABLE) after `timeoutMs`.
 */
export async function fetchTrace(node: TraceNode, cid: string, opts: FetchTraceOptions = {}): Promise<Uint8Array> {
  return fetchBlock(node, cid, { ...opts, ...TRACE_KIND });
}

/** Whether the node holds the block locally (no network). */
export async function holdsBlock(node: TraceNode, cid: string, what = "block"): Promise<boolean> {
  cidBytes(cid, what);
  const m = await loadModules();
  return live(node, `look up a ${what}`).blockstore.has(m.CID.parse(cid));
}

/** Whether the node holds the trace locally (no network). */
export function holdsTrace(node: TraceNode, cid: string): Promise<boolean> {
  return holdsBlock(node, cid, "trace");
}
