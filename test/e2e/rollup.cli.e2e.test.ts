/**
 * The rollup as separate commands against a persistent chain (`npx hardhat node`), the way users
 * run it: deploy, register, request, prove, submit, trace — each its own process.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { REPO } from "../helpers/circuit";
import { usePtauDir } from "../helpers/fixtures";
import { cliEnv, hardhatSync, lastJson, startHardhatNode, type HardhatNode } from "../helpers/processes";
import Database from "better-sqlite3";

describe("rollup command line on a hardhat node", function () {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-rollup-cli-"));
  // A cache of its own: the default sequencer stores live under it, and no run sees another's.
  const env = cliEnv(tmp, `http://127.0.0.1:${port}`);
  const store = path.join(tmp, "sequencer.db");
  let node: HardhatNode | undefined;

  const hardhat = (...args: string[]) => hardhatSync([...args, "--network", "localhost"], { env, timeoutMs: 10 * 60_000 });

  // The same port every time: a restarted node is the same --network localhost.
  const startNode = async () => {
    node = await startHardhatNode({ port, env, timeoutMs: 60_000 });
  };
  const stopNode = async () => node?.stop();

  before(async () => {
    usePtauDir();
    await startNode();
    const c = hardhatSync(["model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", "rollup_logreg",
      "--calibration", "fixtures/data/logreg_cancer.calibration.json"], { env });
    expect(c.code, c.err).to.equal(0);
  });

  // npx starts the node as its child: end the whole process group, or the node outlives the tests.
  after(stopNode);

  it("deploys, registers, queues, proves, submits and traces across commands", () => {
    const d = hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4");
    expect(d.code, d.err).to.equal(0);
    const recorded = JSON.parse(fs.readFileSync(path.join(tmp, "localhost.json"), "utf8"));
    expect(recorded.FlavumRollup.address).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(recorded.FlavumRollup.txHash).to.match(/^0x[0-9a-f]{64}$/);
    // Every record says which chain it is on, where its ABI is and which build its code came from.
    for (const key of ["ModelRegistry", "FlavumRollup", "ModelRepository", "Poseidon2", "Poseidon4"]) {
      expect(recorded[key].chainId, key).to.equal("31337");
      expect(recorded[key].buildId, key).to.match(/^0x[0-9a-f]{64}$/);
      expect(recorded[key].abi.artifact, key).to.be.a("string");
    }
    expect(fs.existsSync(path.join(REPO, recorded.FlavumRollup.abi.file))).to.equal(true);

    const reg = lastJson(hardhat("model:register", "--name", "rollup_logreg", "--batch", "4", "--store", store, "--json"));
    expect(reg.modelId).to.equal("1");
    const again = hardhat("model:register", "--name", "rollup_logreg", "--batch", "4", "--store", store);
    expect(again.out).to.contain("already registered");

    const { requests } = lastJson(hardhat("infer:request", "--model", "1", "--input", "fixtures/data/logreg_cancer.sample.json", "--store", store, "--json"));
    expect(requests).to.have.length(4);

    const pending = lastJson(hardhat("trace:show", "--request", requests[0], "--store", store, "--json"));
    expect(pending.status).to.equal("pending");
    expect(pending.verified).to.equal(false);

    expect(lastJson(hardhat("batch:prove", "--store", store, "--json")).inferences).to.equal(4);
    const s = lastJson(hardhat("batch:submit", "--store", store, "--json"));
    expect(s).to.include.keys("batchId", "txHash", "gasUsed", "inferences");
    expect(s.batchId).to.equal(((1n << 64n) | 0n).toString()); // model 1, its batch 0
    expect(s.inferences).to.equal(4);

    const t = lastJson(hardhat("trace:show", "--request", requests[2], "--store", store, "--json"));
    expect(t.verified).to.equal(true);
    expect(t.output).to.have.length(1);
    expect(t.output[0]).to.be.within(0, 1);

    // Nothing is left to do, and nothing is submitted twice.
    expect(lastJson(hardhat("batch:run", "--store", store, "--json")).batchId).to.equal(null);
  });

  it("explains what is missing instead of failing obscurely", () => {
    const r = hardhat("infer:request", "--model", "no_such", "--input", "fixtures/data/logreg_cancer.sample.json", "--store", store);
    expect(r.code).to.not.equal(0);
    expect(r.err).to.match(/model "no_such" is not registered with this sequencer/);
    const t = hardhat("trace:show", "--request", "12345", "--store", store);
    expect(t.code).to.not.equal(0);
    expect(t.err).to.match(/unknown request 12345/);
  });

  it("never deletes a sequencer store: a new deployment gets its own, an old one at a reused address is moved aside", async () => {
    const pendingIn = (file: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return (db.prepare("SELECT COUNT(*) AS n FROM requests WHERE status = 'pending'").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const storeOf = (rollup: string) => path.join(tmp, "build", "rollup", "localhost", `31337-${rollup.toLowerCase()}`, "sequencer.db");
    const rollupAddress = () => JSON.parse(fs.readFileSync(path.join(tmp, "localhost.json"), "utf8")).FlavumRollup.address as string;

    // A fresh chain, so the deployments below follow the same nonces as after the restart further down.
    await stopNode();
    await startNode();
    expect(hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4").code).to.equal(0);
    const first = rollupAddress();
    lastJson(hardhat("model:register", "--name", "rollup_logreg", "--batch", "4", "--json"));
    lastJson(hardhat("infer:request", "--model", "rollup_logreg", "--input", "fixtures/data/logreg_cancer.sample.json", "--json"));
    expect(pendingIn(storeOf(first))).to.equal(4);

    const again = hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4");
    expect(again.code, again.err).to.equal(0);
    expect(again.err).to.contain(`the earlier rollup ${first} keeps its sequencer store ${storeOf(first)}`);
    expect(rollupAddress()).to.not.equal(first);
    expect(pendingIn(storeOf(first))).to.equal(4);

    // A restarted node hands out the same addresses: the new rollup must not inherit the old history.
    await stopNode();
    await startNode();
    const fresh = hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4");
    expect(fresh.code, fresh.err).to.equal(0);
    expect(rollupAddress()).to.equal(first);
    const kept = /was kept as (\S+)/.exec(fresh.err)?.[1];
    expect(kept, fresh.err).to.be.a("string");
    expect(pendingIn(kept!)).to.equal(4);
    expect(fs.existsSync(storeOf(first))).to.equal(false);
  });
});
