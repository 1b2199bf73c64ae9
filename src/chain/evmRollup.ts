/**
 * The rollup ledger on an EVM chain, through ethers v6 and Hardhat's runtime: FlavumRollup and
 * ModelRegistry at known addresses (deployments/<network>.json, or given by the caller).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Contract } from "ethers";
import { FlavumError } from "../errors";
import { EvmLedger } from "./evm";
import { readDeployments } from "./deployments";
import type {
  BatchSubmission, InferenceProof, ModelRegistration, OnchainRequest, RollupLedger, RollupState, SettledBatchEvent, TxOutcome,
} from "./ledger";

export const PROOF_SYSTEM_ID = "groth16-bn254";

export interface RollupAddresses {
  registry: string;
  rollup: string;
}

/** The addresses recorded for this network by rollup:deploy. */
export function recordedRollup(network: string): RollupAddresses {
  const d = readDeployments(network);
  const registry = d.ModelRegistry?.address;
  const rollup = d.FlavumRollup?.address;
  if (!registry || !rollup)
    throw new FlavumError(
      `no rollup is recorded for network "${network}" in deployments/${network}.json; run \`npx hardhat rollup:deploy --network ${network}\`` +
        (network === "hardhat" ? " (the in-process network forgets everything between commands: use `npx hardhat node` and --network localhost, or `npx hardhat demo`)" : ""),
      "NO_DEPLOYMENT",
    );
  return { registry, rollup };
}

export class EvmRollupLedger implements RollupLedger {
  private constructor(
    readonly hre: HardhatRuntimeEnvironment,
    readonly evm: EvmLedger,
    readonly registry: Contract,
    readonly rollup: Contract,
    readonly fromBlock: number,
  ) {}

  static async connect(hre: HardhatRuntimeEnvironment, addrs: RollupAddresses, signerIndex = 0): Promise<EvmRollupLedger> {
    const evm = new EvmLedger(hre, signerIndex);
    const signer = await evm.signer();
    for (const [what, a] of Object.entries(addrs))
      if ((await hre.ethers.provider.getCode(a)) === "0x")
        throw new FlavumError(`no contract at the recorded ${what} address ${a} on network ${hre.network.name}: redeploy with rollup:deploy`, "NO_DEPLOYMENT");
    const registry = (await hre.ethers.getContractAt("ModelRegistry", addrs.registry, signer)) as unknown as Contract;
    const rollup = (await hre.ethers.getContractAt("FlavumRollup", addrs.rollup, signer)) as unknown as Contract;
    return new EvmRollupLedger(hre, evm, registry, rollup, Number(await rollup.deployBlock()));
  }

  get network(): string {
    return this.hre.network.name;
  }

  async state(): Promise<RollupState> {
    const [stateRoot, nextLeaf, batchCount, net] = await Promise.all([
      this.rollup.stateRoot(), this.rollup.nextLeaf(), this.rollup.batchCount(), this.hre.ethers.provider.getNetwork(),
    ]);
    return { stateRoot, nextLeaf, batchCount, chainId: net.chainId, rollup: await this.rollup.getAddress() };
  }

  async registerModel(m: ModelRegistration): Promise<{ modelId: bigint; txHash: string }> {
    const { ethers } = this.hre;
    const commitment = {
      weightsHash: ethers.toBeHex(m.weightsHash, 32),
      architectureHash: m.architectureHash,
      circuitHash: m.circuitHash,
      vkHash: m.vkHash,
      proofSystem: ethers.keccak256(ethers.toUtf8Bytes(PROOF_SYSTEM_ID)),
    };
    const shape = {
      inputShape: m.inputShape, outputShape: m.outputShape, inputScale: m.inputScale, outputScale: m.outputScale,
      outputBits: m.outputBits, outputCount: m.outputCount, hasLabel: m.hasLabel,
    };
    const tx = await this.registry.register(commitment, shape, m.uri);
    const receipt = await tx.wait();
    for (const log of receipt.logs) {
      const parsed = this.registry.interface.parseLog(log);
      if (parsed?.name === "ModelRegistered") return { modelId: parsed.args.modelId as bigint, txHash: tx.hash };
    }
    throw new Error(`register transaction ${tx.hash} emitted no ModelRegistered event`);
  }

  async deployVerifier(contract: string, key: string, buildId: string): Promise<string> {
    const found = await this.evm.existing(key, buildId);
    if (found) return found.address;
    return (await this.evm.deploy(contract, [], key, buildId)).record.address;
  }

  async setVerifier(modelId: bigint, batchSize: number, verifier: string): Promise<void> {
    await (await this.registry.setVerifier(modelId, batchSize, verifier)).wait();
  }

  async verifierOf(modelId: bigint, batchSize: number): Promise<string | undefined> {
    try {
      return (await this.registry.verifierOf(modelId, batchSize)) as string;
    } catch {
      return undefined;
    }
  }

  async sendBatch(b: BatchSubmission): Promise<string> {
    const tx = await this.rollup.submitBatch(
      b.modelId, b.batchSize, b.count, b.newRoot, b.batchRoot, b.proof.a, b.proof.b, b.proof.c, b.trace,
    );
    return tx.hash as string;
  }

  async waitTx(txHash: string): Promise<TxOutcome> {
    const receipt = await this.hre.ethers.provider.getTransactionReceipt(txHash);
    if (!receipt) return { status: "unknown" };
    return receipt.status === 1 ? { status: "ok", gasUsed: receipt.gasUsed, block: receipt.blockNumber } : { status: "failed" };
  }

  async settledBatches(): Promise<SettledBatchEvent[]> {
    const events = await this.rollup.queryFilter(this.rollup.filters.BatchSubmitted(), this.fromBlock);
    return events.map((e) => {
      const a = (e as unknown as { args: Record<string, bigint> }).args;
      return {
        batchId: a.batchId, modelId: a.modelId, firstLeaf: a.firstLeaf, count: Number(a.count), batchSize: Number(a.batchSize),
        oldRoot: a.oldRoot, newRoot: a.newRoot, batchRoot: a.batchRoot, txHash: e.transactionHash,
      };
    });
  }

  async verifyInference(batchId: bigint, p: InferenceProof): Promise<boolean> {
    return this.rollup.verifyInference(batchId, entryOf(p), p.index, p.path) as Promise<boolean>;
  }

  async onchainRequests(): Promise<OnchainRequest[]> {
    const events = await this.rollup.queryFilter(this.rollup.filters.InferenceRequested(), this.fromBlock);
    return events.map((e) => {
      const a = (e as unknown as { args: Record<string, unknown> }).args;
      return {
        requestId: a.requestId as bigint, modelId: a.modelId as bigint, inputHash: a.inputHash as bigint,
        input: a.input as string, callback: a.callback as string,
      };
    });
  }

  async fulfill(requestId: bigint, batchId: bigint, p: InferenceProof): Promise<string> {
    const tx = await this.rollup.fulfill(requestId, batchId, entryOf(p), p.index, p.path);
    await tx.wait();
    return tx.hash as string;
  }
}

function entryOf(p: InferenceProof) {
  return { modelId: p.modelId, requestId: p.requestId, inputHash: p.inputHash, outputWord: p.outputWord };
}
