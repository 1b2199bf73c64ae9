/**
 * The SDK's node client against a real node (in-process Hardhat network, real proofs): requests
 * signed and sent through the client are proven, settled and confirmed by the rollup contract; a
 * forged proof is not; a resent nonce is the same request; the node's refusals arrive as
 * FlavumNodeError with the node's status and code; the client refuses a node of another deployment
 * before it signs anything.
 */
import { expect } from "chai";
import hre from "hardhat";
import { startNode, RunningNode } from "../../src/node/node";
import { FlavumNodeClient, FlavumNodeError, FlavumRequestError, type InclusionProof } from "../../src/sdk/client";
import { FlavumError } from "../../src/errors";
import { heldout } from "../helpers/fixtures";
import { compileRollupModel, registeredRollup } from "../helpers/rollup";

const B = 4;

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

describe("sdk: FlavumNodeClient against a running node", function () {
  let node: RunningNode | undefined;
  let client: FlavumNodeClient;
  let f: Awaited<ReturnType<typeof registeredRollup>>;
  let chainId: bigint;
  const samples = heldout("logreg_cancer").inputs;

  before(async () => {
    await compileRollupModel();
    f = await registeredRollup(B);
    node = await startNode(hre, { port: 0, store: f.store, addresses: f.d.addresses, batchTimeoutMs: 1000, pollMs: 200 });
    chainId = (await hre.ethers.provider.getNetwork()).chainId;
    client = new FlavumNodeClient(node.url, { expect: { chainId, rollup: f.d.addresses.rollup } });
  });

  after(async () => {
    await node?.stop();
  });

  it("reads the node's deployment, EIP-712 domain and models", async () => {
    const s = await client.status();
    expect(s.rollup).to.equal(f.d.addresses.rollup);
    expect(s.chainId).to.equal(chainId.toString());
    expect(s.readOnly).to.equal(false);
    const e = await client.eip712();
    expect(e.domain).to.deep.include({ name: "Flavum", version: "1", chainId: chainId.toString(), verifyingContract: f.d.addresses.rollup });
    const models = await client.models();
    expect(models.map((m) => m.modelId)).to.deep.equal([f.modelId.toString()]);
    const m = await client.model(f.modelId);
    expect(m.batchSize).to.equal(B);
    expect((await client.layout(f.modelId)).inputSize).to.equal(samples[0].length);

    const missing = await rejection(client.model(99));
    expect(missing).to.be.instanceOf(FlavumNodeError);
    expect(missing).to.include({ status: 404, code: "NOT_FOUND" });
    expect(missing.message).to.match(/model 99 is not served by this node/);
  });

  it("submits requests, waits for each proof, and the rollup confirms them; a forged proof it does not", async () => {
    const [, alice, bob] = await hre.ethers.getSigners();
    const five = samples.slice(0, B + 1);
    const sent = [];
    for (const [i, sample] of five.entries()) sent.push(await client.submit({ modelId: f.modelId, sample, signer: i % 2 ? bob : alice }));
    expect(sent.map((s) => s.duplicate)).to.deep.equal([false, false, false, false, false]);
    expect(sent[1].signer).to.equal(await bob.getAddress());
    expect(new Set(sent.map((s) => s.request.nonce)).size, "random nonces").to.equal(5);

    const settled = await Promise.all(sent.map((s) => client.waitForProof(s.requestId, { timeoutMs: 90_000, pollMs: 200 })));
    for (const [i, r] of settled.entries()) {
      expect(r.status).to.equal("settled");
      expect(r.requestId).to.equal(sent[i].requestId);
      expect(r.signer).to.equal(sent[i].signer);
      expect(r.proof.entry.inputHash).to.equal(sent[i].request.inputHash);
      expect(r.output![0]).to.be.within(0, 1);
      // Through a provider (the rollup address the client was told), and through the contract itself.
      expect(await client.verifyOnChain(r.proof, hre.ethers.provider)).to.equal(true);
      expect(await client.verifyOnChain(r.proof, f.d.rollup)).to.equal(true);
      const forged: InclusionProof = { ...r.proof, entry: { ...r.proof.entry, outputWord: (BigInt(r.proof.entry.outputWord) ^ 1n).toString() } };
      expect(await client.verifyOnChain(forged, hre.ethers.provider)).to.equal(false);
    }

    // A full batch went at once, the fifth after the batch timeout.
    const batches = (await client.batches({ model: f.modelId })).filter((b) => b.status === "settled");
    expect(batches.map((b) => b.count).sort()).to.deep.equal([1, 4]);
    const one = await client.batch(settled[0].proof.batchId);
    expect(one.entries!.map((e) => e.requestId)).to.include(sent[0].requestId);
    const listed = await client.requests({ limit: 10 });
    expect(listed.map((r) => r.requestId)).to.include.members(sent.map((s) => s.requestId));
  });

  it("a resent nonce is the same request, and waiting briefly names the status it is in", async () => {
    const [, alice] = await hre.ethers.getSigners();
    const nonce = 424242n;
    const first = await client.submit({ modelId: f.modelId, sample: samples[6], signer: alice, nonce });
    const again = await client.submit({ modelId: f.modelId, sample: samples[6], signer: alice, nonce });
    expect(again).to.deep.include({ requestId: first.requestId, duplicate: true });
    expect(await client.send(first.request)).to.deep.include({ requestId: first.requestId, duplicate: true });

    const early = await rejection(client.waitForProof(first.requestId, { timeoutMs: 1, pollMs: 1 }));
    expect(early).to.be.instanceOf(FlavumRequestError);
    expect(early).to.include({ code: "PROOF_TIMEOUT", requestId: first.requestId });
    expect(early.message).to.match(/still (pending|batched|settled)/);
    const r = await client.waitForProof(first.requestId, { timeoutMs: 90_000, pollMs: 200 });
    expect(await client.verifyOnChain(r.proof, hre.ethers.provider)).to.equal(true);
  });

  it("the node's refusals are FlavumNodeErrors with its status and code", async () => {
    const [, alice, bob] = await hre.ethers.getSigners();
    const signed = await client.signRequest({ modelId: f.modelId, sample: samples[7], signer: alice });
    const claimed = await rejection(client.send({ ...signed, signer: await bob.getAddress() }));
    expect(claimed).to.be.instanceOf(FlavumNodeError);
    expect(claimed).to.include({ status: 422, code: "BAD_SIGNATURE" });
    expect(claimed.message).to.match(/signature is by .* not by the given signer/);

    const expired = await rejection(client.submit({ modelId: f.modelId, sample: samples[7], signer: alice, deadline: 1 }));
    expect(expired).to.include({ status: 422 });
    expect(expired.message).to.match(/deadline 1 has passed/);

    const unknown = await rejection(client.waitForProof(12345));
    expect(unknown).to.include({ status: 404 });
    // The SDK's own checks, before anything reaches the node.
    const wrongLength = await rejection(client.submit({ modelId: f.modelId, sample: samples[7].slice(1), signer: alice }));
    expect(wrongLength).to.include({ code: "BAD_INPUT" });
    expect((await rejection(client.submit({ modelId: f.modelId, signer: alice }))).message).to.match(/either sample .* or values/);
  });

  it("refuses to sign for a node of another deployment, and says when a node does not answer", async () => {
    const [, alice] = await hre.ethers.getSigners();
    const other = new FlavumNodeClient(node!.url, { expect: { rollup: f.d.addresses.registry } });
    const e = await rejection(other.submit({ modelId: f.modelId, sample: samples[0], signer: alice }));
    expect(e).to.be.instanceOf(FlavumError);
    expect(e).to.include({ code: "WRONG_DEPLOYMENT" });
    const wrongChain = new FlavumNodeClient(node!.url, { expect: { chainId: 1 } });
    expect(await rejection(wrongChain.submit({ modelId: f.modelId, sample: samples[0], signer: alice }))).to.include({ code: "WRONG_DEPLOYMENT" });

    const down = new FlavumNodeClient("http://127.0.0.1:1");
    const d = await rejection(down.status());
    expect(d).to.include({ status: 0, code: "UNREACHABLE" });
  });

  it("a request the node set aside rejects waitForProof with the node's reason", async () => {
    // The node rejects only on-chain requests it cannot prove; a stand-in node gives the same answer.
    const stub = (async () =>
      new Response(JSON.stringify({ requestId: "5", modelId: "1", status: "rejected", reason: "the input does not hash to the request's input commitment", verified: false }), {
        status: 200, headers: { "content-type": "application/json" },
      })) as typeof fetch;
    const e = await rejection(new FlavumNodeClient("http://127.0.0.1:9", { fetch: stub }).waitForProof(5));
    expect(e).to.be.instanceOf(FlavumRequestError);
    expect(e).to.include({ code: "REQUEST_REJECTED", status: "rejected", reason: "the input does not hash to the request's input commitment" });
    expect(e.message).to.match(/request 5 was rejected by the node: the input does not hash/);
  });
});
