import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { commitment, deployedRollup, digitsShape, PROOF_SYSTEM } from "./fixtures";

describe("ModelRegistry", function () {
  async function registered() {
    const d = await deployedRollup();
    const reg = d.registry.connect(d.owner);
    await reg.register(commitment("a"), digitsShape(), "ipfs://a");
    const verifier = await hre.ethers.deployContract("MockBatchVerifier");
    return { ...d, reg, verifier };
  }

  it("is the ERC-721 'Flavum Model' (FLVM)", async () => {
    const { registry } = await loadFixture(deployedRollup);
    expect(await registry.name()).to.equal("Flavum Model");
    expect(await registry.symbol()).to.equal("FLVM");
    expect(await registry.supportsInterface("0x80ac58cd")).to.equal(true); // ERC-721
  });

  it("mints ids 1, 2, 3 to the registrant and emits ModelRegistered", async () => {
    const { registry, owner, alice } = await loadFixture(deployedRollup);
    const c = commitment("a");
    await expect(registry.connect(owner).register(c, digitsShape(), "ipfs://a"))
      .to.emit(registry, "ModelRegistered")
      .withArgs(1n, owner.address, Object.values(c), "ipfs://a")
      .and.to.emit(registry, "Transfer")
      .withArgs(hre.ethers.ZeroAddress, owner.address, 1n);
    await registry.connect(alice).register(commitment("b"), digitsShape(), "ipfs://b");
    await registry.connect(owner).register(commitment("c"), digitsShape(), "");
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
    await expect(reg.register({ ...commitment(), proofSystem: hre.ethers.ZeroHash }, digitsShape(), ""))
      .to.be.revertedWithCustomError(registry, "FlavumMissingProofSystem");
    await expect(reg.register(commitment(), { ...digitsShape(), outputCount: 16, outputBits: 16 }, ""))
      .to.be.revertedWithCustomError(registry, "FlavumInvalidOutputLayout")
      .withArgs(16, 16);
    await expect(reg.register(commitment(), { ...digitsShape(), outputBits: 0 }, ""))
      .to.be.revertedWithCustomError(registry, "FlavumInvalidOutputLayout")
      .withArgs(10, 0);
    await expect(reg.register(commitment(), { ...digitsShape(), inputShape: [] }, ""))
      .to.be.revertedWithCustomError(registry, "FlavumInvalidShape");
    await expect(reg.register(commitment(), { ...digitsShape(), outputShape: [1, 0] }, ""))
      .to.be.revertedWithCustomError(registry, "FlavumInvalidShape");
    // 8 + 15 * 16 = 248 bits: the widest layout that fits.
    await expect(reg.register(commitment(), { ...digitsShape(), outputCount: 15, outputBits: 16 }, "")).to.emit(
      registry,
      "ModelRegistered",
    );
  });

  it("sets a verifier per batch size, only by the owner, once", async () => {
    const { reg, registry, verifier, alice } = await loadFixture(registered);
    const v = await verifier.getAddress();
    await expect(reg.setVerifier(1n, 32, v)).to.emit(registry, "VerifierSet").withArgs(1n, 32, v);
    expect(await registry.verifierOf(1n, 32)).to.equal(v);

    await expect(registry.connect(alice).setVerifier(1n, 8, v))
      .to.be.revertedWithCustomError(registry, "FlavumNotModelOwner")
      .withArgs(1n, alice.address);
    await expect(reg.setVerifier(1n, 32, v))
      .to.be.revertedWithCustomError(registry, "FlavumVerifierAlreadySet")
      .withArgs(1n, 32, v);
    const other = await hre.ethers.deployContract("MockBatchVerifier");
    await expect(reg.setVerifier(1n, 32, await other.getAddress()))
      .to.be.revertedWithCustomError(registry, "FlavumVerifierAlreadySet")
      .withArgs(1n, 32, v);
    await reg.setVerifier(1n, 8, await other.getAddress());
    expect(await registry.verifierOf(1n, 8)).to.equal(await other.getAddress());
    expect(await registry.batchSizesOf(1n)).to.deep.equal([32n, 8n]);
  });

  it("refuses unknown models, bad batch sizes and non-contract verifiers", async () => {
    const { reg, registry, verifier, alice } = await loadFixture(registered);
    const v = await verifier.getAddress();
    await expect(reg.setVerifier(9n, 32, v)).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(9n);
    for (const b of [0, 3, 24, 512])
      await expect(reg.setVerifier(1n, b, v)).to.be.revertedWithCustomError(registry, "FlavumInvalidBatchSize").withArgs(b);
    await expect(reg.setVerifier(1n, 32, alice.address))
      .to.be.revertedWithCustomError(registry, "FlavumVerifierNotContract")
      .withArgs(alice.address);
    await expect(registry.verifierOf(1n, 16)).to.be.revertedWithCustomError(registry, "FlavumVerifierNotSet").withArgs(1n, 16);
    await expect(registry.commitmentOf(2n)).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(2n);
    await expect(registry.shapeOf(2n)).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(2n);
    await expect(registry.tokenURI(2n)).to.be.revertedWithCustomError(registry, "ERC721NonexistentToken").withArgs(2n);
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
