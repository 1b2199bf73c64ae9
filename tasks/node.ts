import { task, types } from "hardhat/config";
import { flavumAction, userPath } from "./util";
import { intArg } from "./args";
import { FlavumError } from "../src/errors";
import { startNode } from "../src/node/node";
import { nodeProver } from "../src/node/provers";

/** One timestamped line per event: what an operator tails. */
const logLine = (msg: string) => process.stderr.write(`${new Date().toISOString()} ${msg}\n`);

task("sequencer:serve", "Run the sequencer as a service: follow the chain, batch, prove, settle, and serve the HTTP API and the explorer")
  .addOptionalParam("port", "Port to listen on (0: any free port)", 8480, types.int)
  .addOptionalParam("host", "Address to bind", "127.0.0.1")
  .addOptionalParam("batchTimeout", "Seconds the oldest request waits before a batch that is not full goes out", "30")
  .addOptionalParam("queue", "Prove on a job queue (redis://…) served by prover:worker processes, instead of in this process")
  .addOptionalParam("store", "Sequencer store (default build/rollup/<network>/<chainId>-<rollup>/sequencer.db)")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .addOptionalParam("maxInflight", "Batches planned ahead of settlement at most", "8")
  .addFlag("nativeWitness", "Build each circuit's native (C++) witness generator on first use and prove with it (needs g++, nasm, libgmp-dev); without it a built one is used if present (FLAVUM_WITNESS=wasm|native|auto)")
  .addFlag("readOnly", "Serve what the store holds (proofs, batches) without sequencing: no transactions, no requests taken")
  .setAction(
    flavumAction(async (a: { port: number; host: string; batchTimeout: string; queue?: string; store?: string; from: number; maxInflight: string; readOnly: boolean; nativeWitness: boolean }, hre) => {
      const timeout = Number(a.batchTimeout);
      if (!(timeout > 0)) throw new FlavumError(`--batch-timeout must be a positive number of seconds, got "${a.batchTimeout}"`, "BAD_INPUT");
      if (!(a.port >= 0 && a.port < 65536)) throw new FlavumError(`--port must be 0..65535, got ${a.port}`, "BAD_INPUT");
      const maxInflight = intArg("max-inflight", a.maxInflight, { min: 1, fallback: 8 });
      const prover = await nodeProver({ queue: a.queue, concurrency: maxInflight, nativeWitness: a.nativeWitness, progress: logLine });
      const node = await startNode(hre, {
        host: a.host, port: a.port, store: a.store && userPath(a.store), signerIndex: a.from, batchTimeoutMs: timeout * 1000,
        prover: prover.prove, proverConcurrency: prover.concurrency, maxInflight, readOnly: a.readOnly, progress: logLine,
      }).catch(async (e) => {
        await prover.close();
        throw e;
      });
      // The URL on stdout, alone, for scripts that start the node on port 0.
      console.log(node.url);
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          logLine(`${sig}: stopping (the step in progress finishes, nothing is left half-done)`);
          resolve();
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
      await node.stop();
      await prover.close();
      logLine("stopped");
    }, { persistent: true }),
  );
