/**
 * The dApp SDK's input encoding, from on-chain data only: for a real compiled and registered model,
 * the input hash it computes from the registry's shape equals the one the model's circuit proves,
 * and the sequencer accepts the encoded on-chain request.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { compileModel } from "../../src/model/compile";
import { proveInference } from "../../src/model/prove";
import { deployRollup } from "../../src/chain/deployRollup";
import { openSequencer, registerModel } from "../../src/rollup/service";
import { InputError } from "../../src/errors";
import { encodeInput, encodeQuantized, quantizeSample, readInputLayout } from "../../src/sdk/encodeInput";
import { dataPath, heldout, onnxPath, usePtauDir } from "../helpers/fixtures";

const NAME = "sdk_logreg";

describe("sdk: encodeInput from the registry's shape", function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-sdk-"));
  const sample = heldout("logreg_cancer").inputs[0];

  before(async () => {
    usePtauDir();
    await compileModel({ onnx: onnxPath("logreg_cancer"), name: NAME, calibration: dataPath("logreg_cancer", "calibration") });
  });

  it("gives the circuit's input hash and an input the sequencer accepts", async () => {
    const d = await deployRollup(hre);
    const seq = await openSequencer(hre, { store: path.join(tmp, "seq.db"), addresses: d.addresses });
    try {
      const { modelId } = await registerModel(seq, hre, NAME, 2);

      // Only chain data from here on: the layout comes from the registry.
      const layout = await readInputLayout(d.registry, modelId);
      expect(layout.inputSize).to.equal(sample.length);
      const enc = await encodeInput(layout, sample);

      const { file } = await proveInference(NAME, sample);
      expect(enc.inputHash.toString()).to.equal(file.claim.inputHash);

      const fee = await d.rollup.estimateFee(modelId);
      await (await d.rollup.requestInference(modelId, enc.inputHash, enc.input, hre.ethers.ZeroAddress, { value: fee })).wait();
      // The same input under another hash is not served: it is rejected on chain with its reason.
      await (await d.rollup.requestInference(modelId, enc.inputHash + 1n, enc.input, hre.ethers.ZeroAddress, { value: fee })).wait();
      expect(await seq.syncOnchainRequests()).to.equal(2);
      expect(seq.store.getRequest(1n)?.quantized).to.deep.equal(enc.values);
      expect(seq.store.getRequest(1n)?.status).to.equal("pending");
      expect(seq.store.getRequest(2n)?.status).to.equal("rejected");
      expect(seq.store.getRequest(2n)?.reason).to.match(/does not hash to the request's input commitment/);
      expect((await d.rollup.requestOf(2n)).status).to.equal(5n); // Rejected, fee refunded
    } finally {
      seq.store.close();
    }
  });

  it("refuses a sample of the wrong size or outside the range, naming the value", async () => {
    const layout = { inputSize: 3, inputScale: 2, inputBits: 6 }; // [-8, 8) in steps of 1/4
    expect(quantizeSample(layout, [1.1, -8, 7.75])).to.deep.equal([4n, -32n, 31n]);
    expect(() => quantizeSample(layout, [1, 2])).to.throw(InputError, /2 values, the model takes 3/);
    expect(() => quantizeSample(layout, [0, 8, 0])).to.throw(InputError, /input value 1 = 8 is outside the model's input range \[-8, 8\)/);
    await expect(encodeQuantized(layout, [0n, 32n, 0n])).to.be.rejectedWith(InputError, /input value 1 = 32 does not fit 6 signed bits/);
    const enc = await encodeQuantized(layout, [4n, -32n, 31n]);
    expect(hre.ethers.AbiCoder.defaultAbiCoder().decode(["int256[]"], enc.input)[0]).to.deep.equal([4n, -32n, 31n]);
  });
});
