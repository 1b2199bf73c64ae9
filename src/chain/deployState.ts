/**
 * Deploys the rollup state beside a FlavumRollup: the hashers it needs, the state circuit's verifier
 * (built, or reused, for the chosen tree depth and operations per batch), FlavumState, and attaches it to
 * the rollup. The one path used by `rollup:deploy` and by the tests' fixtures.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { BaseContract } from "ethers";
import { EvmLedger } from "./evm";
import { deployPoseidon, PoseidonArity } from "./poseidonContracts";
import { buildStateCircuit, StateBuild, StateParameters } from "../rollup/stateBuild";
import { hasher, zeroRoots } from "../rollup/merkle";
import type { RollupDeployment } from "./deployRollup";
import type { FlavumState } from "../../typechain-types";

/** 65,535 data points and 8 operations per state batch: a state batch fits powers of tau of 2^17. */
export const DEFAULT_STATE: StateParameters = { depth: 16, opsPerBatch: 8 };
/** Blocks a queued operation may wait before batches must take it and exodus opens (~50 min at 12 s). */
export const DEFAULT_DEADLINE = 256;

export interface DeployStateOptions extends Partial<StateParameters> {
  deadline?: number;
  signerIndex?: number;
  ptau?: string;
}

export interface StateDeployment {
  state: FlavumState;
  token: BaseContract;
  build: StateBuild;
  parameters: StateParameters & { deadline: number };
  addresses: { state: string; token: string; verifier: string; poseidon5: string };
}

export async function deployState(hre: HardhatRuntimeEnvironment, rollup: RollupDeployment, opts: DeployStateOptions = {}): Promise<StateDeployment> {
  const ledger = new EvmLedger(hre, opts.signerIndex ?? 0);
  const signer = await ledger.signer();
  const parameters = { depth: opts.depth ?? DEFAULT_STATE.depth, opsPerBatch: opts.opsPerBatch ?? DEFAULT_STATE.opsPerBatch, deadline: opts.deadline ?? DEFAULT_DEADLINE };

  const build = await buildStateCircuit(parameters, ledger.progress, opts.ptau);
  await hre.run("compile", { quiet: true });
  const { record: verifier } = await ledger.deploy(build.contract, [], "StateVerifier", build.keys.vkHash);

  const hashers: string[] = [];
  for (const n of [2, 3, 4, 5, 6] as PoseidonArity[]) hashers.push((await deployPoseidon(hre, n, signer, ledger.progress)).address);
  const emptyRoot = zeroRoots(await hasher(), parameters.depth)[parameters.depth];
  const config = {
    rollup: rollup.addresses.rollup, registry: rollup.addresses.registry, verifier: verifier.address,
    poseidon2: hashers[0], poseidon5: hashers[3], contentHashers: hashers,
    stateDepth: parameters.depth, opsLog2: Math.log2(parameters.opsPerBatch), deadline: parameters.deadline, emptyRoot,
  };
  const { contract } = await ledger.deploy("FlavumState", [config], "FlavumState");
  const state = contract as unknown as FlavumState;
  const stateAddress = await state.getAddress();
  await ledger.send(`attaching the state contract to the rollup`, rollup.rollup.connect(signer).attachState(stateAddress));
  const tokenAddress = await state.token();
  return {
    state, token: await hre.ethers.getContractAt("DataPointToken", tokenAddress), build, parameters,
    addresses: { state: stateAddress, token: tokenAddress, verifier: verifier.address, poseidon5: hashers[3] },
  };
}
