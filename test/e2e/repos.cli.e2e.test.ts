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

  it("runs a round across commands and collaborators", () => {
    ok(hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4"));
    expect(ok(hardhat("repo:create", "--name", "cancer", "--onnx", "fixtures/models/logreg_cancer.onnx"))).to.match(/repository cancer is id 1; initial commit 2 on main/);
    const accounts = ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"];
    for (const a of accounts) ok(hardhat("repo:invite", "--repo", "cancer", "--account", a, "--role", "contributor"));

    const ids: string[] = [];
    for (const [i, from] of ["1", "2"].entries()) {
      const t = JSON.parse(ok(hardhat("repo:train", "--repo", "cancer", "--data", data(`c${i}`, cancer.split.train.slice(i * 16, i * 16 + 16)), "--from", from, "--json")).trim());
      expect(t.parent).to.equal("2");
      ids.push(JSON.parse(ok(hardhat("repo:push", "--repo", "cancer", "--commit", t.commit.slice(0, 12), "--from", from, "--json")).trim()).commitId);
    }
    // A contributor may not merge into main; the owner may.
    const denied = hardhat("repo:merge", "--repo", "cancer", "--commits", ids.join(","), "--from", "1");
    expect(denied.code).to.not.equal(0);
    expect(denied.err).to.match(/no permission: 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 needs the maintainer role in repository 1/);
    expect(ok(hardhat("repo:merge", "--repo", "cancer", "--commits", ids.join(",")))).to.match(/merged as commit 5 on main/);

    const log = JSON.parse(ok(hardhat("repo:log", "--repo", "cancer", "--json")).trim());
    const merged = log.commits.find((c: { id: string }) => c.id === "5");
    expect(merged).to.include({ kind: "merge", branch: "main", verified: true });
    expect(merged.parents).to.deep.equal(["2", ...ids]);
    expect(log.commits.find((c: { id: string }) => c.id === ids[0]).author).to.equal(accounts[0]);
    const e = JSON.parse(ok(hardhat("repo:eval", "--repo", "cancer", "--commit", "5", "--data", data("test", cancer.split.test), "--json")).trim());
    expect(e.accuracy).to.be.greaterThan(0.9);
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
