/**
 * A Flavum node: the sequencer's pipeline and its HTTP API (with the explorer) in one process, for
 * the rollup recorded for the network. Read-only, it runs no pipeline and sends no transaction: it
 * serves what its store holds (rebuilt from the chain by sequencer:rebuild) to anyone.
 */
import fs from "fs";
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Contract } from "ethers";
import { openSequencer } from "../rollup/service";
import type { Sequencer, BatchProver } from "../rollup/sequencer";
import type { EvmRollupLedger, RollupAddresses } from "../chain/evmRollup";
import { EvmStateLedger, recordedState } from "../chain/evmState";
import { EvmRepoLedger, recordedRepository } from "../chain/evmRepos";
import { attachLocalCommittee } from "../traceStore/localCommittee";
import { repoRoot } from "../zk/paths";
import type { Progress } from "../zk/log";
import { apiRoutes } from "./api";
import { startServer } from "./http";
import { Pipeline } from "./pipeline";

export interface NodeOptions {
  host?: string;
  port?: number;
  store?: string;
  addresses?: RollupAddresses;
  signerIndex?: number;
  batchTimeoutMs?: number;
  pollMs?: number;
  prover?: BatchProver;
  proverConcurrency?: number;
  maxInflight?: number;
  readOnly?: boolean;
  /** Where the explorer's built files are (default build/explorer). */
  explorerDir?: string;
  progress?: Progress;
}

export interface RunningNode {
  url: string;
  seq: Sequencer;
  pipeline?: Pipeline;
  stop(): Promise<void>;
}

export const OPENAPI_FILE = path.join(repoRoot(), "docs", "openapi.json");
export const EXPLORER_DIR = path.join(repoRoot(), "build", "explorer");

/** A contract address recorded for this network, or undefined when that part was not deployed. */
function optional(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

export async function startNode(hre: HardhatRuntimeEnvironment, opts: NodeOptions = {}): Promise<RunningNode> {
  const progress = opts.progress ?? (() => undefined);
  const seq = await openSequencer(hre, { store: opts.store, addresses: opts.addresses, signerIndex: opts.signerIndex, progress });
  const cleanups: (() => Promise<void>)[] = [async () => seq.store.close()];
  try {
    const ledger = seq.ledger as EvmRollupLedger;
    if (!opts.readOnly && (await ledger.traceStore()) === "ipfs") {
      const { committee, threshold } = await ledger.dacCommittee();
      cleanups.unshift(await attachLocalCommittee(ledger, committee, threshold));
    }
    const net = hre.network.name;
    const stateAddress = opts.addresses ? await stateOf(ledger) : optional(() => recordedState(net));
    const state = stateAddress ? await EvmStateLedger.connect(hre, stateAddress, opts.signerIndex ?? 0, progress) : undefined;
    const reposAddress = optional(() => recordedRepository(net));
    const repos = reposAddress ? await EvmRepoLedger.connect(hre, reposAddress, opts.signerIndex ?? 0).catch(() => undefined) : undefined;
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const batchTimeoutMs = opts.batchTimeoutMs ?? 30_000;
    const pipeline = opts.readOnly
      ? undefined
      : new Pipeline(seq, { batchTimeoutMs, pollMs: opts.pollMs, prover: opts.prover, proverConcurrency: opts.proverConcurrency, maxInflight: opts.maxInflight, state, progress });
    const routes = apiRoutes({
      seq, chainId, rollup: await ledger.rollup.getAddress(), registry: ledger.registry, rollupContract: ledger.rollup as unknown as Contract,
      rpcUrl: (hre.network.config as { url?: string }).url, network: net, pipeline, state, repos, readOnly: Boolean(opts.readOnly), batchTimeoutMs,
      openapi: JSON.parse(fs.readFileSync(OPENAPI_FILE, "utf8")),
    });
    const server = await startServer({ host: opts.host ?? "127.0.0.1", port: opts.port ?? 8480, routes, staticDir: opts.explorerDir ?? EXPLORER_DIR, log: progress });
    cleanups.unshift(server.close);
    pipeline?.start();
    progress(`node listening on ${server.url} (${opts.readOnly ? "read-only" : `batch timeout ${batchTimeoutMs / 1000} s`}, rollup ${await ledger.rollup.getAddress()} on ${net})`);
    let stopped = false;
    return {
      url: server.url, seq, pipeline,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await pipeline?.stop();
        for (const c of cleanups) await c();
      },
    };
  } catch (e) {
    for (const c of cleanups) await c().catch(() => undefined);
    throw e;
  }
}

/** The state contract the rollup is attached to (tests give addresses instead of deployments files). */
async function stateOf(ledger: EvmRollupLedger): Promise<string | undefined> {
  const a = (await ledger.rollup.stateContract()) as string;
  return BigInt(a) === 0n ? undefined : a;
}
