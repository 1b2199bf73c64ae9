/**
 * The local setup fallback (dev ceremony + Groth16 setup through Flavum's snarkjs logger), its
 * progress heartbeat and estimates, `ptau:fetch`'s library side, and the cleanup of build folders
 * left by interrupted compiles.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import fs from "fs";
import http from "http";
import net from "net";
import os from "os";
import path from "path";
import { FlavumError } from "../../src/errors";
import { compileCircuit, devPtauName, powerFor, prove, resolvePtau, setup, shutdown, verify } from "../../src/zk";
import { ceremonyEstimate, setupEstimate } from "../../src/zk/estimate";
import { blake2b512, fetchHermez, hermezFileName } from "../../src/zk/hermez";
import { pidAlive, removeStaleBuilds, replaceDirAtomically } from "../../src/zk/keys";
import { formatDuration, heartbeat, SNARKJS_LOGGER_METHODS, snarkjsLogger } from "../../src/zk/log";
import { snarkjs } from "../../src/zk/snarkjs";
import { REPO } from "../helpers/circuit";
import { rejection } from "../helpers/rejection";

const FIXTURES = path.join(REPO, "test", "fixtures-zk");

/** A pid that certainly belonged to a process and is certainly gone: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", ""]);
  if (!r.pid) throw new Error("could not spawn a short-lived child");
  return r.pid;
}

describe("zk setup fallback", function () {
  this.timeout(60_000);
  let tmp: string;
  const saved: Record<string, string | undefined> = {};
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-setup-"));
    // The forced fallback must not find the shared dev files (FLAVUM_PTAU_DIR) or an explicit file.
    for (const k of ["FLAVUM_PTAU", "FLAVUM_PTAU_DIR", "FLAVUM_HEARTBEAT_MS"]) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    fs.rmSync(tmp, { recursive: true, force: true });
    await shutdown();
  });

  describe("snarkjs logger", () => {
    it("has every method snarkjs's build calls on a logger", () => {
      // The build require("snarkjs") loads, scanned rather than listed by hand, so an upgrade that
      // starts calling logger.trace (say) fails here instead of at 2^20 in someone's setup.
      const build = fs.readFileSync(require.resolve("snarkjs"), "utf8");
      const called = new Set([...build.matchAll(/\blogger\.(\w+)\(/g)].map((m) => m[1]));
      expect([...called]).to.include("log"); // the one that crashed; the scan must see it
      const logger = snarkjsLogger() as unknown as Record<string, unknown>;
      for (const method of called) expect(logger[method], `logger.${method}`).to.be.a("function");
      expect([...SNARKJS_LOGGER_METHODS]).to.include.members([...called]);
    });

    it("survives the dev ceremony's first step at 2^16, where snarkjs calls logger.log", async () => {
      // newAccumulator calls logger.log("tauG1: " + i) every 100,000 points, and tauG1 has 2^(p+1)-1
      // of them, so the call first happens at power 16: no small ceremony reaches it. The
      // accumulator alone at 2^16 takes about a second (the contribution and phase 2 take the
      // minutes), so the crashing call is exercised here on its own, with the logger the ceremony
      // uses; counting the calls shows the test really went through logger.log.
      const curve = await snarkjs.curves.getCurveFromName("bn128");
      const seen: string[] = [];
      const shown: string[] = [];
      const logger = snarkjsLogger((m) => shown.push(m), "ptau", (m) => seen.push(m));
      const viaLog: string[] = [];
      const { log } = logger;
      logger.log = (m) => {
        viaLog.push(m);
        log(m);
      };
      const file = path.join(tmp, "acc16.ptau");
      await snarkjs.powersOfTau.newAccumulator(curve, 16, file, logger);
      fs.rmSync(file, { force: true });
      expect(viaLog).to.include("tauG1: 100000");
      expect(seen).to.include("tauG1: 100000"); // reaches the heartbeat's phase tracker
      expect(shown.join("\n")).not.to.contain("tauG1"); // but counters stay off the screen
    });
  });

  it("forced dev ceremony (no FLAVUM_PTAU_DIR, offline, empty cache) → setup → prove → verify, with heartbeats", async () => {
    process.env.FLAVUM_HEARTBEAT_MS = "250";
    try {
      const circuit = await compileCircuit(path.join(FIXTURES, "Multiplier.circom"), path.join(tmp, "multiplier"));
      const needed = powerFor(circuit.constraints, circuit.publicInputs + circuit.outputs);
      expect(needed).to.be.at.most(8);
      const cacheDir = path.join(tmp, "cache");
      const lines: string[] = [];
      const progress = (m: string) => lines.push(m);
      // Working files of an earlier ceremony: one whose process died, one still running elsewhere.
      fs.mkdirSync(cacheDir, { recursive: true });
      const deadWork = path.join(cacheDir, `.dev_pot12_1-${deadPid()}-0badc0de.ptau`);
      const liveWork = path.join(cacheDir, `.dev_pot12_1-${process.ppid}-0badc0de.ptau`);
      for (const f of [deadWork, liveWork]) fs.writeFileSync(f, "partial");
      // 2^8 rather than the 2^6 the circuit needs: a few seconds, so the 250 ms heartbeat fires.
      const ptau = await resolvePtau(8, { cacheDir, network: false, progress });
      expect(fs.existsSync(deadWork)).to.equal(false);
      expect(fs.existsSync(liveWork)).to.equal(true);
      fs.rmSync(liveWork);
      expect(ptau).to.deep.equal({ file: path.join(cacheDir, devPtauName(8)), source: "dev-ceremony", power: 8 });
      const text = lines.join("\n");
      expect(text).to.match(/DEVELOPMENT-ONLY/);
      expect(text).to.contain(`ptau: removed ${deadWork}, left by ceremony process`);
      expect(text).to.match(/dev ceremony 2\^8: [\d.]+ s elapsed (of ~\d+ s|, past the ~\d+ s estimate).* \(step [1-6]\/6: /);
      expect(text).to.match(/dev ceremony 2\^8: prepare phase 2 … done in/);

      lines.length = 0;
      const { zkey, vkey } = await setup(circuit.r1cs, ptau.file, path.join(tmp, "multiplier", "m.zkey"), { progress });
      expect(lines.join("\n")).to.match(/groth16 setup Multiplier\.r1cs … done in/);
      expect(lines.join("\n")).not.to.match(/setup error/);
      const { proof, publicSignals } = await prove(circuit.wasm, zkey, { a: 6, b: 7 });
      expect(publicSignals).to.deep.equal(["42"]);
      expect(await verify(vkey, publicSignals, proof)).to.equal(true);
      expect(await verify(vkey, ["43"], proof)).to.equal(false);
    } finally {
      delete process.env.FLAVUM_HEARTBEAT_MS;
    }
  });

  describe("progress estimates", () => {
    it("beats with the elapsed time, the estimate and the furthest stage reached", async () => {
      const lines: string[] = [];
      const stages = [
        { name: "first", match: /^one/ },
        { name: "second", match: /^two/ },
        { name: "third", match: /^three/ },
      ];
      const hb = heartbeat((m) => lines.push(m), "step", { estimateMs: 60_000, basis: "test", intervalMs: 30, stages });
      hb.note("two: 500/1000");
      hb.note("one again"); // a late line of an earlier stage does not rewind
      hb.note("two: 700/1000");
      hb.note("two: 0/1000"); // a chunk's start line says nothing: the last real counter stays
      await new Promise((r) => setTimeout(r, 100));
      hb.stop();
      const n = lines.length;
      await new Promise((r) => setTimeout(r, 80));
      expect(lines.length, "beats after stop()").to.equal(n);
      expect(lines[0]).to.equal("step: expected to take ~60 s (test)");
      expect(lines[1]).to.match(/^step: 0 s elapsed of ~60 s \(step 2\/3: second, 700\/1000\)$/);

      const over: string[] = [];
      const late = heartbeat((m) => over.push(m), "late", { estimateMs: 1, intervalMs: 20 });
      late.note("Reading r1cs");
      await new Promise((r) => setTimeout(r, 60));
      late.stop();
      expect(over).to.have.length.greaterThan(0); // 1 ms is below the announce threshold
      expect(over[0]).to.match(/^late: 0 s elapsed, past the ~0 s estimate \(Reading r1cs\)$/);
    });

    it("formats durations rounded and estimates from the calibration table", () => {
      expect(formatDuration(45_000)).to.equal("45 s");
      expect(formatDuration(180_000)).to.equal("3 min");
      expect(formatDuration(70 * 60_000)).to.equal("70 min");
      expect(formatDuration(130 * 60_000)).to.equal("2 h 10 min");
      expect(ceremonyEstimate(12).ms).to.equal(60_000);
      expect(ceremonyEstimate(16).ms).to.equal(2_400_000);
      const p15 = ceremonyEstimate(15).ms;
      expect(p15).to.be.within(540_000, 2_400_000);
      expect(ceremonyEstimate(18).ms).to.be.greaterThan(ceremonyEstimate(17).ms);
      // mlp_digits: 2795 constraints, 1.2 MB r1cs, measured 9.1 s on the idle build machine.
      const mlp = setupEstimate({ constraints: 2795, wires: 2743, publicInputs: 0, privateInputs: 64, outputs: 2, labels: 0, bytes: 1_201_800 });
      expect(mlp.ms).to.be.within(6_000, 14_000);
      expect(mlp.basis).to.match(/2795 constraints, 1\.1 MB r1cs/);
    });
  });

  describe("ptau:fetch (library)", () => {
    const body = Buffer.alloc(4096, 9);
    let server: http.Server;
    let base: string;
    let requests = 0;
    let dir: string;
    before(async () => {
      dir = path.join(tmp, "fetch");
      server = http.createServer((_req, res) => {
        requests++;
        res.end(body);
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    it("refuses a file whose hash is not the pinned one and leaves nothing in the cache", async () => {
      const err = await rejection(fetchHermez(8, dir, { url: `${base}/p8.ptau` }));
      expect(err).to.be.instanceOf(FlavumError);
      expect(err.message).to.match(/does not match the blake2b-512 published in snarkjs's README/);
      expect(fs.readdirSync(dir)).to.deep.equal([]);
    });

    it("keeps a file matching the expected hash, and does not download it again", async () => {
      const src = path.join(tmp, "body.bin");
      fs.writeFileSync(src, body);
      const expectedBlake2b = await blake2b512(src);
      const first = await fetchHermez(9, dir, { url: `${base}/p9.ptau`, expectedBlake2b });
      expect(first).to.deep.equal({ file: path.join(dir, hermezFileName(9)), downloaded: true });
      expect(fs.readFileSync(first.file)).to.deep.equal(body);
      const before = requests;
      const lines: string[] = [];
      const second = await fetchHermez(9, dir, { url: `${base}/p9.ptau`, expectedBlake2b, progress: (m) => lines.push(m) });
      expect(second.downloaded).to.equal(false);
      expect(requests).to.equal(before);
      expect(lines.join("\n")).to.match(/already there and matches the pinned blake2b-512; not downloading it again/);
      expect(fs.readdirSync(dir)).to.deep.equal([hermezFileName(9)]);
    });

    it("fails fast on an unreachable server, and refuses powers without a pinned hash", async () => {
      const closed = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, "127.0.0.1", () => {
          const port = (s.address() as net.AddressInfo).port;
          s.close(() => resolve(port));
        });
      });
      const t0 = Date.now();
      const err = await rejection(fetchHermez(10, dir, { url: `http://127.0.0.1:${closed}/p10.ptau` }));
      expect(Date.now() - t0).to.be.lessThan(3000);
      expect(err).to.be.instanceOf(FlavumError);
      expect(err.message).to.match(/^cannot download http:\/\/127\.0\.0\.1:\d+\/p10\.ptau: .*ECONNREFUSED/);
      expect(err.message).not.to.contain("\n");
      expect(fs.existsSync(path.join(dir, hermezFileName(10)))).to.equal(false);
      expect((await rejection(fetchHermez(21, dir))).message).to.match(/--power must be an integer in 8\.\.20/);
    });
  });

  describe("stale build folders", () => {
    it("on SIGINT mid-build removes the partial folder, keeps the previous build and exits 130", async () => {
      // In-process, with process.exit and stderr stubbed; the e2e test sends a real Ctrl-C.
      const final = path.join(tmp, "models-sigint", "kept");
      fs.mkdirSync(final, { recursive: true });
      fs.writeFileSync(path.join(final, "manifest.json"), "previous");
      const listeners = process.listeners("SIGINT").length;
      const exits: number[] = [];
      const written: string[] = [];
      const { exit } = process;
      const write = process.stderr.write;
      process.exit = ((code?: number) => {
        exits.push(code ?? 0);
      }) as typeof process.exit;
      process.stderr.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
      let tmpDir = "";
      try {
        await rejection(
          replaceDirAtomically(final, async (t) => {
            tmpDir = t;
            fs.writeFileSync(path.join(t, "manifest.json"), "partial");
            process.emit("SIGINT", "SIGINT");
            throw new Error("stopped"); // the real process is gone by now; here fill has to end
          }),
        );
      } finally {
        process.exit = exit;
        process.stderr.write = write;
      }
      expect(exits).to.deep.equal([130]);
      expect(fs.existsSync(tmpDir)).to.equal(false);
      expect(fs.readFileSync(path.join(final, "manifest.json"), "utf8")).to.equal("previous");
      expect(written.join("")).to.contain(`interrupted (SIGINT): removed the partial build ${tmpDir}; the previous build of kept is kept (${final})`);
      expect(process.listeners("SIGINT").length, "handler left installed").to.equal(listeners);
    });

    it("removes tmp/old folders of dead processes, keeps live ones, restores an orphaned previous build", () => {
      const root = path.join(tmp, "models");
      const final = path.join(root, "m1");
      const dead = deadPid();
      expect(pidAlive(dead)).to.equal(false);
      expect(pidAlive(process.pid)).to.equal(true);
      const mk = (n: string) => {
        fs.mkdirSync(path.join(root, n), { recursive: true });
        fs.writeFileSync(path.join(root, n, "manifest.json"), n);
      };
      mk("m1");
      mk(`m1.tmp-${dead}`);
      mk(`m1.old-${dead}`);
      mk(`m1.tmp-${process.ppid}`); // a build running now, in another process
      mk(`m10.tmp-${dead}`); // another model's: not this build's business
      const lines: string[] = [];
      const removed = removeStaleBuilds(final, (m) => lines.push(m));
      expect(removed.sort()).to.deep.equal([path.join(root, `m1.old-${dead}`), path.join(root, `m1.tmp-${dead}`)].sort());
      expect(fs.readdirSync(root).sort()).to.deep.equal(["m1", `m1.tmp-${process.ppid}`, `m10.tmp-${dead}`].sort());
      expect(lines.join("\n")).to.match(new RegExp(`removed .*m1\\.tmp-${dead}: a partial build left by process ${dead}, which is no longer running`));

      // Killed between the two renames of a swap: only the previous build, moved aside, remains.
      fs.rmSync(final, { recursive: true });
      mk(`m1.old-${dead}`);
      removeStaleBuilds(final, (m) => lines.push(m));
      expect(fs.readFileSync(path.join(final, "manifest.json"), "utf8")).to.equal(`m1.old-${dead}`);
      expect(lines.join("\n")).to.match(/restored the previous build of m1/);
    });
  });
});
