/**
 * A real, throwaway redis-server for tests and benchmarks: a free 127.0.0.1 port, no persistence,
 * in its own process group so stop() (or a crashed test's after hook) leaves nothing running.
 */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import fs from "fs";
import net from "net";
import os from "os";
import path from "path";
import { freePort, signalGroup } from "./processes";

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** redis-server's path; it may be mid-install (apt), so this waits up to `waitMs` for it to appear. */
async function findRedisServer(waitMs: number): Promise<string> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const r = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
    const found = r.stdout.trim();
    if (r.status === 0 && found) return found;
    if (Date.now() >= deadline)
      throw new Error("redis-server is not installed (the queue tests need a real Redis): apt-get install redis-server");
    await sleep(1000);
  }
}

/** Waits until the server answers PING on its port. */
async function untilReady(port: number, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => s.write("PING\r\n"));
      s.once("data", (d) => {
        s.destroy();
        resolve(d.toString().startsWith("+PONG"));
      });
      s.once("error", () => resolve(false));
      s.setTimeout(500, () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`redis-server on 127.0.0.1:${port} did not answer within ${timeoutMs} ms: ${log()}`);
}

export async function startRedis(opts: { waitForInstallMs?: number } = {}): Promise<RedisServer> {
  const bin = await findRedisServer(opts.waitForInstallMs ?? 60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-redis-"));
  // Another process may take the free port between the probe and redis's bind: try a few.
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    let out = "";
    const child = spawn(
      bin,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "yes"],
      { detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout!.on("data", (d) => (out = (out + d).slice(-4000)));
    child.stderr!.on("data", (d) => (out = (out + d).slice(-4000)));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        signalGroup(child, "SIGTERM");
        await Promise.race([exited, sleep(3000)]);
        signalGroup(child, "SIGKILL");
      }
      fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
      await untilReady(port, child, () => out.trim().split("\n").slice(-3).join(" | "), 10_000);
      return { url: `redis://127.0.0.1:${port}`, port, stop };
    } catch (e) {
      await stop();
      if (tries >= 2 || !/Address already in use/.test(out)) throw e;
    }
  }
}
