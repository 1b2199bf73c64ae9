/**
 * Model repositories as separate commands against a `hardhat node`, several collaborators acting
 * through --from: create, invite, train, push, merge, log, eval, and the errors users meet.
 */
import { expect } from "chai";
import { spawn, spawnSync, ChildProcess } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { REPO } from "../helpers/circuit";
import { usePtauDir } from "../helpers/fixtures";

describe("repository command line on a hardhat node", function () {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-repos-cli-"));
  const env = {
    ...process.env, FLAVUM_RPC_URL: `http://127.0.0.1:${port}`, FLAVUM_DEPLOYMENTS_DIR: tmp,
    FLAVUM_OBJECTS_DIR: path.join(tmp, "objects"),
  };
  let node: ChildProcess;
  const cancer = JSON.parse(fs.readFileSync(path.join(REPO, "fixtures/data/breast_cancer.json"), "utf8"));
  const data = (name: string, rows: number[], width = 30) => {
    const f = path.join(tmp, `${name}.json`);
    fs.writeFileSync(f, JSON.stringify({ features: rows.map((i) => cancer.features[i].slice(0, width)), labels: rows.map((i) => cancer.labels[i]) }));
    return f;
  };
  const hardhat = (...args: string[]) => {
    const r = spawnSync("npx", ["hardhat", ...args, "--network", "localhost"], { cwd: REPO, encoding: "utf8", env, timeout: 15 * 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const ok = (r: ReturnType<typeof hardhat>) => {
    expect(r.code, r.err).to.equal(0);
    return r.out;
  };

  before(async () => {
    usePtauDir();
    node = spawn("npx", ["hardhat", "node", "--port", String(port)], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("hardhat node did not start")), 60_000);
      node.stdout!.on("data", (d: Buffer) => d.toString().includes("Started HTTP") && (clearTimeout(timer), resolve()));
    });
  });
  // npx starts the node as its child: end the whole process group, or the node outlives the tests.
  after(() => {
    if (node?.pid) process.kill(-node.pid, "SIGTERM");
  });

  it("runs a round across commands and collaborators, naming every commit by the id repo:train printed", () => {
    ok(hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4"));
    const c = hardhat("repo:create", "--name", "cancer", "--onnx", "fixtures/models/logreg_cancer.onnx");
    const created = ok(c);
    // What a step costs is said before anything is built.
    expect(c.err).to.match(/one SGD step on 16 rows: ~[\d,]+ constraints \(.*\); the commit circuit \(1 step\(s\), commitments [\d,]+\): ~[\d,]+ constraints, powers of tau 2\^\d+/);
    const initial = /repository cancer is id 1; initial commit (0x[0-9a-f]{64}) on main/.exec(created)?.[1];
    expect(initial, created).to.be.a("string");
    const accounts = ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"];
    for (const a of accounts) ok(hardhat("repo:invite", "--repo", "cancer", "--account", a, "--role", "contributor"));

    // Contributor 1: 16 rows for 2 epochs; contributor 2: 32 rows. Two proofs each, every row counted.
    const ids: string[] = [];
    for (const [i, [from, rows, epochs]] of ([["1", 16, 2], ["2", 32, 1]] as const).entries()) {
      const file = data(`c${i}`, cancer.split.train.slice(i * 32, i * 32 + rows));
      const t = JSON.parse(ok(hardhat("repo:train", "--repo", "cancer", "--data", file, "--epochs", String(epochs), "--from", from, "--json")).trim());
      expect(Object.keys(t).sort()).to.deep.equal(["commit", "correct", "epochs", "parent", "proofs", "proveMs", "rows", "samples"]);
      expect(t).to.include({ parent: initial, rows, epochs, samples: 32, proofs: 2 });
      expect(t.commit).to.match(/^0x[0-9a-f]{64}$/);
      const p = JSON.parse(ok(hardhat("repo:push", "--repo", "cancer", "--commit", t.commit.slice(0, 12), "--from", from, "--json")).trim());
      expect(p).to.deep.equal({ commit: t.commit });
      ids.push(t.commit);
    }
    // A contributor may not merge into main; the owner may.
    const denied = hardhat("repo:merge", "--repo", "cancer", "--commits", ids.join(","), "--from", "1");
    expect(denied.code).to.not.equal(0);
    expect(denied.err).to.match(/no permission: 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 needs the maintainer role in repository 1/);
    const m = JSON.parse(ok(hardhat("repo:merge", "--repo", "cancer", "--commits", ids.map((id) => id.slice(0, 12)).join(","), "--json")).trim());
    expect(Object.keys(m)).to.deep.equal(["commit"]);

    const log = JSON.parse(ok(hardhat("repo:log", "--repo", "cancer", "--json")).trim());
    const merged = log.commits.find((c: { id: string }) => c.id === m.commit);
    expect(merged).to.include({ kind: "merge", branch: "main", verified: true });
    expect(merged.parents).to.deep.equal([initial, ...ids]);
    expect(merged.metrics.samples).to.equal(64);
    expect(log.commits.find((c: { id: string }) => c.id === ids[0])).to.include({ author: accounts[0], proofs: 2 });
    expect(log.branches.find((b: { name: string }) => b.name === "main").head).to.equal(m.commit);
    const text = ok(hardhat("repo:log", "--repo", "cancer"));
    expect(text).to.include(`${m.commit.slice(0, 14)} merge`);
    const e = JSON.parse(ok(hardhat("repo:eval", "--repo", "cancer", "--commit", m.commit, "--data", data("test", cancer.split.test), "--json")).trim());
    expect(Object.keys(e).sort()).to.deep.equal(["accuracy", "commit", "loss", "rows"]);
    expect(e.commit).to.equal(m.commit);
    expect(e.accuracy).to.be.greaterThan(0.9);

    // The head as ONNX: onnxruntime classifies the test rows exactly as repo:eval did.
    const onnxFile = path.join(tmp, "head.onnx");
    const pulled = JSON.parse(ok(hardhat("repo:pull", "--repo", "cancer", "--onnx", onnxFile, "--json")).trim());
    expect(pulled.head).to.equal(m.commit);
    const probe = spawnSync(process.execPath, ["-e", `
      const ort = require("onnxruntime-node");
      const rows = ${JSON.stringify(cancer.split.test.map((i: number) => cancer.features[i]))};
      const labels = ${JSON.stringify(cancer.split.test.map((i: number) => cancer.labels[i]))};
      (async () => {
        const s = await ort.InferenceSession.create(${JSON.stringify(onnxFile)});
        let right = 0;
        for (let i = 0; i < rows.length; i++) {
          const out = await s.run({ input: new ort.Tensor("float32", Float32Array.from(rows[i]), [1, 30]) });
          if ((out.output.data[0] >= 0.5 ? 1 : 0) === labels[i]) right++;
        }
        console.log(right / rows.length);
      })();`], { cwd: REPO, encoding: "utf8" });
    expect(probe.status, probe.stderr).to.equal(0);
    expect(Number(probe.stdout.trim())).to.equal(e.accuracy);
  });

  it("publishes the merged head to the rollup, shows its contributors' shares, audits its provenance; serves and pulls it over IPFS", async () => {
    const log = JSON.parse(ok(hardhat("repo:log", "--repo", "cancer", "--json")).trim());
    const head = log.branches.find((b: { name: string }) => b.name === "main").head as string;
    // A contributor may not publish; the owner may, and gets {modelId, commit}.
    const denied = hardhat("repo:publish", "--repo", "cancer", "--commit", head.slice(0, 12), "--batch", "2", "--from", "1");
    expect(denied.code).to.not.equal(0);
    expect(denied.err).to.match(/is Contributor in cancer: publishing needs a Maintainer or Owner/);
    const pub = JSON.parse(ok(hardhat("repo:publish", "--repo", "cancer", "--commit", head.slice(0, 12), "--batch", "2", "--json")).trim());
    expect(Object.keys(pub).sort()).to.deep.equal(["commit", "modelId"]);
    expect(pub.commit).to.equal(head);
    const shares = JSON.parse(ok(hardhat("repo:shares", "--repo", "cancer", "--json")).trim());
    expect(shares.modelId).to.equal(pub.modelId);
    expect(shares.contributors.map((c: { samples: string; share: number; claimable: string }) => [c.samples, c.share, c.claimable])).to.deep.equal([["32", 0.5, "0"], ["32", 0.5, "0"]]);
    expect(Object.keys(shares.contributors[0]).sort()).to.deep.equal(["account", "claimable", "samples", "share"]);
    expect(JSON.parse(ok(hardhat("repo:claim", "--repo", "cancer", "--from", "1", "--json")).trim()).claimed).to.deep.equal([]);
    const audit = JSON.parse(ok(hardhat("model:audit", "--id", pub.modelId, "--json")));
    expect(audit.ok).to.equal(true);
    expect(audit.chain.map((c: { kind: string }) => c.kind)).to.deep.equal(["merge", "train (merged)", "train (merged)", "initial"]);

    // Another machine (its own object store and cache) pulls the head over IPFS from repo:serve.
    const serve = spawn("npx", ["hardhat", "repo:serve", "--repo", "cancer", "--json", "--network", "localhost"], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    try {
      const served = await new Promise<{ peer: string; addresses: string[]; commits: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("repo:serve printed nothing")), 120_000);
        let out = "";
        serve.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          const line = out.split("\n").find((l) => l.startsWith("{"));
          if (line) (clearTimeout(timer), resolve(JSON.parse(line)));
        });
        serve.on("exit", (code) => reject(new Error(`repo:serve exited with ${code}`)));
      });
      expect(served.commits).to.be.greaterThan(0);
      const peer = served.addresses.find((a) => a.startsWith("/ip4/127.0.0.1/"))!;
      expect(peer, JSON.stringify(served)).to.match(/\/p2p\/12D3Koo/);
      const elsewhere = { ...env, FLAVUM_OBJECTS_DIR: path.join(tmp, "elsewhere", "objects"), FLAVUM_CACHE_DIR: path.join(tmp, "elsewhere", "build") };
      const r = spawnSync("npx", ["hardhat", "repo:pull", "--repo", "cancer", "--peer", peer, "--from", "2", "--json", "--network", "localhost"], { cwd: REPO, encoding: "utf8", env: elsewhere, timeout: 5 * 60_000 });
      expect(r.status, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout.trim()).head).to.equal(head);
    } finally {
      if (serve.pid) process.kill(-serve.pid, "SIGTERM");
    }
  });

  it("trains through the repository's rollup: repo:rollup-open, repo:train/push --via rollup, repo:settle, repo:rollup", () => {
    const inbox = path.join(tmp, "inbox");
    const denied = hardhat("repo:rollup-open", "--repo", "cancer", "--from", "1");
    expect(denied.code).to.not.equal(0);
    expect(denied.err).to.match(/needs the owner role in repository cancer to open its rollup/);
    const open = JSON.parse(ok(hardhat("repo:rollup-open", "--repo", "cancer", "--json")).trim());
    expect(Object.keys(open).sort()).to.deep.equal(["gasUsed", "head", "keyHash", "repoId"]);

    const ids: string[] = [];
    for (const [i, from] of ["1", "2"].entries()) {
      const file = data(`rollup${i}`, cancer.split.train.slice(96 + 16 * i, 112 + 16 * i));
      const t = JSON.parse(ok(hardhat("repo:train", "--repo", "cancer", "--data", file, "--via", "rollup", "--from", from, "--json")).trim());
      expect(Object.keys(t).sort()).to.deep.equal(["commit", "correct", "head", "proofs", "proveMs", "round", "rows", "samples"]);
      expect(t).to.include({ head: open.head, round: 0, samples: 16, proofs: 1 });
      // Its proofs are bound to the rollup: ModelRepository would never take them.
      const l1 = hardhat("repo:push", "--repo", "cancer", "--commit", t.commit, "--from", from);
      expect(l1.code).to.not.equal(0);
      expect(l1.err).to.match(/proven for the repository's rollup, not for ModelRepository: push it with --via rollup/);
      const p = JSON.parse(ok(hardhat("repo:push", "--repo", "cancer", "--commit", t.commit.slice(0, 12), "--via", "rollup", "--inbox", inbox, "--from", from, "--json")).trim());
      expect(p.commit).to.equal(t.commit);
      expect(fs.existsSync(p.inbox)).to.equal(true);
      ids.push(t.commit);
    }
    const via = hardhat("repo:push", "--repo", "cancer", "--commit", ids[0], "--via", "l2");
    expect(via.code).to.not.equal(0);
    expect(via.err).to.match(/--via must be l1 \(ModelRepository, one transaction a commit\) or rollup/);
    const notMaintainer = hardhat("repo:settle", "--repo", "cancer", "--inbox", inbox, "--from", "1");
    expect(notMaintainer.code).to.not.equal(0);
    expect(notMaintainer.err).to.match(/needs the maintainer role in repository cancer to settle its rounds/);

    const round = JSON.parse(ok(hardhat("repo:settle", "--repo", "cancer", "--inbox", inbox, "--json")).trim());
    expect(round).to.include({ round: 1, settled: 2, proofs: 2, pending: 0 });
    expect(round.merged).to.deep.equal(ids);
    expect(round.head).to.not.equal(open.head);
    expect(Number(round.gasPerCommit)).to.be.greaterThan(0);
    const status = JSON.parse(ok(hardhat("repo:rollup", "--repo", "cancer", "--inbox", inbox, "--json")).trim());
    expect(status).to.include({ open: true, round: 1, commits: 2, pending: 0, head: round.head });
    expect(status.contributors.map((c: { samples: number }) => c.samples)).to.deep.equal([16, 16]);
    const empty = ok(hardhat("repo:settle", "--repo", "cancer", "--inbox", inbox));
    expect(empty).to.match(/nothing to settle for cancer/);
  });

  it("refuses bad repository options before building anything", () => {
    for (const [args, msg] of [
      [["--aggregation", "mode"], /aggregation must be fedavg, median or trimmed, got mode/],
      [["--aggregation", "trimmed"], /a trimmed mean needs trim/],
      [["--merge-sizes", "2,9"], /--merge-sizes: 9 is not a merge size \(integers 2 … 8/],
      [["--aggregation", "trimmed", "--trim", "1", "--merge-sizes", "2"], /a trimmed mean dropping 1 value\(s\) at each end needs more than 2 commits, got 2/],
      [["--max-update-norm", "0"], /maxUpdateNorm must be a positive number/],
    ] as const) {
      const r = hardhat("repo:create", "--name", "bad", "--onnx", "fixtures/models/logreg_cancer.onnx", ...args);
      expect(r.code, args.join(" ")).to.not.equal(0);
      expect(r.err, args.join(" ")).to.match(msg);
      expect(r.err, "refused before any circuit is built").to.not.match(/compiling|constraints/);
    }
  });

  it("refuses a data file whose rows do not fill whole chunks, naming the row counts that work", () => {
    const r = hardhat("repo:train", "--repo", "cancer", "--data", data("twenty", cancer.split.train.slice(0, 20)), "--from", "1", "--json");
    expect(r.code).to.not.equal(0);
    expect(r.err).to.match(/twenty\.json has 20 rows, not a whole number of the 16-row chunks each training proof takes \(1 step\(s\) of 16; .*\): use 16 \(drop 4\) or 32 rows \(add 12\)/);
    expect(r.out.trim()).to.equal("");
  });

  it("says what is wrong with bad data, unknown commits and roles", () => {
    const narrow = hardhat("repo:train", "--repo", "cancer", "--data", data("narrow", cancer.split.train.slice(0, 16), 5), "--from", "1");
    expect(narrow.code).to.not.equal(0);
    expect(narrow.err).to.match(/data shape mismatch: row 0 has 5 features, the model expects d=30/);
    const unknown = hardhat("repo:reject", "--repo", "cancer", "--commit", "999");
    expect(unknown.code).to.not.equal(0);
    expect(unknown.err).to.match(/unknown commit 999/);
    const role = hardhat("repo:invite", "--repo", "cancer", "--account", "0x90F79bf6EB2c4f870365E785982E1f101E93b906", "--role", "admiral");
    expect(role.code).to.not.equal(0);
    expect(role.err).to.match(/--role must be owner, maintainer or contributor, got "admiral"/);
  });
});
