/**
 * A lost disk is not a lost rollup: a sequencer store rebuilt from the chain alone (sequencer:rebuild).
 *
 * Recovered, and from where:
 *  - models: ModelRegistry's views (commitment, batch sizes, verifiers, output layout, URI). The name is
 *    the URI's `flavum://models/<name>`; the local build of that name (build/models/<name>/ and its
 *    batch keys, whose verifying-key hash must be the registered one) decides whether this node can still
 *    prove new batches for it. A model without a usable build but with settled batches is recorded
 *    anyway (its settled results and inclusion proofs are still served) and reported; one with neither
 *    a usable build nor batches is only reported, so the sequencer does not start taking its requests.
 *  - settled batches: every BatchSubmitted event and its transaction. The calldata (submitBatch, or the
 *    PostedBatch of submitBatchBlob / submitBatchIpfs) carries the proof (a, b, c; h for posted traces);
 *    the trace is in that calldata, or in the blob sidecar the sender archived (checked against the
 *    versioned hash BatchDataPosted recorded), or in an IPFS block (checked against the recorded digest).
 *    Every entry, leaf and root is recomputed and checked against the event (batch root, the model's old
 *    and new tree roots) and each model's final root against the rollup's before anything is written, so
 *    a rebuild writes all of it or nothing. Gas comes from the receipt. Rows are settled, prove time 0.
 *  - requests proven in those batches: settled in their batch and slot; an on-chain one with its input
 *    (InferenceRequested) and whether its result was delivered (the contract's request status), so
 *    deliver() picks up exactly the undelivered ones.
 *  - on-chain requests in no batch yet: left to the sequencer's own sync (syncOnchainRequests, which every
 *    batch:prove / batch:run runs): it checks each input against its commitment and rejects bad ones on
 *    chain. Storing them here, unchecked, would let a bad input into a batch the contract then refuses.
 *  - the data-point state: nothing to recover, the sequencer keeps none (stateSync.ts rebuilds it from L1
 *    events on every run); rebuildState is replayed here once to confirm it reaches the contract's root.
 *
 * Not recoverable, because the chain never saw it:
 *  - off-chain requests queued, or proven but not settled, when the store was lost: their samples lived
 *    only in the store, so even how many there were is unknown. Their requesters must send them again,
 *    and their ids may be handed out again to new requests.
 *  - why the sequencer set requests aside off chain, signed requests' signatures and nonces, and how long
 *    the rebuilt batches took to prove.
 *  - a posted trace whose data is gone (no archived sidecar, no IPFS node holding the block): the rebuild
 *    fails, naming each such batch and where its trace should come from.
 */
import fs from "fs";
import path from "path";
import { AbiCoder, getBytes, hexlify, ZeroAddress } from "ethers";
import { FlavumError } from "../errors";
import { Progress, silent, shortHash, vkHash } from "../zk";
import type { Groth16Proof } from "../zk";
import { repoRoot } from "../zk/paths";
import { loadModel, LoadedModel } from "../model/artifacts";
import type { EvmRollupLedger } from "../chain/evmRollup";
import { EvmStateLedger } from "../chain/evmState";
import type { SettledBatchEvent } from "../chain/ledger";
import { OFFCHAIN_REQUEST_BASE, OutputLayout, outputWordBits, packMeta, requestChainTag } from "../protocol/batch";
import { decodeTrace, postedChallenge, traceChallenge, traceElements, traceRlc, wordBytesFor, TraceItem } from "../protocol/traceBinding";
import type { TraceStoreMode } from "../traceStore/commitment";
import { fetchBlobTrace } from "../traceStore/blob";
import { cidFromDigest, fetchTrace, TraceNode } from "../traceStore/ipfs";
import { BatchRow, SequencerStore, ServedModel } from "./store";
import { entryFromTrace, traceLeaf, TraceEntry } from "./batchWitness";
import { batchPaths } from "./batchBuild";
import { Hash2, hasher, subtreeLevels, TraceTree } from "./merkle";
import { rebuildState } from "./stateSync";

export interface RebuildOptions {
  progress?: Progress;
  /** Fill a store that is not empty, adding only what it is missing. */
  force?: boolean;
  /** IPFS deployments: a trace node that holds the batches' blocks, or is connected to peers that do. */
  ipfs?: { node: TraceNode; timeoutMs?: number };
}

/** ok: this node proves new batches; stale: a build of that name that is not the registered one; missing: none. */
export type BuildStatus = "ok" | "stale" | "missing";

export interface RebuiltModel {
  modelId: string;
  name: string;
  uri: string;
  batchSizes: number[];
  /** The batch size the store serves (its schema holds one per model). */
  batchSize: number;
  verifier: string;
  vkHash: string;
  build: BuildStatus;
  detail: string;
  /** false: the store already had it (force). */
  added: boolean;
}

export interface RebuiltBatch {
  batchId: string;
  modelId: string;
  modelBatch: string;
  count: number;
  batchSize: number;
  txHash: string;
  traceFrom: TraceStoreMode;
  /** false: the store already had it settled (force); "settled": it had it in flight and it is now recorded settled. */
  added: boolean | "settled";
}

export interface RebuildReport {
  store: string;
  deployment: string;
  models: RebuiltModel[];
  /** Registered models recorded nowhere: no usable local build and no settled batch. */
  unservedModels: { modelId: string; uri: string; reason: string }[];
  batches: RebuiltBatch[];
  requests: {
    /** Requests proven in the batches added, stored settled. */
    settled: number;
    onchain: number;
    offchain: number;
    /** On-chain ones whose result is already delivered. */
    delivered: number;
    /** Rows the store held unsettled that the chain proved (force). */
    moved: number;
    /** On-chain requests in no batch and still pending on chain: the sequencer's next sync picks them up. */
    pendingOnchain: number;
  };
  /** The data-point state replayed from L1 events (when the rollup has one). */
  state?: { ok: boolean; stateBatches: number; operations: number; root: string; detail?: string };
  warnings: string[];
  unrecoverable: string[];
}

export const UNRECOVERABLE = [
  "off-chain requests that were queued, or proven but not settled, when the store was lost (their samples lived only in the store; " +
    "how many is unknown): their requesters must send them again, and their ids may be handed out again",
  "why requests were set aside off chain, signed requests' signatures and nonces, and the proving times of the rebuilt batches",
];

const URI_NAME = /^flavum:\/\/models\/([A-Za-z][A-Za-z0-9_]{0,63})$/;

/** The model name a registration's URI carries (`flavum://models/<name>`), if it is one. */
export function modelNameFromUri(uri: string): string | undefined {
  return URI_NAME.exec(uri)?.[1];
}

/**
 * A batch rebuilt from its posted trace: every entry (decoded with the registered output layout), its
 * leaves padded to the batch size, checked against the batch root the chain recorded. A trace that is not
 * the one proven (tampered calldata, a wrong sidecar) is refused here, before anything is stored.
 */
export async function batchFromTrace(args: {
  event: Pick<SettledBatchEvent, "batchId" | "modelId" | "modelBatch" | "count" | "batchSize" | "batchRoot">;
  trace: Uint8Array;
  layout: OutputLayout;
  h: Hash2;
}): Promise<{ items: TraceItem[]; entries: TraceEntry[]; leaves: bigint[] }> {
  const { event: ev, layout } = args;
  const what = `batch ${ev.batchId} (model ${ev.modelId}, its batch ${ev.modelBatch})`;
  let decoded: ReturnType<typeof decodeTrace>;
  try {
    decoded = decodeTrace(args.trace);
  } catch (e) {
    throw new FlavumError(`${what}: its trace cannot be read: ${(e as Error).message}`, "BAD_TRACE");
  }
  const { wordBytes, items } = decoded;
  const expectedWord = wordBytesFor(outputWordBits(layout.outputCount, layout.outputBits));
  if (wordBytes !== expectedWord)
    throw new FlavumError(`${what}: its trace has ${wordBytes}-byte output words, the model's layout gives ${expectedWord}`, "BAD_TRACE");
  if (items.length !== ev.count) throw new FlavumError(`${what}: its trace holds ${items.length} entries, the batch settled ${ev.count}`, "BAD_TRACE");
  const entries = items.map((it, i) => entryFromTrace(ev.modelId, it, i, layout));
  const leaves = [...(await Promise.all(entries.map(traceLeaf))), ...Array(ev.batchSize - entries.length).fill(0n)];
  const levels = subtreeLevels(args.h, leaves);
  const root = levels[levels.length - 1][0];
  if (root !== ev.batchRoot)
    throw new FlavumError(
      `${what}: the trace's entries hash to batch root ${root}, but the chain recorded ${ev.batchRoot}: this is not the trace that was proven ` +
        `(tampered or wrong trace data); refusing to rebuild from it`,
      "BATCH_ROOT_MISMATCH",
    );
  return { items, entries, leaves };
}

interface ModelPlan {
  info: RebuiltModel;
  row: ServedModel;
  layout: OutputLayout;
  /** Recorded only if its build is usable or it has batches. */
  serve: boolean;
}

/** A snarkjs proof from the points submitBatch took (solidityCalldata swaps each G2 coordinate pair). */
function snarkjsProof(a: readonly bigint[], b: readonly (readonly bigint[])[], c: readonly bigint[]): Groth16Proof {
  const s = (v: bigint) => v.toString();
  return {
    pi_a: [s(a[0]), s(a[1]), "1"],
    pi_b: [[s(b[0][1]), s(b[0][0])], [s(b[1][1]), s(b[1][0])], ["1", "0"]],
    pi_c: [s(c[0]), s(c[1]), "1"],
    protocol: "groth16",
    curve: "bn128",
  };
}

async function readModels(ledger: EvmRollupLedger, events: Map<bigint, SettledBatchEvent[]>, progress: Progress): Promise<ModelPlan[]> {
  const reg = ledger.registry;
  const count = Number(await reg.modelCount());
  const plans: ModelPlan[] = [];
  for (let i = 1; i <= count; i++) {
    const id = BigInt(i);
    const uri = (await reg.tokenURI(id)) as string;
    const commitment = (await reg.commitmentOf(id)) as { weightsHash: string; vkHash: string };
    const chainVk = commitment.vkHash.replace(/^0x/, "").toLowerCase();
    const sizes = ((await reg.batchSizesOf(id)) as bigint[]).map(Number);
    const [outputBits, outputCount, hasLabel] = (await reg.outputLayoutOf(id)) as [bigint, bigint, boolean];
    const layout: OutputLayout = { outputBits: Number(outputBits), outputCount: Number(outputCount), hasLabel };
    const evs = events.get(id) ?? [];
    const uriName = modelNameFromUri(uri);
    const name = uriName ?? `model_${id}`;

    let model: LoadedModel | undefined;
    let build: BuildStatus = "missing";
    let detail: string;
    let servedSize: number | undefined;
    if (!uriName) detail = `its URI "${uri}" names no local build (flavum://models/<name>)`;
    else {
      try {
        model = loadModel(uriName);
      } catch (e) {
        if (!(e instanceof FlavumError)) throw e;
      }
      if (!model) detail = `no local build of "${name}" (build/models/${name}/)`;
      else if (BigInt(model.manifest.weightsCommitment) !== BigInt(commitment.weightsHash)) {
        build = "stale";
        detail = `the local build of "${name}" commits to other weights than the registered model`;
      } else {
        servedSize = sizes.find((b) => {
          const vkey = batchPaths(model!, b).vkey;
          return fs.existsSync(vkey) && vkHash(vkey) === chainVk;
        });
        build = servedSize === undefined ? "stale" : "ok";
        detail = servedSize === undefined
          ? `no batch keys of "${name}" (build/models/${name}.batch-<B>/) have the registered verifying key ${shortHash(chainVk)}`
          : `batch-${servedSize} keys match the registered verifying key`;
      }
    }
    const batchSize = servedSize ?? evs[evs.length - 1]?.batchSize ?? sizes[0];
    const verifier = (await reg.verifierOf(id, batchSize)) as string;
    const serve = build === "ok" || evs.length > 0;
    if (build !== "ok" && serve)
      detail += `: its ${evs.length} settled batch(es) are served, but this node cannot prove new batches for it` +
        (build === "missing" ? ` until the build is restored (the same keys: a recompile makes new ones)` : "");
    progress(`model ${id} ${name}: ${build === "ok" ? "servable" : build}, ${detail}`);
    plans.push({
      info: { modelId: id.toString(), name, uri, batchSizes: sizes, batchSize, verifier, vkHash: chainVk, build, detail, added: false },
      // The registered key, whatever is on disk: servable() then refuses a local build that is not it.
      row: { modelId: id, name, batchSize, verifier, vkHash: chainVk, circuitHash: build === "ok" ? model!.manifest.circuit.hash : null },
      layout,
      serve,
    });
  }
  return plans;
}

interface FetchedBatch {
  mode: TraceStoreMode;
  trace?: Uint8Array;
  /** Why the trace is not at hand, and where it should come from. */
  unavailable?: string;
  proof: Groth16Proof;
  /** The posted data commitment and proven h (blob and IPFS batches). */
  data?: string;
  h?: bigint;
  tx: { nonce: number; from: string };
  gasUsed: bigint;
  createdAt: string;
}

/** The batch's transaction: its proof and trace, from calldata or from where the trace was posted. */
async function fetchBatch(ledger: EvmRollupLedger, ev: SettledBatchEvent, opts: RebuildOptions): Promise<FetchedBatch> {
  const provider = ledger.hre.ethers.provider;
  const rollup = ledger.rollup;
  const what = `batch ${ev.batchId} (model ${ev.modelId}, its batch ${ev.modelBatch}, transaction ${ev.txHash})`;
  const [tx, receipt] = await Promise.all([provider.getTransaction(ev.txHash), provider.getTransactionReceipt(ev.txHash)]);
  if (!tx || !receipt) throw new FlavumError(`${what}: the node does not return the transaction or its receipt`, "TX_UNKNOWN");
  const block = await provider.getBlock(receipt.blockNumber);
  const base = {
    tx: { nonce: tx.nonce, from: tx.from }, gasUsed: receipt.gasUsed,
    createdAt: new Date(Number(block?.timestamp ?? 0) * 1000).toISOString(),
  };
  // A batch sent through another contract carries its trace in an internal call, out of reach of calldata.
  if (tx.to?.toLowerCase() !== ((await rollup.getAddress()) as string).toLowerCase())
    throw new FlavumError(`${what}: the transaction calls ${tx.to}, not the rollup: its calldata holds no submitBatch to rebuild from`, "BAD_TRACE");
  const call = rollup.interface.parseTransaction({ data: tx.data });
  if (!call) throw new FlavumError(`${what}: its calldata is no rollup call`, "BAD_TRACE");
  if (!["submitBatch", "submitBatchBlob", "submitBatchIpfs"].includes(call.name))
    throw new FlavumError(`${what}: its calldata is ${call.name}, not a batch submission`, "BAD_TRACE");
  const a = call.args;
  const posted = call.name === "submitBatch" ? undefined : a[0];
  const fields = posted ?? { modelId: a[0], batchSize: a[1], count: a[2], newRoot: a[3], batchRoot: a[4], a: a[5], b: a[6], c: a[7] };
  if (BigInt(fields.modelId) !== ev.modelId || Number(fields.batchSize) !== ev.batchSize || Number(fields.count) !== ev.count ||
      BigInt(fields.newRoot) !== ev.newRoot || BigInt(fields.batchRoot) !== ev.batchRoot)
    throw new FlavumError(`${what}: the ${call.name} call in its calldata is not the batch its event records`, "BAD_TRACE");
  const proof = snarkjsProof(fields.a, fields.b, fields.c);
  if (call.name === "submitBatch") return { ...base, mode: "calldata", trace: getBytes(a[8]), proof };

  const log = receipt.logs.map((l) => rollup.interface.parseLog(l)).find((l) => l?.name === "BatchDataPosted" && BigInt(l.args.batchId) === ev.batchId);
  if (!log) throw new FlavumError(`${what}: no BatchDataPosted event for it in its receipt`, "BAD_TRACE");
  const data = (log.args.data as string).toLowerCase();
  const h = BigInt(posted.h);
  if (call.name === "submitBatchBlob") {
    // Where sendBatch archives sidecars when the ledger names no folder.
    const archive = ledger.blobArchive ?? path.join(repoRoot(), "build", "rollup", ledger.network, "blobs");
    const file = path.join(archive, `${ev.txHash}.json`);
    if (!fs.existsSync(file))
      return {
        ...base, mode: "blob", proof, data, h,
        unavailable: `${what}: its trace is in blob 0 (versioned hash ${data}), which no execution node keeps; expected the sidecar the sequencer ` +
          `archived at ${file} (restore it there, or save the sidecar a consensus node's beacon API serves for that block, within ~18 days of it)`,
      };
    const t = await fetchBlobTrace({
      provider: provider as unknown as Parameters<typeof fetchBlobTrace>[0]["provider"], txHash: ev.txHash,
      sidecar: JSON.parse(fs.readFileSync(file, "utf8")), expectedVersionedHashes: [data],
    });
    return { ...base, mode: "blob", trace: t.bytes, proof, data, h };
  }
  const cid = cidFromDigest(data);
  const where = `the IPFS block ${cid} (the digest the contract recorded), held by the sequencer's trace node ` +
    `(build/rollup/${ledger.network}/ipfs/sequencer/) and by the committee members that attested it`;
  if (!opts.ipfs) return { ...base, mode: "ipfs", proof, data, h, unavailable: `${what}: its trace is ${where}; give the rebuild a trace node holding it` };
  try {
    return { ...base, mode: "ipfs", trace: await fetchTrace(opts.ipfs.node, cid, { timeoutMs: opts.ipfs.timeoutMs ?? 10_000 }), proof, data, h };
  } catch (e) {
    if (!(e instanceof FlavumError)) throw e;
    return { ...base, mode: "ipfs", proof, data, h, unavailable: `${what}: its trace is ${where}; fetching it failed: ${e.message}` };
  }
}

function decodeInput(input: string | undefined): bigint[] | null {
  if (!input) return null;
  try {
    const [values] = AbiCoder.defaultAbiCoder().decode(["int256[]"], input) as unknown as [bigint[]];
    return values.map(BigInt);
  } catch {
    return null;
  }
}

/**
 * Fills `store` from the chain: the rollup's models, every settled batch with its proof, entries and
 * leaves, and the requests those batches prove. A store that holds anything is refused unless `force`,
 * and then only what it is missing is added (a batch it holds in flight that the chain settled is
 * recorded settled). Everything is checked against the chain first and written in one transaction.
 */
export async function rebuildStore(store: SequencerStore, ledger: EvmRollupLedger, opts: RebuildOptions = {}): Promise<RebuildReport> {
  const progress = opts.progress ?? silent;
  const state = await ledger.state();
  const deployment = `${state.chainId}:${state.rollup.toLowerCase()}`;
  const bound = store.getMeta("deployment");
  if (bound !== undefined && bound !== deployment) store.bind(deployment); // throws, naming both deployments
  if (!store.isEmpty() && !opts.force) {
    const c = store.counts();
    throw new FlavumError(
      `sequencer store ${store.file} is not empty (${c.models} model(s), ${c.batches} batch(es), ${c.requests} request(s)): a rebuild fills an ` +
        `empty store from the chain. Give another --store for a fresh one, or --force to add only what this store is missing`,
      "STORE_NOT_EMPTY",
    );
  }
  const h = await hasher();
  const emptyRoot = new TraceTree(h).root;
  const events = new Map<bigint, SettledBatchEvent[]>();
  for (const ev of await ledger.settledBatches()) events.set(ev.modelId, [...(events.get(ev.modelId) ?? []), ev]);
  progress(`rollup ${state.rollup} on chain ${state.chainId}: ${[...events.values()].reduce((n, e) => n + e.length, 0)} settled batch(es)`);

  const models = await readModels(ledger, events, progress);
  const known = new Map(store.models().map((m) => [m.modelId, m]));
  const onchain = new Map((await ledger.onchainRequests()).map((r) => [r.requestId, r]));
  const warnings: string[] = [];
  const unavailable: string[] = [];
  const batches: RebuiltBatch[] = [];
  const toAdd: { row: Omit<BatchRow, "localId" | "status" | "circuitInput">; requests: Parameters<SequencerStore["addSettledBatch"]>[1] }[] = [];
  const toSettle: { localId: number; ev: SettledBatchEvent; gasUsed: bigint | null }[] = [];
  const proven = new Set<bigint>();

  for (const m of models) {
    const evs = (events.get(m.row.modelId) ?? []).sort((x, y) => (x.modelBatch < y.modelBatch ? -1 : 1));
    const chain = await ledger.modelTrace(m.row.modelId);
    evs.forEach((ev, i) => {
      if (ev.modelBatch !== BigInt(i))
        throw new FlavumError(`model ${m.row.modelId}: the node returns no BatchSubmitted event for its batch ${i} (next is ${ev.modelBatch}); its event history is incomplete`, "HISTORY_INCOMPLETE");
    });
    if (chain.batches !== BigInt(evs.length))
      throw new FlavumError(`model ${m.row.modelId} has ${chain.batches} settled batch(es) on chain, but the node returns ${evs.length} BatchSubmitted event(s): its event history is incomplete`, "HISTORY_INCOMPLETE");
    // Undefined once a batch's trace is missing: later roots can then not be followed, only each batch root checked.
    let tree: TraceTree | undefined = new TraceTree(h);
    for (const ev of evs) {
      const label = `batch ${ev.batchId} (model ${ev.modelId}, its batch ${ev.modelBatch})`;
      if (tree && ev.oldRoot !== tree.root && ev.firstLeaf === 0n && ev.oldRoot === emptyRoot) tree = new TraceTree(h); // rollover
      if (tree && ev.oldRoot !== tree.root)
        throw new FlavumError(`${label} starts from root ${ev.oldRoot}, but the batches before it end at ${tree.root}`, "STORE_DIVERGED");
      const info: RebuiltBatch = {
        batchId: ev.batchId.toString(), modelId: ev.modelId.toString(), modelBatch: ev.modelBatch.toString(), count: ev.count,
        batchSize: ev.batchSize, txHash: ev.txHash, traceFrom: state.traceStore ?? "calldata", added: true,
      };
      const rows = store.batchesAt(ev.modelId, ev.modelBatch).filter((b) => b.status !== "stale");
      const same = rows.find((b) => b.newRoot === ev.newRoot && b.batchRoot === ev.batchRoot && b.batchSize === ev.batchSize);
      if (rows.some((b) => b.status === "settled") && same?.status !== "settled")
        throw new FlavumError(`${label}: this store has it settled with other roots than the chain's; it is not this rollup's history`, "STORE_DIVERGED");
      if (same) {
        if (same.status !== "settled") {
          toSettle.push({ localId: same.localId, ev, gasUsed: (await ledger.hre.ethers.provider.getTransactionReceipt(ev.txHash))?.gasUsed ?? null });
          info.added = "settled";
        } else info.added = false;
        tree?.appendSubtree(same.firstLeaf, same.leaves);
        batches.push(info);
        continue;
      }
      const got = await fetchBatch(ledger, ev, opts);
      info.traceFrom = got.mode;
      batches.push(info);
      if (!got.trace) {
        unavailable.push(got.unavailable!);
        tree = undefined;
        continue;
      }
      const rebuilt = await batchFromTrace({ event: ev, trace: got.trace, layout: m.layout, h });
      if (tree && tree.appendSubtree(ev.firstLeaf, rebuilt.leaves) !== ev.newRoot)
        throw new FlavumError(`${label}: appending its leaves gives root ${tree.root}, the chain recorded ${ev.newRoot}`, "STORE_DIVERGED");
      const meta = packMeta({ modelId: ev.modelId, batchNumber: ev.modelBatch, firstLeaf: ev.firstLeaf, count: ev.count, layout: m.layout, batchSize: ev.batchSize });
      const ctx = { domain: state.domain, oldRoot: ev.oldRoot, newRoot: ev.newRoot, batchRoot: ev.batchRoot, meta };
      const r = got.data ? postedChallenge(ctx, got.data) : traceChallenge(ctx, got.trace);
      const rlc = traceRlc(traceElements(rebuilt.items), r);
      // The data commitment binds the posted bytes, h the proven entries: both must describe the same trace.
      if (got.h !== undefined && rlc !== got.h)
        throw new FlavumError(`${label}: the ${got.mode} trace's entries give h = ${rlc}, the proof was made for ${got.h}: not the trace that was proven`, "BATCH_ROOT_MISMATCH");
      const requests = [];
      for (const e of rebuilt.entries) {
        const id = e.requestId;
        proven.add(id);
        // This chain's own requests only: another chain's (its tag in the id) has its input and status there.
        const isOnchain = requestChainTag(id) === state.chainTag;
        requests.push({
          id, quantized: isOnchain ? decodeInput(onchain.get(id)?.input) : null, createdAt: got.createdAt,
          fulfilled: isOnchain && (await ledger.requestStatus(id)) === "fulfilled",
        });
      }
      toAdd.push({
        row: {
          modelId: ev.modelId, batchSize: ev.batchSize, batchNumber: ev.modelBatch, batchId: ev.batchId, trace: hexlify(got.trace),
          firstLeaf: ev.firstLeaf, count: ev.count, oldRoot: ev.oldRoot, newRoot: ev.newRoot, batchRoot: ev.batchRoot,
          leaves: rebuilt.leaves, entries: rebuilt.entries,
          proof: { proof: got.proof, publicSignals: [ev.oldRoot, ev.newRoot, ev.batchRoot, meta, r, rlc].map(String) },
          txHash: ev.txHash, txNonce: got.tx.nonce, txFrom: got.tx.from, gasUsed: got.gasUsed, proveMs: 0,
        },
        requests,
      });
      progress(`${label}: ${ev.count} inference(s) rebuilt from ${got.mode}, batch root and tree root match`);
    }
    if (tree && tree.root !== chain.root)
      throw new FlavumError(`model ${m.row.modelId}: the rebuilt trace tree ends at root ${tree.root}, the rollup's is ${chain.root}`, "STORE_DIVERGED");
  }
  if (unavailable.length)
    throw new FlavumError(
      `cannot rebuild ${unavailable.length} settled batch(es): their traces are not in calldata and their data is not at hand (nothing was written):\n  ` +
        unavailable.join("\n  "),
      "TRACE_UNAVAILABLE",
    );

  // What the sequencer's next sync will pick up: pending on chain, in no batch, unknown to the store.
  const waiting: bigint[] = [];
  for (const r of onchain.values())
    if (!proven.has(r.requestId) && !store.getRequest(r.requestId) && (await ledger.requestStatus(r.requestId)) === "pending") waiting.push(r.modelId);
  const served = models.filter((m) => m.serve);
  for (const m of served) {
    m.info.added = !known.has(m.row.modelId);
    if (m.info.build !== "ok") warnings.push(`model ${m.info.modelId} (${m.info.name}): ${m.info.detail}`);
    if (m.info.build === "missing" && waiting.includes(m.row.modelId))
      warnings.push(
        `model ${m.info.modelId} (${m.info.name}) has on-chain requests in no batch: while its build is missing, the sequencer's next sync ` +
          `rejects them on chain (refunded); restore the build before the next batch:prove / batch:run to serve them`,
      );
  }

  let moved = 0;
  store.atomically(() => {
    store.bind(deployment);
    for (const m of served) if (m.info.added) store.addModel(m.row);
    for (const s of toSettle) store.markSettled(s.localId, s.ev.batchId, s.ev.txHash, s.gasUsed);
    const localIds = toAdd.map((b) => {
      const res = store.addSettledBatch(b.row, b.requests);
      moved += res.moved;
      return res.localId;
    });
    // Kept beside the rows, not in them: the rows stay exactly what the sequencer itself writes.
    store.setMeta("rebuilt", JSON.stringify({ at: new Date().toISOString(), batches: localIds, models: served.filter((m) => m.info.added).map((m) => m.info.modelId) }));
  });

  const settled = toAdd.flatMap((b) => b.requests);
  const report: RebuildReport = {
    store: store.file,
    deployment,
    models: served.map((m) => m.info),
    unservedModels: models.filter((m) => !m.serve).map((m) => ({ modelId: m.info.modelId, uri: m.info.uri, reason: m.info.detail })),
    batches,
    requests: {
      settled: settled.length,
      onchain: settled.filter((r) => r.id < OFFCHAIN_REQUEST_BASE).length,
      offchain: settled.filter((r) => r.id >= OFFCHAIN_REQUEST_BASE).length,
      delivered: settled.filter((r) => r.fulfilled).length,
      moved,
      pendingOnchain: waiting.length,
    },
    state: await replayState(ledger),
    warnings,
    unrecoverable: UNRECOVERABLE,
  };
  for (const w of warnings) progress(`warning: ${w}`);
  return report;
}

/** The data-point state replayed from L1 events (stateSync.ts), compared with the contract's root. */
async function replayState(ledger: EvmRollupLedger): Promise<RebuildReport["state"]> {
  let address: string;
  try {
    address = (await ledger.rollup.stateContract()) as string;
  } catch {
    return undefined;
  }
  if (!address || address === ZeroAddress) return undefined;
  const sl = await EvmStateLedger.connect(ledger.hre, address);
  const [params, info] = await Promise.all([sl.parameters(), sl.info()]);
  const base = { stateBatches: Number(info.stateBatches), operations: Number(info.opHead), root: info.root.toString() };
  try {
    const rebuilt = await rebuildState(await sl.history(), params.depth, params.opsPerBatch);
    const ok = rebuilt.tree.root === info.root && rebuilt.nextOp === info.opHead;
    return { ...base, ok, ...(ok ? {} : { detail: `the replayed state is at root ${rebuilt.tree.root} after ${rebuilt.nextOp} operation(s)` }) };
  } catch (e) {
    if (!(e instanceof FlavumError)) throw e;
    return { ...base, ok: false, detail: e.message };
  }
}
