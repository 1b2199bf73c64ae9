/**
 * Ctrl-C during `model:compile`, as a terminal delivers it: SIGINT to the whole process group
 * (npx, hardhat and circom alike). The partial build folder must go, the user must be told what was
 * kept, and the exit must be non-zero; a folder left by an earlier dead run is cleaned up on the way.
 */
import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { REPO } from "../helpers/circuit";
import { verifierFile } from "../../src/model/artifacts";

const NAME = "interrupt_probe";

describe("model:compile interrupted", function () {
  this.timeout(120_000);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-interrupt-"));
  const models = path.join(cache, "models");
  let groupLeader: number | undefined;

  after(() => {
    // Only this test's own process group, and only if it outlived the test.
    if (groupLeader) {
      try {
        process.kill(-groupLeader, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    fs.rmSync(cache, { recursive: true, force: true });
    // Should the signal ever lose the race with a fast compile, do not leave a verifier behind.
    fs.rmSync(verifierFile(NAME), { force: true });
  });

  it("removes the partial build on SIGINT, says so, exits non-zero, and clears a dead run's leftovers", async () => {
    const exited = spawnSync(process.execPath, ["-e", ""]).pid!;
    const stale = path.join(models, `${NAME}.tmp-${exited}`);
    fs.mkdirSync(path.join(stale, "circuit"), { recursive: true });

    const child = spawn(
      "npx",
      ["hardhat", "model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", NAME,
        "--calibration", "fixtures/data/logreg_cancer.calibration.json"],
      {
        cwd: REPO,
        detached: true, // its own process group, like a foreground job in a terminal
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, FLAVUM_CACHE_DIR: cache, FLAVUM_PTAU_DIR: process.env.FLAVUM_PTAU_DIR ?? path.resolve(REPO, "../shared/ptau") },
      },
    );
    groupLeader = child.pid;
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );

    const ownTmp = () => (fs.existsSync(models) ? fs.readdirSync(models).filter((n) => n.startsWith(`${NAME}.tmp-`) && n !== path.basename(stale)) : []);
    let sent = false;
    const started = Date.now();
    while (!sent && Date.now() - started < 90_000) {
      if (ownTmp().length) {
        process.kill(-child.pid!, "SIGINT");
        sent = true;
      } else if (child.exitCode !== null) break;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(sent, `the build folder never appeared:\n${err}`).to.equal(true);
    const { code, signal } = await done;
    if (process.env.FLAVUM_VERBOSE) console.log(err, code, signal);
    groupLeader = undefined;

    expect(code === 0 && signal === null, `exit ${code} / ${signal}`).to.equal(false);
    expect(err).to.match(new RegExp(`removed ${stale.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: a partial build left by process ${exited}, which is no longer running`));
    expect(err).to.match(new RegExp(`interrupted \\(SIGINT\\): removed the partial build .*${NAME}\\.tmp-\\d+; there was no previous build of ${NAME}`));
    expect(fs.existsSync(models) ? fs.readdirSync(models) : []).to.deep.equal([]);
    expect(out).not.to.match(/compiled/); // no summary for a build that did not finish
  });
});
