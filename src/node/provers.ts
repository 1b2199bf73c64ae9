/**
 * Which prover a node uses: a warm one in its own process (keys and curve kept loaded between
 * proofs), or a BullMQ queue that prover:worker processes on any number of machines serve.
 */
import { circuitRef } from "../prover/circuitRef";
import { WarmProver } from "../prover/warmProver";
import type { Prover } from "../prover/types";
import { witnessChooser } from "../prover/witnessChoice";
import type { BatchProver } from "../rollup/sequencer";
import type { Progress } from "../zk/log";

export interface NodeProver {
  prove: BatchProver;
  /** How many batches the node lets prove at once. */
  concurrency: number;
  close(): Promise<void>;
}

/** Adapts a Prover (src/prover/) to the sequencer's batch jobs: the job names its key by hash. */
export function batchProver(p: Prover): BatchProver {
  return async (job) => p.prove({ id: job.id, circuit: await circuitRef(job.circuit), input: job.input });
}

export async function nodeProver(opts: { queue?: string; concurrency?: number; nativeWitness?: boolean; progress?: Progress }): Promise<NodeProver> {
  if (opts.queue) {
    const { QueueProver } = await import("../prover/queue");
    const q = await QueueProver.connect(opts.queue, { progress: opts.progress });
    return { prove: batchProver(q), concurrency: opts.concurrency ?? 8, close: () => q.close() };
  }
  // One proof at a time: proving already uses every core through snarkjs's threads.
  const w = new WarmProver({ progress: opts.progress, witnessFn: witnessChooser({ build: opts.nativeWitness, progress: opts.progress }) });
  return { prove: batchProver(w), concurrency: 1, close: () => w.close() };
}
