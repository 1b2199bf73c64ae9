/**
 * The sequencer: orders inference requests, proves them in batches, settles the batches through the
 * ledger adapter and answers for any request. Its state lives in a SequencerStore on disk; the
 * order of writes makes a crash at any point recoverable without losing or repeating a batch:
 *   proven (stored with its proof) → submitting (stored before the transaction is sent) → settled.
 * On start, reconcile() compares unsettled batches with the chain: a batch the chain already holds
 * is marked settled, a batch whose slot another batch took goes back to the mempool.
 */
import fs from "fs";
import { AbiCoder, hexlify, solidityPackedKeccak256 } from "ethers";
import { FlavumError, InputError } from "../errors";
import { loadModel, LoadedModel } from "../model/artifacts";
import { labelOf } from "../model/inference";
import { reviewSamples } from "../model/samples";
import { quantizeInput, runInt } from "../quant/intExec";
import { packedHash } from "../quant/commitment";
import { fitsSigned } from "../quant/fixed";
import { prove, verify, shortHash, vkHash, Progress, silent, Groth16Proof } from "../zk";
import type { BatchSubmission, InferenceProof, ModelTraceState, RollupLedger, SentTx } from "../chain/ledger";
import { describeTx, stillPendingError } from "../chain/txWait";
import { SequencerStore, BatchRow, ServedModel } from "./store";
import { batchSubmission } from "./batchSubmission";
import { BatchRequest, planBatch, TraceEntry } from "./batchWitness";
import { batchPaths } from "./batchBuild";
import { TraceTree, Hash2, hasher, subtreeLevels, subtreePath } from "./merkle";
import { nextSlot, OFFCHAIN_REQUEST_BASE } from "../protocol/batch";
import type { RequestTrace } from "../sdk/apiTypes";

export interface SettledBatch {
  batchId: bigint;
  localId: number;
  txHash: string;
  gasUsed: bigint;
  inferences: number;
  proveMs: number;
}

/** What the sequencer and the ledger say about one request: the API's shape (src/sdk/apiTypes.ts). */
export type TraceReport = RequestTrace;

/**
 * A signed request's id follows from its signer and nonce: a resent request gets the id it got the
 * first time, even from a node whose store was rebuilt from the chain (the proven trace holds ids,
 * not signers). 63 bits of keccak: the off-chain half of the id space.
 */
export function signedRequestId(signer: string, nonce: bigint): bigint {
  const h = BigInt(solidityPackedKeccak256(["address", "uint256"], [signer, nonce]));
  return OFFCHAIN_REQUEST_BASE + (h % OFFCHAIN_REQUEST_BASE);
}

/** A batch's proving job: what a prover anywhere needs (see src/prover/ for the queue). */
export interface BatchProofJob {
  id: string;
  circuit: { wasm: string; zkey: string; vkey: string };
  input: Record<string, unknown>;
}

export interface BatchProofResult {
  proof: Groth16Proof;
  publicSignals: string[];
  witnessMs: number;
  proveMs: number;
}

export type BatchProver = (job: BatchProofJob) => Promise<BatchProofResult>;

/** Proves in this process, reloading the keys each time (the CLI's one-shot use). */
export function localProver(progress: Progress = silent): BatchProver {
  return (job) => prove(job.circuit.wasm, job.circuit.zkey, job.input, { progress });
}

export class Sequencer {
  private readonly models = new Map<string, LoadedModel>();
  /** Each model's trace tree, rebuilt from the store's settled batches. */
  private readonly trees = new Map<string, TraceTree>();
  /** The last block whose on-chain requests this process has read. */
  private scannedTo?: number;
  private fullScanAt = 0;

  private constructor(
    readonly store: SequencerStore,
    readonly ledger: RollupLedger,
    private readonly h: Hash2,
    private readonly progress: Progress,
  ) {}

  /** Opens the store, binds it to the ledger's rollup, rebuilds the trees and reconciles with the chain. */
  static async open(store: SequencerStore, ledger: RollupLedger, progress: Progress = silent): Promise<Sequencer> {
    const h = await hasher();
    const state = await ledger.state();
    store.bind(`${state.chainId}:${state.rollup.toLowerCase()}`);
    const seq = new Sequencer(store, ledger, h, progress);
    for (const b of store.settledBatches()) seq.append(b);
    await seq.reconcile();
    return seq;
  }

  /** The model's trace tree as this sequencer knows it. */
  tree(modelId: bigint): TraceTree {
    let t = this.trees.get(modelId.toString());
    if (!t) this.trees.set(modelId.toString(), (t = new TraceTree(this.h)));
    return t;
  }

  /** Adds a settled batch to its model's tree; a batch that started from the empty root after a full tree starts a new one. */
  private append(b: BatchRow): void {
    let t = this.tree(b.modelId);
    if (b.oldRoot !== t.root && b.firstLeaf === 0n) this.trees.set(b.modelId.toString(), (t = new TraceTree(this.h)));
    t.appendSubtree(b.firstLeaf, b.leaves);
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

  /**
   * The model as it is on disk now, checked against what was registered: a build recompiled with
   * other options would give a witness the registered batch circuit rejects (a raw circom assert),
   * so it is refused here with the way out. Rows from before these hashes were recorded are trusted.
   */
  private servable(m: ServedModel): { model: LoadedModel; paths: ReturnType<typeof batchPaths> } {
    this.models.delete(m.name);
    const model = this.model(m);
    const paths = batchPaths(model, m.batchSize);
    const who = `model "${m.name}" (id ${m.modelId}, batches of ${m.batchSize})`;
    const queued = "Its requests stay queued";
    if (m.circuitHash && model.manifest.circuit.hash !== m.circuitHash)
      throw new FlavumError(
        `${who} cannot be proven: it was registered from circuit ${shortHash(m.circuitHash)}, but the local build is now circuit ` +
          `${shortHash(model.manifest.circuit.hash)} (recompiled with other options after registration). Recompile it with the options it was ` +
          `registered with to serve it again, or compile the new version under a new --name and register that. ${queued}`,
        "STALE_MODEL",
      );
    const onDisk = fs.existsSync(paths.vkey) ? vkHash(paths.vkey) : undefined;
    if (m.vkHash && onDisk !== m.vkHash)
      throw new FlavumError(
        `${who} cannot be proven: its batch circuit was registered with verifying key ${shortHash(m.vkHash)}, but ${paths.dir} ` +
          `${onDisk ? `now holds ${shortHash(onDisk)}` : "holds no keys"}, so the registered verifier would reject every batch. ` +
          `This machine can no longer serve it: compile the model under a new --name and register that. ${queued}`,
        "STALE_MODEL",
      );
    return { model, paths };
  }

  /**
   * Queues samples for a model; all are validated first, so a bad sample queues nothing. A value the
   * model rounds is reported through the progress callback, or with `strict` refused (nothing queued).
   */
  request(idOrName: string, samples: number[][], opts: { strict?: boolean; what?: string } = {}): bigint[] {
    const m = this.served(idOrName);
    const q = this.servable(m).model.q;
    samples.forEach((s, i) => {
      try {
        quantizeInput(q, s);
      } catch (e) {
        if (e instanceof FlavumError) throw new InputError(`sample ${i}: ${e.message}`);
        throw e;
      }
    });
    reviewSamples(q, samples, opts.what ?? "input", { strict: opts.strict, progress: this.progress });
    const first = this.store.nextOffchainSeq();
    const reqs = samples.map((sample, i) => ({ id: OFFCHAIN_REQUEST_BASE + first + BigInt(i), modelId: m.modelId, sample }));
    this.store.addRequests(reqs);
    return reqs.map((r) => r.id);
  }

  /**
   * Queues a request whose quantized input a user signed (the node checked the signature): refused
   * here, before anything is stored, if the values do not fit the model, do not hash to the signed
   * commitment, or have no witness. The same signer and nonce return the request queued first.
   */
  async requestSigned(idOrName: string, values: bigint[], signed: { inputHash: bigint; signer: string; nonce: bigint; signature: string }): Promise<{ id: bigint; duplicate: boolean }> {
    const m = this.served(idOrName);
    const { model } = this.servable(m);
    const q = model.q;
    if (values.length !== q.input.size) throw new InputError(`the input has ${values.length} values, model ${m.modelId} (${m.name}) takes ${q.input.size}`);
    values.forEach((v, i) => {
      if (!fitsSigned(v, q.input.bits)) throw new InputError(`input value ${i} = ${v} does not fit the model's ${q.input.bits} signed bits`);
    });
    if ((await packedHash(values, q.input.bits)) !== signed.inputHash)
      throw new InputError(`the input does not hash to the signed inputHash ${signed.inputHash}: sign the Poseidon commitment of exactly these values`);
    const problem = provable(model, null, values);
    if (problem) throw new InputError(`model ${m.modelId} (${m.name}) cannot prove this input: ${problem}`);
    const id = signedRequestId(signed.signer, signed.nonce);
    return this.store.addSignedRequest({ id, modelId: m.modelId, quantized: values, signer: signed.signer, nonce: signed.nonce, signature: signed.signature }, (r) => {
      // A request restored from the chain keeps only the input commitment its batch proved.
      if (r.batchLocalId !== null) return BigInt((this.store.getBatch(r.batchLocalId)!.entries as TraceEntry[])[r.entryIndex!].inputHash) === signed.inputHash;
      return r.quantized !== null && r.quantized.length === values.length && r.quantized.every((v, i) => v === values[i]);
    });
  }

  /**
   * Picks up requests made on chain (requestInference; inputs are ABI-encoded int256[] of quantized
   * values). The contract already checked encoding, length and range; whatever is still wrong (the
   * input does not hash to its commitment) is rejected on chain with the reason, and refunded, so
   * one bad request never blocks the others. Requests already closed on chain are recorded as such.
   */
  async syncOnchainRequests(): Promise<number> {
    let added = 0;
    // Between full scans (the first of this process, then every minute: a model whose store row
    // was written by another command after its first request's block is caught up) only the blocks
    // since the last scan are read.
    const head = await this.ledger.blockNumber();
    const full = this.scannedTo === undefined || Date.now() - this.fullScanAt > 60_000;
    if (full) this.fullScanAt = Date.now();
    const range = full ? undefined : { fromBlock: this.scannedTo! + 1, toBlock: head };
    if (range && range.fromBlock > head) return 0;
    for (const r of await this.ledger.onchainRequests(range ?? { fromBlock: 0, toBlock: head })) {
      if (this.store.getRequest(r.requestId)) continue;
      const m = this.store.model(r.modelId.toString());
      if (!m) continue;
      let values: bigint[] | undefined;
      let problem: string | undefined;
      try {
        [values] = AbiCoder.defaultAbiCoder().decode(["int256[]"], r.input) as unknown as [bigint[]];
        const q = this.model(m).q;
        if (values.length !== q.input.size) problem = `the input has ${values.length} values, the model takes ${q.input.size}`;
        else if ((await packedHash(values, q.input.bits)) !== r.inputHash) problem = "the input does not hash to the request's input commitment";
      } catch (e) {
        problem = `the input cannot be read (${(e as Error).message.split("\n")[0]})`;
      }
      this.store.addRequests([{ id: r.requestId, modelId: r.modelId, quantized: (values ?? []).map(BigInt) }]);
      added++;
      const status = await this.ledger.requestStatus(r.requestId);
      if (status !== "pending") this.store.rejectRequest(r.requestId, `already ${status} on chain`, "closed");
      else if (problem) await this.rejectOnchain(r.requestId, problem);
    }
    this.scannedTo = head;
    return added;
  }

  /** Records a request as unprovable and, if it is on chain and still pending there, rejects it there (refund). */
  private async rejectOnchain(id: bigint, reason: string): Promise<void> {
    this.progress(`request ${id} rejected: ${reason}`);
    this.store.rejectRequest(id, reason);
    if (id >= OFFCHAIN_REQUEST_BASE) return;
    try {
      if ((await this.ledger.requestStatus(id)) === "pending") await this.ledger.rejectRequest(id, reason);
    } catch (e) {
      // Recorded locally either way; a failed rejection is retried by nobody, but the requester can cancel.
      this.progress(`request ${id}: rejecting it on chain failed (${(e as Error).message}); its requester can cancel it after the deadline`);
    }
  }

  /**
   * Brings the store in line with the chain (after a restart, or before a submission): per model, in
   * order, a batch the chain already holds is recorded settled; one whose slot another batch took, or
   * that no longer starts from the chain's root, goes stale with every batch planned on top of it,
   * and their requests go back to the mempool.
   */
  async reconcile(): Promise<void> {
    const byModel = new Map<string, BatchRow[]>();
    for (const b of this.store.inflightBatches()) byModel.set(b.modelId.toString(), [...(byModel.get(b.modelId.toString()) ?? []), b]);
    for (const batches of byModel.values()) {
      const modelId = batches[0].modelId;
      const chain = await this.ledger.modelTrace(modelId);
      const onchain = chain.batches > batches[0].batchNumber ? await this.ledger.settledBatches(modelId) : [];
      for (let i = 0; i < batches.length; i++) {
        const b = batches[i];
        let keep = true;
        if (chain.batches > b.batchNumber) {
          const e = onchain.find((x) => x.modelBatch === b.batchNumber);
          if (e && e.newRoot === b.newRoot && e.batchRoot === b.batchRoot) {
            this.progress(`batch ${b.batchNumber} of model ${b.modelId} is settled on chain (${e.txHash}): recording it`);
            const outcome = await this.ledger.waitTx(e.txHash, { timeoutMs: 0 });
            this.settle(b, e.batchId, e.txHash, outcome.status === "ok" ? outcome.gasUsed : null);
            continue;
          }
          this.progress(`batch slot ${b.batchNumber} of model ${b.modelId} was taken by another batch: its requests go back to the mempool`);
          keep = false;
        } else if (b.batchNumber === chain.batches && b.oldRoot !== this.expectedOldRoot(chain, b.batchSize)) {
          keep = false;
        }
        if (!keep) {
          for (const later of batches.slice(i)) this.store.markStale(later.localId);
          break;
        }
      }
    }
    for (const m of this.store.models()) {
      const chain = await this.ledger.modelTrace(m.modelId);
      if (this.tree(m.modelId).root !== chain.root)
        throw new FlavumError(
          `the sequencer's trace tree of model ${m.modelId} (root ${this.tree(m.modelId).root}) differs from the rollup's (${chain.root}); ` +
            `this store does not hold every settled batch of that model`,
          "STORE_DIVERGED",
        );
    }
  }

  /** The root the model's next batch of size B starts from: its tree's, or an empty one after a rollover. */
  private expectedOldRoot(chain: ModelTraceState, batchSize: number): bigint {
    return nextSlot(chain.nextLeaf, batchSize).rollover ? new TraceTree(this.h).root : chain.root;
  }

  private settle(b: BatchRow, batchId: bigint, txHash: string, gasUsed: bigint | null): void {
    this.store.markSettled(b.localId, batchId, txHash, gasUsed);
    this.append(b);
  }

  /**
   * Proves the next batch to submit, in this process: the one already in flight (proving it if it is
   * only planned), else a new one from the model with the oldest pending request. Undefined if
   * nothing is pending.
   */
  async proveNext(): Promise<BatchRow | undefined> {
    let b = this.store.unsettled();
    if (!b) {
      const next = this.store.oldestPending((id) => this.served(id.toString()).batchSize);
      if (!next) return undefined;
      b = await this.planBatchOf(next.modelId);
      if (!b) return this.proveNext();
    }
    return b.status === "planned" ? this.proveBatch(b) : b;
  }

  /**
   * Plans the model's next batch on top of every batch already in flight (their roots are known
   * before they are proven, so provers may take batches in any order). Every request is checked
   * first: one the model cannot prove (an activation leaves its calibrated range) or that was closed
   * on chain is set aside with its reason, never blocking the rest. Undefined if none is left.
   */
  async planBatchOf(modelId: bigint): Promise<BatchRow | undefined> {
    const served = this.served(modelId.toString());
    const { model } = this.servable(served);
    for (;;) {
      const pending = this.store.oldestPending((id) => this.served(id.toString()).batchSize, modelId);
      if (!pending) return undefined;
      const requests: BatchRequest[] = [];
      for (const r of pending.requests) {
        if (r.id < OFFCHAIN_REQUEST_BASE) {
          const status = await this.ledger.requestStatus(r.id);
          if (status !== "pending") {
            this.store.rejectRequest(r.id, `${status} on chain`, "closed");
            continue;
          }
        }
        const problem = provable(model, r.sample, r.quantized);
        if (problem) await this.rejectOnchain(r.id, problem);
        else requests.push({ requestId: r.id, sample: r.sample ?? undefined, quantized: r.quantized ?? undefined });
      }
      if (requests.length) return this.plan(served, model, requests);
    }
  }

  /** The model's tree with every in-flight batch applied, and where its next batch goes. */
  private async head(served: ServedModel): Promise<{ tree: TraceTree; batchNumber: bigint; nextLeaf: bigint }> {
    const chain = await this.ledger.modelTrace(served.modelId);
    if (chain.root !== this.tree(served.modelId).root) await this.reconcile();
    const inflight = this.store.inflightBatches(served.modelId);
    if (!inflight.length) return { tree: this.tree(served.modelId), batchNumber: chain.batches, nextLeaf: chain.nextLeaf };
    let tree = new TraceTree(this.h);
    for (const b of [...this.store.settledBatches(served.modelId), ...inflight]) {
      if (b.oldRoot !== tree.root && b.firstLeaf === 0n) tree = new TraceTree(this.h);
      tree.appendSubtree(b.firstLeaf, b.leaves);
    }
    const last = inflight[inflight.length - 1];
    return { tree, batchNumber: last.batchNumber + 1n, nextLeaf: last.firstLeaf + BigInt(last.batchSize) };
  }

  private async plan(served: ServedModel, model: LoadedModel, requests: BatchRequest[]): Promise<BatchRow> {
    const state = await this.ledger.state();
    const head = await this.head(served);
    const slot = nextSlot(head.nextLeaf, served.batchSize);
    const plan = await planBatch({
      q: model.q, h: this.h, tree: slot.rollover ? new TraceTree(this.h) : head.tree, modelId: served.modelId,
      batchSize: served.batchSize, batchNumber: head.batchNumber, firstLeaf: slot.firstLeaf,
      domain: state.domain, requests, store: state.traceStore,
    });
    const localId = this.store.addPlannedBatch(
      {
        modelId: served.modelId, batchSize: served.batchSize, batchNumber: head.batchNumber, firstLeaf: plan.firstLeaf,
        count: requests.length, oldRoot: plan.oldRoot, newRoot: plan.newRoot, batchRoot: plan.batchRoot,
        leaves: plan.leaves, entries: plan.entries, trace: hexlify(plan.trace),
      },
      plan.circuitInput as Record<string, unknown>,
      requests.map((r) => r.requestId),
    );
    this.progress(`model ${served.modelId} (${served.name}) batch ${head.batchNumber}: planned ${requests.length} inference(s) in a batch of ${served.batchSize}`);
    return this.store.getBatch(localId)!;
  }

  /** What a prover needs for a planned batch: a job id that names the batch and its content, the circuit, the input. */
  proofJob(b: BatchRow): BatchProofJob {
    if (b.status !== "planned" || !b.circuitInput) throw new FlavumError(`batch ${b.localId} is ${b.status}, not waiting for a proof`, "BAD_STATE");
    const served = this.served(b.modelId.toString());
    const { paths } = this.servable(served);
    const deployment = (this.store.getMeta("deployment") ?? "").replace(/[^0-9a-zA-Z]/g, "-");
    return {
      id: `${deployment}-m${b.modelId}-b${b.batchNumber}-${b.newRoot.toString(16).slice(0, 16)}`,
      circuit: { wasm: paths.wasm, zkey: paths.zkey, vkey: paths.vkey },
      input: b.circuitInput,
    };
  }

  /** Proves a planned batch with `prover` (in this process by default), checks the proof and records it. */
  async proveBatch(b: BatchRow, prover: BatchProver = localProver(this.progress)): Promise<BatchRow> {
    const job = this.proofJob(b);
    this.progress(`model ${b.modelId} batch ${b.batchNumber}: proving ${b.count} inference(s) in a batch of ${b.batchSize}`);
    const res = await prover(job);
    return this.recordProof(b, job, res);
  }

  /** Records a proof from any prover, after checking it against the batch's verifying key and statement. */
  async recordProof(b: BatchRow, job: BatchProofJob, res: BatchProofResult): Promise<BatchRow> {
    if (!(await verify(job.circuit.vkey, res.publicSignals, res.proof)))
      throw new FlavumError(`the proof of batch ${b.batchNumber} of model ${b.modelId} (job ${job.id}) does not verify against ${job.circuit.vkey}`, "BAD_PROOF");
    if (BigInt(res.publicSignals[0]) !== b.oldRoot || BigInt(res.publicSignals[1]) !== b.newRoot || BigInt(res.publicSignals[2]) !== b.batchRoot)
      throw new FlavumError(`the proof of job ${job.id} is for another batch than ${b.batchNumber} of model ${b.modelId}`, "BAD_PROOF");
    this.store.setProof(b.localId, { proof: res.proof, publicSignals: res.publicSignals }, res.witnessMs + res.proveMs);
    return this.store.getBatch(b.localId)!;
  }

  /**
   * Settles the proven batch, exactly once. A transaction sent by an earlier run is waited on, never
   * followed by a second one while it may still be mined; only one that reverted or was dropped (its
   * nonce used by another transaction) is. `replace` deliberately replaces a pending transaction:
   * same nonce, higher fees, so at most one of the two can land.
   */
  async submit(opts: { replace?: boolean } = {}): Promise<SettledBatch | undefined> {
    let b = await this.inflight();
    if (!b || b.status === "stale" || b.status === "planned") return undefined;
    if (b.status === "settled") return this.settledInfo(b);
    if (b.txHash) {
      let sent: SentTx = { hash: b.txHash, nonce: b.txNonce ?? undefined, from: b.txFrom ?? undefined };
      let outcome = await this.ledger.waitTx(sent, { what: `batch ${b.batchNumber}`, progress: this.progress, ...(opts.replace ? { timeoutMs: 0 } : {}) });
      if (outcome.status === "pending" && opts.replace) {
        sent = await this.replace(b, sent);
        outcome = await this.ledger.waitTx(sent, { what: `batch ${b.batchNumber}`, progress: this.progress });
      }
      if (outcome.status === "ok") {
        await this.settleMined(b, sent.hash, outcome.gasUsed);
        return this.settledInfo(this.store.getBatch(b.localId)!);
      }
      if (outcome.status === "pending") throw this.stillPending(b, sent, outcome.waitedMs);
      this.progress(
        `batch ${b.batchNumber}: transaction ${describeTx(sent)} ${outcome.status === "failed" ? "reverted" : "was dropped (another transaction used its nonce)"}; ` +
          `checking the chain before sending the batch again`,
      );
      this.store.setTx(b.localId, null);
      // The chain may hold the batch through another transaction (e.g. the one a replacement lost to).
      b = await this.inflight();
      if (!b || b.status === "stale" || b.status === "planned") return undefined;
      if (b.status === "settled") return this.settledInfo(b);
    }
    this.store.markSubmitting(b.localId);
    const sent = await this.ledger.sendBatch(this.submission(b));
    this.store.setTx(b.localId, sent);
    const outcome = await this.ledger.waitTx(sent, { what: `batch ${b.batchNumber}`, progress: this.progress });
    if (outcome.status === "pending") throw this.stillPending(b, sent, outcome.waitedMs);
    if (outcome.status === "failed") throw new FlavumError(`batch ${b.batchNumber}: transaction ${describeTx(sent)} reverted in block ${outcome.block}`, "REVERTED");
    if (outcome.status === "dropped")
      throw new FlavumError(`batch ${b.batchNumber}: transaction ${describeTx(sent)} was dropped (another transaction used its nonce); run batch:submit again to send the batch again`, "TX_DROPPED");
    await this.settleMined(b, sent.hash, outcome.gasUsed);
    return this.settledInfo(this.store.getBatch(b.localId)!);
  }

  /**
   * Gives up a batch the rollup refused, with every batch planned on top of it: they go stale and
   * their requests back to the mempool (a closed one is set aside when they are planned again).
   * Returns how many requests were requeued.
   */
  abandon(b: BatchRow): number {
    const later = this.store.inflightBatches(b.modelId).filter((x) => x.localId >= b.localId);
    for (const x of later) this.store.markStale(x.localId);
    return later.reduce((n, x) => n + x.count, 0);
  }

  /** A mined batch transaction: its rollup-wide batch id comes from the ledger's event. */
  private async settleMined(b: BatchRow, txHash: string, gasUsed: bigint): Promise<void> {
    const event = (await this.ledger.settledBatches(b.modelId)).find((e) => e.modelBatch === b.batchNumber && e.txHash === txHash);
    if (!event) throw new Error(`transaction ${txHash} was mined but the ledger has no batch ${b.batchNumber} of model ${b.modelId} from it`);
    this.settle(b, event.batchId, txHash, gasUsed);
  }

  /** The unsettled batch after comparing it with the chain (it may turn out settled or stale). */
  private async inflight(): Promise<BatchRow | undefined> {
    const b = this.store.unsettled();
    if (!b) return undefined;
    await this.reconcile();
    return this.store.getBatch(b.localId);
  }

  private submission(b: BatchRow): BatchSubmission {
    return batchSubmission(b);
  }

  /** Sends the replacement and records it; the old hash stays the one to watch if it was mined meanwhile. */
  private async replace(b: BatchRow, old: SentTx): Promise<SentTx> {
    this.progress(`batch ${b.batchNumber}: replacing pending transaction ${describeTx(old)} with the same nonce and higher fees`);
    let sent: SentTx;
    try {
      sent = await this.ledger.sendBatch(this.submission(b), old);
    } catch (e) {
      // A node refuses the replacement ("nonce too low") when the original was mined in the meantime.
      if ((await this.ledger.waitTx(old, { timeoutMs: 0, progress: this.progress })).status === "ok") return old;
      throw e;
    }
    this.store.setTx(b.localId, sent);
    return sent;
  }

  private stillPending(b: BatchRow, tx: SentTx, waitedMs: number): FlavumError {
    return stillPendingError(
      `batch ${b.batchNumber}`, tx, waitedMs,
      "run batch:submit again to keep waiting (it will not send a second transaction), or batch:submit --replace to replace it " +
        "with a transaction of the same nonce and higher fees (only one of the two can be mined); the batch stays submitting",
    );
  }

  private settledInfo(b: BatchRow): SettledBatch {
    return { batchId: b.batchId ?? -1n, localId: b.localId, txHash: b.txHash ?? "", gasUsed: b.gasUsed ?? 0n, inferences: b.count, proveMs: b.proveMs };
  }

  /**
   * Delivers every proven on-chain request not delivered yet (fulfil, so its callback runs): a queue
   * worked through on every run. One someone else already fulfilled is skipped; one that fails is
   * reported and retried next time, never stopping the others. Returns how many this call delivered.
   */
  async deliver(): Promise<number> {
    let n = 0;
    const posted = ((await this.ledger.state()).traceStore ?? "calldata") !== "calldata";
    for (const r of this.store.undelivered()) {
      const status = await this.ledger.requestStatus(r.id);
      // A blob or IPFS batch leaves its on-chain requests pending until their inclusion is proven here;
      // on a rollup of several chains, a request stays pending on its chain until the batch reaches it.
      if (status === "pending" && !posted) continue;
      if (status !== "included" && !(posted && status === "pending")) {
        this.store.markDelivered(r.id);
        continue;
      }
      const b = this.store.getBatch(r.batchLocalId!)!;
      try {
        await this.ledger.fulfill(r.id, this.inclusion(b, (b.entries as TraceEntry[])[r.entryIndex!]));
        this.store.markDelivered(r.id);
        n++;
      } catch (e) {
        if ((await this.ledger.requestStatus(r.id)) === "fulfilled") this.store.markDelivered(r.id);
        else this.progress(`request ${r.id}: fulfilment failed (${(e as Error).message}); it is retried on the next run`);
      }
    }
    return n;
  }

  /** A proven entry's inclusion proof: what fulfil and verifyInference take. */
  inclusion(b: BatchRow, e: TraceEntry): InferenceProof {
    const levels = subtreeLevels(this.h, b.leaves);
    return {
      modelId: BigInt(e.modelId), requestId: BigInt(e.requestId), inputHash: BigInt(e.inputHash),
      outputWord: BigInt(e.outputWord), index: e.index, path: subtreePath(levels, e.index), batchId: b.batchId ?? undefined,
    };
  }

  /** What the sequencer and the ledger say about one request. */
  async trace(requestId: bigint): Promise<TraceReport> {
    const r = this.store.getRequest(requestId);
    if (!r) throw new FlavumError(`unknown request ${requestId}: no such request in ${this.store.file}`, "UNKNOWN_REQUEST");
    const base: TraceReport = {
      requestId: r.id.toString(), modelId: r.modelId.toString(), status: r.status, verified: false, ...(r.reason ? { reason: r.reason } : {}),
    };
    if (r.batchLocalId === null) return base;
    const b = this.store.getBatch(r.batchLocalId)!;
    const e = (b.entries as TraceEntry[])[r.entryIndex!];
    const p = this.inclusion(b, e);
    const verified = b.status === "settled" && b.batchId !== null ? await this.ledger.verifyInference(b.batchId, p) : false;
    const model = this.model(this.served(r.modelId.toString()));
    const output = (e.output as unknown as string[]).map((v) => Number(v) / 2 ** model.manifest.outputScale);
    return {
      ...base,
      inputHash: p.inputHash.toString(),
      output,
      // The proven argmax, or for a one-output model the class its proven output gives.
      label: model.q.argmax ? e.label : labelOf(model.q, output),
      outputWord: p.outputWord.toString(),
      batch: (b.batchId ?? b.batchNumber).toString(), index: e.index, batchRoot: b.batchRoot.toString(), stateRoot: b.newRoot.toString(),
      txHash: b.txHash, path: p.path.map(String), verified,
    };
  }
}

/**
 * Why the model cannot prove this input (the integer executor is the circuit's arithmetic: a value
 * leaving its calibrated range there has no witness), or undefined if it can.
 */
function provable(model: LoadedModel, sample: number[] | null, quantized: bigint[] | null): string | undefined {
  try {
    runInt(model.q, quantized ?? quantizeInput(model.q, sample ?? []));
    return undefined;
  } catch (e) {
    if (e instanceof FlavumError) return e.message;
    throw e;
  }
}
