/**
 * Wiring for the rollup commands: where the sequencer's store lives, connecting to the recorded
 * rollup, and registering a compiled model (batch circuit, verifier, NFT).
 */
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Progress, silent, shortHash } from "../zk";
import { FlavumError } from "../errors";
import { loadModel, modelVkHash } from "../model/artifacts";
import { architectureHash } from "../model/architectureHash";
import { liveRegistrations, recordRegistration, Registration } from "../model/registrations";
import { isEphemeral } from "../chain/deployments";
import { EvmRollupLedger, RollupAddresses, recordedRollup } from "../chain/evmRollup";
import type { ModelRegistration } from "../chain/ledger";
import { SequencerStore } from "./store";
import { defaultStorePath } from "./storeLocation";
import { Sequencer } from "./sequencer";
import { buildBatchCircuit, BatchBuild } from "./batchBuild";
import { assertSetupAllowed } from "../zk/setupPolicy";

export { defaultStorePath, moveStoreAside, resetStore } from "./storeLocation";

export async function openSequencer(
  hre: HardhatRuntimeEnvironment,
  opts: { store?: string; addresses?: RollupAddresses; signerIndex?: number; progress?: Progress } = {},
): Promise<Sequencer> {
  const addresses = opts.addresses ?? recordedRollup(hre.network.name);
  const ledger = await EvmRollupLedger.connect(hre, addresses, opts.signerIndex ?? 0);
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const store = new SequencerStore(opts.store ?? defaultStorePath(hre.network.name, { chainId, rollup: addresses.rollup }));
  try {
    return await Sequencer.open(store, ledger, opts.progress ?? silent);
  } catch (e) {
    store.close();
    throw e;
  }
}

export interface Registered {
  modelId: bigint;
  verifier: string;
  contract: string;
  constraints: number;
  reused: boolean;
}

/**
 * Builds the model's batch circuit and verifier, deploys the verifier, mints the model NFT and sets
 * its verifier for this batch size. A model already served at this batch size with the same
 * circuit is not registered twice; one whose local build changed since it was registered is refused
 * (registering it again would mint a second model under the name and orphan the first).
 */
export async function registerModel(
  seq: Sequencer, hre: HardhatRuntimeEnvironment, name: string, batchSize: number, progress: Progress = silent,
  setupOpts: { insecureDevSetup?: boolean } = {}, provenance?: ModelRegistration["provenance"],
): Promise<Registered> {
  const model = loadModel(name);
  const m = model.manifest;
  const ledger = seq.ledger as EvmRollupLedger;
  const state = await ledger.state();
  const mine = (r: Registration) => r.network === ledger.network && r.rollup.toLowerCase() === state.rollup.toLowerCase();
  const rows = seq.store.models().filter((r) => r.name === name);
  // Checked before the batch build, which would otherwise replace the registered batch keys.
  const changed = [
    ...rows.filter((r) => r.circuitHash && r.circuitHash !== m.circuit.hash).map((r) => ({ id: r.modelId.toString(), b: r.batchSize, was: r.circuitHash! })),
    ...liveRegistrations(model.dir).filter((r) => mine(r) && r.circuitHash !== m.circuit.hash).map((r) => ({ id: r.modelId, b: r.batchSize, was: r.circuitHash })),
  ];
  if (changed.length)
    throw new FlavumError(
      `model "${name}" is registered with this rollup as model id ${changed[0].id} (batches of ${changed[0].b}) from circuit ${shortHash(changed[0].was)}, ` +
        `but the local build of "${name}" is now circuit ${shortHash(m.circuit.hash)}: it was recompiled with other options after registration. ` +
        `Compile the new version under a new name (e.g. --name ${name}_v2) and register that, or recompile "${name}" with the options it was registered with`,
      "REGISTERED_MODEL",
    );

  const build = await buildBatchCircuit(model, batchSize, progress);
  const stale = rows.find((r) => r.batchSize === batchSize && r.vkHash && r.vkHash !== build.keys.vkHash);
  if (stale)
    throw new FlavumError(
      `model "${name}" is registered as model id ${stale.modelId} with batch-${batchSize} verifying key ${shortHash(stale.vkHash)}, but its batch ` +
        `circuit's keys were rebuilt (now ${shortHash(build.keys.vkHash)}), so this machine can no longer prove batches for it. ` +
        `Compile the model under a new name (e.g. --name ${name}_v2) and register that`,
      "REGISTERED_MODEL",
    );
  const served = { name, batchSize, vkHash: build.keys.vkHash, circuitHash: m.circuit.hash };
  const remember = async (modelId: bigint, verifier: string) => {
    seq.store.addModel({ modelId, verifier, ...served });
    if (isEphemeral(ledger.network)) return; // a registration the chain forgets must not lock the name
    recordRegistration(name, {
      network: ledger.network, chainId: state.chainId.toString(), rollup: state.rollup, registry: await ledger.registry.getAddress(),
      modelId: modelId.toString(), batchSize, circuitHash: m.circuit.hash, vkHash: modelVkHash(model), batchVkHash: build.keys.vkHash,
      store: path.resolve(seq.store.file), registeredAt: new Date().toISOString(),
    });
  };
  const done = async (modelId: bigint, verifier: string, reused: boolean): Promise<Registered> => {
    await remember(modelId, verifier);
    return { modelId, verifier, contract: build.contract, constraints: build.keys.constraints, reused };
  };

  // Registered from this very key: its verifier is already set, whatever the deployment records say.
  const same = rows.find((r) => r.batchSize === batchSize && r.vkHash === build.keys.vkHash);
  const setVerifier = same && (await ledger.verifierOf(same.modelId, batchSize));
  if (same && setVerifier && BigInt(setVerifier) !== 0n) return done(same.modelId, setVerifier, true);

  // ---- setup policy (issue 8): dev ptau / one-party keys only on hardhat/localhost or with --insecure-dev-setup
  await assertSetupAllowed({ network: hre.network.name, keys: build.keys, dir: build.dir, insecureDevSetup: setupOpts.insecureDevSetup, what: `the batch-${batchSize} circuit of model "${name}"`, progress });
  // ---- end setup policy
  await hre.run("compile", { quiet: true });
  const verifierKey = `verifier:${name}:batch${batchSize}`;
  const verifier = await ledger.deployVerifier(build.contract, verifierKey, build.keys.vkHash);
  const known = seq.store.model(name);
  if (known && known.batchSize === batchSize && (await ledger.verifierOf(known.modelId, batchSize))?.toLowerCase() === verifier.toLowerCase())
    return done(known.modelId, verifier, true);

  const { modelId } = await ledger.registerModel(modelRegistration(name, build, batchSize, verifier, provenance));
  return done(modelId, verifier, false);
}

/** What the registry records of a model served at one batch size: the same on every chain it is registered on. */
export function modelRegistration(
  name: string, build: BatchBuild, batchSize: number, verifier: string, provenance?: ModelRegistration["provenance"],
): ModelRegistration {
  const model = loadModel(name);
  const m = model.manifest;
  const out = model.q.tensors[model.q.output];
  return {
    weightsHash: BigInt(m.weightsCommitment),
    architectureHash: architectureHash(model.q),
    circuitHash: "0x" + build.keys.hash,
    vkHash: "0x" + build.keys.vkHash,
    inputShape: m.inputShape, outputShape: m.outputShape, inputScale: m.inputScale, outputScale: m.outputScale,
    inputBits: m.inputBits, outputBits: out.bits, outputCount: out.size, hasLabel: model.q.argmax,
    uri: `flavum://models/${name}`,
    // Fixed at registration, with its code hash: no verifier can be added or swapped later.
    verifiers: [{ batchSize, address: verifier }],
    provenance,
  };
}
