/**
 * The command line talking to a running node (`--node`), as users run it: `npx hardhat node`,
 * `sequencer:serve` and each command their own processes. infer:request --node signs the samples
 * with the --from account of --network and sends them over HTTP; trace:show --node reads the node's
 * answer and checks the proof on chain itself. Neither opens a sequencer store.
 */
import { expect } from "chai";
import type { ChildProcess } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { usePtauDir } from "../helpers/fixtures";
import { cliEnv, freePort, hardhatSync, lastJson, runHardhat, startHardhat, startHardhatNode, stopGroup } from "../helpers/processes";

describe("command line through a node (--node)", function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-node-cli-"));
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];
  let nodeUrl = "";

  const hardhat = (...args: string[]) => hardhatSync([...args, "--network", "localhost"], { env, timeoutMs: 10 * 60_000 });

  before(async () => {
    usePtauDir();
    const port = await freePort();
    env = cliEnv(tmp, `http://127.0.0.1:${port}`);
    // The model compiles while the chain starts: neither needs the other.
    const compiled = runHardhat(["model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", "rollup_logreg",
      "--calibration", "fixtures/data/logreg_cancer.calibration.json"], { env, track: children });
    await startHardhatNode({ port, env, hostname: "127.0.0.1", track: children });
    const c = await compiled;
    expect(c.code, c.err).to.equal(0);
    expect(hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4").code).to.equal(0);
    expect(lastJson(hardhat("model:register", "--name", "rollup_logreg", "--batch", "4", "--json")).modelId).to.equal("1");
    // Its URL alone is its first line on stdout.
    nodeUrl = (await startHardhat(["sequencer:serve", "--network", "localhost", "--port", "0", "--batch-timeout", "1"],
      { env, track: children, ready: () => true, what: "sequencer:serve" })).line;
    expect(nodeUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  after(async () => {
    // The node first: it still talks to the chain while it stops.
    for (const c of [...children].reverse()) await stopGroup(c, "SIGTERM", { killAfterMs: 20_000 });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("infer:request --node sends signed requests; trace:show --node sees them settled and checks them on chain", () => {
    const sample = "fixtures/data/logreg_cancer.sample.json";
    const { requests } = lastJson(hardhat("infer:request", "--model", "rollup_logreg", "--input", sample, "--node", nodeUrl, "--from", "1", "--json"));
    expect(requests).to.have.length(4);

    const end = Date.now() + 150_000;
    for (const id of [requests[0], requests[3]]) {
      let t;
      for (;;) {
        t = lastJson(hardhat("trace:show", "--request", id, "--node", nodeUrl, "--json"));
        if (t.verified || Date.now() > end) break;
        expect(t.status, JSON.stringify(t)).to.be.oneOf(["pending", "batched", "settled"]);
      }
      expect(t, JSON.stringify(t)).to.deep.include({ requestId: id, modelId: "1", status: "settled", verified: true, node: nodeUrl });
      expect(t.proof.entry.requestId).to.equal(id);
      expect(t.signer).to.match(/^0x[0-9a-fA-F]{40}$/);
      expect(t.output[0]).to.be.within(0, 1);
    }
    const human = hardhat("trace:show", "--request", requests[1], "--node", nodeUrl);
    expect(human.code, human.err).to.equal(0);
    expect(human.out).to.match(/request \d+ \(model 1\): settled[\s\S]*ledger confirms it: yes/);
  });

  it("says what is wrong instead of falling back to a local store", () => {
    const bogusStore = path.join(tmp, "never.db");
    const s = hardhat("infer:request", "--model", "1", "--input", "fixtures/data/logreg_cancer.sample.json", "--node", nodeUrl, "--store", bogusStore);
    expect(s.code).to.not.equal(0);
    expect(s.err).to.match(/--store does not go with --node/);
    expect(fs.existsSync(bogusStore)).to.equal(false);

    const unknown = hardhat("infer:request", "--model", "no_such", "--input", "fixtures/data/logreg_cancer.sample.json", "--node", nodeUrl);
    expect(unknown.code).to.not.equal(0);
    expect(unknown.err).to.match(/model "no_such" is not served by the node at .* \(it serves: 1 \(rollup_logreg\)\)/);

    const down = hardhat("trace:show", "--request", "1", "--node", "http://127.0.0.1:1");
    expect(down.code).to.not.equal(0);
    expect(down.err).to.match(/cannot reach the Flavum node at http:\/\/127\.0\.0\.1:1/);
  });
});
