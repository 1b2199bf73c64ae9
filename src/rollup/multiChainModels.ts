/**
 * Registering a model on every chain of a multi-chain rollup. A batch statement names the model id,
 * so a model must have the same id, commitment and verifier code on every chain: it is registered on
 * the primary as usual (src/rollup/service.ts), then on each other chain in the same order, with its
 * verifier deployed there from the same bytecode. A chain whose registry gives another id (someone
 * registered a model there in between) is refused by name: that model cannot be served on it.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { FlavumError } from "../errors";
import { loadModel } from "../model/artifacts";
import { Progress, silent } from "../zk";
import { assertSetupAllowed } from "../zk/setupPolicy";
import type { ChainMember } from "../chain/chainSet";
import { buildBatchCircuit } from "./batchBuild";
import { modelRegistration, registerModel, Registered } from "./service";
import type { Sequencer } from "./sequencer";

export interface ChainRegistration {
  network: string;
  chainId: string;
  verifier: string;
  reused: boolean;
}

async function codeHash(m: ChainMember, address: string): Promise<string> {
  return m.hre.ethers.keccak256(await m.hre.ethers.provider.getCode(address));
}

/** `seq` is the primary chain's sequencer (a plain, single-chain ledger); `members[0]` is the primary. */
export async function registerModelOnChains(
  seq: Sequencer, members: ChainMember[], name: string, batchSize: number, progress: Progress = silent, setupOpts: { insecureDevSetup?: boolean } = {},
): Promise<Registered & { chains: ChainRegistration[] }> {
  const [primary, ...others] = members;
  const r = await registerModel(seq, primary.hre as HardhatRuntimeEnvironment, name, batchSize, progress, setupOpts);
  const wanted = await codeHash(primary, r.verifier);
  const chains: ChainRegistration[] = [{ network: primary.network, chainId: primary.chainId.toString(), verifier: r.verifier, reused: r.reused }];
  const build = await buildBatchCircuit(loadModel(name), batchSize, progress);
  for (const m of others) {
    const existing = await m.ledger.verifierOf(r.modelId, batchSize);
    if (existing && BigInt(existing) !== 0n) {
      if ((await codeHash(m, existing)) !== wanted)
        throw new FlavumError(
          `model id ${r.modelId} on ${m.network} is another model (its batch-${batchSize} verifier ${existing} has other code than ${r.verifier} on ${primary.network}): ` +
            `the chains' registries are out of step, so "${name}" cannot be served on ${m.network}`,
          "MODEL_ID_MISMATCH",
        );
      chains.push({ network: m.network, chainId: m.chainId.toString(), verifier: existing, reused: true });
      continue;
    }
    await assertSetupAllowed({ network: m.network, keys: build.keys, dir: build.dir, insecureDevSetup: setupOpts.insecureDevSetup, what: `the batch-${batchSize} circuit of model "${name}"`, progress });
    const verifier = await m.ledger.deployVerifier(build.contract, `verifier:${name}:batch${batchSize}`, build.keys.vkHash);
    const { modelId } = await m.ledger.registerModel(modelRegistration(name, build, batchSize, verifier));
    if (modelId !== r.modelId)
      throw new FlavumError(
        `"${name}" is model id ${r.modelId} on ${primary.network} but was given id ${modelId} on ${m.network}: the chains' registries are out of step ` +
          `(a model was registered on one of them alone), so batches of it cannot settle on ${m.network}`,
        "MODEL_ID_MISMATCH",
      );
    chains.push({ network: m.network, chainId: m.chainId.toString(), verifier, reused: false });
  }
  return { ...r, chains };
}
