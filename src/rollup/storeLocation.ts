/**
 * Where a sequencer's store lives. Its history (every settled batch's leaves, the mempool) is what
 * lets the sequencer prove the next batch, so a store is never deleted: each rollup deployment gets
 * its own file, keyed by chain id and rollup address, and a file that a new deployment would reuse
 * (a restarted `hardhat node` hands out the same addresses) is moved aside, with a message.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { cacheRoot } from "../zk/paths";
import { isEphemeral } from "../chain/deployments";

export interface DeploymentKey {
  chainId: bigint;
  rollup: string;
}

/**
 * build/rollup/<network>/<chainId>-<rollup>/sequencer.db; the in-process network, which forgets the
 * chain when the process ends, gets a fresh store per process.
 */
export function defaultStorePath(network: string, key: DeploymentKey): string {
  if (isEphemeral(network)) return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "flavum-seq-")), "sequencer.db");
  return path.join(cacheRoot(), "rollup", network, `${key.chainId}-${key.rollup.toLowerCase()}`, "sequencer.db");
}

const storeFiles = (file: string) => [file, `${file}-wal`, `${file}-shm`];

/** Renames an existing store (and its WAL files) to `<file>.replaced-<time>`; returns the new name. */
export function moveStoreAside(file: string): string | undefined {
  if (!fs.existsSync(file)) return undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const aside = `${file}.replaced-${stamp}`;
  for (const [from, to] of storeFiles(file).map((f, i) => [f, storeFiles(aside)[i]]))
    if (fs.existsSync(from)) fs.renameSync(from, to);
  return aside;
}

/** Empties a store the caller owns outright (a benchmark's scratch store), never a user's. */
export function resetStore(file: string): void {
  for (const f of storeFiles(file)) fs.rmSync(f, { force: true });
}
