/**
 * A Prover backed by a BullMQ job queue on Redis, so proving scales out to `prover:worker`
 * processes on any machine that can reach the Redis server and holds the circuit's keys.
 *
 * Idempotent by job id: BullMQ adds a job whose id already exists as a no-op, so a node that
 * submits the same batch twice (a restart, a retry after a timeout) gets one proof. A job that
 * already completed is answered from its stored result (kept for `keepCompleted`); one that failed
 * for good is retried from the start when submitted again.
 *
 * The node trusts no worker: each result is verified against the node's own verifying key before
 * it is returned, and a result that does not verify is removed so the next submission proves again.
 */
import { Job, Queue, QueueEvents, type JobsOptions } from "bullmq";
import { FlavumError } from "../errors";
import { verify } from "../zk/groth16";
import { silent, type Progress } from "../zk/log";
import { checkRedis, queueName, redisOptions } from "./connection";
import { toJobData, type ProofJobData } from "./jobData";
import type { ProofJob, ProofResult, Prover } from "./types";

/** The BullMQ job name every proof job has (one kind of job per queue). */
export const PROOF_JOB = "prove";

export interface QueueProverOptions {
  queueName?: string;
  /** Tries per job before it fails for good (≥ 1; default 3). A stalled job (its worker died) is not a try. */
  attempts?: number;
  /** First retry after this many ms, doubling after (default 5000). */
  backoffMs?: number;
  /** Completed jobs and their proofs stay readable this long (seconds) and up to this many (default 1 day, 10,000). */
  keepCompleted?: { age: number; count: number };
  /** Failed jobs and their reasons (default 7 days, 10,000). */
  keepFailed?: { age: number; count: number };
  /** How long prove() waits for a proof (default 15 min). */
  timeoutMs?: number;
  progress?: Progress;
}

export class QueueProver implements Prover {
  private constructor(
    readonly url: string,
    readonly queueName: string,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly jobOpts: JobsOptions,
    private readonly timeoutMs: number,
    private readonly progress: Progress,
  ) {}

  static async connect(url: string, opts: QueueProverOptions = {}): Promise<QueueProver> {
    const connection = redisOptions(url);
    const name = queueName(opts.queueName);
    await checkRedis(url);
    const attempts = opts.attempts ?? 3;
    if (!(Number.isInteger(attempts) && attempts >= 1)) throw new FlavumError(`attempts must be a positive integer, got ${attempts}`, "BAD_INPUT");
    const keepCompleted = opts.keepCompleted ?? { age: 24 * 3600, count: 10_000 };
    const keepFailed = opts.keepFailed ?? { age: 7 * 24 * 3600, count: 10_000 };
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    // One listener pair per job being waited on: many proofs in flight are normal, not a leak.
    events.setMaxListeners(0);
    // ioredis reconnects by itself; without a listener its errors would crash the process.
    const log = opts.progress ?? silent;
    queue.on("error", (e) => log(`queue ${name}: ${e.message}`));
    events.on("error", (e) => log(`queue ${name} events: ${e.message}`));
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const jobOpts: JobsOptions = {
      attempts,
      backoff: { type: "exponential", delay: opts.backoffMs ?? 5000 },
      removeOnComplete: keepCompleted,
      removeOnFail: keepFailed,
    };
    return new QueueProver(url, name, queue, events, jobOpts, opts.timeoutMs ?? 15 * 60_000, log);
  }

  async prove(job: ProofJob, opts: { timeoutMs?: number } = {}): Promise<ProofResult> {
    checkJobId(job.id);
    const data = toJobData(job);
    const queued = await this.submit(job.id, data);
    const result = await this.wait(queued, opts.timeoutMs ?? this.timeoutMs);
    if (!(await verify(job.circuit.vkey, result.publicSignals, result.proof))) {
      // Left in place, the bad result would be the answer to every later submission of this id.
      await queued.remove().catch(() => undefined);
      throw new FlavumError(
        `proof job ${job.id} on queue ${this.queueName}: the proof from worker ${result.worker} does not verify against ${job.circuit.vkey}; ` +
          `it was discarded (submit the job again to prove it anew)`,
        "PROOF_REJECTED",
      );
    }
    return result;
  }

  /** The job's state in the queue (waiting, active, completed, failed, delayed, unknown). */
  async state(id: string): Promise<string> {
    return this.queue.getJobState(id);
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
  }

  private async submit(id: string, data: ProofJobData): Promise<Job> {
    const existing = (await Job.fromId(this.queue, id)) as Job<ProofJobData> | undefined;
    if (existing) {
      if (existing.data?.digest !== data.digest)
        throw new FlavumError(
          `proof job ${id} is already on queue ${this.queueName} with another input or proving key; ` +
            `a job id names one proof: give this one its own id`,
          "JOB_ID_REUSED",
        );
      const state = await existing.getState();
      if (state === "failed") {
        this.progress(`proof job ${id} failed before (${existing.failedReason}): trying it again`);
        try {
          await existing.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
        } catch (e) {
          // Another submitter retried it first, or it was removed meanwhile: what it is now is what we wait for.
          if ((await this.queue.getJobState(id)) === "failed") throw e;
        }
      }
      if (state !== "unknown") return existing;
    }
    return this.queue.add(PROOF_JOB, data, { ...this.jobOpts, jobId: id });
  }

  private async wait(queued: Job, timeoutMs: number): Promise<ProofResult> {
    const id = queued.id!;
    try {
      return (await queued.waitUntilFinished(this.events, timeoutMs)) as ProofResult;
    } catch (e) {
      const reason = (e as Error).message ?? String(e);
      const state = await this.queue.getJobState(id).catch(() => "unknown");
      if (/timed out before finishing/.test(reason))
        throw new FlavumError(
          `proof job ${id} on queue ${this.queueName} did not finish within ${Math.round(timeoutMs / 1000)} s (it is ${state}` +
            `${state === "waiting" || state === "prioritized" ? ": is a prover:worker running on this queue?" : ""})`,
          "PROOF_TIMEOUT",
        );
      const j = await Job.fromId(this.queue, id).catch(() => undefined);
      throw new FlavumError(
        `proof job ${id} on queue ${this.queueName} failed${j ? ` after ${j.attemptsMade} attempt(s)` : ""}: ${reason}`,
        "PROOF_FAILED",
      );
    }
  }
}

/** BullMQ refuses integer-looking ids (its own) and ids with ':' (its key separator). */
function checkJobId(id: string): void {
  if (typeof id !== "string" || !id || `${parseInt(id, 10)}` === id || id.includes(":"))
    throw new FlavumError(
      `proof job id "${id}" cannot be used: it must be a non-empty string that is not an integer and has no ':' (e.g. "m3-b42")`,
      "BAD_JOB_ID",
    );
}
