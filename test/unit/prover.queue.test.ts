/**
 * src/prover against a real redis-server and real Groth16 proofs: the warm in-process prover, the
 * BullMQ queue with in-process and `npx hardhat prover:worker` workers, idempotent job ids, a worker
 * killed with SIGKILL mid-proof whose job another worker finishes, and a job naming a key the worker
 * does not have. Every process started here is in its own process group and is killed in after().
 */
import { expect } from "chai";
import type { ChildProcess } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { buildCircuitKeys, compileCircuit, powerFor, replaceDirAtomically, resolvePtau, setup, shutdown, verify, wasmPath, witness, KEY_FILES } from "../../src/zk";
import { cacheRoot } from "../../src/zk/paths";
import { circuitRef, ProofRejectedError, QueueProver, startProverWorker, WarmProver, type CircuitRef, type ProverWorker } from "../../src/prover";
import { REPO } from "../helpers/circuit";
import { usePtauDir } from "../helpers/fixtures";
import { rejection } from "../helpers/rejection";
import { startRedis, type RedisServer } from "../helpers/redis";
import { onLines, runHardhat, signalGroup, spawnHardhat } from "../helpers/processes";

const FIXTURES = path.join(REPO, "test", "fixtures-zk");

/**
 * Big enough that a cold proof in a fresh worker (key read, curve built, witness, prove) lasts long
 * enough to be killed in the middle of, small enough for the 2^12 development ptau (~3.6k constraints).
 */
const CHAIN_SOURCE = `pragma circom 2.1.0;
include "circomlib/circuits/poseidon.circom";
template Chain(N) {
    signal input x;
    signal output out;
    component h[N];
    signal acc[N + 1];
    acc[0] <== x;
    for (var i = 0; i < N; i++) {
        h[i] = Poseidon(2);
        h[i].inputs[0] <== acc[i];
        h[i].inputs[1] <== i;
        acc[i + 1] <== h[i].out;
    }
    out <== acc[N];
}
component main = Chain(15);
`;

interface ChildWorker {
  child: ChildProcess;
  lines: string[];
  waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe("prover queue (real Redis, real proofs)", function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let tmp: string;
  let mult: CircuitRef;
  let chain: CircuitRef;
  const children: ChildProcess[] = [];
  const workers: ProverWorker[] = [];
  const closers: { close(): Promise<void> }[] = [];
  const logs: string[] = [];

  const killGroup = (c: ChildProcess, sig: NodeJS.Signals) => c.exitCode === null && c.signalCode === null && signalGroup(c, sig);

  function spawnWorker(args: string[]): ChildWorker {
    const child = spawnHardhat(["prover:worker", "--queue", redis.url, ...args], { track: children });
    const lines: string[] = [];
    const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
    onLines(child, (line) => {
      lines.push(line);
      logs.push(`[child ${child.pid}] ${line}`);
      for (const w of [...waiters]) {
        const m = line.match(w.re);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const waitFor = (re: RegExp, ms: number) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const seen = lines.map((l) => l.match(re)).find(Boolean);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`worker ${child.pid}: no line matching ${re} within ${ms} ms; it said:\n${lines.join("\n")}`)), ms);
        const done = (m: RegExpMatchArray) => {
          clearTimeout(timer);
          resolve(m);
        };
        waiters.push({ re, resolve: done });
        exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`worker ${child.pid} exited (${code ?? signal}) before a line matching ${re}:\n${lines.join("\n")}`));
        });
      });
    return { child, lines, waitFor, exited };
  }

  async function worker(queueName: string, name: string, extra: { lockMs?: number; stalledIntervalMs?: number } = {}): Promise<ProverWorker> {
    const w = await startProverWorker({ url: redis.url, queueName, name, progress: (m) => logs.push(`[${name}] ${m}`), ...extra });
    workers.push(w);
    return w;
  }

  async function queue(queueName: string): Promise<QueueProver> {
    const q = await QueueProver.connect(redis.url, { queueName, backoffMs: 200, timeoutMs: 60_000 });
    closers.push(q);
    return q;
  }

  before(async () => {
    usePtauDir();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-prover-"));
    redis = await startRedis();
    const m = await compileCircuit(path.join(FIXTURES, "Multiplier.circom"), path.join(tmp, "mult"));
    const ptau = await resolvePtau(powerFor(m.constraints, m.publicInputs + m.outputs));
    const s = await setup(m.r1cs, ptau.file, path.join(tmp, "mult", "mult.zkey"));
    mult = await circuitRef({ wasm: m.wasm, zkey: s.zkey, vkey: s.vkeyFile });
    // Its setup takes a while: kept under build/ and reused while the source is unchanged.
    const dir = path.join(cacheRoot(), "test-prover", "chain");
    await replaceDirAtomically(dir, (fill) => buildCircuitKeys({ source: CHAIN_SOURCE, base: "chain", dir: fill, previousDir: dir, publicSignals: 1 }));
    chain = await circuitRef({ wasm: wasmPath(dir, "chain"), zkey: path.join(dir, KEY_FILES.zkey), vkey: path.join(dir, KEY_FILES.vkey) });
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" || process.env.FLAVUM_TEST_LOGS === "1") console.error(`worker logs so far:\n${logs.join("\n")}`);
  });

  after(async () => {
    for (const c of children) killGroup(c, "SIGKILL");
    for (const w of workers) await w.close({ graceMs: 0 }).catch(() => undefined);
    for (const c of closers) await c.close().catch(() => undefined);
    await redis?.stop();
    await shutdown();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("warm prover: the second proof of a circuit is warm, both verify, through the witnessFn plug-in", async () => {
    let witnesses = 0;
    const wp = new WarmProver({
      name: "in-process",
      witnessFn: (wasm, input) => {
        witnesses++;
        return witness(wasm, input);
      },
    });
    closers.push(wp);
    const first = await wp.prove({ id: "a-1", circuit: mult, input: { a: 3, b: 11 } });
    expect(first.warm).to.equal(false);
    expect(first.publicSignals).to.deep.equal(["33"]);
    expect(await verify(mult.vkey, first.publicSignals, first.proof)).to.equal(true);
    const second = await wp.prove({ id: "a-2", circuit: mult, input: { a: 5n, b: 7n } });
    expect(second).to.include({ warm: true, worker: "in-process" });
    expect(second.publicSignals).to.deep.equal(["35"]);
    expect(await verify(mult.vkey, second.publicSignals, second.proof)).to.equal(true);
    expect(witnesses).to.equal(2);
  });

  it("warm prover: never returns a proof that does not verify against the vkey", async () => {
    const vk = JSON.parse(fs.readFileSync(mult.vkey, "utf8"));
    vk.IC = [vk.IC[1], vk.IC[0]];
    const wrongVkey = path.join(tmp, "wrong_vkey.json");
    fs.writeFileSync(wrongVkey, JSON.stringify(vk));
    const wp = new WarmProver();
    closers.push(wp);
    const err = await rejection(wp.prove({ id: "a-3", circuit: { ...mult, vkey: wrongVkey }, input: { a: 2, b: 3 } }));
    expect(err).to.be.instanceOf(ProofRejectedError);
    expect(err.message).to.contain("a-3").and.contain(wrongVkey);
  });

  it("queue: an in-process worker proves a job submitted by QueueProver, and the result verifies", async () => {
    const w = await worker("q-basic", "basic");
    const q = await queue("q-basic");
    const r = await q.prove({ id: "b-1", circuit: mult, input: { a: 6n, b: 7n } });
    expect(r.publicSignals).to.deep.equal(["42"]);
    expect(r.worker).to.equal("basic");
    expect(await verify(mult.vkey, r.publicSignals, r.proof)).to.equal(true);
    expect(w.stats).to.include({ started: 1, completed: 1 });
    expect(logs.join("\n")).to.match(/\[basic\] job b-1: start/).and.match(/\[basic\] job b-1: done in \d+ ms/);
  });

  it("idempotence: the same job id submitted twice is proven once; later submissions get the stored result", async () => {
    const w = await worker("q-idem", "idem");
    const q = await queue("q-idem");
    const job = { id: "c-1", circuit: mult, input: { a: 9n, b: 4n } };
    const [x, y] = await Promise.all([q.prove(job), q.prove(job)]);
    expect(x.proof).to.deep.equal(y.proof);
    expect(x.publicSignals).to.deep.equal(["36"]);
    const again = await q.prove(job);
    expect(again.proof).to.deep.equal(x.proof);
    expect(w.stats.started, "proofs made by the worker").to.equal(1);
    // The same id with another input is a caller's bug, not the same proof.
    const err = await rejection(q.prove({ ...job, input: { a: 4n, b: 9n } }));
    expect(err.message).to.match(/proof job c-1 is already on queue q-idem with another input/);
    expect(w.stats.started).to.equal(1);
  });

  it("a job whose zkeyHash the worker's key does not match fails, naming the key; a resubmission tries it again", async () => {
    const w = await worker("q-key", "key");
    const q = await queue("q-key");
    const wrong = "0".repeat(64);
    const job = { id: "e-1", circuit: { ...mult, zkeyHash: wrong }, input: { a: 2, b: 2 } };
    const err = await rejection(q.prove(job));
    expect(err.message).to.contain("proof job e-1 on queue q-key failed after 1 attempt(s)");
    expect(err.message).to.contain(mult.zkey).and.contain(`has sha256 ${mult.zkeyHash}`).and.contain(`needs the key with sha256 ${wrong}`);
    expect(await q.state("e-1")).to.equal("failed");
    expect(w.stats).to.include({ started: 1, failed: 1, completed: 0 });
    // Permanently failed jobs are not answered with the old failure: they are proven (here: tried) again.
    await rejection(q.prove(job));
    expect(w.stats.started).to.equal(2);
  });

  it("close() lets the running proof finish; close({ graceMs: 0 }) hands it back to the queue for another worker", async () => {
    const until = async (cond: () => boolean, what: string) => {
      for (const deadline = Date.now() + 30_000; !cond(); await new Promise((r) => setTimeout(r, 20)))
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    };
    const q = await queue("q-close");
    const finisher = await worker("q-close", "finisher");
    const first = q.prove({ id: "f-1", circuit: chain, input: { x: 1n } });
    await until(() => finisher.stats.started === 1, "the finisher to start f-1");
    await finisher.close();
    expect(finisher.stats).to.include({ completed: 1, released: 0 });
    expect((await first).worker).to.equal("finisher");

    const leaver = await worker("q-close", "leaver");
    const second = q.prove({ id: "f-2", circuit: chain, input: { x: 2n } });
    second.catch(() => undefined);
    await until(() => leaver.stats.started === 1, "the leaver to start f-2");
    await leaver.close({ graceMs: 0 });
    expect(leaver.stats).to.include({ completed: 0, released: 1 });
    expect(await q.state("f-2")).to.equal("waiting");
    await worker("q-close", "taker");
    const r = await second;
    expect(r.worker).to.equal("taker");
    expect(await verify(chain.vkey, r.publicSignals, r.proof)).to.equal(true);
    // Handing a job back is not a failed try.
    expect(logs.join("\n")).to.match(/\[taker\] job f-2: start \(attempt 1\/3/);
  });

  it("prover:worker with a bad --queue URL names it and exits 1", async () => {
    const { code, err } = await runHardhat(["prover:worker", "--queue", "redis//nowhere"], { track: children });
    expect(code, err).to.equal(1);
    expect(err).to.contain('Error: queue URL "redis//nowhere" is not a URL');
  });

  it("a prover:worker killed with SIGKILL mid-proof loses nothing: a second worker proves the job; SIGTERM then exits 0", async () => {
    const q = await queue("q-kill");
    const doomed = spawnWorker(["--queue-name", "q-kill", "--lock-ms", "2000", "--name", "doomed"]);
    await doomed.waitFor(/prover worker doomed ready/, 60_000);
    const submitted = q.prove({ id: "d-1", circuit: chain, input: { x: 12345n } });
    submitted.catch(() => undefined); // awaited below; a failure before then must not be unhandled
    await doomed.waitFor(/job d-1: start/, 30_000);
    killGroup(doomed.child, "SIGKILL");
    expect((await doomed.exited).signal).to.equal("SIGKILL");
    expect(doomed.lines.join("\n"), "the killed worker must not have finished the proof").not.to.match(/job d-1: done/);
    expect(await q.state("d-1")).to.equal("active"); // held by the dead worker's lock until it lapses

    const rescuer = spawnWorker(["--queue-name", "q-kill", "--lock-ms", "2000"]);
    const ready = await rescuer.waitFor(/prover worker \S*\/(\d+) ready/, 60_000);
    const r = await submitted;
    expect(r.worker).to.match(new RegExp(`/${ready[1]}$`));
    expect(await verify(chain.vkey, r.publicSignals, r.proof)).to.equal(true);
    expect(rescuer.lines.join("\n")).to.match(/job d-1: its worker stopped renewing the lock/).and.match(/job d-1: done/);

    process.kill(Number(ready[1]), "SIGTERM"); // the worker itself, not npx (which reports a signal as 143)
    const exit = await rescuer.exited;
    expect(exit, rescuer.lines.join("\n")).to.deep.equal({ code: 0, signal: null });
    expect(rescuer.lines.join("\n")).to.match(/stopped \(1 proved, 0 failed, 0 released\)/);
  });
});
