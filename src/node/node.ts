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
import { EvmRollupLedger, RollupAddresses, recordedRollup } from "../chain/evmRollup";
import { SequencerStore } from "../rollup/store";
import { defaultStorePath } from "../rollup/storeLocation";
import { rebuildStore } from "../rollup/rebuild";
import { EvmStateLedger, recordedState } from "../chain/evmState";
import { EvmRepoLedger, recordedRepository } from "../chain/evmRepos";
import { attachLocalCommittee } from "../traceStore/localCommittee";
import { repoRoot } from "../zk/paths";
import type { Progress } from "../zk/log";
import { apiRoutes } from "./api";
import { startServer } from "./http";
import { ensureExplorerBuilt } from "./explorerBuild";
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

/**
 * A node started on an empty store (a new machine, a lost disk) first rebuilds it from the chain:
 * models, settled batches with their proofs, and every inclusion path (src/rollup/rebuild.ts).
 */
async function rebuildIfEmpty(hre: HardhatRuntimeEnvironment, file: string, ledger: EvmRollupLedger, progress: Progress): Promise<void> {
  const store = new SequencerStore(file);
  try {
    if (!store.isEmpty()) return;
    const r = await rebuildStore(store, ledger, { progress });
    if (r.batches.length || r.models.length) progress(`store ${file} was empty: rebuilt ${r.models.length} model(s) and ${r.batches.length} batch(es) from the chain`);
  } finally {
    store.close();
  }
}

export async function startNode(hre: HardhatRuntimeEnvironment, opts: NodeOptions = {}): Promise<RunningNode> {
  const progress = opts.progress ?? (() => undefined);
  const addresses = opts.addresses ?? recordedRollup(hre.network.name);
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const file = opts.store ?? defaultStorePath(hre.network.name, { chainId, rollup: addresses.rollup });
  await rebuildIfEmpty(hre, file, await EvmRollupLedger.connect(hre, addresses, opts.signerIndex ?? 0, progress), progress);
  const seq = await openSequencer(hre, { store: file, addresses, signerIndex: opts.signerIndex, progress });
  const cleanups: (() => Promise<void>)[] = [async () => seq.store.close()];
  try {
    const ledger = seq.ledger as EvmRollupLedger;
    if (!opts.readOnly && (await ledger.traceStore()) === "ipfs") {
      const { committee, threshold } = await ledger.dacCommittee();
      cleanups.unshift(await attachLocalCommittee(ledger, committee, threshold));
    }
    const net = hre.network.name;
    const stateAddress = opts.addresses ? await stateOf(ledger) : optional(() => recordedState(net));
    if (opts.readOnly) cleanups.unshift(follow(seq, ledger, opts.pollMs ?? 2_000, progress));
    const state = stateAddress ? await EvmStateLedger.connect(hre, stateAddress, opts.signerIndex ?? 0, progress) : undefined;
    const reposAddress = optional(() => recordedRepository(net));
    const repos = reposAddress ? await EvmRepoLedger.connect(hre, reposAddress, opts.signerIndex ?? 0).catch(() => undefined) : undefined;
    const batchTimeoutMs = opts.batchTimeoutMs ?? 30_000;
    const pipeline = opts.readOnly
      ? undefined
      : new Pipeline(seq, { batchTimeoutMs, pollMs: opts.pollMs, prover: opts.prover, proverConcurrency: opts.proverConcurrency, maxInflight: opts.maxInflight, state, progress });
    const routes = apiRoutes({
      seq, chainId, rollup: await ledger.rollup.getAddress(), registry: ledger.registry, rollupContract: ledger.rollup as unknown as Contract,
      rpcUrl: publicRpcUrl(hre), network: net, pipeline, state, repos, readOnly: Boolean(opts.readOnly), batchTimeoutMs,
      openapi: JSON.parse(fs.readFileSync(OPENAPI_FILE, "utf8")),
    });
    if (!opts.explorerDir) await ensureExplorerBuilt(progress);
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

/**
 * The chain's RPC URL the explorer calls from the reader's browser: FLAVUM_PUBLIC_RPC_URL if set, the
 * network's own URL on a local chain; a remote network's URL may carry an API key, so it is not shown.
 */
function publicRpcUrl(hre: HardhatRuntimeEnvironment): string | undefined {
  if (process.env.FLAVUM_PUBLIC_RPC_URL) return process.env.FLAVUM_PUBLIC_RPC_URL;
  const url = (hre.network.config as { url?: string }).url;
  return url && /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(url) ? url : undefined;
}

/**
 * A read-only node adds every batch the chain settles (whoever sequenced it), so it serves their
 * proofs. Each poll reads only the blocks since the last one; the store is brought up to date (a
 * rebuild that adds what it is missing) only when they hold a new batch.
 */
function follow(seq: Sequencer, ledger: EvmRollupLedger, everyMs: number, progress: Progress): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  let last = "";
  let scanned = -1;
  // The cursor moves only once the blocks it passes are in the store: a failed poll is read again.
  const poll = async () => {
    const head = await ledger.blockNumber();
    if (head <= scanned) return { batches: [] };
    const events = await ledger.rollup.queryFilter(ledger.rollup.filters.BatchSubmitted(), Math.max(scanned + 1, ledger.fromBlock), head);
    const r = events.length ? await rebuildStore(seq.store, ledger, { force: true }) : { batches: [] };
    scanned = head;
    return r;
  };
  const timer = setInterval(() => {
    running = running.then(poll).then(
      (r: { batches: { added: unknown }[] }) => {
        const added = r.batches.filter((b) => b.added === true).length;
        if (added) progress(`read-only: added ${added} batch(es) settled on chain`);
        last = "";
      },
      (e) => {
        if ((e as Error).message !== last) progress(`read-only: following the chain failed: ${(e as Error).message}`);
        last = (e as Error).message;
      },
    );
  }, everyMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** The state contract the rollup is attached to (tests give addresses instead of deployments files). */
async function stateOf(ledger: EvmRollupLedger): Promise<string | undefined> {
  const a = (await ledger.rollup.stateContract()) as string;
  return BigInt(a) === 0n ? undefined : a;
}
