/**
 * Robust aggregation and the update bound through the real workflow, with real proofs (logistic
 * regression on the breast-cancer data, from the untrained PyTorch fixture): two honest contributors
 * and one who trains on flipped labels for 4 epochs (so its proven sample count is 4× theirs) push to
 * a FedAvg repository and to a median repository; each repository merges the three commits with its
 * own proven rule. The median merge keeps the honest accuracy, FedAvg does not. A repository with an
 * update-norm bound takes an honest commit, refuses an amplified update before proving, and its
 * contract refuses the same update proven with the unbounded circuit of the same architecture.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { deployRepositories } from "../../src/chain/deployRepos";
import { ObjectStore } from "../../src/repos/objectStore";
import { planChain, proveChain, linkCalldata } from "../../src/repos/trainingChain";
import { buildTrainingCircuit } from "../../src/repos/circuits";
import { quantizeData, trainCommit, trainingBinding, newDataSalt, weightsFromFloat, TrainingSpec, updateNorm } from "../../src/training";
import { trainableFromOnnx } from "../../src/repos/fromOnnx";
import * as repos from "../../src/repos/workflow";
import { usePtauDir } from "../helpers/fixtures";
import { contexts } from "../helpers/repos";
import { REPO } from "../helpers/circuit";

const cancer = JSON.parse(fs.readFileSync(path.join(REPO, "fixtures/data/breast_cancer.json"), "utf8")) as {
  features: number[][];
  labels: number[];
  split: { train: number[]; test: number[] };
};
const UNTRAINED = path.join(REPO, "fixtures/models/logreg_cancer_untrained.onnx");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-robust-"));
function dataFile(name: string, rows: number[], transform: (x: number[], y: number) => [number[], number] = (x, y) => [x, y]): string {
  const f = path.join(tmp, `${name}.json`);
  const pairs = rows.map((i) => transform(cancer.features[i], cancer.labels[i]));
  fs.writeFileSync(f, JSON.stringify({ features: pairs.map((p) => p[0]), labels: pairs.map((p) => p[1]) }));
  return f;
}
const train = cancer.split.train;
const honest = [dataFile("alice", train.slice(0, 32)), dataFile("bob", train.slice(32, 64))];
const flipped = dataFile("mallory", train.slice(64, 96), (x, y) => [x, 1 - y]);
// Features pushed towards the range edge with flipped labels: every step moves the weights much further.
const amplified = dataFile("amplified", train.slice(64, 80), (x, y) => [x.map((v) => Math.max(-7.9, Math.min(7.9, v * 2.5))), 1 - y]);
const testFile = dataFile("test", cancer.split.test);

describe("model repositories: robust merges and the update bound (real proofs)", function () {
  this.timeout(1_800_000);
  const objects = new ObjectStore(path.join(tmp, "objects"));
  const ctxFor = contexts(tmp, objects);
  let address: string;
  let owner: repos.RepoContext;

  before(async () => {
    usePtauDir();
    ({ address } = await deployRepositories(hre));
    owner = await ctxFor(address, 0);
  });

  /** A repository with contributors 1, 2, 3, and their three commits (mallory = 3) pushed. */
  async function round(name: string, aggregation: "fedavg" | "median") {
    await repos.createRepo(owner, name, UNTRAINED, { batch: 16, steps: 1, lr: 0.5, aggregation, mergeSizes: [3] });
    const signers = await hre.ethers.getSigners();
    for (const i of [1, 2, 3]) await repos.invite(owner, name, signers[i].address, "contributor");
    const ids: string[] = [];
    for (const [i, file, epochs] of [[1, honest[0], 1], [2, honest[1], 1], [3, flipped, 4]] as const) {
      const ctx = await ctxFor(address, i);
      const t = await repos.train(ctx, name, file, { epochs });
      expect(t.samples).to.equal(32 * epochs);
      await repos.push(ctx, name, t.id);
      ids.push(t.id);
    }
    const m = await repos.merge(owner, name, ids);
    return (await repos.evalCommit(owner, name, m.commit, testFile)).accuracy!;
  }

  it("the median merge keeps the honest accuracy; FedAvg, weighing the poisoner's 4× samples, does not", async () => {
    const honestOnly = async () => {
      await repos.createRepo(owner, "cancer-honest", UNTRAINED, { batch: 16, steps: 1, lr: 0.5, mergeSizes: [2] });
      const signers = await hre.ethers.getSigners();
      const ids: string[] = [];
      for (const i of [1, 2]) {
        await repos.invite(owner, "cancer-honest", signers[i].address, "contributor");
        const ctx = await ctxFor(address, i);
        const t = await repos.train(ctx, "cancer-honest", honest[i - 1]);
        await repos.push(ctx, "cancer-honest", t.id);
        ids.push(t.id);
      }
      return (await repos.evalCommit(owner, "cancer-honest", (await repos.merge(owner, "cancer-honest", ids)).commit, testFile)).accuracy!;
    };
    const clean = await honestOnly();
    const fedavg = await round("cancer-fedavg", "fedavg");
    const median = await round("cancer-median", "median");
    // The figures, for the reader of the test log.
    console.log(`      held-out accuracy: honest only ${(100 * clean).toFixed(1)}%, FedAvg with the poisoner ${(100 * fedavg).toFixed(1)}%, median ${(100 * median).toFixed(1)}%`);
    expect(clean).to.be.greaterThan(0.85);
    expect(median).to.be.greaterThan(clean - 0.05);
    expect(fedavg).to.be.lessThan(clean - 0.2);
    // The rule changes the merge verifier (another circuit), not the training verifier (the same circuit, the same key).
    const [f, m] = [await owner.ledger.repository(await owner.ledger.repoIdByName("cancer-fedavg")), await owner.ledger.repository(await owner.ledger.repoIdByName("cancer-median"))];
    const code = (a: string) => hre.ethers.provider.getCode(a);
    expect(await code(f.mergeVerifiers[1])).to.not.equal(await code(m.mergeVerifiers[1]));
    expect(await code(f.trainVerifier)).to.equal(await code(m.trainVerifier));
  });

  it("a bounded repository takes an honest commit, refuses an amplified one before proving, and its contract refuses it proven without the bound", async () => {
    const model = trainableFromOnnx(UNTRAINED);
    const free = (await owner.ledger.repository(await owner.ledger.repoIdByName("cancer-fedavg"))).architectureHash;
    const freeSpec = objects.getJson<TrainingSpec>(free.replace(/^0x/, ""));
    // The bound: twice the largest honest proof update from the initial weights (measured with the executor).
    const w0 = weightsFromFloat(freeSpec, model.weights);
    const norm = (file: string) => {
      const d = JSON.parse(fs.readFileSync(file, "utf8"));
      const q = quantizeData(freeSpec, d.features.slice(0, 16), d.labels.slice(0, 16));
      return updateNorm(freeSpec, w0, trainCommit(freeSpec, w0, q.X, q.y).weights);
    };
    const bound = 2 * Math.max(norm(honest[0]), norm(honest[1]));
    expect(norm(amplified), "the amplified update exceeds the bound").to.be.greaterThan(bound);

    await repos.createRepo(owner, "cancer-bounded", UNTRAINED, { batch: 16, steps: 1, lr: 0.5, maxUpdateNorm: bound, mergeSizes: [2] });
    const signers = await hre.ethers.getSigners();
    for (const i of [1, 3]) await repos.invite(owner, "cancer-bounded", signers[i].address, "contributor");
    const alice = await ctxFor(address, 1);
    const t = await repos.train(alice, "cancer-bounded", honest[0]);
    expect((await repos.push(alice, "cancer-bounded", t.id)).already).to.equal(false);

    const mallory = await ctxFor(address, 3);
    const before = mallory.index.unpushed("cancer-bounded").length;
    let refused: Error | undefined;
    try {
      await repos.train(mallory, "cancer-bounded", amplified);
    } catch (e) {
      refused = e as Error;
    }
    expect(refused?.message).to.match(/L2 norm [0-9.]+ exceeds the repository's bound maxUpdateNorm/);
    expect(mallory.index.unpushed("cancer-bounded").length, "nothing recorded").to.equal(before);

    // A client without the check proves the same rows with the unbounded circuit (same architecture,
    // same public signals, the bounded repository's binding): the bounded repository's verifier refuses it.
    const repoId = await mallory.ledger.repoIdByName("cancer-bounded");
    const circuit = await buildTrainingCircuit(freeSpec);
    const d = JSON.parse(fs.readFileSync(amplified, "utf8"));
    const q = quantizeData(freeSpec, d.features, d.labels);
    const plan = planChain(amplified, 16, freeSpec, 1, await mallory.ledger.maxChainLength());
    const binding = trainingBinding(await mallory.ledger.trainingContext(repoId, mallory.ledger.account));
    const chain = await proveChain({ spec: freeSpec, circuit, parent: w0, X: q.X, y: q.y, plan, binding, salt: newDataSalt(), progress: () => {} });
    const initial = (await mallory.ledger.repository(repoId)).initialCommit;
    await mallory.ledger.createBranch(repoId, "mallory", initial);
    let pushed: Error | undefined;
    try {
      await mallory.ledger.pushCommit(repoId, "mallory", initial, chain.links.map(linkCalldata), "");
    } catch (e) {
      pushed = e as Error;
    }
    expect(pushed?.message, "the contract refused the unbounded proof").to.match(/does not verify|invalid training proof|InvalidTrainingProof/i);
  });
});
