/**
 * A queue worker: takes proof jobs from the BullMQ queue, proves them with a WarmProver (keys and
 * curve stay loaded between jobs) and stores the ProofResult as the job's return value.
 *
 * Crash safety comes from BullMQ's job locks. While a job is proven its lock (lockMs) is renewed
 * from this process's event loop; snarkjs does the heavy arithmetic (FFTs, multi-exponentiations) in
 * ffjavascript's worker threads, so the loop stays free to renew it — only the witness and the
 * proof's setup steps (building A, B, C from the coefficients) run on the main thread, a small part
 * of the lock. A worker killed outright (SIGKILL, OOM, a lost machine) stops renewing; once the lock
 * expires, the stalled-job check of any other worker on the queue puts the job back in the queue,
 * and another worker proves it. A stall is not a failed attempt; a job that stalls more than
 * MAX_STALLS times (a job that kills every worker) fails with BullMQ's reason.
 *
 * close() is graceful: no new jobs, the running ones finish; past `graceMs` (or on release()) they
 * are handed back to the queue at once instead of waiting for the lock to lapse.
 */
import path from "path";
import { Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import { FlavumError } from "../errors";
import { WitnessError } from "../zk/groth16";
import { formatSeconds, silent, type Progress } from "../zk/log";
import { checkRedis, queueName, redisOptions } from "./connection";
import { fromJobData, type ProofJobData } from "./jobData";
import { ProvingKeyError } from "./keyCache";
import { WarmProver, type WitnessFn } from "./warmProver";
import type { ProofResult } from "./types";

/** How long a job stays assigned to a worker that stopped renewing its lock (BullMQ's default). */
export const DEFAULT_LOCK_MS = 30_000;
/** Stalls (its worker died mid-proof) a job survives before it fails. */
export const MAX_STALLS = 2;

export interface ProverWorkerOptions {
  url: string;
  concurrency?: number;
  queueName?: string;
  progress?: Progress;
  /** Job lock duration; after a crash the job is back in the queue within about lockMs + stalledIntervalMs. */
  lockMs?: number;
  /** How often this worker looks for jobs whose worker died (default lockMs / 2). */
  stalledIntervalMs?: number;
  /** Reported in each ProofResult and stored on the jobs it takes; default `<hostname>/<pid>`. */
  name?: string;
  /** Passed to the WarmProver: where a native witness generator plugs in. */
  witnessFn?: WitnessFn;
}

export interface ProverWorker {
  readonly name: string;
  readonly queueName: string;
  /** Attempts this worker started, finished, failed, and handed back on close. */
  readonly stats: { started: number; completed: number; failed: number; released: number };
  /** Stops taking jobs and lets the running ones finish; after graceMs (default: no limit) releases them. */
  close(opts?: { graceMs?: number }): Promise<void>;
  /** Hands the running jobs back to the queue now (another worker takes them); close() still has to be called. */
  release(): void;
}

/** A job that cannot succeed on a retry: its key is not here, its data is unreadable, or its input has no witness. */
function permanent(e: unknown): boolean {
  return e instanceof ProvingKeyError || e instanceof WitnessError || (e instanceof FlavumError && ["BAD_JOB", "BAD_INPUT"].includes(e.code));
}

/** "mlp_digits.batch-8/circuit.zkey": every build's key file is called circuit.zkey, its folder says which. */
function keyName(zkey?: string): string {
  return zkey ? path.join(path.basename(path.dirname(zkey)), path.basename(zkey)) : "no key named";
}

function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(`aborted: ${String(signal.reason ?? "released")}`));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export async function startProverWorker(opts: ProverWorkerOptions): Promise<ProverWorker> {
  const log = opts.progress ?? silent;
  const connection = redisOptions(opts.url);
  const concurrency = opts.concurrency ?? 1;
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new FlavumError(`concurrency must be a positive integer, got ${concurrency}`, "BAD_INPUT");
  const lockMs = opts.lockMs ?? DEFAULT_LOCK_MS;
  if (!(Number.isInteger(lockMs) && lockMs >= 1000)) throw new FlavumError(`the job lock must be at least 1000 ms, got ${lockMs}`, "BAD_INPUT");
  const queue = queueName(opts.queueName);
  await checkRedis(opts.url);
  const prover = new WarmProver({ name: opts.name, witnessFn: opts.witnessFn, progress: (m) => log(`  ${m}`) });
  const stats = { started: 0, completed: 0, failed: 0, released: 0 };
  let releasing = false;
  const ownFailures = new Set<string>();

  const processor = async (job: Job<ProofJobData, ProofResult>, token?: string, signal?: AbortSignal): Promise<ProofResult> => {
    const id = job.id!;
    const start = performance.now();
    const attempt = `attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}`;
    stats.started++;
    log(`job ${id}: start (${attempt}, ${keyName(job.data?.circuit?.zkey)})`);
    try {
      const result = await untilAborted(prover.prove(fromJobData(id, job.data)), signal);
      stats.completed++;
      log(
        `job ${id}: done in ${Math.round(performance.now() - start)} ms (witness ${Math.round(result.witnessMs)} ms, ` +
          `prove ${Math.round(result.proveMs)} ms, ${result.warm ? "warm" : "cold"})`,
      );
      return result;
    } catch (e) {
      if (releasing && signal?.aborted) {
        // Back to the waiting list, lock dropped: another worker starts it now, and no attempt is spent.
        try {
          await job.moveToWait(token);
          stats.released++;
          log(`job ${id}: released back to the queue after ${formatSeconds(performance.now() - start)} (worker closing)`);
        } catch (moveErr) {
          // Its lock then simply lapses and the stalled-job check hands it on, as after a crash.
          log(`job ${id}: could not hand it back (${(moveErr as Error).message}); another worker takes it once its lock lapses`);
        }
        throw new WaitingError();
      }
      stats.failed++;
      ownFailures.add(id);
      const reason = (e as Error).message ?? String(e);
      const left = (job.opts.attempts ?? 1) - job.attemptsMade - 1;
      const fate = permanent(e) ? "permanent, not retried" : left > 0 ? `${attempt}, will retry` : `${attempt}, no attempts left`;
      log(`job ${id}: failed after ${Math.round(performance.now() - start)} ms (${fate}): ${reason}`);
      if (permanent(e)) throw new UnrecoverableError(reason);
      throw e;
    }
  };

  const worker = new Worker<ProofJobData, ProofResult>(queue, processor, {
    connection, concurrency, name: prover.name,
    lockDuration: lockMs, stalledInterval: opts.stalledIntervalMs ?? Math.round(lockMs / 2), maxStalledCount: MAX_STALLS,
  });
  worker.on("stalled", (jobId) => log(`job ${jobId}: its worker stopped renewing the lock (killed or hung): back in the queue for another worker`));
  worker.on("failed", (job, err) => {
    // The processor already logged its own failures; this catches BullMQ's (e.g. stalled too often).
    if (job?.id && !ownFailures.delete(job.id)) log(`job ${job.id}: failed: ${err.message}`);
  });
  worker.on("error", (err) => log(`prover worker ${prover.name}: ${err.message}`));
  await worker.waitUntilReady();
  log(`prover worker ${prover.name} ready on queue ${queue} at ${opts.url} (concurrency ${concurrency}, job lock ${formatSeconds(lockMs)})`);

  const release = () => {
    releasing = true;
    worker.cancelAllJobs("worker closing");
  };
  let closing: Promise<void> | undefined;
  return {
    name: prover.name,
    queueName: queue,
    stats,
    release,
    close(closeOpts: { graceMs?: number } = {}) {
      closing ??= (async () => {
        const grace = closeOpts.graceMs;
        const timer = grace !== undefined && Number.isFinite(grace) ? setTimeout(release, Math.max(0, grace)) : undefined;
        try {
          await worker.close();
        } finally {
          clearTimeout(timer);
          await prover.close();
        }
        log(`prover worker ${prover.name} stopped (${stats.completed} proved, ${stats.failed} failed, ${stats.released} released)`);
      })();
      return closing;
    },
  };
}
