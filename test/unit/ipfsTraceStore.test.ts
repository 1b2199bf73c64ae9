import { expect } from "chai";
import { flavumRejection } from "../helpers/rejection";
import hre from "hardhat";
import crypto from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import { Wallet, keccak256, sha256, toUtf8Bytes, ZeroAddress } from "ethers";
import { FlavumError } from "../../src/errors";
import { encodeTrace, FIELD_P, TraceItem } from "../../src/protocol/traceBinding";
import {
  cidDigest,
  cidFromDigest,
  connect,
  fetchTrace,
  holdsTrace,
  isLoopbackMultiaddr,
  MAX_TRACE_BYTES,
  peerCount,
  publishTrace,
  startTraceNode,
  stopTraceNode,
  TraceNode,
  traceCid,
} from "../../src/traceStore/ipfs";
import { collectSignatures, DacMember, recoverAvailabilitySigner } from "../../src/traceStore/dac";
import type { DacHarness } from "../../typechain-types";

/** A compact trace of `entries` entries with 2-byte output words: 1 + 42·entries bytes. */
function randomTrace(entries: number): Uint8Array {
  const items: TraceItem[] = [];
  for (let i = 0; i < entries; i++)
    items.push({
      requestId: BigInt(i + 1),
      inputHash: BigInt("0x" + crypto.randomBytes(32).toString("hex")) % FIELD_P,
      outputWord: BigInt(crypto.randomInt(65536)),
    });
  return encodeTrace(items, 2);
}

const rejects = flavumRejection;

const esmImport = new Function("s", "return import(s)") as (s: string) => Promise<any>;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe("IPFS trace store (in-process Helia over 127.0.0.1)", function () {
  this.timeout(120_000);
  const nodes: TraceNode[] = [];
  const tmpDirs: string[] = [];
  const start = async (opts = {}) => {
    const n = await startTraceNode(opts);
    nodes.push(n);
    return n;
  };
  let a: TraceNode;
  let b: TraceNode;

  before(async () => {
    a = await start();
    b = await start();
  });

  after(async () => {
    await Promise.all(nodes.map((n) => stopTraceNode(n)));
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  describe("CIDs", () => {
    it("a trace's CID is CIDv1 raw sha2-256, and digest <-> CID round-trips", async () => {
      const bytes = randomTrace(3);
      const cid = traceCid(bytes);
      expect(cid).to.match(/^bafkrei[a-z2-7]{52}$/);
      expect(cidDigest(cid)).to.equal(sha256(bytes));
      expect(cidFromDigest(cidDigest(cid))).to.equal(cid);
      const d = keccak256(toUtf8Bytes("any digest"));
      expect(cidDigest(cidFromDigest(d))).to.equal(d);
      expect(cidFromDigest(d.toUpperCase().replace("0X", "0x"))).to.equal(cidFromDigest(d));

      // the same as multiformats computes it
      const { CID, digest } = await esmImport("multiformats");
      const ref = CID.createV1(0x55, digest.create(0x12, Buffer.from(sha256(bytes).slice(2), "hex")));
      expect(ref.toString()).to.equal(cid);
      expect(CID.parse(cid).version).to.equal(1);
    });

    it("refuses CIDs that are not raw sha2-256 CIDv1 and digests that are not bytes32", () => {
      expect(() => cidDigest("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG")).to.throw(FlavumError, /base32 CIDv1/);
      // a dag-pb CIDv1 (bafybei...) of the same digest
      expect(() => cidDigest("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")).to.throw(FlavumError, /not a trace CID/);
      expect(() => cidDigest("bafkreiXX")).to.throw(FlavumError, /base32/);
      expect(() => cidFromDigest("0x1234")).to.throw(FlavumError, /bytes32/);
    });
  });

  describe("two nodes", () => {
    it("listen on 127.0.0.1 only and refuse to dial anything else", async () => {
      for (const n of [a, b]) {
        expect(n.multiaddrs.length).to.be.greaterThan(0);
        for (const ma of n.multiaddrs) expect(ma).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/);
      }
      expect(isLoopbackMultiaddr("/ip4/127.0.0.1/tcp/4001")).to.equal(true);
      expect(isLoopbackMultiaddr("/ip6/::1/tcp/4001")).to.equal(true);
      expect(isLoopbackMultiaddr("/ip4/10.0.0.1/tcp/4001")).to.equal(false);
      expect(isLoopbackMultiaddr("/dns4/bootstrap.libp2p.io/tcp/443")).to.equal(false);
    });

    it("A publishes a trace, B fetches it by CID from A and gets the same bytes", async () => {
      const bytes = randomTrace(31); // 1303 bytes
      const cid = await publishTrace(a, bytes);
      expect(cid).to.equal(traceCid(bytes));
      expect(await holdsTrace(a, cid)).to.equal(true);
      expect(await holdsTrace(b, cid)).to.equal(false);
      await connect(b, a);
      expect(peerCount(b)).to.equal(1);
      const got = await fetchTrace(b, cid, { timeoutMs: 10_000 });
      expect(Buffer.from(got).equals(Buffer.from(bytes))).to.equal(true);
      expect(await holdsTrace(b, cid)).to.equal(true);
      // and the other way round, over the same connection
      const back = randomTrace(5);
      const cid2 = await publishTrace(b, back);
      expect(Buffer.from(await fetchTrace(a, cid2, { timeoutMs: 10_000 })).equals(Buffer.from(back))).to.equal(true);
    });

    it("a CID nobody holds times out with a clear error within the timeout", async () => {
      const cid = traceCid(randomTrace(2));
      const t0 = Date.now();
      const err = await rejects(fetchTrace(b, cid, { timeoutMs: 1500 }));
      const elapsed = Date.now() - t0;
      expect(err.code).to.equal("TRACE_UNAVAILABLE");
      expect(err.message).to.contain(cid).and.to.contain("not found within 1500 ms").and.to.contain("1 connected peer");
      expect(elapsed).to.be.at.least(1400).and.below(3000);
    });

    it("refuses empty and oversized traces", async () => {
      expect((await rejects(publishTrace(a, new Uint8Array(0)))).message).to.match(/empty trace/);
      expect((await rejects(publishTrace(a, new Uint8Array(MAX_TRACE_BYTES + 1)))).code).to.equal("TRACE_TOO_LARGE");
    });

    it("measures publish + fetch of a 1.3 KB and a 64 KB trace", async () => {
      const rounds = 5;
      for (const entries of [31, 1560]) {
        const pub: number[] = [];
        const fetch: number[] = [];
        let size = 0;
        for (let r = 0; r < rounds; r++) {
          const bytes = randomTrace(entries); // fresh bytes each round: nothing cached
          size = bytes.length;
          const t0 = performance.now();
          const cid = await publishTrace(a, bytes);
          const t1 = performance.now();
          const got = await fetchTrace(b, cid, { timeoutMs: 10_000 });
          const t2 = performance.now();
          expect(got.length).to.equal(bytes.length);
          pub.push(t1 - t0);
          fetch.push(t2 - t1);
        }
        const tot = pub.map((p, i) => p + fetch[i]);
        console.log(
          `      ${size} B trace over ${rounds} rounds: publish median ${median(pub).toFixed(2)} ms, ` +
            `fetch median ${median(fetch).toFixed(2)} ms, publish+fetch median ${median(tot).toFixed(2)} ms ` +
            `(min ${Math.min(...tot).toFixed(2)}, max ${Math.max(...tot).toFixed(2)})`,
        );
      }
    });
  });

  describe("filesystem blockstore", () => {
    it("keeps published traces in files under the given directory across restarts", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-ipfs-"));
      tmpDirs.push(dir);
      const bytes = randomTrace(7);
      const first = await start({ dir });
      const cid = await publishTrace(first, bytes);
      await stopTraceNode(first);
      expect(fs.readdirSync(dir).length).to.equal(1);
      await rejects(publishTrace(first, bytes)); // a stopped node says so

      const again = await start({ dir });
      expect(await holdsTrace(again, cid)).to.equal(true);
      const got = await fetchTrace(again, cid, { timeoutMs: 2000 }); // no peers: from disk
      expect(Buffer.from(got).equals(Buffer.from(bytes))).to.equal(true);

      // a block file altered on disk is caught by the hash check, and dropped
      fs.writeFileSync(path.join(dir, fs.readdirSync(dir)[0]), Buffer.from("tampered"));
      const err = await rejects(fetchTrace(again, cid, { timeoutMs: 500 }));
      expect(err.code).to.equal("TRACE_CORRUPT");
      expect(await holdsTrace(again, cid)).to.equal(false);
    });
  });

  describe("committee members fetch, pin and sign", () => {
    it("each member fetches from the publisher and signs; the contract accepts the attestations", async () => {
      const wallets = [0, 1, 2].map((i) => new Wallet(keccak256(toUtf8Bytes(`ipfs-test:member:${i}`))));
      const members: DacMember[] = [];
      for (const w of wallets) members.push({ wallet: w, node: await start() });
      const harness = (await hre.ethers.deployContract("DacHarness")) as unknown as DacHarness;
      const rollup = await harness.getAddress();
      const { chainId } = await hre.ethers.provider.getNetwork();

      const bytes = randomTrace(31);
      const cid = await publishTrace(a, bytes);
      const res = await collectSignatures(members, { rollup, chainId, batchId: 7n, cid, publisher: a, timeoutMs: 10_000, threshold: 2 });
      expect(res.failures).to.deep.equal([]);
      expect(res.signatures.map((s) => s.signer)).to.deep.equal(
        wallets.map((w) => w.address).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)),
      );
      for (const m of members) {
        expect(await holdsTrace(m.node, cid)).to.equal(true);
        expect(await m.node.helia.pins.isPinned((await esmImport("multiformats")).CID.parse(cid))).to.equal(true);
      }
      for (const s of res.signatures)
        expect(recoverAvailabilitySigner({ rollup, chainId, batchId: 7n, digest: cidDigest(cid) }, s.signature)).to.equal(s.signer);
      const committee = wallets.map((w) => w.address);
      expect(await harness.verify(7n, cidDigest(cid), res.encoded, committee, 2)).to.equal(3n);

      // a trace nobody published: no member signs, and the threshold error names why
      const missing = traceCid(randomTrace(1));
      const err = await rejects(
        collectSignatures(members, { rollup, chainId, batchId: 8n, cid: missing, publisher: a, timeoutMs: 800, threshold: 2 }),
      );
      expect(err.code).to.equal("DAC_THRESHOLD");
      expect(err.message).to.contain("only 0 of 3").and.to.contain("not found within 800 ms");

      // bytes that are no compact trace: members hold them but refuse to attest
      const junk = await publishTrace(a, Uint8Array.from([0, 1, 2]));
      const none = await collectSignatures(members, { rollup, chainId, batchId: 9n, cid: junk, publisher: a, timeoutMs: 5000 });
      expect(none.signatures).to.deep.equal([]);
      expect(none.failures).to.have.length(3);
      expect(none.failures[0].error).to.match(/word size 0/);
      expect(ZeroAddress).to.not.be.oneOf(none.failures.map((f) => f.member));
    });
  });
});
