import { expect } from "chai";
import hre from "hardhat";
import { concat, keccak256, Signature, toBeHex, toUtf8Bytes, TypedDataEncoder, Wallet } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import {
  AvailabilityStatement,
  availabilityHash,
  dacDomain,
  DacSignature,
  decodeSignatures,
  encodeSignatures,
  recoverAvailabilitySigner,
  signAvailability,
} from "../../src/traceStore/dac";
import { cidDigest, traceCid } from "../../src/traceStore/ipfs";
import type { DacHarness } from "../../typechain-types";

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const byAddress = (x: { address: string }, y: { address: string }) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1);

describe("DacAttestation (k-of-n EIP-712 committee signatures)", function () {
  async function deployed() {
    const harness = (await hre.ethers.deployContract("DacHarness")) as unknown as DacHarness;
    const other = (await hre.ethers.deployContract("DacHarness")) as unknown as DacHarness;
    const rollup = await harness.getAddress();
    const { chainId } = await hre.ethers.provider.getNetwork();
    // deterministic member keys, sorted by address so index order is signature order
    const members = [0, 1, 2, 3, 4].map((i) => new Wallet(keccak256(toUtf8Bytes(`dac:member:${i}`)))).sort(byAddress);
    const outsider = new Wallet(keccak256(toUtf8Bytes("dac:outsider")));
    const digest = cidDigest(traceCid(toUtf8Bytes("a compact trace")));
    const statement: AvailabilityStatement = { rollup, chainId, batchId: 42n, digest };
    return { harness, other, rollup, chainId, members, outsider, digest, statement };
  }

  async function signAll(wallets: Wallet[], s: AvailabilityStatement): Promise<DacSignature[]> {
    return Promise.all(wallets.map((w) => signAvailability(w, s)));
  }

  it("hashes the statement as ethers' EIP-712 encoder does, in the FlavumDAC v1 domain", async () => {
    const { harness, rollup, chainId, statement } = await loadFixture(deployed);
    expect(await harness.domainSeparator()).to.equal(TypedDataEncoder.hashDomain(dacDomain(rollup, chainId)));
    expect(await harness.availabilityTypehash()).to.equal(keccak256(toUtf8Bytes("Availability(uint256 batchId,bytes32 digest)")));
    expect(await harness.availabilityHash(statement.batchId, statement.digest)).to.equal(availabilityHash(statement));
    const [name, version] = [(await harness.eip712Domain()).name, (await harness.eip712Domain()).version];
    expect([name, version]).to.deep.equal(["FlavumDAC", "1"]);
  });

  it("accepts 2-of-3 (and all 3 of 3 with threshold 2)", async () => {
    const { harness, members, statement, digest } = await loadFixture(deployed);
    const committee = members.slice(0, 3).map((m) => m.address);
    const two = encodeSignatures(await signAll([members[2], members[0]], statement)); // any order in: sorted out
    expect(await harness.verify(42n, digest, two, committee, 2)).to.equal(2n);
    const three = encodeSignatures(await signAll(members.slice(0, 3), statement));
    expect(await harness.verify(42n, digest, three, committee, 2)).to.equal(3n);
    expect(decodeSignatures(three)).to.have.length(3);
  });

  it("refuses 1-of-3 when the threshold is 2", async () => {
    const { harness, members, statement, digest } = await loadFixture(deployed);
    const committee = members.slice(0, 3).map((m) => m.address);
    const one = encodeSignatures(await signAll([members[1]], statement));
    await expect(harness.verify(42n, digest, one, committee, 2))
      .to.be.revertedWithCustomError(harness, "FlavumDacThresholdNotMet")
      .withArgs(1, 2);
    await expect(harness.verify(42n, digest, "0x", committee, 2)).to.be.revertedWithCustomError(harness, "FlavumDacThresholdNotMet").withArgs(0, 2);
  });

  it("refuses a signature by a non-member", async () => {
    const { harness, members, outsider, statement, digest } = await loadFixture(deployed);
    const committee = members.slice(0, 3).map((m) => m.address);
    const sigs = encodeSignatures(await signAll([members[0], outsider], statement));
    await expect(harness.verify(42n, digest, sigs, committee, 2))
      .to.be.revertedWithCustomError(harness, "FlavumDacUnknownSigner")
      .withArgs(outsider.address);
    // a member of a committee of 5 is no member of the first 3
    const sigs2 = encodeSignatures(await signAll([members[0], members[4]], statement));
    await expect(harness.verify(42n, digest, sigs2, committee, 2))
      .to.be.revertedWithCustomError(harness, "FlavumDacUnknownSigner")
      .withArgs(members[4].address);
  });

  it("refuses a duplicated signer and unsorted signatures", async () => {
    const { harness, members, statement, digest } = await loadFixture(deployed);
    const committee = members.slice(0, 3).map((m) => m.address);
    const [s0, s1] = await signAll([members[0], members[1]], statement);
    // the same signature twice
    await expect(harness.verify(42n, digest, concat([s0.signature, s0.signature]), committee, 2))
      .to.be.revertedWithCustomError(harness, "FlavumDacSignersNotSorted")
      .withArgs(1);
    // the same signer twice with the malleable twin (s -> n - s) is refused by ECDSA's low-s rule
    const sig = Signature.from(s0.signature);
    const twin = concat([sig.r, toBeHex(SECP256K1_N - BigInt(sig.s), 32), sig.v === 27 ? "0x1c" : "0x1b"]);
    await expect(harness.verify(42n, digest, concat([s0.signature, twin]), committee, 2))
      .to.be.revertedWithCustomError(harness, "FlavumDacInvalidSignature")
      .withArgs(1);
    // descending order
    await expect(harness.verify(42n, digest, concat([s1.signature, s0.signature]), committee, 2))
      .to.be.revertedWithCustomError(harness, "FlavumDacSignersNotSorted")
      .withArgs(1);
    // encodeSignatures itself refuses a signer given twice
    expect(() => encodeSignatures([s0, s0])).to.throw(/appears twice/);
  });

  it("refuses a signature over another batch id, digest, chain or rollup", async () => {
    const { harness, other, members, statement, digest } = await loadFixture(deployed);
    const committee = members.slice(0, 3).map((m) => m.address);
    const variants: Array<[string, AvailabilityStatement]> = [
      ["batch", { ...statement, batchId: 43n }],
      ["digest", { ...statement, digest: keccak256(toUtf8Bytes("another trace")) }],
      ["chain", { ...statement, chainId: 1n }],
      ["rollup", { ...statement, rollup: await other.getAddress() }],
    ];
    const good = await signAvailability(members[0], statement);
    for (const [what, wrong] of variants) {
      const bad = await signAvailability(members[1], wrong);
      // what the contract recovers from the wrong signature over the statement it checks
      const recovered = recoverAvailabilitySigner(statement, bad.signature);
      expect(recovered, what).to.not.equal(members[1].address);
      await expect(harness.verify(42n, digest, encodeSignatures([good, { ...bad, signer: members[1].address }]), committee, 2), what)
        .to.be.revertedWithCustomError(harness, "FlavumDacUnknownSigner")
        .withArgs(recovered);
    }
    // the same valid signatures checked against another batch id or digest fail too
    const sigs = encodeSignatures(await signAll(members.slice(0, 2), statement));
    await expect(harness.verify(43n, digest, sigs, committee, 2)).to.be.revertedWithCustomError(harness, "FlavumDacUnknownSigner");
    await expect(harness.verify(42n, keccak256("0x01"), sigs, committee, 2)).to.be.revertedWithCustomError(harness, "FlavumDacUnknownSigner");
  });

  it("refuses malformed input: a partial signature, a bad threshold, a bad v", async () => {
    const { harness, members, statement, digest } = await loadFixture(deployed);
    const committee = members.slice(0, 3).map((m) => m.address);
    const sigs = encodeSignatures(await signAll(members.slice(0, 2), statement));
    await expect(harness.verify(42n, digest, sigs.slice(0, -2), committee, 2))
      .to.be.revertedWithCustomError(harness, "FlavumDacSignaturesLength")
      .withArgs(129);
    await expect(harness.verify(42n, digest, sigs, committee, 0)).to.be.revertedWithCustomError(harness, "FlavumDacBadThreshold").withArgs(0, 3);
    await expect(harness.verify(42n, digest, sigs, committee, 4)).to.be.revertedWithCustomError(harness, "FlavumDacBadThreshold").withArgs(4, 3);
    const badV = sigs.slice(0, 2 + 64 * 2) + "05" + sigs.slice(2 + 65 * 2);
    await expect(harness.verify(42n, digest, badV, committee, 2)).to.be.revertedWithCustomError(harness, "FlavumDacInvalidSignature").withArgs(0);
  });

  it("measures the gas of verify for 2-of-3 and 3-of-5", async () => {
    const { harness, members, statement, digest } = await loadFixture(deployed);
    for (const [k, n] of [
      [2, 3],
      [3, 5],
    ]) {
      const committee = members.slice(0, n).map((m) => m.address);
      // the last members in committee order: the worst case of the linear membership scan
      const sigs = encodeSignatures(await signAll(members.slice(n - k, n), statement));
      const lib = await harness.verifyGas(42n, digest, sigs, committee, k);
      const call = await harness.verify.estimateGas(42n, digest, sigs, committee, k);
      console.log(`      DacAttestation.verify ${k}-of-${n}: ${lib} gas in the library call; ${call} gas as a whole transaction to the harness`);
      expect(lib).to.be.greaterThan(0n);
    }
  });
});
