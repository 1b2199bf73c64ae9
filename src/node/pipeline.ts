/**
 * The sequencer as a long-running service: follow the chain (on-chain requests, queued state
 * operations), batch by policy (a full batch, or the oldest request waited `batchTimeoutMs`), hand
 * planned batches to provers (any number at once, in any order: every batch's roots are fixed when
 * it is planned), submit them in order, deliver on-chain results, and say what happened as events.
 *
 * Nothing here holds state the store does not: a kill -9 at any step restarts from the store, where
 * each step is one SQLite transaction (planned → proven → submitting → settled), and the chain
 * decides what landed (Sequencer.reconcile). A resent proving job has the same id, so a queue
 * proves it once.
 */
import { EventEmitter } from "events";
import { FlavumError } from "../errors";
import type { Progress } from "../zk/log";
import { BatchProver, localProver, Sequencer } from "../rollup/sequencer";
import type { BatchRow } from "../rollup/store";
import type { EvmStateLedger } from "../chain/evmState";
import { runStateBatch } from "../rollup/stateSequencer";

export interface PipelineOptions {
  /** A batch that is not full goes out once its oldest request waited this long. */
  batchTimeoutMs: number;
  /** How often the chain is polled when nothing wakes the loop. */
  pollMs?: number;
  /** Proves planned batches; in this process by default. */
  prover?: BatchProver;
  /** Batches proving at once (the queue's workers decide the real parallelism). */
  proverConcurrency?: number;
  /** Planned but unsettled batches at most: how far planning runs ahead of settlement. */
  maxInflight?: number;
  /** The data-point state: its queued operations are proven in state batches first. */
  state?: EvmStateLedger;
  progress?: Progress;
}

export interface NodeEvent {
  type: string;
  at: string;
  [k: string]: unknown;
}

const RETRY_MS = 2_000;

export class Pipeline extends EventEmitter {
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private readonly proving = new Map<number, Promise<void>>();
  /** Batches whose proof failed, and when they may be tried again. */
  private readonly retryAt = new Map<number, number>();
  private readonly prover: BatchProver;
  private lastError = "";

  constructor(readonly seq: Sequencer, readonly opts: PipelineOptions) {
    super();
    this.prover = opts.prover ?? localProver(opts.progress);
  }

  /** Emits one event (and its log line). */
  event(type: string, data: Record<string, unknown> = {}): void {
    const e: NodeEvent = { type, at: new Date().toISOString(), ...data };
    this.opts.progress?.(`${type} ${Object.entries(data).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(" ")}`);
    this.emit("event", e);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.tick();
          this.lastError = "";
        } catch (e) {
          const msg = (e as Error).message;
          // The same failure every poll is one event, not a flood.
          if (msg !== this.lastError) this.event("node.error", { message: msg });
          this.lastError = msg;
        }
        if (!this.running) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.opts.pollMs ?? 1_000);
          this.wakeUp = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    })();
  }

  /** Runs the loop now (a request arrived, a proof came back). */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops after the step in progress; proofs under way are awaited so their results are stored. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.proving.values()]);
  }

  /** One pass over everything that may be due. */
  async tick(): Promise<void> {
    const added = await this.seq.syncOnchainRequests();
    if (added) this.event("requests.onchain", { count: added });
    if (this.opts.state) await this.stateStep();
    await this.planDue();
    this.dispatch();
    await this.submitReady();
    const delivered = await this.seq.deliver();
    if (delivered) this.event("requests.delivered", { count: delivered });
  }

  private async stateStep(): Promise<void> {
    const info = await this.opts.state!.info();
    if (info.exodus || info.opHead === info.opTail) return;
    const s = await runStateBatch(this.opts.state!, { progress: this.opts.progress });
    if (s) this.event("state.settled", { stateBatch: s.stateBatch.toString(), operations: s.count, txHash: s.txHash, gasUsed: s.gasUsed.toString() });
  }

  /** Plans every batch the policy says is due, up to maxInflight in flight. */
  private async planDue(): Promise<void> {
    const max = this.opts.maxInflight ?? 8;
    for (;;) {
      if (this.seq.store.inflightBatches().length >= max) return;
      const now = Date.now();
      const due = this.seq.store.pendingByModel().find((p) => {
        const m = this.seq.store.model(p.modelId.toString());
        if (!m) return false;
        return p.count >= m.batchSize || now - Date.parse(p.oldest) >= this.opts.batchTimeoutMs;
      });
      if (!due) return;
      const b = await this.seq.planBatchOf(due.modelId);
      if (!b) continue;
      this.event("batch.planned", batchFields(b));
    }
  }

  /** Starts proofs of planned batches, as many as the prover concurrency allows. */
  private dispatch(): void {
    const limit = this.opts.proverConcurrency ?? 1;
    for (const b of this.seq.store.inflightBatches()) {
      if (this.proving.size >= limit) return;
      if (b.status !== "planned" || this.proving.has(b.localId) || (this.retryAt.get(b.localId) ?? 0) > Date.now()) continue;
      const job = this.seq.proofJob(b);
      const started = Date.now();
      this.event("batch.proving", { ...batchFields(b), job: job.id });
      const run = this.prover(job)
        .then(async (res) => {
          const proven = await this.seq.recordProof(b, job, res);
          this.retryAt.delete(b.localId);
          this.event("batch.proven", { ...batchFields(proven), job: job.id, proveMs: Math.round(res.witnessMs + res.proveMs), wallMs: Date.now() - started });
        })
        .catch((e) => {
          this.retryAt.set(b.localId, Date.now() + RETRY_MS);
          this.event("batch.proveFailed", { ...batchFields(b), job: job.id, reason: (e as Error).message });
        })
        .finally(() => {
          this.proving.delete(b.localId);
          this.wake();
        });
      this.proving.set(b.localId, run);
    }
  }

  /**
   * Submits proven batches in order. A batch the rollup refused (a request in it was cancelled in the
   * meantime, say) goes stale with the batches planned on it; their requests are planned again.
   */
  private async submitReady(): Promise<void> {
    for (;;) {
      const head = this.seq.store.unsettled();
      if (!head || head.status === "planned") return;
      try {
        const s = await this.seq.submit();
        if (!s) continue;
        this.event("batch.settled", { batchId: s.batchId.toString(), modelId: head.modelId.toString(), batch: head.batchNumber.toString(), count: s.inferences, txHash: s.txHash, gasUsed: s.gasUsed.toString() });
      } catch (e) {
        if (e instanceof FlavumError && e.code === "REVERTED") {
          const n = this.seq.abandon(head);
          this.event("batch.reverted", { ...batchFields(head), reason: e.message, requeued: n });
          continue;
        }
        throw e;
      }
    }
  }
}

function batchFields(b: BatchRow): Record<string, unknown> {
  return { modelId: b.modelId.toString(), batch: b.batchNumber.toString(), count: b.count, status: b.status };
}
