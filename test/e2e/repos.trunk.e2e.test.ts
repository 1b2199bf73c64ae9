/**
 * A CNN head on a frozen trunk, through the real workflow with real proofs: the PyTorch-exported
 * digits CNN becomes a repository whose convolutional trunk (up to its Flatten) stays frozen and whose
 * dense head is trained (`repo:create --onnx cnn_digits.onnx --train-from /Flatten --calibration …`).
 * A contributor trains on raw pixel rows — the trunk's inference on each row is proven inside every
 * training step — and pushes; the head fast-forwards main; evaluation runs the float trunk and head;
 * `repo:pull --onnx` writes trunk + trained head, and onnxruntime gives the evaluation's accuracy.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import * as ort from "onnxruntime-node";
import { deployRepositories } from "../../src/chain/deployRepos";
import { ObjectStore } from "../../src/repos/objectStore";
import * as repos from "../../src/repos/workflow";
import { onnxPath, usePtauDir } from "../helpers/fixtures";
import { contexts } from "../helpers/repos";
import { REPO } from "../helpers/circuit";

const digits = JSON.parse(fs.readFileSync(path.join(REPO, "fixtures/data/digits.json"), "utf8")) as {
  features: number[][];
  labels: number[];
  split: { train: number[]; test: number[] };
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-trunk-repo-"));
function dataFile(name: string, rows: number[]): string {
  const f = path.join(tmp, `${name}.json`);
  fs.writeFileSync(f, JSON.stringify({ features: rows.map((i) => digits.features[i]), labels: rows.map((i) => digits.labels[i]) }));
  return f;
}

describe("model repositories: a CNN head trained on a frozen trunk (real proofs)", function () {
  this.timeout(1_800_000);
  const objects = new ObjectStore(path.join(tmp, "objects"));
  const ctxFor = contexts(tmp, objects);

  it("creates, trains on raw rows, pushes, evaluates and exports trunk + head", async () => {
    usePtauDir();
    const { address } = await deployRepositories(hre);
    const log: string[] = [];
    const owner = await ctxFor(address, 0, log);
    // Batches of 4 keep the test's setup small (the trunk costs ~5k constraints a row).
    const r = await repos.createRepo(owner, "digits-cnn", onnxPath("cnn_digits"), {
      trainFrom: "/Flatten", calibration: path.join(REPO, "fixtures/data/cnn_digits.calibration.json"), batch: 4, steps: 1, lr: 1 / 32, mergeSizes: [],
    });
    expect(r.spec.trunk?.upTo).to.equal("/Flatten");
    expect(r.spec).to.include({ kind: "softmax", d: 36, k: 10 });
    expect(log.join("\n")).to.match(/one SGD step on 4 rows: ~[\d,]+ constraints/);
    expect(r.constraints.merge).to.deep.equal([]);

    const testFile = dataFile("test", digits.split.test);
    const before = await repos.evalCommit(owner, "digits-cnn", r.commit, testFile);
    // The fixture's own head on its own trunk: its accuracy (96.67% in fixtures/README.md).
    expect(before.accuracy).to.be.closeTo(0.9667, 0.002);

    const alice = await ctxFor(address, 1);
    await repos.invite(owner, "digits-cnn", alice.ledger.account, "contributor");
    const t = await repos.train(alice, "digits-cnn", dataFile("alice", digits.split.train.slice(0, 8)));
    expect(t).to.include({ rows: 8, samples: 8, proofs: 2 });
    const p = await repos.push(alice, "digits-cnn", t.id);
    expect(p.already).to.equal(false);
    const m = await repos.merge(owner, "digits-cnn", [t.id]);
    expect(m.commit).to.equal(t.id);

    const after = await repos.evalCommit(owner, "digits-cnn", t.id, testFile);
    expect(after.accuracy).to.be.greaterThan(0.94);
    // A row of the wrong width names what the repository expects.
    const narrow = path.join(tmp, "narrow.json");
    fs.writeFileSync(narrow, JSON.stringify({ features: [[1, 2, 3]], labels: [0] }));
    let refused: Error | undefined;
    try {
      await repos.evalCommit(owner, "digits-cnn", t.id, narrow);
    } catch (e) {
      refused = e as Error;
    }
    expect(refused?.message).to.match(/rows must have 64 raw input values \(the frozen trunk's input\)/);

    const out = path.join(tmp, "head.onnx");
    const pulled = await repos.pull(owner, "digits-cnn", "main", out);
    expect(pulled.head).to.equal(t.id);
    const session = await ort.InferenceSession.create(out);
    let right = 0;
    for (const i of digits.split.test) {
      const res = await session.run({ input: new ort.Tensor("float32", Float32Array.from(digits.features[i]), [1, 1, 8, 8]) });
      const probs = Array.from(res[session.outputNames[0]].data as Float32Array);
      if (probs.indexOf(Math.max(...probs)) === digits.labels[i]) right++;
    }
    expect(right / digits.split.test.length).to.equal(after.accuracy);
  });
});
