/**
 * The sequencer node with real proofs on the in-process Hardhat network: signed requests over HTTP
 * are batched by policy (a full batch at once, the rest after the timeout), proven, settled in order,
 * and each one's proof from the API verifies on chain; bad requests get a 4xx naming what was wrong
 * and block nobody; a resent request is not queued twice; a restart mid-flow loses nothing.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { startNode, RunningNode } from "../../src/node/node";
import { encodeInput, layoutFromShape } from "../../src/sdk/encodeInput";
import { INFERENCE_REQUEST_TYPES, requestDomain } from "../../src/protocol/signedRequest";
import { heldout } from "../helpers/fixtures";
import { compileRollupModel, copyStore, registeredRollup } from "../helpers/rollup";

const B = 4;

describe("sequencer node (HTTP API, batching policy, signed requests)", function () {
  before(compileRollupModel);
  const registeredOnce = () => registeredRollup(B);
  let node: RunningNode | undefined;
  afterEach(async () => {
    await node?.stop();
    node = undefined;
  });

  async function started(opts: { batchTimeoutMs?: number; store?: string } = {}) {
    const f = await loadFixture(registeredOnce);
    const store = opts.store ?? copyStore(f.store, "node");
    node = await startNode(hre, { port: 0, store, addresses: f.d.addresses, batchTimeoutMs: opts.batchTimeoutMs ?? 1500, pollMs: 100 });
    return { ...f, store, url: node.url };
  }

  const http = async (url: string, path: string, init?: { method?: string; body?: unknown; raw?: string }) => {
    const res = await fetch(url + path, {
      method: init?.method ?? (init?.body !== undefined || init?.raw !== undefined ? "POST" : "GET"),
      headers: { "content-type": "application/json" },
      body: init?.raw ?? (init?.body !== undefined ? JSON.stringify(init.body) : undefined),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  async function signed(url: string, modelId: bigint, sample: number[], signer: Signer, nonce: bigint, over: Record<string, unknown> = {}) {
    const m = (await http(url, `/api/models/${modelId}`)).body;
    const enc = await encodeInput(layoutFromShape(m.shape), sample);
    const { chainId } = await hre.ethers.provider.getNetwork();
    const status = (await http(url, "/api/status")).body;
    const msg = { modelId, inputHash: enc.inputHash, nonce, deadline: BigInt(Math.floor(Date.now() / 1000) + 600), ...over };
    const signature = await signer.signTypedData(requestDomain(chainId, status.rollup), INFERENCE_REQUEST_TYPES, msg);
    return { modelId: String(modelId), inputHash: String(msg.inputHash), nonce: String(nonce), deadline: String(msg.deadline), input: enc.values.map(String), signature };
  }

  async function settled(url: string, id: string, timeoutMs = 240_000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = (await http(url, `/api/requests/${id}`)).body;
      if (r.status === "settled" && r.proof) return r;
      if (r.status === "rejected" || r.status === "closed") throw new Error(`request ${id} ${r.status}: ${r.reason}`);
      if (Date.now() > end) throw new Error(`request ${id} still ${r.status}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  it("batches a full batch at once and the rest after the timeout; every proof from the API verifies on chain", async () => {
    const { d, url, modelId } = await started({ batchTimeoutMs: 2000 });
    const [, alice, bob] = await hre.ethers.getSigners();
    const samples = heldout("logreg_cancer").inputs.slice(0, B + 2);
    const events: string[] = [];
    const ctrl = new AbortController();
    const stream = fetch(url + "/api/events", { signal: ctrl.signal }).then(async (res) => {
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        for (const m of new TextDecoder().decode(value).matchAll(/^event: (.+)$/gm)) events.push(m[1]);
      }
    }).catch(() => undefined);

    const ids: string[] = [];
    for (const [i, s] of samples.entries()) {
      const r = await http(url, "/api/requests", { body: await signed(url, modelId, s, i % 2 ? bob : alice, BigInt(i + 1)) });
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.signer).to.equal(await (i % 2 ? bob : alice).getAddress());
      ids.push(r.body.requestId);
    }
    const results = [];
    for (const id of ids) results.push(await settled(url, id));
    ctrl.abort();
    await stream;

    const batches = (await http(url, "/api/batches")).body.filter((b: any) => b.status === "settled");
    // Full batch at once, then the remainder after the timeout: two batches, 4 + 2.
    expect(batches.map((b: any) => b.count).sort()).to.deep.equal([2, 4]);
    for (const r of results) {
      const p = r.proof;
      expect(await d.rollup.verifyInference(p.batchId, p.entry, p.index, p.path)).to.equal(true);
      const forged = { ...p.entry, outputWord: (BigInt(p.entry.outputWord) ^ 1n).toString() };
      expect(await d.rollup.verifyInference(p.batchId, forged, p.index, p.path)).to.equal(false);
    }
    const one = (await http(url, `/api/batches/${results[0].proof.batchId}`)).body;
    expect(one.entries.map((e: any) => e.requestId)).to.include(ids[0]);
    for (const t of ["request.accepted", "batch.planned", "batch.proven", "batch.settled"]) expect(events, t).to.include(t);
  });

  it("refuses bad requests with a 4xx naming the problem, takes a resent one once, and the good ones still settle", async () => {
    const { url, modelId } = await started({ batchTimeoutMs: 500 });
    const [, alice, bob] = await hre.ethers.getSigners();
    const [s0, s1] = heldout("logreg_cancer").inputs;
    const good = await signed(url, modelId, s0, alice, 7n);

    const cases: [string, unknown, number, RegExp][] = [
      ["claimed signer differs", { ...good, signer: await bob.getAddress() }, 422, /signature is by .* not by the given signer/],
      ["input does not hash to the signed commitment", { ...good, input: (await signed(url, modelId, s1, alice, 7n)).input }, 422, /does not hash to the signed inputHash/],
      ["wrong length", { ...good, input: good.input.slice(1) }, 422, /values, model .* takes/],
      ["expired", await signed(url, modelId, s0, alice, 8n, { deadline: 1n }), 422, /deadline 1 has passed/],
      ["unknown model", await signed(url, 99n, s0, alice, 9n).catch(() => ({ ...good, modelId: "99" })), 404, /model/],
      ["not a number", { ...good, nonce: "x" }, 422, /nonce must be an integer/],
      ["bad signature bytes", { ...good, signature: "0x1234" }, 422, /EIP-712 signature/],
    ];
    for (const [what, body, status, msg] of cases) {
      const r = await http(url, "/api/requests", { body });
      expect(r.status, what).to.equal(status);
      expect(r.body.error.message, what).to.match(msg);
    }
    expect((await http(url, "/api/requests", { raw: "{not json" })).status).to.equal(400);
    expect((await http(url, "/api/requests/abc")).status).to.equal(400);
    expect((await http(url, "/api/requests/12345")).status).to.equal(404);
    expect((await http(url, "/api/nothing")).status).to.equal(404);
    expect((await http(url, "/api/status", { method: "POST", body: {} })).status).to.equal(405);

    const first = await http(url, "/api/requests", { body: good });
    const again = await http(url, "/api/requests", { body: good });
    expect(first.status).to.equal(200);
    expect(again.body).to.deep.include({ requestId: first.body.requestId, duplicate: true });
    const r = await settled(url, first.body.requestId);
    expect(r.verified).to.equal(true);
    expect(r.signer).to.equal(await alice.getAddress());
    const all = (await http(url, "/api/requests")).body;
    expect(all.filter((x: any) => x.requestId === first.body.requestId)).to.have.length(1);
  });

  it("stopped mid-flow and started again on the same store, it finishes every request once", async () => {
    const { d, url, store, modelId } = await started({ batchTimeoutMs: 60_000 });
    const [, alice] = await hre.ethers.getSigners();
    const samples = heldout("logreg_cancer").inputs.slice(0, B * 2 + 1);
    const ids: string[] = [];
    for (const [i, s] of samples.entries()) ids.push((await http(url, "/api/requests", { body: await signed(url, modelId, s, alice, BigInt(100 + i)) })).body.requestId);
    // Stop while the batches are being planned or proven.
    await new Promise((r) => setTimeout(r, 300));
    await node!.stop();
    node = await startNode(hre, { port: 0, store, addresses: d.addresses, batchTimeoutMs: 500, pollMs: 100 });
    for (const id of ids) await settled(node.url, id);
    const events = await d.rollup.queryFilter(d.rollup.filters.BatchSubmitted(undefined, modelId));
    expect(events.length).to.equal(3);
    const included = (await Promise.all(ids.map((id) => http(node!.url, `/api/requests/${id}`)))).map((r) => r.body.proof.batchId);
    expect(new Set(included).size).to.equal(3);
  });

  it("a lost store is rebuilt from the chain on start: old proofs still served, new requests go on, nothing twice; a read-only node serves the same proofs", async () => {
    const { d, url, store, modelId } = await started({ batchTimeoutMs: 500 });
    const [, alice] = await hre.ethers.getSigners();
    const [s0, s1, s2] = heldout("logreg_cancer").inputs;
    const first = await signed(url, modelId, s0, alice, 500n);
    const id0 = (await http(url, "/api/requests", { body: first })).body.requestId;
    const before = await settled(url, id0);
    await node!.stop();
    for (const f of [store, `${store}-wal`, `${store}-shm`]) fs.rmSync(f, { force: true });

    node = await startNode(hre, { port: 0, store, addresses: d.addresses, batchTimeoutMs: 500, pollMs: 100 });
    const again = await http(node.url, `/api/requests/${id0}`);
    expect(again.body.status).to.equal("settled");
    expect(again.body.proof).to.deep.equal(before.proof);
    // The resent request is known by its id, which follows from signer and nonce: not queued again.
    const resent = await http(node.url, "/api/requests", { body: first });
    expect(resent.body).to.deep.include({ requestId: id0, duplicate: true });
    const reused = await http(node.url, "/api/requests", { body: await signed(node.url, modelId, s1, alice, 500n) });
    expect(reused.status).to.equal(409);
    expect(reused.body.error.message).to.match(/already taken by another request/);
    const id1 = (await http(node.url, "/api/requests", { body: await signed(node.url, modelId, s1, alice, 501n) })).body.requestId;
    await settled(node.url, id1);
    expect((await d.rollup.queryFilter(d.rollup.filters.BatchSubmitted(undefined, modelId))).length).to.equal(2);

    // Anyone's read-only node, on its own empty store, serves the proofs; it follows new batches.
    const reader = await startNode(hre, { port: 0, store: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "flavum-reader-")), "r.db"), addresses: d.addresses, readOnly: true, pollMs: 300 });
    try {
      const r = await settled(reader.url, id1);
      expect(await d.rollup.verifyInference(r.proof.batchId, r.proof.entry, r.proof.index, r.proof.path)).to.equal(true);
      expect((await http(reader.url, "/api/requests", { body: first })).status).to.equal(403);
      const id2 = (await http(node.url, "/api/requests", { body: await signed(node.url, modelId, s2, alice, 502n) })).body.requestId;
      await settled(node.url, id2);
      const followed = await settled(reader.url, id2);
      expect(followed.verified).to.equal(true);
    } finally {
      await reader.stop();
    }
  });
});
