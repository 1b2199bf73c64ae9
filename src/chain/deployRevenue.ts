/**
 * Deploys ContributorRevenue beside a FlavumRollup and its ModelRegistry, and attaches it to the rollup:
 * from then on it alone withdraws the contributors' cut of published models' fees. Recorded in
 * deployments/<network>.json under "ContributorRevenue" (except on the in-process network). The signer
 * must hold the rollup's admin role (attachRevenue), so run it before deployRollup's admin hand-over.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { EvmLedger } from "./evm";
import type { ContributorRevenue } from "../../typechain-types";

export interface DeployRevenueOptions {
  /** The ModelRegistry published models are read from. */
  registry: string;
  /** The FlavumRollup (settling that registry's models) the revenue is collected from. */
  rollup: string;
  /** Which of the network's accounts deploys and attaches (defaults to 0); it must be the rollup's admin. */
  signer?: number;
}

export interface RevenueDeployment {
  /** The ContributorRevenue's address. */
  revenue: string;
  contract: ContributorRevenue;
}

export async function deployRevenue(hre: HardhatRuntimeEnvironment, opts: DeployRevenueOptions): Promise<RevenueDeployment> {
  const ledger = new EvmLedger(hre, opts.signer ?? 0);
  const signer = await ledger.signer();
  const { contract: c } = await ledger.deploy("ContributorRevenue", [opts.registry, opts.rollup], "ContributorRevenue");
  const contract = c as unknown as ContributorRevenue;
  const revenue = await contract.getAddress();
  const rollup = await hre.ethers.getContractAt("FlavumRollup", opts.rollup, signer);
  await ledger.send(`attaching the revenue contract to the rollup`, rollup.attachRevenue(revenue));
  return { revenue, contract };
}
