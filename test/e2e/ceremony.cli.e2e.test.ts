/**
 * The ceremony as participants run it, through `npx hardhat`: init, one contribution exchanged as a
 * file and one through the object store, finalize with a beacon, verify; then a damaged transcript
 * fails verification with exit code 1.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { buildCircuitKeys, shutdown } from "../../src/zk";
import { ObjectStore } from "../../src/repos/objectStore";
import { REPO } from "../helpers/circuit";

const PTAU = path.resolve(REPO, "..", "shared", "ptau", "dev_pot12_final.ptau");

describe("ceremony commands", function () {
  this.timeout(10 * 60_000);
  let tmp: string;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const hardhat = (...args: string[]) => {
    const r = spawnSync("npx", ["hardhat", ...args], { cwd: REPO, env, encoding: "utf8" });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  before(async function () {
    if (!fs.existsSync(PTAU)) this.skip();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-ceremony-cli-"));
    dir = path.join(tmp, "multiplier");
    const source = fs.readFileSync(path.join(REPO, "test", "fixtures-zk", "Multiplier.circom"), "utf8");
    await buildCircuitKeys({ source, base: "multiplier", dir, publicSignals: 1, ptau: PTAU });
    await shutdown();
    env = { ...process.env, FLAVUM_CACHE_DIR: path.join(tmp, "cache"), FLAVUM_OBJECTS_DIR: path.join(tmp, "objects"), FLAVUM_OFFLINE: "1" };
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("init → 2 contributions → finalize --beacon → verify, and a damaged transcript fails", () => {
    const init = hardhat("ceremony:init", "--circuit", dir, "--ptau", PTAU);
    expect(init.code, init.err).to.equal(0);
    expect(init.out).to.contain("NOT a pinned Hermez file");
    expect(init.out).to.match(/npx hardhat ceremony:contribute --in 0000_initial\.zkey --out contribution1\.zkey/);

    // Alice: only the key file, on "her machine".
    const c1 = path.join(tmp, "alice.zkey");
    const alice = hardhat("ceremony:contribute", "--in", path.join(dir, "ceremony", "0000_initial.zkey"), "--out", c1, "--name", "alice", "--json");
    expect(alice.code, alice.err).to.equal(0);
    const a = JSON.parse(alice.out);
    expect(a.index).to.equal(1);
    const imp = hardhat("ceremony:import", "--circuit", dir, "--zkey", c1);
    expect(imp.code, imp.err).to.equal(0);
    expect(imp.out).to.match(/contribution #1 by alice verified/);

    // Bob: through the object store, named by object id both ways.
    const again = hardhat("ceremony:init", "--circuit", dir); // a second init is refused, the first kept
    expect(again.code).to.equal(1);
    expect(again.err).to.match(/^Error: a ceremony is already under way/m);
    const latest = new ObjectStore(path.join(tmp, "objects")).put(fs.readFileSync(path.join(dir, "ceremony", "0001_alice.zkey")));
    const bob = hardhat("ceremony:contribute", "--in", latest, "--via-store", "--name", "bob", "--json");
    expect(bob.code, bob.err).to.equal(0);
    const b = JSON.parse(bob.out);
    expect(b.objectId).to.match(/^[0-9a-f]{64}$/);
    expect(b.objectId).to.equal(b.sha256);
    expect(hardhat("ceremony:import", "--circuit", dir, "--zkey", b.objectId).code).to.equal(0);

    const fin = hardhat("ceremony:finalize", "--circuit", dir, "--beacon", "0x" + "5a".repeat(32));
    expect(fin.code, fin.err).to.equal(0);
    expect(fin.out).to.match(/ceremony finalized: 2 contributor\(s\)/);
    const keys = JSON.parse(fs.readFileSync(path.join(dir, "keys.json"), "utf8"));
    expect(keys.setup).to.deep.include({ kind: "ceremony", contributors: 2 });

    const ok = hardhat("ceremony:verify", "--circuit", dir, "--json");
    expect(ok.code, ok.err).to.equal(0);
    const r = JSON.parse(ok.out);
    expect(r).to.deep.include({ ok: true, contributors: 2, finalized: true });
    const t = JSON.parse(fs.readFileSync(path.join(dir, "ceremony", "transcript.json"), "utf8"));
    expect(t.chain.map((e: { contributionHash?: string }) => e.contributionHash).slice(1, 3)).to.deep.equal([a.contributionHash, b.contributionHash]);

    t.chain[1].name = "mallory";
    fs.writeFileSync(path.join(dir, "ceremony", "transcript.json"), JSON.stringify(t));
    const bad = hardhat("ceremony:verify", "--circuit", dir);
    expect(bad.code).to.equal(1);
    expect(bad.out).to.match(/BAD\s+#1 contribution\s+mallory/);
    expect(bad.out).to.match(/NOT OK:[\s\S]*names its contributor "alice"/);
  });
});
