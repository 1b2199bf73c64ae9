import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { poseidonHash } from "../../src/quant/commitment";
import { emptyTreeRoot } from "../../src/chain/deployRollup";
import { hasher, zeroRoots } from "../../src/rollup/merkle";
import { poseidonArtifact } from "../../src/chain/poseidonContracts";
import { deployedRollup, FIELD } from "./fixtures";

describe("Poseidon hashers on chain", function () {
  it("match circomlibjs's Poseidon for 2 and 4 inputs", async () => {
    const { poseidon2, poseidon4 } = await loadFixture(deployedRollup);
    const p2 = poseidon2.getFunction("poseidon(uint256[2])");
    const p4 = poseidon4.getFunction("poseidon(uint256[4])");
    const samples: bigint[][] = [
      [0n, 0n, 0n, 0n],
      [1n, 2n, 3n, 4n],
      [FIELD - 1n, 12345678901234567890n, 1n << 200n, 7n],
    ];
    for (const s of samples) {
      expect(await p2(s.slice(0, 2))).to.equal(await poseidonHash(s.slice(0, 2)));
      expect(await p4(s)).to.equal(await poseidonHash(s));
    }
  });

  it("reduce inputs modulo the field, which is why the rollup rejects non-canonical entries", async () => {
    const { poseidon2 } = await loadFixture(deployedRollup);
    const p2 = poseidon2.getFunction("poseidon(uint256[2])");
    expect(await p2([5n + FIELD, 9n])).to.equal(await p2([5n, 9n]));
  });

  it("give the empty depth-20 root the rollup starts from", async () => {
    const { rollup, emptyRoot } = await loadFixture(deployedRollup);
    const z = zeroRoots(await hasher(), 20);
    expect(z[1]).to.equal(await poseidonHash([0n, 0n]));
    expect(emptyRoot).to.equal(z[20]);
    expect(await emptyTreeRoot()).to.equal(emptyRoot);
    expect(await rollup.emptyRoot()).to.equal(emptyRoot);
    expect((await rollup.modelTrace(1n)).root).to.equal(emptyRoot);
  });

  it("come from circomlibjs's generator with the uint256[n] entry point", () => {
    for (const n of [2, 4] as const) {
      const { abi, bytecode } = poseidonArtifact(n);
      expect(bytecode).to.match(/^0x[0-9a-f]+$/);
      expect(JSON.stringify(abi)).to.contain(`uint256[${n}]`);
    }
  });
});
