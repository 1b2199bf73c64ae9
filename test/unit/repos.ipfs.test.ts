import { expect } from "chai";
import { flavumRejection } from "../helpers/rejection";
import fs from "fs";
import path from "path";
import { FlavumError } from "../../src/errors";
import {
  canonicalJson,
  cidFromCommitUri,
  CommitManifest,
  commitUri,
  decodeWeights,
  encodeWeights,
  fetchCommitObjects,
  MANIFEST_FORMAT,
  MAX_MANIFEST_BYTES,
  MAX_OBJECT_BYTES,
  commitObjectBlocks,
  publishCommitObjects,
  weightsEncoding,
} from "../../src/repos/ipfsObjects";
import { commitWeights } from "../../src/training/commitment";
import { initialWeights, quantizeData, weightsFromFloat } from "../../src/training/data";
import { trainStep } from "../../src/training/executor";
import { paramCount, trainingSpec, TrainingSpec } from "../../src/training/spec";
import { connect, fetchBlock, holdsBlock, IpfsNode, publishBlock, rawBlockCid, startIpfsNode, stopIpfsNode } from "../../src/traceStore/ipfs";
import type { Transcript } from "../../src/zk/ceremony";

const rejects = flavumRejection;

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

/** One real SGD step of a d=30 → 8 → 1 mlp on the first 16 training rows of the breast cancer fixture. */
function trainedCommit(): { spec: TrainingSpec; weights: bigint[] } {
  const data = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../fixtures/data/breast_cancer.json"), "utf8"));
  const spec = trainingSpec({ kind: "mlp", d: 30, h: 8, n: 16, K: 1, lr: 0.25, maxUpdateNorm: 4 });
  const rows: number[] = data.split.train.slice(0, spec.n);
  const q = quantizeData(spec, rows.map((i) => data.features[i]), rows.map((i) => data.labels[i]));
  const { weights } = trainStep(spec, weightsFromFloat(spec, initialWeights(spec, 7)), q.X, q.y);
  return { spec, weights };
}

/** What a ceremony:init + one contribution write to transcript.json (shape of src/zk/ceremony.ts). */
function transcriptBytes(): Uint8Array {
  const t: Transcript = {
    format: "flavum-ceremony/1",
    createdAt: "2025-01-01T00:00:00.000Z",
    circuit: { base: "train_mlp", sourceHash: "ab".repeat(32), r1cs: "circuit/train_mlp.r1cs", r1csSha256: "cd".repeat(32), constraints: 123456 },
    ptau: { file: "pot16.ptau", power: 16, bytes: 75_000_000, blake2b: "ef".repeat(64), hermezPower: null },
    chain: [],
  };
  return utf8(JSON.stringify(t, null, 2));
}

describe("repository objects over IPFS (two in-process Helia nodes over 127.0.0.1)", function () {
  this.timeout(120_000);
  const nodes: IpfsNode[] = [];
  const start = async () => {
    const n = await startIpfsNode();
    nodes.push(n);
    return n;
  };
  let a: IpfsNode;
  let b: IpfsNode;
  let spec: TrainingSpec;
  let weights: bigint[];
  let weightsHash: bigint;
  const transcript = transcriptBytes();

  before(async () => {
    ({ spec, weights } = trainedCommit());
    weightsHash = await commitWeights(spec, weights);
    a = await start();
    b = await start();
    await connect(b, a);
  });

  after(async () => {
    await Promise.all(nodes.map((n) => stopIpfsNode(n)));
  });

  /** A manifest built by hand (as a hostile or buggy peer would), published on A. */
  const publishManifest = (m: Record<string, unknown>) => publishBlock(a, utf8(canonicalJson(m)), { maxBytes: MAX_MANIFEST_BYTES });

  it("A publishes a trained commit's objects; B fetches them by CID over bitswap and gets A's input exactly", async () => {
    expect(weights.some((w) => w < 0n) && weights.some((w) => w > 0n)).to.equal(true);
    const t0 = performance.now();
    const pub = await publishCommitObjects(a, { spec, weights, transcript });
    const t1 = performance.now();
    expect(pub.weightsHash).to.equal(weightsHash);
    for (const c of [pub.cid, pub.specCid, pub.weightsCid, pub.transcriptCid!]) {
      expect(c).to.match(/^bafkrei[a-z2-7]{52}$/);
      expect(await holdsBlock(b, c)).to.equal(false);
    }
    const got = await fetchCommitObjects(b, pub.cid, { expectedWeightsHash: weightsHash, timeoutMs: 10_000, pin: true });
    const t2 = performance.now();
    expect(got.spec).to.deep.equal(spec);
    expect(got.weights).to.deep.equal(weights);
    expect(Buffer.from(got.transcript!).equals(Buffer.from(transcript))).to.equal(true);
    expect(got.weightsHash).to.equal(weightsHash);
    for (const c of [pub.cid, pub.specCid, pub.weightsCid, pub.transcriptCid!]) expect(await holdsBlock(b, c)).to.equal(true);

    // the manifest links exactly what was published, and says how the weights are encoded
    const manifest = JSON.parse(text(await fetchBlock(b, pub.cid, { timeoutMs: 1000 })));
    expect(manifest).to.deep.equal({
      format: MANIFEST_FORMAT,
      spec: { cid: pub.specCid, size: canonicalJson(spec).length },
      weights: { cid: pub.weightsCid, size: paramCount(spec) * 3, encoding: "int24be" },
      transcript: { cid: pub.transcriptCid, size: transcript.length },
      weightsHash: weightsHash.toString(),
    });
    console.log(
      `      ${paramCount(spec)} weights (${paramCount(spec) * 3} B), spec ${canonicalJson(spec).length} B, transcript ${transcript.length} B: ` +
        `publish ${(t1 - t0).toFixed(1)} ms, fetch + verify on B ${(t2 - t1).toFixed(1)} ms`,
    );

    // without a transcript, the other way round (B → A)
    const back = await publishCommitObjects(b, { spec, weights });
    expect(back.transcriptCid).to.equal(undefined);
    const got2 = await fetchCommitObjects(a, back.cid, { expectedWeightsHash: "0x" + weightsHash.toString(16), timeoutMs: 10_000 });
    expect(got2).to.deep.equal({ spec, weights, weightsHash });
  });

  it("a repository's own spec text travels byte for byte, checked against its sha256 (the on-chain architectureHash); CIDs are known offline", async () => {
    const specText = JSON.stringify(spec); // the object store's form, not canonical
    const offline = await commitObjectBlocks({ spec, weights, specText });
    const pub = await publishCommitObjects(a, { spec, weights, specText });
    expect(offline.published).to.deep.equal(pub);
    const archHash = "0x" + require("crypto").createHash("sha256").update(specText).digest("hex");
    const got = await fetchCommitObjects(b, pub.cid, { expectedWeightsHash: weightsHash, expectedSpecHash: archHash, timeoutMs: 10_000 });
    expect(got.spec).to.deep.equal(spec);
    // Another repository's spec hash: refused, naming both.
    await expect(fetchCommitObjects(b, pub.cid, { expectedSpecHash: "0x" + "11".repeat(32), timeoutMs: 10_000 })).to.be.rejectedWith(/hashes to 0x[0-9a-f]{64}, but the repository's architectureHash is 0x1111/);
    // Without the chain's hash, a non-canonical spec block is refused.
    await expect(fetchCommitObjects(b, pub.cid, { timeoutMs: 10_000 })).to.be.rejectedWith(/not canonical JSON/);
    // A spec text that is not the spec's JSON is refused before anything is stored.
    await expect(commitObjectBlocks({ spec, weights, specText: JSON.stringify({ ...spec, lr: 0.125 }) })).to.be.rejectedWith(/specText is not the JSON of the spec/);
  });

  it("the same content always gives the same CIDs, on any node and whatever the spec's key order", async () => {
    const first = await publishCommitObjects(a, { spec, weights, transcript });
    expect(await publishCommitObjects(a, { spec, weights, transcript })).to.deep.equal(first);
    const c = await start(); // a node that never saw the commit
    expect(await publishCommitObjects(c, { spec, weights, transcript })).to.deep.equal(first);
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as unknown as TrainingSpec;
    expect(await publishCommitObjects(c, { spec: reordered, weights: [...weights], transcript: Uint8Array.from(transcript) })).to.deep.equal(first);
    await stopIpfsNode(c);

    // computable without a node: raw sha2-256 CIDv1s of the canonical bytes
    expect(first.specCid).to.equal(rawBlockCid(utf8(canonicalJson(spec))));
    expect(first.weightsCid).to.equal(rawBlockCid(encodeWeights(spec, weights)));
    expect(first.transcriptCid).to.equal(rawBlockCid(transcript));

    // and different content, different CIDs
    const w2 = [...weights];
    w2[0] += 1n;
    const other = await publishCommitObjects(a, { spec, weights: w2, transcript });
    expect(other.cid).to.not.equal(first.cid);
    expect(other.weightsCid).to.not.equal(first.weightsCid);
    expect(other.specCid).to.equal(first.specCid);
    expect((await publishCommitObjects(a, { spec, weights })).cid).to.not.equal(first.cid);
  });

  it("refuses a manifest whose weightsHash the weights do not open, naming both values", async () => {
    const pub = await publishCommitObjects(a, { spec, weights });
    const tampered = [...weights];
    tampered[5] -= 3n;
    const bytes = encodeWeights(spec, tampered);
    const wcid = await publishBlock(a, bytes);
    const cid = await publishManifest({
      format: MANIFEST_FORMAT,
      spec: { cid: pub.specCid, size: canonicalJson(spec).length },
      weights: { cid: wcid, size: bytes.length, encoding: weightsEncoding(spec) },
      weightsHash: weightsHash.toString(),
    });
    const err = await rejects(fetchCommitObjects(b, cid, { timeoutMs: 10_000 }));
    expect(err.code).to.equal("WEIGHTS_HASH_MISMATCH");
    expect(err.message).to.contain(cid).and.contain(String(await commitWeights(spec, tampered))).and.contain(String(weightsHash));
  });

  it("refuses a commit whose weights hash differs from the on-chain expectedWeightsHash, naming both", async () => {
    const w2 = [...weights];
    w2[1] += 1n;
    const pub = await publishCommitObjects(a, { spec, weights: w2 });
    const err = await rejects(fetchCommitObjects(b, pub.cid, { expectedWeightsHash: weightsHash, timeoutMs: 10_000 }));
    expect(err.code).to.equal("WEIGHTS_HASH_MISMATCH");
    expect(err.message).to.contain(String(pub.weightsHash)).and.contain(String(weightsHash)).and.contain("commit being pulled");
    expect(await holdsBlock(b, pub.weightsCid)).to.equal(false); // refused before fetching the weights
    expect((await rejects(fetchCommitObjects(b, pub.cid, { expectedWeightsHash: "12abc" }))).message).to.match(/not a field element/);
  });

  it("a CID nobody holds fails within the timeout with an error naming it (manifest or part)", async () => {
    const missing = rawBlockCid(utf8("no peer holds this block"));
    let t0 = Date.now();
    let err = await rejects(fetchCommitObjects(b, missing, { timeoutMs: 1500 }));
    let elapsed = Date.now() - t0;
    expect(err.code).to.equal("MANIFEST_UNAVAILABLE");
    expect(err.message).to.contain(missing).and.contain("not found within").and.contain("1 connected peer");
    expect(elapsed).to.be.at.least(1400).and.below(3000);

    // a manifest whose weights block nobody has: the whole fetch still ends at the timeout
    const pub = await publishCommitObjects(a, { spec, weights });
    const size = paramCount(spec) * 3;
    const cid = await publishManifest({
      format: MANIFEST_FORMAT,
      spec: { cid: pub.specCid, size: canonicalJson(spec).length },
      weights: { cid: missing, size, encoding: "int24be" },
      weightsHash: weightsHash.toString(),
    });
    t0 = Date.now();
    err = await rejects(fetchCommitObjects(b, cid, { timeoutMs: 1500 }));
    elapsed = Date.now() - t0;
    expect(err.code).to.equal("OBJECT_UNAVAILABLE");
    expect(err.message).to.contain(`commit ${cid}`).and.contain(`weights ${missing} was not found`);
    expect(elapsed).to.be.below(3000);
  });

  it("refuses oversized objects and manifests, published or received", async () => {
    // publishing: nothing is stored when one part is too large
    const big = new Uint8Array(MAX_OBJECT_BYTES + 1);
    const err = await rejects(publishCommitObjects(a, { spec, weights, transcript: big }));
    expect(err.code).to.equal("OBJECT_TOO_LARGE");
    expect(err.message).to.contain(`at most ${MAX_OBJECT_BYTES} bytes`);

    const pub = await publishCommitObjects(a, { spec, weights });
    const base = {
      format: MANIFEST_FORMAT,
      spec: { cid: pub.specCid, size: canonicalJson(spec).length },
      weights: { cid: pub.weightsCid, size: paramCount(spec) * 3, encoding: "int24be" },
      weightsHash: weightsHash.toString(),
    };
    // a peer serving a transcript larger than its manifest declares (here, above the object limit)
    const hostile = await publishBlock(a, big, { maxBytes: big.length });
    let cid = await publishManifest({ ...base, transcript: { cid: hostile, size: MAX_OBJECT_BYTES } });
    let e = await rejects(fetchCommitObjects(b, cid, { timeoutMs: 10_000 }));
    expect(e.code).to.equal("OBJECT_TOO_LARGE");
    expect(e.message).to.contain(hostile).and.contain(`larger than the ${MAX_OBJECT_BYTES} bytes allowed`);
    // ... or a few bytes declared and more sent
    cid = await publishManifest({ ...base, transcript: { cid: rawBlockCid(transcript), size: 10 } });
    await publishBlock(a, transcript);
    e = await rejects(fetchCommitObjects(b, cid, { timeoutMs: 10_000 }));
    expect(e.code).to.equal("OBJECT_TOO_LARGE");
    expect(e.message).to.contain("larger than the 10 bytes allowed");
    // a declared size above the limit is refused before anything but the manifest is fetched
    cid = await publishManifest({ ...base, transcript: { cid: hostile, size: MAX_OBJECT_BYTES + 1 } });
    e = await rejects(fetchCommitObjects(b, cid, { timeoutMs: 10_000 }));
    expect(e.code).to.equal("OBJECT_TOO_LARGE");
    expect(e.message).to.contain(`declares ${MAX_OBJECT_BYTES + 1} bytes`);
    // a "manifest" above the manifest limit
    const fat = await publishBlock(a, utf8(canonicalJson({ ...base, padding: "x".repeat(MAX_MANIFEST_BYTES) })));
    e = await rejects(fetchCommitObjects(b, fat, { timeoutMs: 10_000 }));
    expect(e.code).to.equal("MANIFEST_TOO_LARGE");
    expect(e.message).to.contain(fat).and.contain(`${MAX_MANIFEST_BYTES} bytes allowed`);
  });

  it("refuses manifests that are not canonical, have unknown fields, or links of the wrong kind or size", async () => {
    const pub = await publishCommitObjects(a, { spec, weights });
    const base = {
      format: MANIFEST_FORMAT,
      spec: { cid: pub.specCid, size: canonicalJson(spec).length },
      weights: { cid: pub.weightsCid, size: paramCount(spec) * 3, encoding: "int24be" },
      weightsHash: weightsHash.toString(),
    };
    const refusedWith = async (bytes: Uint8Array, re: RegExp) => {
      const cid = await publishBlock(a, bytes);
      const e = await rejects(fetchCommitObjects(b, cid, { timeoutMs: 10_000 }));
      expect(e.message, e.message).to.match(re);
      expect(e.message).to.contain(cid);
    };
    await refusedWith(utf8(JSON.stringify(base, null, 1)), /not canonical JSON/);
    await refusedWith(utf8("\ufeff" + canonicalJson(base)), /not UTF-8 JSON/); // JSON.parse refuses a BOM
    await refusedWith(Uint8Array.of(0xff, 0xfe), /not UTF-8 JSON/);
    await refusedWith(utf8(canonicalJson({ ...base, extra: 1 })), /unknown field "extra"/);
    await refusedWith(utf8(canonicalJson({ ...base, format: "other/1" })), /format/);
    await refusedWith(utf8(canonicalJson({ ...base, weightsHash: "0x1" })), /not a decimal string/);
    await refusedWith(
      utf8(canonicalJson({ ...base, spec: { cid: "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", size: 10 } })),
      /not a training spec CID/,
    );
    await refusedWith(utf8(canonicalJson({ ...base, weights: { ...base.weights, encoding: "decimal-json" } })), /needs int24be/);
    await refusedWith(utf8(canonicalJson({ ...base, weights: { ...base.weights, size: 6 } })), /declares 6 bytes of weights/);
    await refusedWith(utf8(canonicalJson({ ...base, spec: { ...base.spec, size: base.spec.size + 1 } })), /manifest declares/);
    // a spec block that is not a valid spec
    const badSpec = utf8(canonicalJson({ ...spec, n: 3 }));
    const sc = await publishBlock(a, badSpec);
    await refusedWith(utf8(canonicalJson({ ...base, spec: { cid: sc, size: badSpec.length } })), /n \(batch size\) must be a power of two/);
  });

  it("weights encoding: fixed-width two's complement, one encoding per vector", () => {
    for (const bw of [8, 18, 64]) {
      const s = trainingSpec({ kind: "logistic", d: 3, bw, sw: Math.min(12, bw - 2) });
      const lo = -(1n << BigInt(bw - 1));
      const w = [lo, lo + 1n, -1n, -lo - 1n]; // both extremes, and -1 (all ones)
      const bytes = encodeWeights(s, w);
      expect(bytes.length).to.equal(4 * Math.ceil(bw / 8));
      expect(decodeWeights(s, bytes)).to.deep.equal(w);
    }
    const s = trainingSpec({ kind: "logistic", d: 1 }); // bw 18 in 3 bytes
    expect(Buffer.from(encodeWeights(s, [-1n, 2n])).toString("hex")).to.equal("ffffff000002");
    // 2^17 fits 24 bits but not bw=18: a second encoding of nothing, refused
    expect(() => decodeWeights(s, Uint8Array.of(0x02, 0x00, 0x00, 0, 0, 0))).to.throw(FlavumError, /does not fit 18 signed bits/);
    expect(() => decodeWeights(s, Uint8Array.of(0, 0, 0))).to.throw(FlavumError, /3 bytes, but 2 weights/);
  });

  it("commit URIs are exactly ipfs://<manifest CID>", async () => {
    const { cid } = await publishCommitObjects(a, { spec, weights });
    expect(commitUri(cid)).to.equal(`ipfs://${cid}`);
    expect(cidFromCommitUri(commitUri(cid))).to.equal(cid);
    expect(() => cidFromCommitUri(`flavum://objects/${"ab".repeat(32)}`)).to.throw(FlavumError, /not a commit objects URI/);
    expect(() => cidFromCommitUri(`ipfs://${cid}/weights`)).to.throw(FlavumError, /path, query or fragment/);
    expect(() => cidFromCommitUri("ipfs://QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG")).to.throw(FlavumError, /base32 CIDv1/);
    expect(() => cidFromCommitUri(`IPFS://${cid}`)).to.throw(FlavumError, /not a commit objects URI/);
    expect(() => commitUri("bafkreiXX")).to.throw(FlavumError, /base32/);
  });
});
