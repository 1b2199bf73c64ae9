/**
 * The rollup as the end-to-end tests start it: the bundled logistic regression compiled once, a
 * rollup deployed by the real deploy code, the model registered for batches of B through the real
 * registration path, and the sequencer store as it stood right after — copied per test, because
 * loadFixture rewinds the chain but not the store.
 */
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { deployRollup, DeployRollupOptions } from "../../src/chain/deployRollup";
import { compileModel } from "../../src/model/compile";
import { openSequencer, registerModel } from "../../src/rollup/service";
import { dataPath, onnxPath, usePtauDir } from "./fixtures";

export const ROLLUP_MODEL = "rollup_logreg";

export const tmpStore = (tag = "rollup") => path.join(fs.mkdtempSync(path.join(os.tmpdir(), `flavum-${tag}-`)), "sequencer.db");

export async function compileRollupModel(): Promise<void> {
  usePtauDir();
  await compileModel({ onnx: onnxPath("logreg_cancer"), name: ROLLUP_MODEL, calibration: dataPath("logreg_cancer", "calibration") });
}

/** Deploys and registers; `prepare` runs on the fresh rollup before registration (e.g. setting a fee). */
export async function registeredRollup(batchSize: number, opts: DeployRollupOptions = {}, prepare?: (d: Awaited<ReturnType<typeof deployRollup>>) => Promise<void>) {
  const d = await deployRollup(hre, opts);
  if (prepare) await prepare(d);
  const store = tmpStore();
  const seq = await openSequencer(hre, { store, addresses: d.addresses });
  const reg = await registerModel(seq, hre, ROLLUP_MODEL, batchSize);
  seq.store.close();
  return { d, store, modelId: reg.modelId };
}

/** A private copy of a fixture's store. */
export function copyStore(store: string, tag?: string): string {
  const copy = tmpStore(tag);
  fs.copyFileSync(store, copy);
  return copy;
}
