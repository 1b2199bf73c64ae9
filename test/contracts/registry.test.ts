import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { commitment, deployedRollup, digitsShape, PROOF_SYSTEM } from "./fixtures";

describe("ModelRegistry", function () {
  /** Model 1 with one verifier (batch size 8), and a second verifier contract to register with. */
  async function registered() {
    const d = await deployedRollup();
    const reg = d.registry.connect(d.owner);
    const verifier = await hre.ethers.deployContract("MockBatchVerifier");
    const v = await verifier.getAddress();
    await reg.register(commitment("a"), digitsShape(), "ipfs://a", [8], [v]);
    return { ...d, reg, verifier, v };
  }

  /** Any contract serves as a verifier where only registration is under test. */
  async function verifierAddress() {
    return (await hre.ethers.deployContract("MockBatchVerifier")).getAddress();
  }

  it("is the ERC-721 'Flavum Model' (FLVM)", async () => {
    const { registry } = await loadFixture(deployedRollup);
    expect(await registry.name()).to.equal("Flavum Model");
    expect(await registry.symbol()).to.equal("FLVM");
    expect(await registry.supportsInterface("0x80ac58cd")).to.equal(true); // ERC-721
  });

  it("mints ids 1, 2, 3 to the registrant and emits ModelRegistered", async () => {
    const { registry, owner, alice } = await loadFixture(deployedRollup);
    const v = await verifierAddress();
    const c = commitment("a");
    await expect(registry.connect(owner).register(c, digitsShape(), "ipfs://a", [8], [v]))
      .to.emit(registry, "ModelRegistered")
      .withArgs(1n, owner.address, Object.values(c), "ipfs://a")
      .and.to.emit(registry, "Transfer")
      .withArgs(hre.ethers.ZeroAddress, owner.address, 1n);
    await registry.connect(alice).register(commitment("b"), digitsShape(), "ipfs://b", [8], [v]);
    await registry.connect(owner).register(commitment("c"), digitsShape(), "", [8], [v]);
    expect(await registry.ownerOf(1n)).to.equal(owner.address);
    expect(await registry.ownerOf(2n)).to.equal(alice.address);
    expect(await registry.ownerOf(3n)).to.equal(owner.address);
    expect(await registry.modelCount()).to.equal(3n);
    expect(await registry.isRegistered(3n)).to.equal(true);
    expect(await registry.isRegistered(4n)).to.equal(false);
  });

  it("returns the commitment, shape, output layout and URI", async () => {
    const { reg } = await loadFixture(registered);
    const c = await reg.commitmentOf(1n);
    expect(c.weightsHash).to.equal(commitment("a").weightsHash);
    expect(c.proofSystem).to.equal(PROOF_SYSTEM);
    const s = await reg.shapeOf(1n);
    expect(s.inputShape).to.deep.equal([1n, 64n]);
    expect(s.outputShape).to.deep.equal([1n, 10n]);
    expect([s.inputScale, s.outputScale, s.outputBits, s.outputCount, s.hasLabel]).to.deep.equal([0n, 6n, 16n, 10n, true]);
    expect(await reg.outputLayoutOf(1n)).to.deep.equal([16n, 10n, true]);
    expect(await reg.tokenURI(1n)).to.equal("ipfs://a");
  });

  it("rejects malformed registrations with named errors", async () => {
    const { registry, owner } = await loadFixture(deployedRollup);
    const reg = registry.connect(owner);
    const v = await verifierAddress();
    const register = (c: ReturnType<typeof commitment>, s: ReturnType<typeof digitsShape>) => reg.register(c, s, "", [8], [v]);
    await expect(register({ ...commitment(), proofSystem: hre.ethers.ZeroHash }, digitsShape()))
      .to.be.revertedWithCustomError(registry, "FlavumMissingProofSystem");
    await expect(register(commitment(), { ...digitsShape(), outputCount: 16, outputBits: 16 }))
      .to.be.revertedWithCustomError(registry, "FlavumInvalidOutputLayout")
      .withArgs(16, 16);
    await expect(register(commitment(), { ...digitsShape(), outputBits: 0 }))
      .to.be.revertedWithCustomError(registry, "FlavumInvalidOutputLayout")
      .withArgs(10, 0);
    await expect(register(commitment(), { ...digitsShape(), inputShape: [] })).to.be.revertedWithCustomError(registry, "FlavumInvalidShape");
    await expect(register(commitment(), { ...digitsShape(), outputShape: [1, 0] })).to.be.revertedWithCustomError(registry, "FlavumInvalidShape");
    expect(await registry.modelCount()).to.equal(0n);
    // 8 + 15 * 16 = 248 bits: the widest layout that fits.
    await expect(register(commitment(), { ...digitsShape(), outputCount: 15, outputBits: 16 })).to.emit(registry, "ModelRegistered");
  });

  it("fixes one verifier per batch size at registration, with the output layout the rollup checks", async () => {
    const { registry, owner } = await loadFixture(deployedRollup);
    const [v1, v8, v256] = [await verifierAddress(), await verifierAddress(), await verifierAddress()];
    const tx = registry.connect(owner).register(commitment(), digitsShape(), "", [8, 1, 256], [v8, v1, v256]);
    for (const [size, v] of [[8, v8], [1, v1], [256, v256]] as const) await expect(tx).to.emit(registry, "VerifierSet").withArgs(1n, size, v, anyValue);
    expect(await registry.verifierOf(1n, 8)).to.equal(v8);
    expect(await registry.verifierOf(1n, 1)).to.equal(v1);
    expect(await registry.verifierOf(1n, 256)).to.equal(v256);
    expect(await registry.batchSizesOf(1n)).to.deep.equal([8n, 1n, 256n]);
    // outputBits | outputCount << 8 | hasLabel << 16
    expect(await registry.servingOf(1n, 8)).to.deep.equal([v8, 16n | (10n << 8n) | (1n << 16n)]);
    await registry.connect(owner).register(commitment(), { ...digitsShape(), outputBits: 12, outputCount: 3, hasLabel: false }, "", [4], [v8]);
    expect(await registry.servingOf(2n, 4)).to.deep.equal([v8, 12n | (3n << 8n)]);
  });

  it("refuses bad batch sizes and non-contract verifiers, and answers unknown models with named errors", async () => {
    const { reg, registry, v, alice } = await loadFixture(registered);
    for (const b of [0, 3, 24, 512])
      await expect(reg.register(commitment(), digitsShape(), "", [8, b], [v, v])).to.be.revertedWithCustomError(registry, "FlavumInvalidBatchSize").withArgs(b);
    await expect(reg.register(commitment(), digitsShape(), "", [32], [alice.address]))
      .to.be.revertedWithCustomError(registry, "FlavumVerifierNotContract")
      .withArgs(alice.address);
    await expect(registry.verifierOf(1n, 16)).to.be.revertedWithCustomError(registry, "FlavumVerifierNotSet").withArgs(1n, 16);
    await expect(registry.servingOf(2n, 8)).to.be.revertedWithCustomError(registry, "FlavumVerifierNotSet").withArgs(2n, 8);
    await expect(registry.commitmentOf(2n)).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(2n);
    await expect(registry.shapeOf(2n)).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(2n);
    await expect(registry.outputLayoutOf(2n)).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(2n);
    await expect(registry.batchSizesOf(2n)).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(2n);
    await expect(registry.tokenURI(2n)).to.be.revertedWithCustomError(registry, "ERC721NonexistentToken").withArgs(2n);
    await expect(registry.setMetadataURI(2n, "x")).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(2n);
  });

  it("lets only the owner update the metadata URI, and follows token transfers", async () => {
    const { reg, registry, owner, alice } = await loadFixture(registered);
    await expect(reg.setMetadataURI(1n, "ipfs://a2")).to.emit(registry, "MetadataUpdated").withArgs(1n, "ipfs://a2");
    expect(await registry.tokenURI(1n)).to.equal("ipfs://a2");
    await expect(registry.connect(alice).setMetadataURI(1n, "x"))
      .to.be.revertedWithCustomError(registry, "FlavumNotModelOwner")
      .withArgs(1n, alice.address);
    await reg.transferFrom(owner.address, alice.address, 1n);
    await expect(registry.connect(alice).setMetadataURI(1n, "ipfs://alice")).to.emit(registry, "MetadataUpdated");
    await expect(reg.setMetadataURI(1n, "y")).to.be.revertedWithCustomError(registry, "FlavumNotModelOwner");
  });
});
