/**
 * Verifier gas on the in-process Hardhat network: deploy a Groth16 verifier, then estimate
 * `verifyProof(a, b, c, pub)` sent as a transaction (21k base + calldata + execution) and derive the
 * execution gas alone by subtracting the base and the calldata cost (EIP-2028 prices).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { BaseContract } from "ethers";
import type { SolidityCalldata } from "../src/zk";

export interface VerifyGas {
  /** eth_estimateGas of verifyProof as a transaction: 21k base + calldata + execution. */
  tx: number;
  /** Calldata cost (4 gas a zero byte, 16 a non-zero byte). */
  calldata: number;
  /** tx − 21,000 − calldata: what the verification itself executes. */
  exec: number;
  /** Did the deployed verifier accept the proof? */
  accepted: boolean;
}

const TX_BASE = 21_000;

function calldataGas(data: string): number {
  const hex = data.startsWith("0x") ? data.slice(2) : data;
  let gas = 0;
  for (let i = 0; i < hex.length; i += 2) gas += hex.slice(i, i + 2) === "00" ? 4 : 16;
  return gas;
}

type Verifier = BaseContract & {
  verifyProof: {
    (...args: unknown[]): Promise<boolean>;
    estimateGas(...args: unknown[]): Promise<bigint>;
  };
};

export async function measureVerifyGas(verifier: BaseContract, cd: SolidityCalldata): Promise<VerifyGas> {
  const v = verifier as Verifier;
  const args = [cd.a, cd.b, cd.c, cd.pub];
  const accepted = await v.verifyProof(...args);
  const tx = Number(await v.verifyProof.estimateGas(...args));
  const calldata = calldataGas(v.interface.encodeFunctionData("verifyProof", args));
  return { tx, calldata, exec: tx - TX_BASE - calldata, accepted };
}

/** A verifier from contracts/ (Hardhat has compiled it): deploy by contract name. */
export async function deployProjectVerifier(hre: HardhatRuntimeEnvironment, contractName: string): Promise<BaseContract> {
  const factory = await hre.ethers.getContractFactory(contractName);
  const c = await factory.deploy();
  await c.waitForDeployment();
  return c;
}

/**
 * A verifier that must not land in contracts/ (the baselines): compiled in memory with solc-js using
 * the project's compiler settings, deployed from its ABI and bytecode.
 */
export async function deployInMemoryVerifier(
  hre: HardhatRuntimeEnvironment,
  source: string,
  contractName: string,
): Promise<BaseContract> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const solc = require("solc");
  const settings = hre.config.solidity.compilers[0]?.settings ?? {};
  const input = {
    language: "Solidity",
    sources: { [`${contractName}.sol`]: { content: source } },
    settings: {
      optimizer: settings.optimizer ?? { enabled: true, runs: 200 },
      evmVersion: settings.evmVersion ?? "cancun",
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors ?? []).filter((e: { severity: string }) => e.severity === "error");
  if (errors.length) throw new Error(`solc-js failed on ${contractName}: ${errors.map((e: { formattedMessage: string }) => e.formattedMessage).join("\n")}`);
  const art = output.contracts[`${contractName}.sol`][contractName];
  const [signer] = await hre.ethers.getSigners();
  const factory = new hre.ethers.ContractFactory(art.abi, `0x${art.evm.bytecode.object}`, signer);
  const c = await factory.deploy();
  await c.waitForDeployment();
  return c;
}
