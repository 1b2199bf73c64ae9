/**
 * The command line talking to a running node (`--node`), as users run it: `npx hardhat node`,
 * `sequencer:serve` and each command their own processes. infer:request --node signs the samples
 * with the --from account of --network and sends them over HTTP; trace:show --node reads the node's
 * answer and checks the proof on chain itself. Neither opens a sequencer store.
 */
import { expect } from "chai";
import { spawn, spawnSync, ChildProcess } from "child_process";
import fs from "fs";
import net from "net";
import os from "os";
import path from "path";
import { REPO } from "../helpers/circuit";
import { usePtauDir } from "../helpers/fixtures";

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

describe("command line through a node (--node)", function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-node-cli-"));
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];
  let nodeUrl = "";

  const hardhat = (...args: string[]) => {
    const r = spawnSync("npx", ["hardhat", ...args, "--network", "localhost"], { cwd: REPO, encoding: "utf8", env, timeout: 10 * 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const json = (r: { code: number | null; out: string; err: string }) => {
    expect(r.code, r.err).to.equal(0);
    return JSON.parse(r.out.trim().split("\n").pop()!);
  };

  /** A long-running child in a process group of its own (npx forks: the group is what must stop). */
  const startChild = (args: string[], ready: (out: string) => string | undefined, what: string) =>
    new Promise<string>((resolve, reject) => {
      const c = spawn("npx", ["hardhat", ...args], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      children.push(c);
      let out = "";
      let err = "";
      const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}\n${err}`)), 120_000);
      c.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      c.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const v = ready(out);
        if (v !== undefined) {
          clearTimeout(timer);
          resolve(v);
        }
      });
      c.once("exit", (code) => reject(new Error(`${what} exited (${code}):\n${out}\n${err}`)));
    });

  const stop = async (c: ChildProcess) => {
    if (!c.pid || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    try {
      process.kill(-c.pid, "SIGTERM");
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-c.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, 20_000);
    await exited;
    clearTimeout(t);
  };

  before(async () => {
    usePtauDir();
    const port = await freePort();
    env = { ...process.env, FLAVUM_RPC_URL: `http://127.0.0.1:${port}`, FLAVUM_DEPLOYMENTS_DIR: tmp, FLAVUM_CACHE_DIR: path.join(tmp, "build") };
    // The model compiles while the chain starts: neither needs the other.
    const compiled = new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn("npx", ["hardhat", "model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", "rollup_logreg",
        "--calibration", "fixtures/data/logreg_cancer.calibration.json"], { cwd: REPO, env, stdio: ["ignore", "ignore", "pipe"], detached: true });
      children.push(c);
      let err = "";
      c.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      c.once("exit", (code) => resolve({ code, err }));
    });
    await startChild(["node", "--hostname", "127.0.0.1", "--port", String(port)], (o) => (o.includes("Started HTTP") ? "" : undefined), "hardhat node");
    const c = await compiled;
    expect(c.code, c.err).to.equal(0);
    expect(hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4").code).to.equal(0);
    expect(json(hardhat("model:register", "--name", "rollup_logreg", "--batch", "4", "--json")).modelId).to.equal("1");
    // Its URL alone is its first line on stdout.
    nodeUrl = await startChild(["sequencer:serve", "--network", "localhost", "--port", "0", "--batch-timeout", "1"],
      (o) => (o.includes("\n") ? o.split("\n")[0].trim() : undefined), "sequencer:serve");
    expect(nodeUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  after(async () => {
    // The node first: it still talks to the chain while it stops.
    for (const c of [...children].reverse()) await stop(c);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("infer:request --node sends signed requests; trace:show --node sees them settled and checks them on chain", () => {
    const sample = "fixtures/data/logreg_cancer.sample.json";
    const { requests } = json(hardhat("infer:request", "--model", "rollup_logreg", "--input", sample, "--node", nodeUrl, "--from", "1", "--json"));
    expect(requests).to.have.length(4);

    const end = Date.now() + 150_000;
    for (const id of [requests[0], requests[3]]) {
      let t;
      for (;;) {
        t = json(hardhat("trace:show", "--request", id, "--node", nodeUrl, "--json"));
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
