/**
 * Wiring for the rollup commands: where the sequencer's store lives, connecting to the recorded
 * rollup, and registering a compiled model (batch circuit, verifier, NFT).
 */
import crypto from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { cacheRoot } from "../zk/paths";
import { Progress, silent } from "../zk";
import { loadModel, LoadedModel } from "../model/artifacts";
import { EvmRollupLedger, RollupAddresses, recordedRollup } from "../chain/evmRollup";
import { isEphemeral } from "../chain/deployments";
import { SequencerStore } from "./store";
import { Sequencer } from "./sequencer";
import { buildBatchCircuit } from "./batchBuild";

/** build/rollup/<network>/sequencer.db; the in-process network gets a fresh store per process. */
export function defaultStorePath(network: string): string {
  if (isEphemeral(network)) return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "flavum-seq-")), "sequencer.db");
  return path.join(cacheRoot(), "rollup", network, "sequencer.db");
}

/** A new rollup deployment starts with an empty sequencer store. */
export function resetStore(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
}

export async function openSequencer(
  hre: HardhatRuntimeEnvironment,
  opts: { store?: string; addresses?: RollupAddresses; signerIndex?: number; progress?: Progress } = {},
): Promise<Sequencer> {
  const addresses = opts.addresses ?? recordedRollup(hre.network.name);
  const ledger = await EvmRollupLedger.connect(hre, addresses, opts.signerIndex ?? 0);
  const store = new SequencerStore(opts.store ?? defaultStorePath(hre.network.name));
  try {
    return await Sequencer.open(store, ledger, opts.progress ?? silent);
  } catch (e) {
    store.close();
    throw e;
  }
}

/** Hash of what the model computes without its weights: node kinds, shapes and scales. */
export function architectureHash(model: LoadedModel): string {
  const q = model.q;
  const arch = q.nodes.map((n) => ({ kind: n.kind, out: q.tensors[n.out].shape, scale: q.tensors[n.out].scale, bits: q.tensors[n.out].bits }));
  return "0x" + crypto.createHash("sha256").update(JSON.stringify({ input: q.input.shape, arch, head: q.head })).digest("hex");
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
 * circuit is not registered twice.
 */
export async function registerModel(seq: Sequencer, hre: HardhatRuntimeEnvironment, name: string, batchSize: number, progress: Progress = silent): Promise<Registered> {
  const model = loadModel(name);
  const build = await buildBatchCircuit(model, batchSize, progress);
  await hre.run("compile", { quiet: true });
  const ledger = seq.ledger as EvmRollupLedger;
  const verifierKey = `verifier:${name}:batch${batchSize}`;
  const verifier = await ledger.deployVerifier(build.contract, verifierKey, build.keys.hash);

  const known = seq.store.model(name);
  if (known && known.batchSize === batchSize && (await ledger.verifierOf(known.modelId, batchSize))?.toLowerCase() === verifier.toLowerCase())
    return { modelId: known.modelId, verifier, contract: build.contract, constraints: build.keys.constraints, reused: true };

  const m = model.manifest;
  const out = model.q.tensors[model.q.output];
  const { modelId } = await ledger.registerModel({
    weightsHash: BigInt(m.weightsCommitment),
    architectureHash: architectureHash(model),
    circuitHash: "0x" + build.keys.hash,
    vkHash: "0x" + crypto.createHash("sha256").update(fs.readFileSync(build.vkey)).digest("hex"),
    inputShape: m.inputShape, outputShape: m.outputShape, inputScale: m.inputScale, outputScale: m.outputScale,
    outputBits: out.bits, outputCount: out.size, hasLabel: model.q.argmax,
    uri: `flavum://models/${name}`,
  });
  await ledger.setVerifier(modelId, batchSize, verifier);
  seq.store.addModel({ modelId, name, batchSize, verifier });
  return { modelId, verifier, contract: build.contract, constraints: build.keys.constraints, reused: false };
}
