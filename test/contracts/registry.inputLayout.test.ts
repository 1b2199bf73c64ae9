/**
 * What a dApp needs to encode an input lives on chain: the registry keeps inputBits next to the
 * input shape and scale, and inputLayoutOf hands the three over in one call.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { commitment, deployedRollup, digitsShape } from "./fixtures";
import { layoutFromShape, readInputLayout } from "../../src/sdk/encodeInput";

/** Registration needs a verifier contract; which one does not matter here. */
async function withVerifier() {
  const d = await deployedRollup();
  const v = await (await hre.ethers.deployContract("MockBatchVerifier")).getAddress();
  return { ...d, v };
}

describe("ModelRegistry input layout", function () {
  it("stores inputBits and returns size, scale and bits", async () => {
    const { registry, owner, v } = await loadFixture(withVerifier);
    await registry.connect(owner).register(commitment(), { ...digitsShape(), inputShape: [1, 8, 8], inputScale: -1, inputBits: 7 }, "", [8], [v]);
    const s = await registry.shapeOf(1n);
    expect(s.inputBits).to.equal(7n);
    const [size, scale, bits] = await registry.inputLayoutOf(1n);
    expect([size, scale, bits]).to.deep.equal([64n, -1n, 7n]);
    expect(await readInputLayout(registry, 1n)).to.deep.equal({ inputSize: 64, inputScale: -1, inputBits: 7 });
    expect(layoutFromShape(s)).to.deep.equal({ inputSize: 64, inputScale: -1, inputBits: 7 });
  });

  it("refuses input widths the input hash cannot pack", async () => {
    const { registry, owner, v } = await loadFixture(withVerifier);
    const reg = registry.connect(owner);
    for (const bad of [0, 251])
      await expect(reg.register(commitment(), { ...digitsShape(), inputBits: bad }, "", [8], [v]))
        .to.be.revertedWithCustomError(registry, "FlavumInvalidInputBits").withArgs(bad);
    await expect(reg.register(commitment(), { ...digitsShape(), inputBits: 250 }, "", [8], [v])).to.emit(registry, "ModelRegistered");
  });

  it("inputLayoutOf refuses an unknown model", async () => {
    const { registry } = await loadFixture(deployedRollup);
    await expect(registry.inputLayoutOf(1n)).to.be.revertedWithCustomError(registry, "FlavumUnknownModel").withArgs(1n);
  });
});
