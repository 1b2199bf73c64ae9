/**
 * The EVM side of the ledger (ethers v6 through Hardhat's runtime): deploying contracts and
 * recording them. Everything Flavum sends to a chain goes through here, so another ledger is
 * another adapter, not a rewrite.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { BaseContract } from "ethers";
import { DeploymentRecord, readDeployments, recordDeployment } from "./deployments";

export class EvmLedger {
  constructor(readonly hre: HardhatRuntimeEnvironment, readonly signerIndex = 0) {}

  get network(): string {
    return this.hre.network.name;
  }

  async signer() {
    const signers = await this.hre.ethers.getSigners();
    const s = signers[this.signerIndex];
    if (!s) throw new Error(`signer index ${this.signerIndex} does not exist on network ${this.network} (${signers.length} accounts)`);
    return s;
  }

  /** Deploys `contract` and records it under `key` (unless the network is the in-process one). */
  async deploy(contract: string, args: unknown[] = [], key = contract, buildId?: string) {
    const factory = await this.hre.ethers.getContractFactory(contract, await this.signer());
    const c = await factory.deploy(...args);
    const tx = c.deploymentTransaction()!;
    const receipt = (await tx.wait())!;
    const rec: DeploymentRecord = {
      contract,
      address: await c.getAddress(),
      txHash: tx.hash,
      block: receipt.blockNumber,
      constructorArgs: args.map(String),
      buildId,
      deployedAt: new Date().toISOString(),
    };
    recordDeployment(this.network, key, rec);
    return { contract: c as BaseContract, record: rec, gasUsed: receipt.gasUsed };
  }

  /** A recorded deployment under `key` whose code is still on chain and was built from `buildId`. */
  async existing(key: string, buildId?: string): Promise<DeploymentRecord | undefined> {
    const rec = readDeployments(this.network)[key];
    if (!rec || (buildId && rec.buildId !== buildId)) return undefined;
    const code = await this.hre.ethers.provider.getCode(rec.address);
    return code === "0x" ? undefined : rec;
  }
}
