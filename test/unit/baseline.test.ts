/**
 * The benchmark's circomlib-ml / keras2circom-style baseline: it must compute exactly what the
 * integer executor computes (so constraint counts compare like for like), and its unchecked
 * division remainder must be as unsound as the projects it stands for — where Flavum's RescaleAct
 * rejects the same forged quotient.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { expect } from "chai";
import { compileMain, expectTamperRejected, INCLUDE, readSignal, signalIndex, Tester } from "../helpers/circuit";
import { BASELINE_INCLUDES, BASELINE_TEMPLATES, baselineInput, generateBaseline } from "../../src/codegen/baseline";
import { importOnnx } from "../../src/onnx/lower";
import { calibrate } from "../../src/quant/calibrate";
import { quantizeGraph } from "../../src/quant/quantize";
import { quantizeInput, runInt } from "../../src/quant/intExec";
import { readSamples } from "../../src/model/samples";
import { fromField, roundShift, toField } from "../../src/quant/fixed";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { wasm: wasmTester } = require("circom_tester");

const ROOT = path.resolve(__dirname, "..", "..");

describe("baseline circuit (benchmark yardstick)", function () {
  this.timeout(120_000);

  it("computes the integer executor's outputs for the MLP on an honest witness", async () => {
    const graph = importOnnx(path.join(ROOT, "fixtures/models/mlp_digits.onnx"));
    const q = quantizeGraph(graph, calibrate(graph, readSamples(path.join(ROOT, "fixtures/data/mlp_digits.calibration.json"))));
    const sample = readSamples(path.join(ROOT, "fixtures/data/mlp_digits.sample.json"))[0];
    const xq = quantizeInput(q, sample);
    const expected = runInt(q, xq);

    const circuit = generateBaseline(q, "mlp_digits");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-baseline-"));
    const file = path.join(dir, "baseline_mlp.circom");
    fs.writeFileSync(file, circuit.source);
    const t: Tester = await wasmTester(file, { include: INCLUDE, output: dir });
    await t.loadSymbols();
    const w = await t.calculateWitness(baselineInput(q, xq), true);
    await t.checkConstraints(w);

    const out = expected.output.map((_, i) => fromField(readSignal(t, w, `out[${i}]`)));
    expect(out).to.deep.equal(expected.output);
    expect(Number(readSignal(t, w, "label"))).to.equal(expected.argmax);
  });

  describe("an unchecked remainder (baseline) vs a range-checked one (RescaleAct)", () => {
    const SHIFT = 6;
    const ACC = 12345n;
    let baseline: Tester;
    let ours: Tester;
    before(async () => {
      baseline = await compileMain("baseline_rescale", BASELINE_INCLUDES, `${BASELINE_TEMPLATES}\ncomponent main = BaselineRescale(${SHIFT});`);
      ours = await compileMain("rescale_vs_baseline", ["RescaleAct.circom"], `component main = RescaleAct(12, ${SHIFT}, 0);`);
    });

    it("both compute round(acc / 2^shift) honestly", async () => {
      const q = roundShift(ACC, SHIFT);
      expect(fromField(readSignal(baseline, await baseline.calculateWitness({ in: ACC }, true), "out"))).to.equal(q);
      expect(fromField(readSignal(ours, await ours.calculateWitness({ in: ACC }, true), "out"))).to.equal(q);
    });

    it("the baseline accepts a forged quotient with a matching remainder; RescaleAct rejects it", async () => {
      const honest = await baseline.calculateWitness({ in: ACC }, true);
      const q = fromField(readSignal(baseline, honest, "out"));
      const forged = q + 1000n;
      const bad = [...honest];
      bad[signalIndex(baseline, "out")] = toField(forged);
      // circom may fold the linear check and drop `rem`; if it is kept, forge it to match.
      const rem = baseline.symbols["main.rem"];
      if (rem && rem.varIdx >= 0) {
        const s = ACC + (1n << BigInt(SHIFT - 1));
        bad[rem.varIdx] = toField(s - forged * (1n << BigInt(SHIFT)));
      }
      await baseline.checkConstraints(bad); // passes: the baseline "proves" a wrong rescale

      const w = await ours.calculateWitness({ in: ACC }, true);
      await expectTamperRejected(ours, w, { out: fromField(readSignal(ours, w, "out")) + 1000n });
    });
  });
});
