/**
 * The multi-chain identifiers of src/protocol: a rollup's domain id (src/protocol/domain.ts) and the
 * chain tag in on-chain request ids (src/protocol/batch.ts). The contract side of both is
 * test/contracts/rollupDomain.test.ts.
 */
import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import { newDomainId } from "../../src/protocol/domain";
import { CHAIN_TAG_SHIFT, OFFCHAIN_REQUEST_BASE, onchainRequestId, requestChainTag } from "../../src/protocol/batch";
import { FIELD_P } from "../../src/quant/fixed";

describe("domain ids and chain tags", () => {
  const deployer = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

  it("derives a domain per genesis deployment: chain, deployer and nonce each change it", () => {
    const d = newDomainId(31337n, deployer, 0n);
    const enc = AbiCoder.defaultAbiCoder().encode(["string", "uint256", "address", "uint256"], ["flavum-domain", 31337n, deployer, 0n]);
    expect(d).to.equal(BigInt(keccak256(enc)) % FIELD_P);
    expect(d > 0n && d < FIELD_P).to.equal(true);
    expect(newDomainId(31337n, deployer, 0n)).to.equal(d);
    expect(newDomainId(31337n, deployer, 1n)).to.not.equal(d);
    expect(newDomainId(1n, deployer, 0n)).to.not.equal(d);
    expect(newDomainId(31337n, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 0n)).to.not.equal(d);
    // The address's spelling (checksum or not) is the same deployer.
    expect(newDomainId(31337n, deployer.toLowerCase(), 0n)).to.equal(d);
  });

  it("puts the chain tag above bit 47 of on-chain ids, and none on off-chain ids", () => {
    expect(CHAIN_TAG_SHIFT).to.equal(47n);
    expect(onchainRequestId(0, 1n)).to.equal(1n);
    expect(onchainRequestId(1, 1n)).to.equal((1n << 47n) + 1n);
    const top = onchainRequestId(0xffff, (1n << 47n) - 1n);
    expect(top).to.equal(OFFCHAIN_REQUEST_BASE - 1n);
    for (const [id, tag] of [[1n, 0], [(1n << 47n) - 1n, 0], [1n << 47n, 1], [top, 0xffff]] as const) expect(requestChainTag(id)).to.equal(tag);
    expect(requestChainTag(OFFCHAIN_REQUEST_BASE)).to.equal(undefined);
    expect(requestChainTag(OFFCHAIN_REQUEST_BASE + (1n << 47n))).to.equal(undefined);
    expect(() => onchainRequestId(0x10000, 1n)).to.throw(/a chain tag is 0\.\.65535, got 65536/);
    expect(() => onchainRequestId(-1, 1n)).to.throw(/a chain tag/);
    expect(() => onchainRequestId(0, 0n)).to.throw(/1\.\.2\^47-1, got 0/);
    expect(() => onchainRequestId(0, 1n << 47n)).to.throw(/1\.\.2\^47-1/);
    expect(() => requestChainTag(-1n)).to.throw(/negative/);
  });
});
