/**
 * The EIP-4844 blob trace store (src/traceStore/blob.ts) with real KZG (kzg-wasm) and real type-3
 * transactions on Hardhat's in-process network: the canonical blob layout round-trips (fast-check),
 * BlobProbe's BLOBHASH record equals the versioned hash computed off chain, a tampered sidecar and an
 * over-size trace are refused with their reasons, and the gas of a blob post is measured and printed.
 *
 * Needs the Hardhat network at Cancun or later (Hardhat 2.29's default is Osaka, and hardhat.config.ts
 * sets none) and solc evmVersion cancun or later for BLOBHASH (hardhat.config.ts has cancun).
 */
import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { BaseContract, BaseWallet, Interface, Transaction, Wallet, getBytes, hexlify, sha256 } from "ethers";
import {
  BYTES_PER_BLOB, BlobKzg, BlobSidecar, GAS_PER_BLOB, MAX_BLOBS_PER_TX, PAYLOAD_BYTES_PER_BLOB, blobCapacity, blobsNeeded,
  buildSidecar, decodeBlobs, encodeBlobs, fetchBlobTrace, loadKzg, sendBlobTx, traceSidecar, versionedHash, verifyBlobs,
} from "../../src/traceStore/blob";
import { FIELD_P, TraceItem, decodeTrace, encodeTrace } from "../../src/protocol/traceBinding";
import { FlavumError } from "../../src/errors";

/** Execution gas limit for calls that read BLOBHASH: Hardhat's eth_estimateGas runs them without blobs. */
const GAS = 200_000n;

const PRE_CANCUN = new Set([
  "chainstart", "homestead", "dao", "tangerineWhistle", "spuriousDragon", "byzantium", "constantinople", "petersburg",
  "istanbul", "muirGlacier", "berlin", "london", "arrowGlacier", "grayGlacier", "merge", "shanghai",
]);

/** Deterministic pseudo-random bytes (xorshift32), so big arrays don't go through fast-check's shrinker. */
function bytesFrom(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** `n` trace entries with 1-byte output words: 8 + 32 + 1 = 41 bytes each. */
function entries41(n: number, seed = 1): TraceItem[] {
  return Array.from({ length: n }, (_, i) => ({
    requestId: BigInt(seed) * 1_000_000n + BigInt(i + 1),
    inputHash: BigInt(sha256(new Uint8Array([seed & 0xff, i & 0xff, i >> 8]))) % FIELD_P,
    outputWord: BigInt((i * 7 + seed) % 256),
  }));
}

function expectFlavumError(f: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a FlavumError matching ${pattern}`).to.be.instanceOf(FlavumError);
  expect((err as Error).message).to.match(pattern);
}

async function expectFlavumRejection(p: Promise<unknown>, pattern: RegExp): Promise<FlavumError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected a FlavumError matching ${pattern}`).to.be.instanceOf(FlavumError);
  expect((err as Error).message).to.match(pattern);
  return err as FlavumError;
}

describe("blob trace store (EIP-4844)", function () {
  describe("canonical blob layout", () => {
    it("says its capacity: 31 payload bytes per 32-byte element, less a 4-byte length prefix", () => {
      expect(PAYLOAD_BYTES_PER_BLOB).to.equal(4096 * 31);
      expect(blobCapacity(1)).to.equal(126972);
      expect(blobCapacity()).to.equal(MAX_BLOBS_PER_TX * 126976 - 4);
      expect(blobCapacity()).to.equal(761852);
      expect(blobsNeeded(0)).to.equal(1);
      expect(blobsNeeded(126972)).to.equal(1);
      expect(blobsNeeded(126973)).to.equal(2);
      // 41-byte entries (1-byte words): one blob takes 3096 of them, six take 18581.
      expect(Math.floor((blobCapacity(1) - 1) / 41)).to.equal(3096);
      expect(Math.floor((blobCapacity() - 1) / 41)).to.equal(18581);
    });

    it("round-trips random compact traces through blobs (fast-check)", () => {
      const item = (w: number) =>
        fc.record({
          requestId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          inputHash: fc.bigInt({ min: 0n, max: FIELD_P - 1n }),
          outputWord: fc.bigInt({ min: 0n, max: (1n << BigInt(8 * w)) - 1n }),
        });
      const trace = fc.integer({ min: 1, max: 31 }).chain((w) => fc.tuple(fc.constant(w), fc.array(item(w), { maxLength: 80 })));
      fc.assert(
        fc.property(trace, ([w, items]) => {
          const bytes = encodeTrace(items, w);
          const blobs = encodeBlobs(bytes);
          expect(blobs).to.have.length(1);
          expect(blobs[0].length).to.equal(BYTES_PER_BLOB);
          for (let e = 0; e < 4096; e++) if (blobs[0][e * 32] !== 0) throw new Error(`element ${e} not canonical`);
          const back = decodeTrace(decodeBlobs(blobs));
          expect(back.wordBytes).to.equal(w);
          expect(back.items).to.deep.equal(items);
        }),
        { numRuns: 60 },
      );
    });

    it("round-trips byte strings of any length up to six blobs, across blob boundaries (fast-check)", () => {
      const cap = blobCapacity();
      const length = fc.oneof(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 126972 - 40, max: 126972 + 40 }),
        fc.integer({ min: 2 * 126976 - 40, max: 2 * 126976 + 40 }),
        fc.integer({ min: cap - 40, max: cap }),
        fc.integer({ min: 0, max: cap }),
      );
      fc.assert(
        fc.property(length, fc.integer(), (len, seed) => {
          const data = bytesFrom(seed, len);
          const blobs = encodeBlobs(data);
          expect(blobs).to.have.length(blobsNeeded(len));
          for (const b of blobs) for (let e = 0; e < 4096; e++) if (b[e * 32] !== 0) throw new Error(`element ${e} not canonical`);
          const back = decodeBlobs(blobs);
          expect(back.length).to.equal(len);
          expect(Buffer.from(back).equals(Buffer.from(data))).to.equal(true);
        }),
        { numRuns: 40 },
      );
    });

    it("refuses an over-size trace, saying how much fits", () => {
      expectFlavumError(() => encodeBlobs(new Uint8Array(761853)), /a trace of 761853 bytes does not fit 6 blobs: they hold 761852 bytes \(126976 payload bytes per 131072-byte blob, less the 4-byte length prefix\)/);
      expectFlavumError(() => encodeBlobs(new Uint8Array(126973), { maxBlobs: 1 }), /does not fit 1 blob: they hold 126972 bytes/);
      // 18582 entries of 41 bytes is one entry too many for six blobs.
      const tooMany = new Uint8Array(1 + 18582 * 41);
      tooMany[0] = 1;
      expectFlavumError(() => encodeBlobs(tooMany), /does not fit 6 blobs/);
      expect(encodeBlobs(tooMany.subarray(0, 1 + 18581 * 41))).to.have.length(6);
    });

    it("refuses non-canonical blobs: nonzero top byte, extra blob, nonzero padding, oversize length", () => {
      const blobs = encodeBlobs(encodeTrace(entries41(3), 1));
      const topByte = blobs.map((b) => b.slice());
      topByte[0][32 * 100] = 1;
      expectFlavumError(() => decodeBlobs(topByte), /blob 0, field element 100: its first byte is 0x01, not 0x00/);
      expectFlavumError(() => decodeBlobs([...blobs, new Uint8Array(BYTES_PER_BLOB)]), /takes 1 blob\(s\), but 2 were given/);
      const padded = blobs.map((b) => b.slice());
      padded[0][32 * 4000 + 5] = 9;
      expectFlavumError(() => decodeBlobs(padded), /nonzero padding/);
      const longLen = blobs.map((b) => b.slice());
      longLen[0][1] = 0xff; // the length prefix's top byte
      expectFlavumError(() => decodeBlobs(longLen), /length prefix says \d+ bytes, more than 1 blob/);
      expectFlavumError(() => decodeBlobs([new Uint8Array(100)]), /blob 0 has 100 bytes, not 131072/);
      expectFlavumError(() => decodeBlobs([]), /no blobs to decode/);
    });
  });

  describe("KZG and a real type-3 transaction on the Hardhat network", function () {
    let kzg: BlobKzg;
    let wallet: BaseWallet;
    let probeAddress: string;
    const probeIface = new Interface([
      "function record(uint256 index)",
      "function recorded(uint256 index) view returns (bytes32)",
      "event BlobHashRecorded(address indexed recorder, uint256 indexed index, bytes32 versionedHash)",
      "error BlobProbeNoBlobAt(uint256 index, uint256 blobCount)",
    ]);
    const provider = () => hre.network.provider;

    async function deployProbe(): Promise<string> {
      const F = await hre.ethers.getContractFactory("BlobProbe");
      const c = await F.deploy();
      await c.waitForDeployment();
      return c.getAddress();
    }

    async function recordedAt(address: string, index: number): Promise<string> {
      const out = (await provider().request({
        method: "eth_call",
        params: [{ to: address, data: probeIface.encodeFunctionData("recorded", [index]) }, "latest"],
      })) as string;
      return probeIface.decodeFunctionResult("recorded", out)[0] as string;
    }

    before(async function () {
      if (hre.network.name !== "hardhat") this.skip();
      const fork = (hre.network.config as { hardfork?: string }).hardfork ?? "";
      if (PRE_CANCUN.has(fork))
        throw new Error(
          `the Hardhat network is at hardfork "${fork}": blob transactions need Cancun or later; ` +
            `set networks.hardhat.hardfork to "cancun" (or later) in hardhat.config.ts`,
        );
      kzg = await loadKzg();
      wallet = Wallet.createRandom();
      await provider().request({ method: "hardhat_setBalance", params: [wallet.address, "0x56bc75e2d63100000"] }); // 100 ETH
      probeAddress = await deployProbe();
    });

    it("computes the versioned hash as 0x01 ‖ sha256(commitment)[1:], as ethers and the chain do", async () => {
      // The zero blob commits to the point at infinity: 0xc0 then 47 zero bytes.
      const zero = new Uint8Array(BYTES_PER_BLOB);
      const c0 = kzg.blobToKzgCommitment(zero);
      expect(hexlify(c0)).to.equal("0xc0" + "00".repeat(47));
      expect(versionedHash(c0)).to.equal("0x01" + sha256(c0).slice(4));
      // ethers derives the versioned hashes of a type-3 transaction itself, from the same KZG library.
      const sidecar = await traceSidecar(encodeTrace(entries41(5), 1), { kzg });
      const tx = Transaction.from({ type: 3, chainId: 1n, nonce: 0, gasLimit: 21000n, to: wallet.address, maxFeePerGas: 1n, maxFeePerBlobGas: 1n });
      tx.kzg = kzg;
      tx.blobs = sidecar.blobs;
      expect(tx.blobVersionedHashes).to.deep.equal(sidecar.versionedHashes);
      expect(kzg.verifyBlobKzgProof(getBytes(sidecar.blobs[0]), getBytes(sidecar.commitments[0]), getBytes(sidecar.proofs[0]))).to.equal(true);
    });

    it("records on chain (BLOBHASH) exactly the versioned hash computed off chain, and the trace comes back from the published sidecar", async () => {
      const items = entries41(16, 2);
      const bytes = encodeTrace(items, 1);
      const sent = await sendBlobTx({
        wallet, provider: provider(), to: probeAddress, data: probeIface.encodeFunctionData("record", [0]), blobs: encodeBlobs(bytes), gasLimit: GAS, kzg,
      });
      expect(sent.versionedHashes).to.have.length(1);
      const computed = versionedHash(kzg.blobToKzgCommitment(encodeBlobs(bytes)[0]));
      expect(sent.versionedHashes[0]).to.equal(computed);
      // What the contract stored and emitted.
      const stored = await recordedAt(probeAddress, 0);
      expect(stored).to.equal(computed);
      const log = sent.receipt.logs.map((l) => probeIface.parseLog(l)).find((l) => l?.name === "BlobHashRecorded");
      expect(log?.args.versionedHash).to.equal(computed);
      expect(log?.args.recorder).to.equal(wallet.address);
      // What the node tells about the transaction: the hashes, and no blob data.
      const tx = (await provider().request({ method: "eth_getTransactionByHash", params: [sent.hash] })) as Record<string, unknown>;
      expect(tx.type).to.equal("0x3");
      expect(tx.blobVersionedHashes).to.deep.equal([computed]);
      expect(Object.keys(tx).filter((k) => /^(blobs?|sidecar|commitments?|proofs?)$/i.test(k))).to.deep.equal([]);
      // A verifier with the published sidecar (JSON) rebuilds the entries, checked against the record.
      const published: BlobSidecar = JSON.parse(JSON.stringify(sent.sidecar));
      const back = await fetchBlobTrace({ provider: provider(), txHash: sent.hash, sidecar: published, expectedVersionedHashes: [stored], kzg });
      expect(back.wordBytes).to.equal(1);
      expect(back.items).to.deep.equal(items);
      expect(Buffer.from(back.bytes).equals(Buffer.from(bytes))).to.equal(true);
      // Raw blobs from some other source work the same way.
      const viaSource = await fetchBlobTrace({ provider: provider(), txHash: sent.hash, blobSource: async () => published.blobs, kzg });
      expect(viaSource.items).to.deep.equal(items);
      // Without a sidecar there is nothing to fetch from the node.
      await expectFlavumRejection(fetchBlobTrace({ provider: provider(), txHash: sent.hash, kzg }), /execution nodes serve no blob data/);
    });

    it("spans blobs: a two-blob trace, blob 1 recorded, read back whole", async () => {
      const items = entries41(3200, 3); // 1 + 3200·41 = 131201 bytes > 126972
      const bytes = encodeTrace(items, 1);
      const blobs = encodeBlobs(bytes);
      expect(blobs).to.have.length(2);
      const sent = await sendBlobTx({
        wallet, provider: provider(), to: probeAddress, data: probeIface.encodeFunctionData("record", [1]), blobs, gasLimit: GAS, kzg,
      });
      expect(await recordedAt(probeAddress, 1)).to.equal(sent.versionedHashes[1]);
      expect(sent.blobGasUsed).to.equal(2n * GAS_PER_BLOB);
      const back = await fetchBlobTrace({ provider: provider(), txHash: sent.hash, sidecar: sent.sidecar, kzg });
      expect(back.items).to.deep.equal(items);
    });

    it("detects a tampered sidecar, even one rebuilt with consistent commitments and proofs", async () => {
      const items = entries41(16, 4);
      const sent = await sendBlobTx({
        wallet, provider: provider(), to: probeAddress, data: probeIface.encodeFunctionData("record", [0]), blobs: encodeBlobs(encodeTrace(items, 1)), gasLimit: GAS, kzg,
      });
      const onChain = [await recordedAt(probeAddress, 0)];
      // One output word changed in the published blob (entry 0's word: stream byte 4 + 1 + 40 → element 1, byte 15).
      const flipped = getBytes(sent.sidecar.blobs[0]).slice();
      flipped[32 + 15] ^= 0x01;
      const tampered: BlobSidecar = { ...sent.sidecar, blobs: [hexlify(flipped)] };
      await expectFlavumRejection(
        fetchBlobTrace({ provider: provider(), txHash: sent.hash, sidecar: tampered, expectedVersionedHashes: onChain, kzg }),
        /blob 0 does not match the chain: its versioned hash is 0x01[0-9a-f]{62}, but the transaction recorded 0x01[0-9a-f]{62}/,
      );
      // A forger who rebuilds the whole sidecar for other entries is caught the same way.
      const forged = await traceSidecar(encodeTrace([{ ...items[0], outputWord: 255n }, ...items.slice(1)], 1), { kzg });
      await expectFlavumRejection(fetchBlobTrace({ provider: provider(), txHash: sent.hash, sidecar: forged, kzg }), /blob 0 does not match the chain/);
      // A right blob with a wrong commitment or proof beside it, a missing blob, a wrong record.
      const other = await traceSidecar(encodeTrace(entries41(2, 9), 1), { kzg });
      await expectFlavumRejection(verifyBlobs({ ...sent.sidecar, commitments: other.commitments }, onChain, kzg), /sidecar commitment 0 is not the commitment of blob 0/);
      await expectFlavumRejection(verifyBlobs({ ...sent.sidecar, proofs: other.proofs }, onChain, kzg), /sidecar proof 0 does not verify/);
      await expectFlavumRejection(verifyBlobs([], onChain, kzg), /0 blob\(s\) were given but the transaction carries 1/);
      await expectFlavumRejection(
        fetchBlobTrace({ provider: provider(), txHash: sent.hash, sidecar: sent.sidecar, expectedVersionedHashes: other.versionedHashes, kzg }),
        /carries versioned hashes .* not the expected/,
      );
      // The node itself checks the sidecar's KZG proofs when it takes the transaction.
      const refused = await expectFlavumRejection(
        sendBlobTx({ wallet, provider: provider(), to: probeAddress, data: probeIface.encodeFunctionData("record", [0]), blobs: tampered, gasLimit: GAS }),
        /the node refused the blob transaction/,
      );
      expect(refused.code).to.equal("BLOB_TX_REFUSED");
    });

    it("BlobProbe reverts with BlobProbeNoBlobAt when the transaction has no such blob", async () => {
      const probe = new BaseContract(probeAddress, probeIface, (await hre.ethers.getSigners())[0]);
      await expect(probe.getFunction("record")(0)).to.be.revertedWithCustomError(probe, "BlobProbeNoBlobAt").withArgs(0, 0);
      // With a gas limit the transaction is mined and reverts: record(1) in a one-blob transaction.
      const one = encodeBlobs(new Uint8Array([1]));
      const reverted = await expectFlavumRejection(
        sendBlobTx({ wallet, provider: provider(), to: probeAddress, data: probeIface.encodeFunctionData("record", [1]), blobs: one, gasLimit: GAS, kzg }),
        /blob transaction 0x[0-9a-f]{64} reverted in block \d+: .*BlobProbeNoBlobAt\(1, 1\)/,
      );
      expect(reverted.code).to.equal("BLOB_TX_REVERTED");
      // Without one, sendBlobTx estimates, and Hardhat's network estimates without the blobs: BLOBHASH reads zero.
      const estimate = await expectFlavumRejection(
        sendBlobTx({ wallet, provider: provider(), to: probeAddress, data: probeIface.encodeFunctionData("record", [0]), blobs: one, kzg }),
        /eth_estimateGas for the blob transaction .*BlobProbeNoBlobAt\(0, 0\).* pass gasLimit/,
      );
      expect(estimate.code).to.equal("BLOB_TX_ESTIMATE");
      // A call that does not read BLOBHASH is estimated as usual.
      const plain = await sendBlobTx({ wallet, provider: provider(), to: wallet.address, blobs: one, kzg });
      expect(plain.gasUsed).to.equal(21000n);
    });

    it("refuses to send without a blob-capable signer setup or with too many blobs", async () => {
      await expectFlavumRejection(sendBlobTx({ provider: provider(), to: probeAddress, blobs: [] }), /exactly one of wallet and privateKey/);
      const sidecar = await buildSidecar([new Uint8Array(BYTES_PER_BLOB)], kzg);
      const many: BlobSidecar = {
        blobs: Array(7).fill(sidecar.blobs[0]), commitments: Array(7).fill(sidecar.commitments[0]),
        proofs: Array(7).fill(sidecar.proofs[0]), versionedHashes: Array(7).fill(sidecar.versionedHashes[0]),
      };
      await expectFlavumRejection(sendBlobTx({ wallet, provider: provider(), to: probeAddress, blobs: many }), /carries 1\.\.6 blobs, got 7/);
    });

    it("measures the gas of posting 16 and 32 entries (41 bytes each) in a blob, against calldata", async () => {
      const rows: Record<string, string | number>[] = [];
      for (const n of [16, 32]) {
        const bytes = encodeTrace(entries41(n, 10 + n), 1);
        expect(bytes.length).to.equal(1 + 41 * n);
        const probe = await deployProbe(); // a fresh probe: record(0) writes a fresh slot every time
        const blobBaseFee = BigInt((await provider().request({ method: "eth_blobBaseFee", params: [] })) as string);
        const sent = await sendBlobTx({ wallet, provider: provider(), to: probe, data: probeIface.encodeFunctionData("record", [0]), blobs: encodeBlobs(bytes), gasLimit: GAS, kzg });
        const block = (await provider().request({ method: "eth_getBlockByNumber", params: [sent.receipt.blockNumber, false] })) as {
          blobGasUsed: string; transactions: string[];
        };
        expect(block.transactions).to.deep.equal([sent.hash]);
        expect(BigInt(block.blobGasUsed)).to.equal(sent.blobGasUsed); // the block header agrees with GAS_PER_BLOB × blobs
        expect(sent.blobGasUsed).to.equal(GAS_PER_BLOB);
        // For comparison: the same bytes as calldata of a plain transfer (the calldata mode's posting cost, no execution).
        const [signer] = await hre.ethers.getSigners();
        const plain = await (await signer.sendTransaction({ to: wallet.address, data: hexlify(bytes) })).wait();
        rows.push({
          entries: n,
          traceBytes: bytes.length,
          blobs: sent.versionedHashes.length,
          blobTxExecutionGas: Number(sent.gasUsed),
          blobGasUsed: Number(sent.blobGasUsed),
          blobBaseFeeWei: Number(blobBaseFee),
          blobFeeWei: Number(sent.blobGasUsed * (sent.blobGasPrice ?? blobBaseFee)),
          calldataOnlyTxGas: Number(plain!.gasUsed),
        });
      }
      console.log("      blob trace post gas (BlobProbe.record(0) with the trace in blob 0; calldata column: same bytes sent as calldata to an EOA)");
      console.table(rows);
      // Execution gas does not grow with the trace: the bytes live in the blob.
      expect(rows[0].blobTxExecutionGas).to.equal(rows[1].blobTxExecutionGas);
    });
  });
});
