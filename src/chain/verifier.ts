/**
 * A model's generated Groth16 verifier on chain: deployed once per verifying key, then asked
 * whether a proof holds. The deployment record's buildId is the vk hash, not the circuit hash: a
 * recompile can give new keys for the same circuit, and a verifier for the old key rejects every
 * new proof.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { LoadedModel, modelVkHash } from "../model/artifacts";
import type { ProofFile } from "../model/prove";
import { solidityCalldata } from "../zk";
import { EvmLedger } from "./evm";
import { readDeployments } from "./deployments";

export interface OnchainVerification {
  valid: boolean;
  address: string;
  deployed: boolean;
  /** A verifier was recorded for this model but built from another verifying key. */
  replaced: boolean;
  /** Gas of verifyProof sent as a transaction (21k base and calldata included). */
  gas: bigint;
}

export async function verifierFor(hre: HardhatRuntimeEnvironment, model: LoadedModel, ledger = new EvmLedger(hre)) {
  const { contract } = model.manifest.verifier;
  const key = `verifier:${model.manifest.name}`;
  const buildId = modelVkHash(model);
  const recorded = readDeployments(ledger.network)[key];
  const found = await ledger.existing(key, buildId);
  if (found) return { address: found.address, deployed: false, replaced: false, instance: await hre.ethers.getContractAt(contract, found.address) };
  const { contract: c, record } = await ledger.deploy(contract, [], key, buildId);
  return {
    address: record.address, deployed: true, replaced: !!recorded && recorded.buildId !== buildId,
    instance: c as unknown as Awaited<ReturnType<typeof hre.ethers.getContractAt>>,
  };
}

export async function verifyOnChain(hre: HardhatRuntimeEnvironment, model: LoadedModel, proof: ProofFile, ledger?: EvmLedger): Promise<OnchainVerification> {
  const v = await verifierFor(hre, model, ledger);
  const cd = solidityCalldata(proof.proof, proof.publicSignals);
  const fn = v.instance.getFunction("verifyProof");
  const valid = (await fn.staticCall(cd.a, cd.b, cd.c, cd.pub)) as boolean;
  const gas = await fn.estimateGas(cd.a, cd.b, cd.c, cd.pub);
  return { valid, address: v.address, deployed: v.deployed, replaced: v.replaced, gas };
}
