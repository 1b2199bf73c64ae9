/**
 * Inputs the model cannot take as given (issue 7): a fractional value given to the digits MLP, whose
 * input is integer-scaled (pixels 0..16), is rounded — each such value is reported on stderr with its
 * sample, feature, value, result and the accepted range, and `--strict` refuses the input with
 * nothing written. Checked on the functions (predict, prove, the sequencer's request) and on the
 * commands as users run them.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { compileModel } from "../../src/model/compile";
import { loadModel } from "../../src/model/artifacts";
import { predictSamples } from "../../src/model/predict";
import { proveInference } from "../../src/model/prove";
import { deployRollup } from "../../src/chain/deployRollup";
import { openSequencer } from "../../src/rollup/service";
import { InputError } from "../../src/errors";
import { inputAdjustments } from "../../src/quant/intExec";
import { applyAdjustmentPolicy, LISTED_ADJUSTMENTS } from "../../src/quant/adjustments";
import { REPO } from "../helpers/circuit";
import { calibrationSet, dataPath, onnxPath, quantizedFixture, sampleSet, usePtauDir } from "../helpers/fixtures";

const NAME = "strict_digits";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-strict-"));

function hardhat(...args: string[]) {
  const r = spawnSync("npx", ["hardhat", ...args], { cwd: REPO, encoding: "utf8", env: process.env, timeout: 5 * 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("inputs the model would change: warnings and --strict", function () {
  const samples = sampleSet("mlp_digits");
  // Sample 1 gets one fractional pixel, sample 2 gets 25: enough to see the cap on printed lines.
  const frac = samples.map((s, k) => s.map((v, i) => (k === 1 && i === 5 ? 3.5 : k === 2 && i < 25 ? v + 0.25 : v)));
  const fracFile = path.join(tmp, "frac.json");
  fs.writeFileSync(fracFile, JSON.stringify(frac));

  before(async () => {
    usePtauDir();
    await compileModel({ onnx: onnxPath("mlp_digits"), name: NAME, calibration: dataPath("mlp_digits", "calibration") });
  });

  describe("the warning list", () => {
    const q = quantizedFixture("mlp_digits");
    it("the digits MLP takes integers (scale 2^0), so fractional pixels are what gets rounded", () => {
      expect(q.input.scale).to.equal(0);
      expect(calibrationSet("mlp_digits").flat().every(Number.isInteger)).to.equal(true);
      expect(inputAdjustments(q, samples[0], 0)).to.deep.equal([]);
    });

    it("names the sample, the feature, the value, what it became and the range", () => {
      const [a] = inputAdjustments(q, frac[1], 1);
      expect(a).to.include({ sample: 1, feature: 5, given: 3.5, became: 4, kind: "rounded" });
      const lines: string[] = [];
      applyAdjustmentPolicy([a], "input file f.json", { progress: (m) => lines.push(m) });
      const lim = 2 ** (q.input.bits - 1);
      expect(lines[0]).to.equal(`warning: sample 1, feature 5: 3.5 was rounded to 4 (the model takes integers in [-${lim}, ${lim}), input scale 2^0)`);
      expect(lines[1]).to.match(/input file f\.json: 1 value\(s\) not taken as given \(1 rounded\); --strict refuses/);
    });

    it("prints the first lines and counts the rest, never nothing", () => {
      const list = frac.flatMap((s, k) => inputAdjustments(q, s, k));
      expect(list).to.have.length(26);
      const lines: string[] = [];
      applyAdjustmentPolicy(list, "input", { progress: (m) => lines.push(m) });
      expect(lines.filter((l) => /^warning: sample \d+, feature \d+:/.test(l))).to.have.length(LISTED_ADJUSTMENTS);
      expect(lines).to.include(`warning: … and ${26 - LISTED_ADJUSTMENTS} more`);
      expect(lines[lines.length - 1]).to.match(/26 value\(s\) not taken as given \(26 rounded\)/);
    });
  });

  describe("the functions", () => {
    it("predict warns per value and still answers; strict refuses", async () => {
      const model = loadModel(NAME);
      const lines: string[] = [];
      const r = await predictSamples(model, frac, { progress: (m) => lines.push(m) });
      expect(r.predictions).to.have.length(frac.length);
      expect(lines[0]).to.match(/^warning: sample 1, feature 5: 3\.5 was rounded to 4 \(the model takes integers in \[-\d+, \d+\)/);
      await expect(predictSamples(model, frac, { strict: true, what: "input file frac.json" })).to.be.rejectedWith(
        InputError, /--strict: input file frac\.json has 26 value\(s\) the model cannot take as given: sample 1, feature 5: 3\.5 was rounded to 4 .*; and 23 more/,
      );
    });

    it("prove refuses with strict before any proving, naming the sample's index in its file", async () => {
      const lines: string[] = [];
      const t0 = Date.now();
      await expect(proveInference(NAME, frac[1], (m) => lines.push(m), { strict: true, sampleIndex: 1 })).to.be.rejectedWith(
        InputError, /sample 1, feature 5: 3\.5 was rounded to 4/,
      );
      expect(lines.some((l) => /prove/.test(l))).to.equal(false);
      expect(Date.now() - t0).to.be.below(5000);
    });

    it("the sequencer's request warns through its progress; strict queues nothing", async () => {
      const d = await deployRollup(hre);
      const lines: string[] = [];
      const seq = await openSequencer(hre, { store: path.join(tmp, "seq.db"), addresses: d.addresses, progress: (m) => lines.push(m) });
      try {
        // Served as if registered: request() only reads the model and the store.
        seq.store.addModel({ modelId: 1n, name: NAME, batchSize: 1, verifier: hre.ethers.ZeroAddress });
        expect(() => seq.request(NAME, frac, { strict: true })).to.throw(InputError, /--strict: input has 26 value\(s\).*sample 1, feature 5: 3\.5/);
        expect(seq.store.pendingCount()).to.equal(0);
        const ids = seq.request(NAME, frac.slice(0, 2));
        expect(ids).to.have.length(2);
        expect(lines.some((l) => l.startsWith("warning: sample 1, feature 5: 3.5 was rounded to 4"))).to.equal(true);
      } finally {
        seq.store.close();
      }
    });
  });

  describe("the commands", () => {
    it("model:predict keeps stdout JSON and warns on stderr; --strict exits 1 and writes nothing", () => {
      const r = hardhat("model:predict", "--name", NAME, "--input", fracFile);
      expect(r.code, r.err).to.equal(0);
      expect(JSON.parse(r.out).predictions).to.have.length(frac.length);
      expect(r.err).to.match(/warning: sample 1, feature 5: 3\.5 was rounded to 4 \(the model takes integers in \[-\d+, \d+\), input scale 2\^0\)/);
      expect(r.err).to.contain(`… and ${26 - LISTED_ADJUSTMENTS} more`);

      const out = path.join(tmp, "strict-pred.json");
      const s = hardhat("model:predict", "--name", NAME, "--input", fracFile, "--out", out, "--strict");
      expect(s.code).to.equal(1);
      expect(s.err).to.match(/Error: --strict: input file .*frac\.json has 26 value\(s\)/);
      expect(fs.existsSync(out)).to.equal(false);
    });

    it("model:prove --strict exits 1 and writes no proof", () => {
      const out = path.join(tmp, "strict-proof.json");
      const s = hardhat("model:prove", "--name", NAME, "--input", fracFile, "--index", "1", "--out", out, "--strict");
      expect(s.code).to.equal(1);
      expect(s.err).to.match(/Error: --strict: .*sample 1, feature 5: 3\.5 was rounded to 4/);
      expect(fs.existsSync(out)).to.equal(false);
    });
  });
});
