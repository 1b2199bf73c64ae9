/**
 * Poseidon hashers on chain: the contracts circomlibjs generates (`poseidonContract.createCode(n)`),
 * which compute the same Poseidon as circomlib's circuits and circomlibjs's `buildPoseidon()`.
 * FlavumRollup hashes trace leaves with the 4-input hasher and tree nodes with the 2-input one; FlavumState
 * hashes data-point leaves with the 5-input one and content commitments with those of 2..6 inputs.
 * The hashers are stateless and deterministic, so a recorded deployment of the same bytecode is reused
 * on persistent networks.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { ContractFactory, keccak256, type BaseContract, type InterfaceAbi, type Signer } from "ethers";
import { DeploymentRecord, readDeployments, recordDeployment } from "./deployments";
import { FlavumError } from "../errors";
import { sendAndWait } from "./txWait";
import type { Progress } from "../zk/log";

/** circomlibjs generates working hashers of 1..6 inputs (more overflow the EVM's DUP16); Flavum uses 2..6. */
export type PoseidonArity = 2 | 3 | 4 | 5 | 6;

interface PoseidonContractGenerator {
  createCode(nInputs: number): string;
  generateABI(nInputs: number): InterfaceAbi;
}

function generator(): PoseidonContractGenerator {
  // circomlibjs ships no types for its contract generator (src/types declares only buildPoseidon).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("circomlibjs") as { poseidonContract: PoseidonContractGenerator }).poseidonContract;
}

/** Creation bytecode and ABI of the n-input hasher (its function: `poseidon(uint256[n]) returns (uint256)`). */
export function poseidonArtifact(n: PoseidonArity): { abi: InterfaceAbi; bytecode: string } {
  const g = generator();
  return { abi: g.generateABI(n), bytecode: g.createCode(n) };
}

export interface PoseidonDeployment {
  contract: BaseContract;
  address: string;
  record: DeploymentRecord;
  /** False when a recorded deployment of the same bytecode was reused. */
  deployed: boolean;
}

/**
 * Deploys (or, on a persistent network, reuses) the n-input Poseidon hasher, recorded as `Poseidon<n>`
 * in deployments/<network>.json.
 */
export async function deployPoseidon(
  hre: HardhatRuntimeEnvironment,
  n: PoseidonArity,
  signer: Signer,
  progress?: Progress,
): Promise<PoseidonDeployment> {
  const { abi, bytecode } = poseidonArtifact(n);
  const key = `Poseidon${n}`;
  const buildId = keccak256(bytecode);
  const network = hre.network.name;

  const found = readDeployments(network)[key];
  if (found && found.buildId === buildId && (await hre.ethers.provider.getCode(found.address)) !== "0x") {
    return { contract: new hre.ethers.Contract(found.address, abi, signer), address: found.address, record: found, deployed: false };
  }

  const c = await new ContractFactory(abi, bytecode, signer).deploy();
  const sent = c.deploymentTransaction();
  if (!sent) throw new FlavumError(`deploying the Poseidon${n} hasher on ${network} produced no transaction`);
  const { tx, receipt } = await sendAndWait(hre.ethers.provider, sent, `deploying the Poseidon${n} hasher on ${network}`, { progress });
  const address = await c.getAddress();
  const record: DeploymentRecord = {
    contract: key,
    chainId: (await hre.ethers.provider.getNetwork()).chainId.toString(),
    abi: { artifact: `circomlibjs poseidon_gencontract.generateABI(${n})` },
    address,
    txHash: tx.hash,
    block: receipt.blockNumber,
    constructorArgs: [],
    buildId,
    deployedAt: new Date().toISOString(),
  };
  recordDeployment(network, key, record);
  return { contract: c, address, record, deployed: true };
}
