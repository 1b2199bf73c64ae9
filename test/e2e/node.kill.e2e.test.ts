/**
 * The node survives kill -9 at any step: `sequencer:serve` runs as its own process against a
 * `hardhat node`, clients send signed requests (resending whatever got no answer, with the same
 * nonce), and the node's whole process group is SIGKILLed again and again while it batches, proves
 * and submits. At the end the chain itself is counted: every request sent is in exactly one settled
 * batch — nothing lost, nothing settled twice.
 *
 * FLAVUM_KILL_REQUESTS (default 64), FLAVUM_KILL_BATCH (default 8) and FLAVUM_KILL_TIMES (default
 * 4) scale it; the closing figures of issue 10 come from a run with 1000 requests in batches of 32.
 */
import { expect } from "chai";
import type { ChildProcess } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { HDNodeWallet, Interface, JsonRpcProvider, getBytes } from "ethers";
import { REPO } from "../helpers/circuit";
import { heldout, usePtauDir } from "../helpers/fixtures";
import { encodeInput, layoutFromShape } from "../../src/sdk/encodeInput";
import { INFERENCE_REQUEST_TYPES, requestDomain } from "../../src/protocol/signedRequest";
import { decodeTrace } from "../../src/protocol/traceBinding";
import { cliEnv, freePort, hardhatSync, startHardhat, startHardhatNode, stopGroup, type HardhatNode } from "../helpers/processes";

const N = Number(process.env.FLAVUM_KILL_REQUESTS ?? 64);
const B = Number(process.env.FLAVUM_KILL_BATCH ?? 8);
const KILLS = Number(process.env.FLAVUM_KILL_TIMES ?? 4);
const MNEMONIC = "test test test test test test test test test test test junk";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("sequencer node under kill -9", function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-node-kill-"));
  const store = path.join(tmp, "sequencer.db");
  let env: NodeJS.ProcessEnv;
  let chain: HardhatNode | undefined;
  let serve: ChildProcess | undefined;

  const hardhat = (...args: string[]) => {
    const r = hardhatSync([...args, "--network", "localhost"], { env, timeoutMs: 15 * 60_000 });
    expect(r.code, `${args[0]}: ${r.err}`).to.equal(0);
    return r.out;
  };
  const startServe = async (port: number) => {
    serve = (await startHardhat(["sequencer:serve", "--port", String(port), "--batch-timeout", "1", "--store", store, "--network", "localhost"],
      { env, ready: (l) => l.includes("http://"), what: "sequencer:serve" })).child;
  };

  before(async function () {
    usePtauDir();
    const port = await freePort();
    env = cliEnv(tmp, `http://127.0.0.1:${port}`);
    chain = await startHardhatNode({ port, env, timeoutMs: 60_000 });
    hardhat("rollup:deploy", "--state-depth", "8", "--state-ops", "4");
    const c = hardhatSync(["model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", "rollup_logreg",
      "--calibration", "fixtures/data/logreg_cancer.calibration.json"], { env });
    expect(c.code, c.err).to.equal(0);
    hardhat("model:register", "--name", "rollup_logreg", "--batch", String(B), "--store", store);
  });

  after(async () => {
    await stopGroup(serve, "SIGKILL");
    await chain?.stop();
  });

  it(`settles ${N} signed requests exactly once while the node is killed ${KILLS} times`, async function () {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await startServe(port);
    const get = async (p: string) => (await fetch(url + p)).json() as Promise<any>;
    const model = await get("/api/models/1");
    const status = await get("/api/status");
    const domain = requestDomain(BigInt(status.chainId), status.rollup);
    const wallet = HDNodeWallet.fromPhrase(MNEMONIC, undefined, "m/44'/60'/0'/0/1");
    const samples = heldout("logreg_cancer").inputs;
    const layout = layoutFromShape(model.shape);

    // Each request is signed once; whatever gets no answer is resent as is until one comes.
    const bodies = await Promise.all(Array.from({ length: N }, async (_, i) => {
      const enc = await encodeInput(layout, samples[i % samples.length]);
      const msg = { modelId: 1n, inputHash: enc.inputHash, nonce: BigInt(i + 1), deadline: BigInt(Math.floor(Date.now() / 1000) + 3600) };
      const signature = await wallet.signTypedData(domain, INFERENCE_REQUEST_TYPES, msg);
      return JSON.stringify({ modelId: "1", inputHash: String(enc.inputHash), nonce: String(msg.nonce), deadline: String(msg.deadline), input: enc.values.map(String), signature });
    }));
    const ids = new Map<number, string>();
    let resent = 0;
    const send = async (i: number) => {
      for (;;) {
        try {
          const res = await fetch(url + "/api/requests", { method: "POST", headers: { "content-type": "application/json" }, body: bodies[i] });
          const body = (await res.json()) as any;
          if (res.status === 200) {
            if (ids.has(i)) expect(body.requestId, `nonce ${i + 1} answered with two ids`).to.equal(ids.get(i));
            ids.set(i, body.requestId);
            return;
          }
          throw new Error(`status ${res.status}: ${JSON.stringify(body)}`);
        } catch (e) {
          if (/status 4/.test((e as Error).message)) throw e;
          resent++;
          await sleep(250);
        }
      }
    };
    // Sending is spread over ~12 s so that kills land while requests arrive as well as while
    // batches are planned, proven and submitted.
    let next = 0;
    const senders = Promise.all(Array.from({ length: 4 }, async () => {
      while (next < N) {
        const i = next++;
        await send(i);
        await sleep((12_000 * 4) / N);
      }
    }));

    let kills = 0;
    const killer = (async () => {
      while (kills < KILLS) {
        await sleep(kills === 0 ? 1_000 + Math.random() * 2_000 : 2_000 + Math.random() * 4_000);
        await stopGroup(serve, "SIGKILL");
        kills++;
        await startServe(port);
      }
    })();
    await Promise.all([senders, killer]);

    // Then every request is waited for through the node, which by now has restarted KILLS times.
    const deadline = Date.now() + 20 * 60_000;
    for (const [i, id] of ids) {
      for (;;) {
        const r = await get(`/api/requests/${id}`).catch(() => undefined);
        if (r?.status === "settled" && r.verified) break;
        expect(r?.status, `request ${id} (nonce ${i + 1}): ${r?.reason}`).to.not.be.oneOf(["rejected", "closed"]);
        if (Date.now() > deadline) throw new Error(`request ${id} is still ${r?.status}`);
        await sleep(300);
      }
    }

    // The chain's own count: every settled batch's trace, read back from its transaction.
    const provider = new JsonRpcProvider(chain!.url);
    const deployments = JSON.parse(fs.readFileSync(path.join(tmp, "localhost.json"), "utf8"));
    const abi = JSON.parse(fs.readFileSync(path.join(REPO, "artifacts/contracts/rollup/FlavumRollup.sol/FlavumRollup.json"), "utf8")).abi;
    const rollup = new Interface(abi);
    const logs = await provider.getLogs({ address: deployments.FlavumRollup.address, fromBlock: 0, topics: [rollup.getEvent("BatchSubmitted")!.topicHash] });
    const seen = new Map<string, number>();
    for (const log of logs) {
      const tx = await provider.getTransaction(log.transactionHash);
      const call = rollup.parseTransaction({ data: tx!.data })!;
      for (const item of decodeTrace(getBytes(call.args.trace as string)).items) seen.set(item.requestId.toString(), (seen.get(item.requestId.toString()) ?? 0) + 1);
    }
    provider.destroy();
    const sent = [...ids.values()];
    const settled = sent.filter((id) => seen.has(id)).length;
    const duplicated = [...seen.values()].reduce((n, c) => n + (c - 1), 0);
    console.log(`      kill -9 run: ${N} sent, ${settled} settled, ${N - settled} lost, ${duplicated} duplicated; ${kills} kills, ${resent} resends, ${logs.length} batches of ${B}`);
    expect(ids.size).to.equal(N);
    expect(settled).to.equal(N);
    expect(duplicated).to.equal(0);
    expect(seen.size).to.equal(N);
  });
});
