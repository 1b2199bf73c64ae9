/** What every repository command shares: its contexts (L1, and the rollup with its inbox) and common parameters. */
import { types } from "hardhat/config";
import { flavumAction, progress, userPath } from "./util";
import { EvmRepoLedger, recordedRepository } from "../src/chain/evmRepos";
import { EvmRepoRollupLedger, recordedRepositoryRollup } from "../src/chain/evmRepoRollup";
import { ObjectStore } from "../src/repos/objectStore";
import { LocalIndex, defaultIndexPath } from "../src/repos/localIndex";
import type * as repos from "../src/repos/workflow";
import { defaultInboxRoot, type RollupRepoContext } from "../src/repos/rollupTraining";
import { InputError } from "../src/errors";

export type From = { from: number };
export async function withRepos<T>(hre: any, a: From, fn: (ctx: repos.RepoContext) => Promise<T>): Promise<T> {
  const ledger = await EvmRepoLedger.connect(hre, recordedRepository(hre.network.name), a.from);
  const index = new LocalIndex(defaultIndexPath(hre.network.name));
  try {
    return await fn({ hre, ledger, objects: new ObjectStore(), index, signerIndex: a.from, progress });
  } finally {
    index.close();
  }
}
/** Repository commands act on contracts an earlier command deployed: the chain must outlive them. */
export const repoAction = <A>(fn: (a: A, hre: any) => Promise<unknown>) => flavumAction(fn, { persistent: true });
export const fromParam = (t: any) => t.addOptionalParam("from", "Signer index", 0, types.int);
/** Every command names commits by their commit id (0x…, any prefix of 8+ hex digits) or token number. */
export const COMMIT = "Commit id (0x…, or its first 8+ hex digits) or token number";

export type Inbox = { inbox?: string };

/** A repository context joined to this network's RepositoryRollup and the sequencer's inbox. */
export async function withRollupRepos<T>(hre: any, a: From & Inbox, fn: (ctx: RollupRepoContext) => Promise<T>): Promise<T> {
  return withRepos(hre, a, async (base) => {
    const rollup = await EvmRepoRollupLedger.connect(hre, recordedRepositoryRollup(hre.network.name), a.from);
    return fn({ ...base, rollup, inboxRoot: a.inbox ? userPath(a.inbox) : defaultInboxRoot(hre.network.name) });
  });
}

export const inboxParam = (t: any) => t.addOptionalParam("inbox", "The sequencer's inbox directory (default: this machine's, per network)");

/** --via l1 | rollup. */
export function parseVia(v: string): "l1" | "rollup" {
  if (v === "l1" || v === "rollup") return v;
  throw new InputError(`--via must be l1 (ModelRepository, one transaction a commit) or rollup (RepositoryRollup, settled a round at a time), got "${v}"`);
}
