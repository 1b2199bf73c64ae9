/** Shared set-up of the model-repository end-to-end tests: contexts per signer and a created repository. */
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { deployRepositories } from "../../src/chain/deployRepos";
import { EvmRepoLedger } from "../../src/chain/evmRepos";
import { ObjectStore } from "../../src/repos/objectStore";
import { LocalIndex } from "../../src/repos/localIndex";
import * as repos from "../../src/repos/workflow";
import { onnxPath, usePtauDir } from "./fixtures";

export function countObjects(root: string): number {
  if (!fs.existsSync(root)) return 0;
  return fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

/** A repository context for signer `i` against the contract at `address`, its index under `tmp`. */
export function contexts(tmp: string, objects: ObjectStore) {
  return async (address: string, signerIndex: number, log?: string[]): Promise<repos.RepoContext> => {
    const ledger = await EvmRepoLedger.connect(hre, address, signerIndex);
    const progress = log ? (m: string) => log.push(m) : () => {};
    return { hre, ledger, objects, index: new LocalIndex(path.join(tmp, `index-${signerIndex}.db`)), signerIndex, progress };
  };
}

/** The "cancer" logistic repository (n = 16, K = 1, lr 0.5) with signers 1.. as contributors. */
export async function createCancerRepo(ctxFor: ReturnType<typeof contexts>, contributors: number[]) {
  usePtauDir();
  const { address, rollupAddress } = await deployRepositories(hre);
  const owner = await ctxFor(address, 0);
  const r = await repos.createRepo(owner, "cancer", onnxPath("logreg_cancer"), { batch: 16, steps: 1, lr: 0.5 });
  const signers = await hre.ethers.getSigners();
  for (const i of contributors) await repos.invite(owner, "cancer", signers[i].address, "contributor");
  return { address, rollupAddress, repoId: r.repoId, initial: r.initialCommit, initialId: r.commit, spec: r.spec, owner };
}

/** The breast-cancer data the repository tests train on, with its train/test split. */
export const cancer = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../fixtures/data/breast_cancer.json"), "utf8")) as {
  features: number[][];
  labels: number[];
  split: { train: number[]; test: number[] };
};

/** Writes data files of cancer rows (by index) into `dir`: what a contributor's private file holds. */
export function cancerDataFiles(dir: string) {
  return (name: string, rows: number[]): string => {
    const f = path.join(dir, `${name}.json`);
    fs.writeFileSync(f, JSON.stringify({ features: rows.map((i) => cancer.features[i]), labels: rows.map((i) => cancer.labels[i]) }));
    return f;
  };
}
