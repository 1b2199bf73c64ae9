/**
 * The EVM side of the ledger (ethers v6 through Hardhat's runtime): deploying contracts and
 * recording them. Everything Flavum sends to a chain goes through here, so another ledger is
 * another adapter, not a rewrite.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import path from "path";
import { keccak256, type BaseContract } from "ethers";
import { DeploymentRecord, readDeployments, recordDeployment } from "./deployments";
import { sendAndWait, SentResponse, WaitOptions } from "./txWait";
import { Progress, toStderr } from "../zk/log";

/** A constructor argument as the record keeps it: scalars as strings, structs (e.g. FlavumRollup's chain config) field by field. */
function recordedArg(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(recordedArg);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, recordedArg(x)]));
  return String(v);
}

export class EvmLedger {
  /** Timeout and polling for every transaction this ledger waits for (tests shorten them). */
  waitOptions: WaitOptions = {};

  constructor(readonly hre: HardhatRuntimeEnvironment, readonly signerIndex = 0, readonly progress: Progress = toStderr) {}

  get network(): string {
    return this.hre.network.name;
  }

  async signer() {
    const signers = await this.hre.ethers.getSigners();
    const s = signers[this.signerIndex];
    if (!s) throw new Error(`signer index ${this.signerIndex} does not exist on network ${this.network} (${signers.length} accounts)`);
    return s;
  }

  /** Awaits a send and waits for its transaction to be mined; a revert, drop or timeout throws a FlavumError. */
  async send<T extends SentResponse>(what: string, tx: Promise<T> | T, opts: WaitOptions & { pendingHint?: string } = {}) {
    return sendAndWait(this.hre.ethers.provider, tx, what, { progress: this.progress, ...this.waitOptions, ...opts });
  }

  /** Deploys `contract` and records it under `key` (unless the network is the in-process one). */
  async deploy(contract: string, args: unknown[] = [], key = contract, buildId?: string) {
    const factory = await this.hre.ethers.getContractFactory(contract, await this.signer());
    const c = await factory.deploy(...args);
    const { tx, receipt } = await this.send(`deploying ${contract} on ${this.network}`, c.deploymentTransaction()!);
    const artifact = await this.hre.artifacts.readArtifact(contract);
    const rec: DeploymentRecord = {
      contract,
      chainId: (await this.hre.ethers.provider.getNetwork()).chainId.toString(),
      abi: {
        artifact: `${artifact.sourceName}:${artifact.contractName}`,
        file: path.join("artifacts", artifact.sourceName, `${artifact.contractName}.json`),
      },
      address: await c.getAddress(),
      txHash: tx.hash,
      block: receipt.blockNumber,
      constructorArgs: args.map(recordedArg),
      // Without a build id of its own (a circuit's vk hash), the creation code identifies the build.
      buildId: buildId ?? keccak256(factory.bytecode),
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
