/**
 * The sequencer: orders inference requests, proves them in batches, settles the batches through the
 * ledger adapter and answers for any request. Its state lives in a SequencerStore on disk; the
 * order of writes makes a crash at any point recoverable without losing or repeating a batch:
 *   proven (stored with its proof) → submitting (stored before the transaction is sent) → settled.
 * On start, reconcile() compares unsettled batches with the chain: a batch the chain already holds
 * is marked settled, a batch whose slot another batch took goes back to the mempool.
 */
import { AbiCoder } from "ethers";
import { FlavumError, InputError } from "../errors";
import { loadModel, LoadedModel } from "../model/artifacts";
import { labelOf } from "../model/inference";
import { quantizeInput } from "../quant/intExec";
import { packedHash } from "../quant/commitment";
import { prove, verify, solidityCalldata, Progress, silent } from "../zk";
import type { InferenceProof, RollupLedger } from "../chain/ledger";
import { SequencerStore, BatchRow, ServedModel } from "./store";
import { BatchRequest, planBatch, TraceEntry } from "./batchWitness";
import { batchPaths } from "./batchBuild";
import { TraceTree, Hash2, hasher, subtreeLevels, subtreePath } from "./merkle";
import { alignLeaf, OFFCHAIN_REQUEST_BASE } from "./layout";

export interface SettledBatch {
  batchId: bigint;
  localId: number;
  txHash: string;
  gasUsed: bigint;
  inferences: number;
  proveMs: number;
}

export interface TraceReport {
  requestId: string;
  modelId: string;
  status: string;
  inputHash?: string;
  /** Dequantized outputs, the class label, and the raw packed word as it sits in the leaf. */
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
}

export class Sequencer {
  private readonly models = new Map<string, LoadedModel>();

  private constructor(
    readonly store: SequencerStore,
    readonly ledger: RollupLedger,
    private readonly h: Hash2,
    readonly tree: TraceTree,
    private readonly progress: Progress,
  ) {}

  /** Opens the store, binds it to the ledger's rollup, rebuilds the tree and reconciles with the chain. */
  static async open(store: SequencerStore, ledger: RollupLedger, progress: Progress = silent): Promise<Sequencer> {
    const h = await hasher();
    const state = await ledger.state();
    store.bind(`${state.chainId}:${state.rollup.toLowerCase()}`);
    const tree = new TraceTree(h);
    for (const b of store.settledBatches()) tree.appendSubtree(b.firstLeaf, b.leaves);
    const seq = new Sequencer(store, ledger, h, tree, progress);
    await seq.reconcile();
    return seq;
  }

  served(idOrName: string): ServedModel {
    const m = this.store.model(idOrName);
    if (!m) {
      const known = this.store.models().map((x) => `${x.modelId} (${x.name})`).join(", ") || "none";
      throw new FlavumError(`model "${idOrName}" is not registered with this sequencer; register it with model:register (registered: ${known})`, "UNKNOWN_MODEL");
    }
    return m;
  }

  private model(m: ServedModel): LoadedModel {
    let lm = this.models.get(m.name);
    if (!lm) this.models.set(m.name, (lm = loadModel(m.name)));
    return lm;
  }

  /** Queues samples for a model; all are validated first, so a bad sample queues nothing. */
  request(idOrName: string, samples: number[][]): bigint[] {
    const m = this.served(idOrName);
    const q = this.model(m).q;
    samples.forEach((s, i) => {
      try {
        quantizeInput(q, s);
      } catch (e) {
        if (e instanceof FlavumError) throw new InputError(`sample ${i}: ${e.message}`);
        throw e;
      }
    });
    const first = this.store.nextOffchainSeq();
    const reqs = samples.map((sample, i) => ({ id: OFFCHAIN_REQUEST_BASE + first + BigInt(i), modelId: m.modelId, sample }));
    this.store.addRequests(reqs);
    return reqs.map((r) => r.id);
  }

  /** Picks up requests made on chain (requestInference); inputs are ABI-encoded int256[] of quantized values. */
  async syncOnchainRequests(): Promise<number> {
    let added = 0;
    for (const r of await this.ledger.onchainRequests()) {
      if (this.store.getRequest(r.requestId)) continue;
      const m = this.store.model(r.modelId.toString());
      if (!m) continue;
      const [values] = AbiCoder.defaultAbiCoder().decode(["int256[]"], r.input) as unknown as [bigint[]];
      const q = this.model(m).q;
      if (values.length !== q.input.size || (await packedHash(values, q.input.bits)) !== r.inputHash) {
        this.progress(`skipping on-chain request ${r.requestId}: its input does not match its input hash or the model's shape`);
        continue;
      }
      this.store.addRequests([{ id: r.requestId, modelId: r.modelId, quantized: values.map(BigInt) }]);
      added++;
    }
    return added;
  }

  /** Brings the store in line with the chain after a restart. */
  async reconcile(): Promise<void> {
    const b = this.store.unsettled();
    const state = await this.ledger.state();
    if (b) {
      if (state.batchCount > b.batchNumber) {
        const onchain = (await this.ledger.settledBatches()).find((e) => e.batchId === b.batchNumber);
        if (onchain && onchain.newRoot === b.newRoot && onchain.batchRoot === b.batchRoot) {
          this.progress(`batch ${b.batchNumber} was settled before the restart (${onchain.txHash}): recording it`);
          const outcome = await this.ledger.waitTx(onchain.txHash);
          this.settle(b, onchain.txHash, outcome.status === "ok" ? outcome.gasUsed : null);
        } else {
          this.progress(`batch slot ${b.batchNumber} was taken by another batch: its requests go back to the mempool`);
          this.store.markStale(b.localId);
        }
      } else if (state.stateRoot !== b.oldRoot) {
        this.store.markStale(b.localId);
      }
    }
    if (this.tree.root !== (await this.ledger.state()).stateRoot)
      throw new FlavumError(
        `the sequencer's trace tree (root ${this.tree.root}) differs from the rollup's state root; ` +
          `this store does not hold every settled batch of this rollup`,
        "STORE_DIVERGED",
      );
  }

  private settle(b: BatchRow, txHash: string, gasUsed: bigint | null): void {
    this.store.markSettled(b.localId, txHash, gasUsed);
    this.tree.appendSubtree(b.firstLeaf, b.leaves);
  }

  /** Proves the next batch (the model with the oldest pending request). Undefined if nothing is pending. */
  async proveNext(): Promise<BatchRow | undefined> {
    const inflight = this.store.unsettled();
    if (inflight) return inflight;
    const next = this.store.oldestPending((id) => this.served(id.toString()).batchSize);
    if (!next) return undefined;
    const served = this.served(next.modelId.toString());
    const model = this.model(served);
    const paths = batchPaths(model, served.batchSize);
    const state = await this.ledger.state();
    if (state.stateRoot !== this.tree.root) await this.reconcile();
    const requests: BatchRequest[] = next.requests.map((r) => ({ requestId: r.id, sample: r.sample ?? undefined, quantized: r.quantized ?? undefined }));
    const plan = await planBatch({
      q: model.q, h: this.h, tree: this.tree, modelId: served.modelId, batchSize: served.batchSize,
      batchNumber: state.batchCount, firstLeaf: alignLeaf(state.nextLeaf, served.batchSize),
      rollup: state.rollup, chainId: state.chainId, requests,
    });
    this.progress(`batch ${state.batchCount}: proving ${requests.length} inference(s) of model ${served.modelId} (${served.name}) in a batch of ${served.batchSize}`);
    const res = await prove(paths.wasm, paths.zkey, plan.circuitInput, { progress: this.progress });
    if (!(await verify(paths.vkey, res.publicSignals, res.proof)))
      throw new Error(`the batch proof does not verify against ${paths.vkey}`);
    const localId = this.store.addProvenBatch(
      {
        modelId: served.modelId, batchSize: served.batchSize, batchNumber: state.batchCount, firstLeaf: plan.firstLeaf,
        count: requests.length, oldRoot: plan.oldRoot, newRoot: plan.newRoot, batchRoot: plan.batchRoot,
        leaves: plan.leaves, entries: plan.entries, proof: { proof: res.proof, publicSignals: res.publicSignals },
        proveMs: res.witnessMs + res.proveMs,
      },
      requests.map((r) => r.requestId),
    );
    return this.store.getBatch(localId);
  }

  /** Settles the proven batch, exactly once. */
  async submit(): Promise<SettledBatch | undefined> {
    let b = this.store.unsettled();
    if (!b) return undefined;
    await this.reconcile();
    b = this.store.getBatch(b.localId)!;
    if (b.status === "settled") return this.settledInfo(b);
    if (b.status === "stale") return undefined;
    if (b.txHash) {
      const outcome = await this.ledger.waitTx(b.txHash);
      if (outcome.status === "ok") {
        this.settle(b, b.txHash, outcome.gasUsed);
        return this.settledInfo(this.store.getBatch(b.localId)!);
      }
    }
    this.store.markSubmitting(b.localId);
    const { proof, publicSignals } = b.proof as { proof: Parameters<typeof solidityCalldata>[0]; publicSignals: string[] };
    const cd = solidityCalldata(proof, publicSignals);
    const txHash = await this.ledger.sendBatch({
      modelId: b.modelId, batchSize: b.batchSize, count: b.count, newRoot: b.newRoot, batchRoot: b.batchRoot,
      proof: { a: cd.a, b: cd.b, c: cd.c }, trace: encodeTrace(b.entries as TraceEntry[]),
    });
    this.store.setTxHash(b.localId, txHash);
    const outcome = await this.ledger.waitTx(txHash);
    if (outcome.status !== "ok") throw new FlavumError(`batch ${b.batchNumber} transaction ${txHash} ${outcome.status === "failed" ? "reverted" : "was not mined"}`);
    this.settle(b, txHash, outcome.gasUsed);
    return this.settledInfo(this.store.getBatch(b.localId)!);
  }

  private settledInfo(b: BatchRow): SettledBatch {
    return { batchId: b.batchNumber, localId: b.localId, txHash: b.txHash ?? "", gasUsed: b.gasUsed ?? 0n, inferences: b.count, proveMs: b.proveMs };
  }

  /** Fulfils the on-chain requests of a settled batch, so their callbacks run. */
  async fulfillOnchain(batch: SettledBatch): Promise<number> {
    const b = this.store.getBatch(batch.localId)!;
    let n = 0;
    for (const e of b.entries as TraceEntry[]) {
      const id = BigInt(e.requestId);
      if (id >= OFFCHAIN_REQUEST_BASE) continue;
      await this.ledger.fulfill(id, b.batchNumber, this.inclusion(b, e));
      n++;
    }
    return n;
  }

  private inclusion(b: BatchRow, e: TraceEntry): InferenceProof {
    const levels = subtreeLevels(this.h, b.leaves);
    return {
      modelId: BigInt(e.modelId), requestId: BigInt(e.requestId), inputHash: BigInt(e.inputHash),
      outputWord: BigInt(e.outputWord), index: e.index, path: subtreePath(levels, e.index),
    };
  }

  /** What the sequencer and the ledger say about one request. */
  async trace(requestId: bigint): Promise<TraceReport> {
    const r = this.store.getRequest(requestId);
    if (!r) throw new FlavumError(`unknown request ${requestId}: no such request in ${this.store.file}`, "UNKNOWN_REQUEST");
    const base: TraceReport = { requestId: r.id.toString(), modelId: r.modelId.toString(), status: r.status, verified: false };
    if (r.batchLocalId === null) return base;
    const b = this.store.getBatch(r.batchLocalId)!;
    const e = (b.entries as TraceEntry[])[r.entryIndex!];
    const p = this.inclusion(b, e);
    const verified = b.status === "settled" ? await this.ledger.verifyInference(b.batchNumber, p) : false;
    const model = this.model(this.served(r.modelId.toString()));
    const output = (e.output as unknown as string[]).map((v) => Number(v) / 2 ** model.manifest.outputScale);
    return {
      ...base,
      inputHash: p.inputHash.toString(),
      output,
      // The proven argmax, or for a one-output model the class its proven output gives.
      label: model.q.argmax ? e.label : labelOf(model.q, output),
      outputWord: p.outputWord.toString(),
      batch: b.batchNumber.toString(), index: e.index, batchRoot: b.batchRoot.toString(), stateRoot: b.newRoot.toString(),
      txHash: b.txHash, path: p.path.map(String), verified,
    };
  }
}

/** calldata trace: per entry uint64 requestId ‖ uint256 inputHash ‖ uint256 outputWord (72 bytes). */
export function encodeTrace(entries: readonly TraceEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * 72);
  entries.forEach((e, i) => {
    const put = (v: bigint, offset: number, bytes: number) => {
      for (let k = bytes - 1; k >= 0; k--) {
        out[i * 72 + offset + k] = Number(v & 0xffn);
        v >>= 8n;
      }
    };
    put(BigInt(e.requestId), 0, 8);
    put(BigInt(e.inputHash), 8, 32);
    put(BigInt(e.outputWord), 40, 32);
  });
  return out;
}
