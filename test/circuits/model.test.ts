/**
 * Generated model circuits against the integer executor (the TypeScript reference): the witness's
 * public outputs equal the executor's for held-out and random inputs, and a tampered output, label,
 * input commitment or hidden activation is rejected by the constraints.
 */
import { expect } from "chai";
import fc from "fast-check";
import fs from "fs";
import os from "os";
import path from "path";
import { generateCircuit, WeightsMode, CircuitLayout } from "../../src/codegen/circuit";
import { packOutputWord } from "../../src/protocol/batch";
import { circuitInput } from "../../src/codegen/witness";
import { quantizeInput, runInt } from "../../src/quant/intExec";
import { packedHash } from "../../src/quant/commitment";
import { fromField } from "../../src/quant/fixed";
import type { QGraph } from "../../src/quant/qgraph";
import { weightLayout } from "../../src/codegen/weights";
import { poseidonHash } from "../../src/quant/commitment";
import { INCLUDE, Tester, expectTamperRejected, readSignal } from "../helpers/circuit";
import { FIXTURE_MODELS, heldout, quantizedFixture } from "../helpers/fixtures";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { wasm: wasmTester } = require("circom_tester");

async function compileModelCircuit(q: QGraph, name: string, mode: WeightsMode) {
  const gen = generateCircuit(q, name, mode);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `flavum-model-${name}-`));
  const file = path.join(dir, `${name}.circom`);
  fs.writeFileSync(file, gen.source);
  const t: Tester = await wasmTester(file, { include: INCLUDE, output: dir });
  await t.loadSymbols();
  return { t, gen };
}

/** The model template sits under `m` when the main packs its outputs into one word. */
const inner = (layout: CircuitLayout, name: string) => (layout.packed ? `m.${name}` : name);

async function checkParity(t: Tester, q: QGraph, layout: CircuitLayout, sample: number[]) {
  const xq = quantizeInput(q, sample);
  const ref = runInt(q, xq);
  const w = await t.calculateWitness(circuitInput(q, layout, xq), true);
  await t.checkConstraints(w);
  ref.output.forEach((v, i) => expect(fromField(readSignal(t, w, inner(layout, `out[${i}]`))), `out[${i}]`).to.equal(v));
  if (q.argmax) expect(Number(readSignal(t, w, inner(layout, "label")))).to.equal(ref.argmax);
  if (layout.packed)
    expect(readSignal(t, w, "outputWord")).to.equal(packOutputWord(q.argmax ? ref.argmax : 0, ref.output, layout.outputBits));
  expect(readSignal(t, w, "inputHash")).to.equal(await packedHash(xq, q.input.bits));
  return { w, ref };
}

describe("generated model circuits", function () {
  for (const m of FIXTURE_MODELS) {
    describe(m, () => {
      const q = quantizedFixture(m);
      const data = heldout(m).inputs;
      let t: Tester;
      let layout: CircuitLayout;
      before(async () => {
        const c = await compileModelCircuit(q, m, "public");
        t = c.t;
        layout = c.gen.layout;
        expect(layout.packed).to.equal(true);
      });

      it("witness outputs equal the integer executor on held-out samples", async () => {
        for (const s of data.slice(0, 3)) await checkParity(t, q, layout, s);
      });

      it("equals the executor on random in-range inputs (property)", async () => {
        const lo = Math.min(...data.flat());
        const hi = Math.max(...data.flat());
        let proven = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: q.input.size, maxLength: q.input.size }), async (x) => {
            let ref;
            try {
              ref = runInt(q, quantizeInput(q, x));
            } catch {
              return; // out of the calibrated range: no witness exists, the executor says so
            }
            expect(ref).to.not.equal(undefined);
            await checkParity(t, q, layout, x);
            proven++;
          }),
          { numRuns: 8, seed: 42 },
        );
        expect(proven, "no random input stayed in range: the property checked nothing").to.be.greaterThan(0);
      });

      it("rejects a tampered output, label, input commitment and hidden activation", async () => {
        const { w, ref } = await checkParity(t, q, layout, data[0]);
        await expectTamperRejected(t, w, { "m.out[0]": ref.output[0] + 1n });
        await expectTamperRejected(t, w, { outputWord: readSignal(t, w, "outputWord") + 1n });
        await expectTamperRejected(t, w, { inputHash: readSignal(t, w, "inputHash") + 1n });
        if (q.argmax) await expectTamperRejected(t, w, { "m.label": BigInt((ref.argmax + 1) % ref.output.length) });
        // The first node's first output feeds everything after it.
        await expectTamperRejected(t, w, { "m.n0[0].out": fromField(readSignal(t, w, "m.n0[0].out")) + 1n });
      });
    });
  }

  describe("private weights (logreg_cancer)", () => {
    const q = quantizedFixture("logreg_cancer");
    let t: Tester;
    let layout: CircuitLayout;
    before(async () => {
      const c = await compileModelCircuit(q, "logreg_private", "private");
      t = c.t;
      layout = c.gen.layout;
    });

    it("commits to exactly the quantized weights, and other weights change the commitment", async () => {
      const { w } = await checkParity(t, q, layout, heldout("logreg_cancer").inputs[0]);
      const l = weightLayout(q);
      const expected = await poseidonHash([await packedHash(l.weights, l.weightBits), await packedHash(l.biases, l.biasBits)]);
      expect(readSignal(t, w, "weightsHash")).to.equal(expected);
      await expectTamperRejected(t, w, { "w[0]": l.weights[0] + 1n });
      await expectTamperRejected(t, w, { weightsHash: expected + 1n });
    });
  });
});
