/**
 * A model's generated Groth16 verifier on chain: deployed once per circuit build, then asked
 * whether a proof holds.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { LoadedModel } from "../model/artifacts";
import type { ProofFile } from "../model/prove";
import { solidityCalldata } from "../zk";
import { EvmLedger } from "./evm";

export interface OnchainVerification {
  valid: boolean;
  address: string;
  deployed: boolean;
  /** Gas of verifyProof sent as a transaction (21k base and calldata included). */
  gas: bigint;
}

export async function verifierFor(hre: HardhatRuntimeEnvironment, model: LoadedModel, ledger = new EvmLedger(hre)) {
  const { contract } = model.manifest.verifier;
  const key = `verifier:${model.manifest.name}`;
  const buildId = model.manifest.circuit.hash;
  const found = await ledger.existing(key, buildId);
  if (found) return { address: found.address, deployed: false, instance: await hre.ethers.getContractAt(contract, found.address) };
  const { contract: c, record } = await ledger.deploy(contract, [], key, buildId);
  return { address: record.address, deployed: true, instance: c as unknown as Awaited<ReturnType<typeof hre.ethers.getContractAt>> };
}

export async function verifyOnChain(hre: HardhatRuntimeEnvironment, model: LoadedModel, proof: ProofFile): Promise<OnchainVerification> {
  const v = await verifierFor(hre, model);
  const cd = solidityCalldata(proof.proof, proof.publicSignals);
  const fn = v.instance.getFunction("verifyProof");
  const valid = (await fn.staticCall(cd.a, cd.b, cd.c, cd.pub)) as boolean;
  const gas = await fn.estimateGas(cd.a, cd.b, cd.c, cd.pub);
  return { valid, address: v.address, deployed: v.deployed, gas };
}
