/**
 * `prover:worker`: a proving worker for the BullMQ job queue (src/prover/). Run as many as there are
 * cores to spare, on any machine that reaches the Redis server and holds the circuits' keys. It runs
 * until SIGTERM or SIGINT, then finishes the proof in hand (a second signal, or GRACE_MS, hands it
 * back to the queue instead) and exits 0.
 */
import { task } from "hardhat/config";
import { flavumAction, progress } from "./util";
import { intArg } from "./args";
import { DEFAULT_LOCK_MS, DEFAULT_QUEUE, DEFAULT_REDIS_URL, startProverWorker } from "../src/prover";
import { witnessChooser } from "../src/prover/witnessChoice";

/** After a stop signal, the running proof has this long to finish before it is handed back. */
const GRACE_MS = 60_000;

task("prover:worker", "Proves batch proof jobs from a Redis (BullMQ) queue until stopped with SIGTERM/SIGINT")
  .addOptionalParam("queue", "Redis URL of the job queue", DEFAULT_REDIS_URL)
  .addOptionalParam("queueName", "queue name (one per set of workers sharing keys)", DEFAULT_QUEUE)
  .addOptionalParam("concurrency", "proofs at once (each uses all cores for its arithmetic: 1 is usually best)", "1")
  .addOptionalParam("lockMs", "job lock: how long a job stays with a worker that died before another takes it", String(DEFAULT_LOCK_MS))
  .addOptionalParam("name", "worker name recorded with each proof (default host/pid)")
  .addFlag("nativeWitness", "build each circuit's native (C++) witness generator on first use and prove with it (g++, nasm, libgmp-dev); without it a built one is used if present")
  .setAction(
    flavumAction(async (args: { queue: string; queueName: string; concurrency: string; lockMs: string; name?: string; nativeWitness: boolean }) => {
      const concurrency = intArg("concurrency", args.concurrency, { min: 1 });
      const lockMs = intArg("lock-ms", args.lockMs, { min: 1000 });
      // Listening before the worker starts: a stop during the Redis check or the first connection
      // still ends in a clean close, not in Node's default kill.
      let signals = 0;
      let stopped!: () => void;
      const stop = new Promise<void>((resolve) => (stopped = resolve));
      let worker: Awaited<ReturnType<typeof startProverWorker>> | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        if (++signals === 1) {
          progress(`${sig}: stopping after the running proof (again to hand it back to the queue now)`);
          stopped();
        } else {
          progress(`${sig}: handing the running proof back to the queue`);
          worker?.release();
        }
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      try {
        worker = await startProverWorker({ url: args.queue, queueName: args.queueName, concurrency, lockMs, name: args.name, progress, witnessFn: witnessChooser({ build: args.nativeWitness, progress }) });
        await stop;
        await worker.close({ graceMs: signals > 1 ? 0 : GRACE_MS });
      } finally {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
      }
    }),
  );
