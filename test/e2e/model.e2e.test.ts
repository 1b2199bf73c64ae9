/**
 * End to end with real proofs: compile the digits MLP and the logistic regression (private
 * weights), prove an inference, verify it off-chain and through the generated verifier deployed on
 * the Hardhat network by the same code the tasks use.
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { compileModel } from "../../src/model/compile";
import { loadModel } from "../../src/model/artifacts";
import { proveInference, verifyProofFile, ProofFile } from "../../src/model/prove";
import { verifyOnChain } from "../../src/chain/verifier";
import { solidityCalldata } from "../../src/zk";
import { dataPath, onnxPath, sampleSet, usePtauDir } from "../helpers/fixtures";

describe("model compiler end to end", function () {
  before(usePtauDir);

  async function deployedMlp() {
    const model = loadModel("e2e_mlp");
    const { file: proof } = await proveInference(model, sampleSet("mlp_digits")[1]);
    const first = await verifyOnChain(hre, model, proof);
    return { model, proof, first };
  }

  before(async () => {
    await compileModel({ onnx: onnxPath("mlp_digits"), name: "e2e_mlp", calibration: dataPath("mlp_digits", "calibration") });
    await compileModel({
      onnx: onnxPath("logreg_cancer"), name: "e2e_logreg_private", calibration: dataPath("logreg_cancer", "calibration"), weights: "private",
    });
    await hre.run("compile", { quiet: true });
  });

  it("proves an inference that the deployed verifier accepts", async () => {
    const { model, proof, first } = await loadFixture(deployedMlp);
    expect(first.valid).to.equal(true);
    expect(first.deployed).to.equal(true);
    expect(proof.claim.argmax).to.equal(8); // the held-out sample is an 8, and the model says so
    expect((await verifyProofFile(model, proof)).valid).to.equal(true);
    // A few hundred thousand gas: ~207k + ~7k per public signal.
    expect(Number(first.gas)).to.be.within(200_000, 400_000);
  });

  it("rejects a proof whose claimed output or label was changed, on and off chain", async () => {
    const { model, proof } = await loadFixture(deployedMlp);
    const n = proof.publicSignals.length;
    for (const k of [1, n - 1]) {
      const forged: ProofFile = { ...proof, publicSignals: proof.publicSignals.map((s, i) => (i === k ? String(BigInt(s) + 1n) : s)) };
      expect((await verifyOnChain(hre, model, forged)).valid).to.equal(false);
      const off = await verifyProofFile(model, forged);
      expect(off.valid).to.equal(false);
      expect(off.reason).to.match(/pairing check failed/);
    }
  });

  it("rejects a proof with altered proof points", async () => {
    const { model, proof } = await loadFixture(deployedMlp);
    const v = await hre.ethers.getContractAt(model.manifest.verifier.contract, (await verifyOnChain(hre, model, proof)).address);
    const cd = solidityCalldata(proof.proof, proof.publicSignals);
    const other = await proveInference(model, sampleSet("mlp_digits")[2]);
    const mixed = solidityCalldata(other.file.proof, proof.publicSignals);
    expect(await v.verifyProof(cd.a, cd.b, cd.c, cd.pub)).to.equal(true);
    expect(await v.verifyProof(mixed.a, mixed.b, mixed.c, cd.pub)).to.equal(false);
  });

  it("proves with private weights and exposes the registered weights commitment", async () => {
    const model = loadModel("e2e_logreg_private");
    const { file: proof, decoded } = await proveInference(model, sampleSet("logreg_cancer")[0]);
    expect(decoded.weightsHash?.toString()).to.equal(model.manifest.weightsCommitment);
    const r = await verifyOnChain(hre, model, proof);
    expect(r.valid).to.equal(true);
  });

  it("refuses a proof made for another model", async () => {
    const { proof } = await loadFixture(deployedMlp);
    const other = loadModel("e2e_logreg_private");
    const r = await verifyProofFile(other, proof);
    expect(r.valid).to.equal(false);
    expect(r.reason).to.match(/proof is for model "e2e_mlp", not "e2e_logreg_private"/);
  });
});
