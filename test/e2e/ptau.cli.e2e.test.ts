/**
 * `ptau:fetch` as users run it: a file that fails the pinned blake2b-512 is refused and nothing is
 * left behind; an unreachable server fails in seconds with one line and exit 1. (The happy path
 * needs the real Hermez bytes, so it is tested at the library level with an injected hash.)
 */
import { expect } from "chai";
import { spawn } from "child_process";
import fs from "fs";
import http from "http";
import net from "net";
import os from "os";
import path from "path";
import { REPO } from "../helpers/circuit";

// Asynchronous, unlike the other CLI tests' spawnSync: the http server lives in this process.
function hardhat(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn("npx", ["hardhat", ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => resolve({ code, out, err, ms: Date.now() - t0 }));
  });
}

const errorLines = (err: string) => err.split("\n").filter((l) => l.startsWith("Error"));

describe("ptau:fetch command", function () {
  this.timeout(60_000);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-ptau-cli-"));
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((_req, res) => res.end(Buffer.alloc(2048, 1)));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    fs.rmSync(cache, { recursive: true, force: true });
  });

  it("refuses a download that does not match the pinned hash and leaves the cache empty", async () => {
    const r = await hardhat({ FLAVUM_CACHE_DIR: cache }, "ptau:fetch", "--power", "8", "--url", `${base}/p8.ptau`);
    expect(r.code, r.err).to.equal(1);
    expect(errorLines(r.err)).to.have.length(1);
    expect(r.err).to.match(/^Error: cannot download .*p8\.ptau: .* does not match the blake2b-512 published in snarkjs's README/m);
    expect(r.out).to.equal("");
    expect(fs.readdirSync(path.join(cache, "ptau"))).to.deep.equal([]);
  });

  it("fails fast, in one line, when the server cannot be reached", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const dir = path.join(cache, "elsewhere");
    const r = await hardhat({}, "ptau:fetch", "--power", "12", "--dir", dir, "--url", `http://127.0.0.1:${port}/p12.ptau`);
    expect(r.code, r.err).to.equal(1);
    expect(errorLines(r.err)).to.deep.equal([errorLines(r.err)[0]]);
    expect(r.err).to.match(/Error: cannot download .*ECONNREFUSED.*FLAVUM_PTAU_DIR/);
    expect(r.ms).to.be.lessThan(30_000); // hardhat's own start-up is most of it; no retries, no hang
    expect(fs.readdirSync(dir)).to.deep.equal([]);
  });
});
