/**
 * deployments/<network>.json: what was deployed where, so later commands on a persistent chain
 * (a `hardhat node`, a testnet) find contracts instead of redeploying them. The in-process
 * `hardhat` network forgets everything when the process ends, so nothing is recorded for it.
 */
import fs from "fs";
import path from "path";
import { repoRoot } from "../zk/paths";

export interface DeploymentRecord {
  contract: string;
  /** The chain the address is on (a network name can point at different chains over time). */
  chainId?: string;
  /** Where the ABI is: the Hardhat artifact (fully qualified name and file), or how to regenerate it. */
  abi?: { artifact: string; file?: string };
  address: string;
  txHash: string;
  block: number;
  constructorArgs: unknown[];
  /** What the deployed code was built from (e.g. a circuit hash), to tell a stale deployment. */
  buildId?: string;
  deployedAt: string;
}

export type Deployments = Record<string, DeploymentRecord>;

/** deployments/<network>.json; FLAVUM_DEPLOYMENTS_DIR moves the folder (tests use a scratch one). */
export function deploymentsFile(network: string): string {
  const dir = process.env.FLAVUM_DEPLOYMENTS_DIR ? path.resolve(process.env.FLAVUM_DEPLOYMENTS_DIR) : path.join(repoRoot(), "deployments");
  return path.join(dir, `${network}.json`);
}

export function isEphemeral(network: string): boolean {
  return network === "hardhat";
}

export function readDeployments(network: string): Deployments {
  const f = deploymentsFile(network);
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, "utf8")) as Deployments) : {};
}

export function recordDeployment(network: string, key: string, rec: DeploymentRecord): void {
  if (isEphemeral(network)) return;
  const all = { ...readDeployments(network), [key]: rec };
  const f = deploymentsFile(network);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  const tmp = `${f}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(all, null, 2) + "\n");
  fs.renameSync(tmp, f);
}
