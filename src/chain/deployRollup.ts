/**
 * Deploys Flavum's rollup: the Poseidon hashers, ModelRegistry and FlavumRollup, and grants the
 * sequencer role. The one deploy path used by `rollup:deploy` and by the contract tests' fixtures;
 * every contract is recorded in deployments/<network>.json (except on the in-process network).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { TREE_DEPTH } from "../protocol/batch";
import { hasher, zeroRoots } from "../rollup/merkle";
import { deployRevenue } from "./deployRevenue";
import { EvmLedger } from "./evm";
import { deployPoseidon } from "./poseidonContracts";
import type { FlavumRollup, ModelRegistry } from "../../typechain-types";
import { getAddress, type BaseContract } from "ethers";
import { FlavumError } from "../errors";
import { traceStoreIndex, TraceStoreMode } from "../traceStore/commitment";
import { newDomainId } from "../protocol/domain";
import { FIELD_P } from "../quant/fixed";

export interface DeployRollupOptions {
  /** Holder of DEFAULT_ADMIN_ROLE (defaults to the deployer; otherwise the deployer hands it over). */
  admin?: string;
  /** Receives SEQUENCER_ROLE (defaults to the deployer; pass null to grant it to nobody). */
  sequencer?: string | null;
  /** Which of the network's accounts deploys (defaults to 0). */
  signerIndex?: number;
  /** Blocks after which a pending on-chain request must be included (or may be cancelled); default 256. */
  inclusionDelay?: number;
  /** Where batch traces are posted (default calldata); IPFS needs its committee and threshold. */
  traceStore?: TraceStoreMode;
  dac?: string[];
  dacThreshold?: number;
  /**
   * The rollup's domain id, when this deployment is one chain of a rollup deployed on several
   * (default: a new domain, from this chain, the deployer and its nonce: src/protocol/domain.ts).
   */
  domain?: bigint;
  /** This chain's tag in the domain, 0..65535 (default 0): the high bits of its on-chain request ids. */
  chainTag?: number;
}

/** The contract's TraceStoreConfig: IPFS committees sorted ascending (the contract refuses others). */
export function traceStoreConfig(mode: TraceStoreMode = "calldata", dac: string[] = [], threshold = 0) {
  if (mode !== "ipfs") {
    if (dac.length || threshold) throw new FlavumError(`--dac and --dac-threshold belong to --trace-store ipfs`, "BAD_INPUT");
    return { mode: traceStoreIndex(mode), committee: [] as string[], threshold: 0 };
  }
  const committee = [...new Set(dac.map((a) => getAddress(a)))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  if (committee.length !== dac.length) throw new FlavumError(`--dac lists an address twice`, "BAD_INPUT");
  if (!(threshold >= 1 && threshold <= committee.length))
    throw new FlavumError(`--dac-threshold must be 1..${committee.length} (the committee's size), got ${threshold}`, "BAD_INPUT");
  return { mode: traceStoreIndex(mode), committee, threshold };
}

/** ~50 minutes at 12 s blocks: long enough for a sequencer to batch, short enough to bound censorship. */
export const DEFAULT_INCLUSION_DELAY = 256;

export interface RollupDeployment {
  registry: ModelRegistry;
  rollup: FlavumRollup;
  poseidon2: BaseContract;
  poseidon4: BaseContract;
  addresses: { registry: string; rollup: string; poseidon2: string; poseidon4: string; revenue: string };
  /** Root of the empty depth-20 trace tree: the rollup's initial state root. */
  emptyRoot: bigint;
  domain: bigint;
  chainTag: number;
}

/** The root of the empty depth-20 trace tree: where every model's trace tree starts. */
export async function emptyTreeRoot(depth = TREE_DEPTH): Promise<bigint> {
  return zeroRoots(await hasher(), depth)[depth];
}

export async function deployRollup(hre: HardhatRuntimeEnvironment, opts: DeployRollupOptions = {}): Promise<RollupDeployment> {
  const ledger = new EvmLedger(hre, opts.signerIndex ?? 0);
  const signer = await ledger.signer();
  const deployer = await signer.getAddress();
  const admin = opts.admin ?? deployer;
  const sequencer = opts.sequencer === undefined ? deployer : opts.sequencer;
  const emptyRoot = await emptyTreeRoot();
  const chainTag = opts.chainTag ?? 0;
  if (!Number.isInteger(chainTag) || chainTag < 0 || chainTag > 0xffff) throw new FlavumError(`a chain tag is 0..65535, got ${opts.chainTag}`, "BAD_INPUT");
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const domain = opts.domain ?? newDomainId(chainId, deployer, BigInt(await hre.ethers.provider.getTransactionCount(deployer)));
  if (domain <= 0n || domain >= FIELD_P) throw new FlavumError(`a rollup domain is a nonzero BN254 scalar, got ${domain}`, "BAD_INPUT");

  const p2 = await deployPoseidon(hre, 2, signer, ledger.progress);
  const p4 = await deployPoseidon(hre, 4, signer, ledger.progress);
  const { contract: registryC } = await ledger.deploy("ModelRegistry", [], "ModelRegistry");
  const registryAddress = await registryC.getAddress();
  const { contract: rollupC } = await ledger.deploy(
    "FlavumRollup",
    [registryAddress, p2.address, p4.address, deployer, emptyRoot, opts.inclusionDelay ?? DEFAULT_INCLUSION_DELAY, traceStoreConfig(opts.traceStore, opts.dac, opts.dacThreshold), { domain, chainTag }],
    "FlavumRollup",
  );
  const registry = registryC as unknown as ModelRegistry;
  const rollup = rollupC as unknown as FlavumRollup;

  // Published repository models pay their contributors through it: attached while the deployer is admin.
  const { revenue } = await deployRevenue(hre, { registry: registryAddress, rollup: await rollup.getAddress(), signer: opts.signerIndex ?? 0 });

  // Its own entry in the domain's list of settlements; the other chains' are added by whoever deploys them together.
  await ledger.send(`listing the rollup as chain ${chainId}'s settlement (tag ${chainTag})`, rollup.registerSettlement(chainId, await rollup.getAddress(), chainTag));
  // The deployer administers until the sequencer is granted, then hands the admin role over.
  if (sequencer) await ledger.send(`granting the sequencer role to ${sequencer}`, rollup.grantRole(await rollup.SEQUENCER_ROLE(), sequencer));
  if (admin.toLowerCase() !== deployer.toLowerCase()) {
    const adminRole = await rollup.DEFAULT_ADMIN_ROLE();
    await ledger.send(`granting the admin role to ${admin}`, rollup.grantRole(adminRole, admin));
    await ledger.send(`renouncing the deployer's admin role`, rollup.renounceRole(adminRole, deployer));
  }

  return {
    registry,
    rollup,
    poseidon2: p2.contract,
    poseidon4: p4.contract,
    addresses: { registry: registryAddress, rollup: await rollup.getAddress(), poseidon2: p2.address, poseidon4: p4.address, revenue },
    emptyRoot,
    domain,
    chainTag,
  };
}
