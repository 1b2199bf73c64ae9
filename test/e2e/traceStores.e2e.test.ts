/**
 * The three trace stores end to end with real proofs: the same batch (three off-chain inferences and one
 * on-chain request) settled on a calldata, a blob and an IPFS deployment, the on-chain request delivered,
 * and another party rebuilding every entry and inclusion path of the batch from that store's data alone —
 * the transaction's calldata; the blob sidecar checked against the versioned hash the contract recorded;
 * the IPFS block fetched by CID from a second node, attested by 2 of 3 committee members.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { getBytes, Wallet } from "ethers";
import { openSequencer } from "../../src/rollup/service";
import { decodeTrace, postedChallenge, traceChallenge, traceElements, traceRlc } from "../../src/protocol/traceBinding";
import { traceLeaf } from "../../src/rollup/batchWitness";
import { hasher, subtreeLevels, subtreePath } from "../../src/rollup/merkle";
import { decodeBlobs, verifyBlobs } from "../../src/traceStore/blob";
import { cidFromDigest, connect, fetchTrace, startTraceNode, stopTraceNode, TraceNode } from "../../src/traceStore/ipfs";
import { HeliaIpfsPoster } from "../../src/traceStore/ipfsPoster";
import { EvmRollupLedger } from "../../src/chain/evmRollup";
import { packMeta } from "../../src/protocol/batch";
import { encodeQuantized } from "../../src/sdk/encodeInput";
import { heldout } from "../helpers/fixtures";
import { quantizedSample } from "../helpers/state";
import { compileRollupModel, copyStore, registeredRollup } from "../helpers/rollup";
import type { DeployRollupOptions } from "../../src/chain/deployRollup";

const B = 4;
const members = [0, 1, 2].map((i) => new Wallet(`0x${(0xdac0n + BigInt(i)).toString(16).padStart(64, "0")}`));
const committee = members.map((w) => w.address);

describe("trace stores end to end (real proofs)", function () {
  const nodes: TraceNode[] = [];
  before(compileRollupModel);
  after(async () => {
    for (const n of nodes) await stopTraceNode(n);
  });

  const calldata = () => registeredRollup(B);
  const blob = () => registeredRollup(B, { traceStore: "blob" });
  const ipfs = () => registeredRollup(B, { traceStore: "ipfs", dac: committee, dacThreshold: 2 } as DeployRollupOptions);

  /** One batch: an on-chain request first, then three off-chain ones; settled and delivered. */
  async function settle(fixture: typeof calldata, poster?: (ledger: EvmRollupLedger) => Promise<void>) {
    const f = await loadFixture(fixture);
    const seq = await openSequencer(hre, { store: copyStore(f.store), addresses: f.d.addresses });
    const ledger = seq.ledger as EvmRollupLedger;
    if (poster) await poster(ledger);
    ledger.blobArchive = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-blobs-"));
    const [inputSize, inputScale, inputBits] = await f.d.registry.inputLayoutOf(f.modelId);
    const layout = { inputSize: Number(inputSize), inputScale: Number(inputScale), inputBits: Number(inputBits) };
    const { inputHash, input } = await encodeQuantized(layout, quantizedSample(3).values);
    const requestId = await f.d.rollup.requestInference.staticCall(f.modelId, inputHash, input, hre.ethers.ZeroAddress);
    await (await f.d.rollup.requestInference(f.modelId, inputHash, input, hre.ethers.ZeroAddress)).wait();
    await seq.syncOnchainRequests();
    seq.request(f.modelId.toString(), heldout("logreg_cancer").inputs.slice(0, 3));
    expect((await seq.proveNext())!.count).to.equal(4);
    const settled = (await seq.submit())!;
    expect(await seq.deliver()).to.equal(1);
    expect((await f.d.rollup.requestOf(requestId)).status).to.equal(3n); // Fulfilled
    seq.store.close();
    const [ev] = await f.d.rollup.queryFilter(f.d.rollup.filters.BatchSubmitted(settled.batchId));
    return { ...f, settled, ev, ledger };
  }

  /** What another party does with the trace bytes it obtained: every leaf and path, checked on chain. */
  async function rebuild(f: Awaited<ReturnType<typeof settle>>, trace: Uint8Array, r: bigint, h?: bigint) {
    const { items } = decodeTrace(trace);
    expect(items).to.have.length(4);
    const leaves = [...(await Promise.all(items.map((e) => traceLeaf({ modelId: f.modelId, ...e })))), ...Array(B - items.length).fill(0n)];
    const levels = subtreeLevels(await hasher(), leaves);
    expect(levels[levels.length - 1][0]).to.equal(f.ev.args.batchRoot);
    for (const [i, e] of items.entries())
      expect(await f.d.rollup.verifyInference(f.settled.batchId, { modelId: f.modelId, ...e }, i, subtreePath(levels, i))).to.equal(true);
    if (h !== undefined) expect(traceRlc(traceElements(items), r)).to.equal(h);
  }

  const context = async (f: Awaited<ReturnType<typeof settle>>) => {
    const [outputBits, outputCount, hasLabel] = await f.d.registry.outputLayoutOf(f.modelId);
    const meta = packMeta({
      modelId: f.modelId, batchNumber: 0n, firstLeaf: f.ev.args.firstLeaf, count: 4, batchSize: B,
      layout: { outputBits: Number(outputBits), outputCount: Number(outputCount), hasLabel },
    });
    return { domain: await f.d.rollup.domain(), oldRoot: f.ev.args.oldRoot, newRoot: f.ev.args.newRoot, batchRoot: f.ev.args.batchRoot, meta };
  };
  /** The statement's h for a posted trace: r from the recorded commitment, h over the posted entries. */
  const postedH = async (f: Awaited<ReturnType<typeof settle>>, data: string) => postedChallenge(await context(f), data);

  it("calldata: the entries are in the transaction's calldata, bound on chain", async () => {
    const f = await settle(calldata);
    const tx = (await hre.ethers.provider.getTransaction(f.ev.transactionHash))!;
    const args = f.d.rollup.interface.decodeFunctionData("submitBatch", tx.data);
    await rebuild(f, getBytes(args.trace), traceChallenge(await context(f), getBytes(args.trace)));
  });

  it("blob: the entries are in blob 0; the sidecar is checked against the versioned hash the contract recorded", async () => {
    const f = await settle(blob);
    const [posted] = await f.d.rollup.queryFilter(f.d.rollup.filters.BatchDataPosted(f.settled.batchId));
    expect(posted.args.mode).to.equal(1n);
    const tx = await hre.ethers.provider.send("eth_getTransactionByHash", [f.ev.transactionHash]);
    expect(Number(tx.type)).to.equal(3);
    expect(tx.blobVersionedHashes).to.deep.equal([posted.args.data]);
    const sidecar = JSON.parse(fs.readFileSync(path.join(f.ledger.blobArchive!, `${f.ev.transactionHash}.json`), "utf8"));
    await verifyBlobs(sidecar, [posted.args.data]);
    const trace = decodeBlobs(sidecar.blobs);
    // The r the proof was made for binds the blob: the blob's entries give the h the proof holds.
    await rebuild(f, trace, await postedH(f, posted.args.data), posted.args.h);
    // A sidecar edited after the fact no longer matches what the contract recorded.
    const forged = { ...sidecar, blobs: [sidecar.blobs[0].slice(0, 100) + (sidecar.blobs[0][100] === "1" ? "2" : "1") + sidecar.blobs[0].slice(101)] };
    await expect(verifyBlobs(forged, [posted.args.data])).to.be.rejected;
  });

  it("ipfs: a second node fetches the block by the CID the contract recorded; 2 of 3 members attested it", async () => {
    let publisher: TraceNode;
    const f = await settle(ipfs, async (ledger) => {
      publisher = await startTraceNode();
      const memberNodes = await Promise.all(members.slice(0, 2).map(() => startTraceNode()));
      nodes.push(publisher, ...memberNodes);
      // The third member is offline: two attestations meet the threshold.
      ledger.ipfsPoster = new HeliaIpfsPoster(publisher, members.slice(0, 2).map((w, i) => ({ wallet: w, node: memberNodes[i] })), committee, 2, 10_000);
    });
    const [posted] = await f.d.rollup.queryFilter(f.d.rollup.filters.BatchDataPosted(f.settled.batchId));
    expect(posted.args.mode).to.equal(2n);
    const reader = await startTraceNode();
    nodes.push(reader);
    await connect(reader, publisher!);
    const trace = await fetchTrace(reader, cidFromDigest(posted.args.data), { timeoutMs: 10_000 });
    await rebuild(f, trace, await postedH(f, posted.args.data), posted.args.h);
  });
});
