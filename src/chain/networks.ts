/**
 * One process, several EVM chains. Hardhat binds its runtime (`hre.network`, `hre.ethers`) to the
 * one `--network` a command was started with; a rollup settled on several chains needs a runtime per
 * chain. `runtimeFor` gives one: the same config, artifacts and tasks, with `network` and `ethers`
 * bound to another configured network, built the way hardhat-ethers builds its own (pinned versions:
 * hardhat 2.29, @nomicfoundation/hardhat-ethers 3.1). Every EVM adapter takes a runtime, so they all
 * work unchanged on any of the chains.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { FlavumError } from "../errors";

const views = new WeakMap<HardhatRuntimeEnvironment, Map<string, HardhatRuntimeEnvironment>>();

/** A runtime bound to `network` (the command's own runtime when it already is). */
export async function runtimeFor(hre: HardhatRuntimeEnvironment, network: string): Promise<HardhatRuntimeEnvironment> {
  if (network === hre.network.name) return hre;
  const networkConfig = hre.config.networks[network];
  if (!networkConfig) {
    const known = Object.keys(hre.config.networks).join(", ");
    throw new FlavumError(`network "${network}" is not configured in hardhat.config.ts (configured: ${known})`, "BAD_INPUT");
  }
  let cache = views.get(hre);
  if (!cache) views.set(hre, (cache = new Map()));
  const cached = cache.get(network);
  if (cached) return cached;

  const { createProvider } = require("hardhat/internal/core/providers/construction");
  const provider = await createProvider(hre.config, network, hre.artifacts);
  const view = Object.create(hre) as HardhatRuntimeEnvironment;
  Object.defineProperty(view, "network", { value: { name: network, config: networkConfig, provider }, enumerable: true });
  Object.defineProperty(view, "ethers", { value: ethersFor(view), enumerable: true });
  cache.set(network, view);
  return view;
}

/** hardhat-ethers' `hre.ethers`, for the view: the helpers take the runtime they act on as their first argument. */
function ethersFor(view: HardhatRuntimeEnvironment) {
  const { ethers } = require("ethers");
  const { HardhatEthersProvider } = require("@nomicfoundation/hardhat-ethers/internal/hardhat-ethers-provider");
  const helpers = require("@nomicfoundation/hardhat-ethers/internal/helpers");
  return {
    ...ethers,
    provider: new HardhatEthersProvider(view.network.provider, view.network.name),
    getSigner: (address: string) => helpers.getSigner(view, address),
    getSigners: () => helpers.getSigners(view),
    getImpersonatedSigner: (address: string) => helpers.getImpersonatedSigner(view, address),
    getContractFactory: helpers.getContractFactory.bind(null, view),
    getContractFactoryFromArtifact: (...args: unknown[]) => helpers.getContractFactoryFromArtifact(view, ...args),
    getContractAt: (...args: unknown[]) => helpers.getContractAt(view, ...args),
    getContractAtFromArtifact: (...args: unknown[]) => helpers.getContractAtFromArtifact(view, ...args),
    deployContract: helpers.deployContract.bind(null, view),
  };
}

/** `--chains a,b`: Hardhat network names, each once, at least one. */
export function parseChains(spec: string): string[] {
  const names = spec.split(",").map((s) => s.trim());
  if (!names.length || names.some((n) => !n))
    throw new FlavumError(`--chains must list Hardhat network names separated by commas (e.g. localhost,localhost2), got "${spec}"`, "BAD_INPUT");
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new FlavumError(`--chains lists network "${dup}" twice`, "BAD_INPUT");
  if (names.length > 1 && names.includes("hardhat"))
    throw new FlavumError(`--chains cannot include the in-process "hardhat" network beside others: it forgets everything when the command ends; start \`npx hardhat node\`s and list localhost, localhost2`, "BAD_INPUT");
  return names;
}
