/**
 * Everything a batch proof needs, computed in TypeScript with the same arithmetic as the batch
 * circuit: each request's inference (integer executor), its trace leaf, the batch subtree and the
 * tree's new root, and the circuit input.
 */
import type { QGraph } from "../quant/qgraph";
import { quantizeInput, runInt } from "../quant/intExec";
import { packedHash, poseidonHash } from "../quant/commitment";
import { toField } from "../quant/fixed";
import { FlavumError } from "../errors";
import { committedTheta } from "../codegen/weights";
import { packMeta, packOutputWord, outputWordBits, unpackOutputWord, OutputLayout } from "../protocol/batch";
import { encodeTrace, postedChallenge, traceChallenge, traceElements, traceRlc, wordBytesFor, TraceItem } from "../protocol/traceBinding";
import { dataCommitment, TraceStoreMode } from "../traceStore/commitment";
import { TraceTree, log2Exact, subtreeLevels, Hash2 } from "./merkle";

/** A request to prove: a float sample (off-chain requests) or an already quantized input (on-chain ones). */
export interface BatchRequest {
  requestId: bigint;
  sample?: number[];
  quantized?: bigint[];
}

export interface TraceEntry {
  modelId: bigint;
  requestId: bigint;
  inputHash: bigint;
  outputWord: bigint;
  label: number;
  output: bigint[];
  /** Position of the leaf inside its batch subtree. */
  index: number;
}

export interface BatchPlan {
  entries: TraceEntry[];
  leaves: bigint[];
  levels: bigint[][];
  oldRoot: bigint;
  newRoot: bigint;
  batchRoot: bigint;
  meta: bigint;
  /** The compact trace as posted, its challenge r and its RLC h (public inputs). */
  trace: Uint8Array;
  /** Posted outside calldata: what the contract records of it (and r binds). */
  dataCommitment?: string;
  r: bigint;
  h: bigint;
  firstLeaf: bigint;
  circuitInput: Record<string, unknown>;
}

/** One proven inference as the trace records it: the label and outputs packed into one word, as the circuit packs them. */
export function traceEntry(modelId: bigint, requestId: bigint, inputHash: bigint, label: number, output: bigint[], bits: number, index: number): TraceEntry {
  return { modelId, requestId, inputHash, outputWord: packOutputWord(label, output, bits), label, output, index };
}

/**
 * The entry a posted trace item stands for, without running the model: its word unpacked with the
 * registered output layout. Packing it again must give the same word, so a word that layout cannot
 * have produced (bits above the outputs, a label where the model has none) is refused, not misread.
 */
export function entryFromTrace(modelId: bigint, item: TraceItem, index: number, layout: OutputLayout): TraceEntry {
  const { label, out } = unpackOutputWord(item.outputWord, layout.outputCount, layout.outputBits);
  const e = traceEntry(modelId, item.requestId, item.inputHash, label, out, layout.outputBits, index);
  if (e.outputWord !== item.outputWord || (!layout.hasLabel && label !== 0))
    throw new FlavumError(
      `trace entry ${index} (request ${item.requestId}): output word ${item.outputWord} is not one that model ${modelId}'s layout ` +
        `(${layout.outputCount} output(s) of ${layout.outputBits} bits${layout.hasLabel ? ", a label" : ""}) produces`,
      "BAD_TRACE",
    );
  return e;
}

export async function traceLeaf(e: Pick<TraceEntry, "modelId" | "requestId" | "inputHash" | "outputWord">): Promise<bigint> {
  return poseidonHash([e.modelId, e.requestId, e.inputHash, e.outputWord]);
}

export async function planBatch(args: {
  q: QGraph;
  h: Hash2;
  tree: TraceTree;
  modelId: bigint;
  batchSize: number;
  batchNumber: bigint;
  firstLeaf: bigint;
  /** The rollup's domain id, which r binds. */
  domain: bigint;
  requests: BatchRequest[];
  /** Where the trace is posted (default calldata). */
  store?: TraceStoreMode;
}): Promise<BatchPlan> {
  const { q, h, tree, modelId, batchSize, requests } = args;
  const levelsCount = log2Exact(batchSize);
  if (requests.length < 1 || requests.length > batchSize)
    throw new FlavumError(`a batch of size ${batchSize} takes 1..${batchSize} requests, got ${requests.length}`);
  const out = q.tensors[q.output];
  const bits = out.bits;
  const entries: TraceEntry[] = [];
  const xs: string[][] = [];
  for (const [i, r] of requests.entries()) {
    const xq = r.quantized ?? quantizeInput(q, r.sample ?? []);
    const res = runInt(q, xq);
    const label = q.argmax ? res.argmax : 0;
    const inputHash = await packedHash(xq, q.input.bits);
    entries.push(traceEntry(modelId, r.requestId, inputHash, label, res.output, bits, i));
    xs.push(xq.map((v) => toField(v).toString()));
  }
  // Padding slots repeat the first input (known to be in range); their leaves are 0.
  while (xs.length < batchSize) xs.push(xs[0]);
  const leaves = [...(await Promise.all(entries.map(traceLeaf))), ...Array(batchSize - entries.length).fill(0n)];
  const levels = subtreeLevels(h, leaves);
  const batchRoot = levels[levels.length - 1][0];
  const oldRoot = tree.root;
  const siblings = tree.siblings(levelsCount, args.firstLeaf >> BigInt(levelsCount));
  const meta = packMeta({
    modelId, batchNumber: args.batchNumber, firstLeaf: args.firstLeaf, count: entries.length,
    layout: { outputBits: bits, outputCount: out.size, hasLabel: q.argmax }, batchSize,
  });
  // The tree itself changes only once the batch is settled on chain.
  const newRoot = climb(h, args.firstLeaf >> BigInt(levelsCount), batchRoot, siblings);
  const trace = encodeTrace(entries, wordBytesFor(outputWordBits(out.size, bits)));
  const ctx = { domain: args.domain, oldRoot, newRoot, batchRoot, meta };
  const posted = args.store && args.store !== "calldata" ? await dataCommitment(args.store, trace) : undefined;
  const r = posted ? postedChallenge(ctx, posted) : traceChallenge(ctx, trace);
  const rlc = traceRlc(traceElements(entries), r);
  const circuitInput = {
    oldRoot: oldRoot.toString(), newRoot: newRoot.toString(), batchRoot: batchRoot.toString(),
    meta: meta.toString(), r: r.toString(), h: rlc.toString(),
    x: xs,
    requestId: [...entries.map((e) => e.requestId), ...Array(batchSize - entries.length).fill(0n)].map(String),
    siblings: siblings.map(String),
    ...(q.committed ? await committedInput(q) : {}),
  };
  return { entries, leaves, levels, oldRoot, newRoot, batchRoot, meta, trace, dataCommitment: posted, r, h: rlc, firstLeaf: args.firstLeaf, circuitInput };
}

/** A published model's private weights and their commitment, the batch circuit's 7th public input. */
async function committedInput(q: QGraph): Promise<{ theta: string[]; weightsHash: string }> {
  const theta = committedTheta(q);
  return { theta: theta.map((v) => toField(v).toString()), weightsHash: (await packedHash(theta, q.committed!.bits)).toString() };
}

/** The root reached from `node` at position `index` through `siblings` (bottom-up). */
export function climb(h: Hash2, index: bigint, node: bigint, siblings: readonly bigint[]): bigint {
  let idx = index;
  for (const s of siblings) {
    node = idx & 1n ? h(s, node) : h(node, s);
    idx >>= 1n;
  }
  return node;
}
