/**
 * Contributor revenue of published repository commits, read and claimed through the chain:
 * which models a repository published (the registry's ModelPublished events), each model's split
 * (ContributorRevenue: shares = proven samples along the published commit's history, fixed when
 * the split is opened) and what each contributor can claim. Claims are pull payments: each
 * release pays what the account's share of everything received so far exceeds what it was paid.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Contract } from "ethers";
import { FlavumError } from "../errors";
import { readDeployments } from "../chain/deployments";
import { recordedRollup } from "../chain/evmRollup";

export interface RevenueContracts {
  registry: Contract;
  revenue: Contract;
}

/** The revenue contract recorded for this network (rollup:deploy deploys it with the rollup). */
export function recordedRevenue(network: string): string {
  const a = readDeployments(network).ContributorRevenue?.address;
  if (!a)
    throw new FlavumError(
      `no ContributorRevenue contract is recorded for network "${network}" in deployments/${network}.json; deploy the rollup with \`npx hardhat rollup:deploy --network ${network}\``,
      "NO_DEPLOYMENT",
    );
  return a;
}

export async function revenueContracts(hre: HardhatRuntimeEnvironment, signerIndex = 0, addrs?: { registry: string; revenue: string }): Promise<RevenueContracts> {
  const signer = (await hre.ethers.getSigners())[signerIndex];
  if (!signer) throw new FlavumError(`no signer ${signerIndex} on network ${hre.network.name}`, "BAD_INPUT");
  const registry = addrs?.registry ?? recordedRollup(hre.network.name).registry;
  const revenue = addrs?.revenue ?? recordedRevenue(hre.network.name);
  return {
    registry: (await hre.ethers.getContractAt("ModelRegistry", registry, signer)) as unknown as Contract,
    revenue: (await hre.ethers.getContractAt("ContributorRevenue", revenue, signer)) as unknown as Contract,
  };
}

export interface PublishedModel {
  modelId: bigint;
  commitId: bigint;
  contributorBps: number;
}

/** Every model published from (repository, repoId), oldest first. */
export async function publishedModels(c: RevenueContracts, repository: string, repoId: bigint): Promise<PublishedModel[]> {
  const logs = await c.registry.queryFilter(c.registry.filters.ModelPublished(null, repository, repoId));
  return logs.map((l) => {
    const args = (l as unknown as { args: { modelId: bigint; commitId: bigint; contributorBps: bigint } }).args;
    return { modelId: args.modelId, commitId: args.commitId, contributorBps: Number(args.contributorBps) };
  });
}

export interface ContributorShare {
  account: string;
  /** Proven training samples along the published commit's history. */
  samples: string;
  /** Fraction of the model's contributor revenue. */
  share: number;
  /** Wei claimable now (including fees the rollup holds for the model and not yet collected). */
  claimable: string;
}

export interface ModelShares {
  modelId: string;
  commitId: string;
  contributorBps: number;
  /** Wei the model's contributors have received in total (collected or still held by the rollup). */
  received: string;
  open: boolean;
  contributors: ContributorShare[];
}

/** The split of one published model (opened here first if nobody has yet: it is permissionless). */
export async function modelShares(c: RevenueContracts, m: PublishedModel, o: { open?: boolean } = {}): Promise<ModelShares> {
  let open = (await c.revenue.isOpen(m.modelId)) as boolean;
  if (!open && o.open) {
    await (await c.revenue.open(m.modelId)).wait();
    open = true;
  }
  const base = { modelId: m.modelId.toString(), commitId: m.commitId.toString(), contributorBps: m.contributorBps, open };
  if (!open) return { ...base, received: "0", contributors: [] };
  const [accounts, shares] = (await c.revenue.payees(m.modelId)) as [string[], bigint[]];
  const total = shares.reduce((a, b) => a + b, 0n);
  const contributors = await Promise.all(
    accounts.map(async (account, i) => ({
      account,
      samples: shares[i].toString(),
      share: total === 0n ? 0 : Number((shares[i] * 1_000_000n) / total) / 1_000_000,
      claimable: ((await c.revenue.releasable(m.modelId, account)) as bigint).toString(),
    })),
  );
  return { ...base, received: ((await c.revenue.totalReceived(m.modelId)) as bigint).toString(), contributors };
}

export interface Claimed {
  modelId: string;
  amount: string;
  txHash: string;
}

/** Releases `account`'s claimable revenue of every model published from the repository. */
export async function claimAll(c: RevenueContracts, repository: string, repoId: bigint, account: string): Promise<Claimed[]> {
  const out: Claimed[] = [];
  for (const m of await publishedModels(c, repository, repoId)) {
    if (!(await c.revenue.isOpen(m.modelId))) await (await c.revenue.open(m.modelId)).wait();
    const amount = (await c.revenue.releasable(m.modelId, account)) as bigint;
    if (amount === 0n) continue;
    const tx = await c.revenue.release(m.modelId, account);
    await tx.wait();
    out.push({ modelId: m.modelId.toString(), amount: amount.toString(), txHash: tx.hash as string });
  }
  return out;
}
