/**
 * Child processes for the command-line tests (and the benchmarks): `npx hardhat …` run as users run
 * it, a `hardhat node` chain on a free port, and the process groups they live in.
 *
 * npx starts the real process as its child, so a long-running command is spawned detached (a process
 * group of its own) and stopped by signalling the whole group: signalling npx alone would leave the
 * node running after the tests. Only lastJson asserts (chai); nothing needs mocha, so bench/ can
 * load it too (through test/helpers/redis.ts, and for its prover workers).
 */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import fs from "fs";
import net from "net";
import path from "path";
import readline from "readline";
import { expect } from "chai";
import { repoRoot } from "../../src/zk/paths";

/** A port nothing listens on right now: bind port 0 on 127.0.0.1, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The environment the CLI tests run the commands in: the chain at `rpcUrl` as `--network localhost`,
 * and deployment records and a cache (models, keys, default sequencer stores) of their own under `dir`,
 * so no run sees another's.
 */
export function cliEnv(dir: string, rpcUrl: string): NodeJS.ProcessEnv {
  return { ...process.env, FLAVUM_RPC_URL: rpcUrl, FLAVUM_DEPLOYMENTS_DIR: dir, FLAVUM_CACHE_DIR: path.join(dir, "build") };
}

/** What a command said and how it ended. */
export interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** `npx hardhat …args` in the repository, waited for (blocking); without timeoutMs it may take as long as it takes. */
export function hardhatSync(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Run {
  const r = spawnSync("npx", ["hardhat", ...args], { cwd: repoRoot(), encoding: "utf8", env: opts.env, timeout: opts.timeoutMs });
  // FLAVUM_DEBUG_CLI=<file> keeps every command's full output: an e2e failure shows only the last one.
  if (process.env.FLAVUM_DEBUG_CLI) fs.appendFileSync(process.env.FLAVUM_DEBUG_CLI, `\n$ hardhat ${args.join(" ")} -> ${r.status}\n${r.stderr}\n${r.stdout}\n`);
  return { code: r.status, out: r.stdout ?? "", err: r.stderr ?? "" };
}

/** The JSON a `--json` command printed as its last line, once it exited 0 (else the assertion shows `message`). */
export function lastJson(r: Run, message = r.err) {
  expect(r.code, message).to.equal(0);
  return JSON.parse(r.out.trim().split("\n").pop()!);
}

/**
 * Calls `onLine` with each line `child` writes, stdout and stderr alike, as it comes; reading both
 * streams to the end also keeps a chatty child from stalling on a full pipe.
 */
export function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) if (stream) readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}

/**
 * Sends `signal` to the child's whole process group: false if the group is gone already (and its id
 * may belong to someone else by now, so it is never signalled again).
 */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (!child.pid) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops the child's process group with `signal` and waits for the child to exit. A child that ended
 * by itself took its group along and is left alone. `killAfterMs`: SIGKILL the group if it has not
 * exited by then. `sweep`: SIGKILL the group once more after the child exited, for strays it left.
 */
export async function stopGroup(child: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM", opts: { killAfterMs?: number; sweep?: boolean } = {}): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  if (!signalGroup(child, signal)) return;
  const late = opts.killAfterMs === undefined ? undefined : setTimeout(() => signalGroup(child, "SIGKILL"), opts.killAfterMs);
  await exited;
  clearTimeout(late);
  if (opts.sweep) signalGroup(child, "SIGKILL");
}

export interface SpawnOptions {
  /** Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Where the child is recorded as soon as it is spawned, for the caller's clean-up. */
  track?: ChildProcess[];
}

/** `npx hardhat …args` in the repository, in a process group of its own, its stdout and stderr piped (read them). */
export function spawnHardhat(args: string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn("npx", ["hardhat", ...args], { cwd: repoRoot(), env: opts.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  opts.track?.push(child);
  return child;
}

/**
 * `npx hardhat …args` in a process group of its own, awaited without blocking the event loop (other
 * children's output keeps draining meanwhile). `err` is the last 8000 characters of its stderr.
 */
export function runHardhat(args: string[], opts: SpawnOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawnHardhat(args, opts);
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, out, err }));
  });
}

/**
 * Starts a long-running `npx hardhat …args` in a process group of its own and resolves, with the
 * child and the line (trimmed), once a stdout line satisfies `ready`. It rejects if the child exits
 * first or `timeoutMs` (default 2 min) passes, stopping the group (SIGKILL) before it does.
 */
export async function startHardhat(
  args: string[],
  opts: SpawnOptions & { ready: (line: string) => boolean; what: string; timeoutMs?: number },
): Promise<{ child: ChildProcess; line: string }> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const child = spawnHardhat(args, opts);
  // Its last words on both streams, for the error should it not start.
  let log = "";
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-8000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let timer: NodeJS.Timeout | undefined;
  try {
    const line = await new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${opts.what} did not start in ${timeoutMs / 1000} s:\n${log}`)), timeoutMs);
      child.once("error", reject);
      child.once("exit", (code, signal) => reject(new Error(`${opts.what} exited (${code ?? signal}) before it was ready:\n${log}`)));
      // Read to the end, not just to the ready line: a node logs every call, and a full pipe stalls it.
      readline.createInterface({ input: child.stdout! }).on("line", (l) => {
        if (opts.ready(l)) resolve(l.trim());
      });
    });
    return { child, line };
  } catch (e) {
    await stopGroup(child, "SIGKILL");
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

export interface HardhatNode {
  port: number;
  /** Its JSON-RPC URL, http://127.0.0.1:<port>. */
  url: string;
  child: ChildProcess;
  /** Stops its process group (SIGTERM; see stopGroup for the options). */
  stop(opts?: { killAfterMs?: number; sweep?: boolean }): Promise<void>;
}

/**
 * A `hardhat node` chain in a process group of its own, resolved once it says "Started HTTP".
 * `port`: a free one unless given. `hostname`: passed as --hostname when given. `timeoutMs`: how
 * long it may take to start (default 2 min).
 */
export async function startHardhatNode(opts: SpawnOptions & { port?: number; hostname?: string; timeoutMs?: number }): Promise<HardhatNode> {
  const port = opts.port ?? (await freePort());
  const args = ["node", ...(opts.hostname ? ["--hostname", opts.hostname] : []), "--port", String(port)];
  const { child } = await startHardhat(args, { ...opts, what: "hardhat node", ready: (l) => l.includes("Started HTTP") });
  return { port, url: `http://127.0.0.1:${port}`, child, stop: (stopOpts) => stopGroup(child, "SIGTERM", stopOpts) };
}
