/**
 * The update-norm bound (spec.maxUpdateNorm): the training circuit proves ||w_new - w_parent||² <=
 * floor(maxUpdateNorm · 2^sw)², and the executor refuses a larger update before any proving. An
 * update within the bound proves exactly as without it; one beyond it has no witness (the same inputs
 * satisfy the unbounded circuit, so it is the bound that refuses them); tampering with the squares or
 * the range check fails; and the cost estimate counts the check.
 */
import { expect } from "chai";
import { Tester, compileSource, compiledConstraints, expectTamperRejected, readSignal, witnessFails } from "../helpers/circuit";
import { FIELD_P } from "../../src/quant/fixed";
import { TrainingSpec, trainingSpec, generateTrainingCircuit, trainingCircuitInput, trainCommit, trainingCost, updateNormBound, paramCount } from "../../src/training";
import { FlavumError } from "../../src/errors";

const SECRETS = { binding: FIELD_P - 7n, salt: 99n };


/** Rows that push the weights hard: features at the top of the range, every label 1. */
function strongData(s: TrainingSpec): { X: bigint[][]; y: bigint[] } {
  const top = (1n << BigInt(s.bx - 1)) - 1n;
  return { X: Array.from({ length: s.n * s.K }, () => Array(s.d).fill(top)), y: Array(s.n * s.K).fill(1n) };
}

/** Small features and balanced labels: a gentle step. */
function gentleData(s: TrainingSpec): { X: bigint[][]; y: bigint[] } {
  return { X: Array.from({ length: s.n * s.K }, (_, i) => Array.from({ length: s.d }, (_, j) => BigInt(((i + j) % 3) - 1))), y: Array.from({ length: s.n * s.K }, (_, i) => BigInt(i % 2)) };
}

describe("training circuits: the update-norm bound", function () {
  const base = { kind: "logistic" as const, d: 3, n: 4, K: 2, lr: 0.5 };
  const free = trainingSpec(base);
  const bounded = trainingSpec({ ...base, maxUpdateNorm: 0.05 });
  const parent = Array(paramCount(free)).fill(0n);
  let t: Tester;
  let file: string;

  before(async function () {
    this.timeout(300_000);
    ({ t, file } = await compileSource("bound", generateTrainingCircuit(bounded).source));
  });

  it("leaves specs without a bound unchanged, and validates the bound", () => {
    expect(free).to.not.have.property("maxUpdateNorm");
    expect(generateTrainingCircuit(free).source).to.not.contain("normBound");
    for (const v of [0, -1, Number.POSITIVE_INFINITY])
      expect(() => trainingSpec({ ...base, maxUpdateNorm: v })).to.throw(/maxUpdateNorm must be a positive number/);
    const nb = updateNormBound(bounded)!;
    expect(nb.bound).to.equal(BigInt(Math.floor(0.05 * 4096)) ** 2n);
  });

  it("proves an update within the bound exactly as the executor computes it", async () => {
    const { X, y } = gentleData(bounded);
    const { input, result } = await trainingCircuitInput(bounded, parent, X, y, SECRETS);
    const w = await t.calculateWitness(input as unknown as Record<string, unknown>, true);
    await t.checkConstraints(w);
    const sum = result.weights.reduce((a, v) => a + v * v, 0n);
    expect(sum > 0n && sum <= updateNormBound(bounded)!.bound, "a non-zero update within the bound").to.equal(true);
    // The squares are the update's, and the range check takes bound - Σ: a forged square or a forged
    // difference fails.
    const d0 = readSignal(t, w, "du[0]");
    await expectTamperRejected(t, w, { "du[0]": d0 + 1n });
    await expectTamperRejected(t, w, { "normBound.in": readSignal(t, w, "normBound.in") - 1n });
  });

  it("refuses an update beyond the bound: the executor names it, the circuit has no witness", async () => {
    const { X, y } = strongData(bounded);
    expect(() => trainCommit(bounded, parent, X, y)).to.throw(FlavumError, /L2 norm [0-9.]+ exceeds the repository's bound maxUpdateNorm = 0\.05/);
    // The same rows and parent make a valid witness of the unbounded circuit; only the bound refuses them.
    const { input } = await trainingCircuitInput(free, parent, X, y, SECRETS);
    expect(await witnessFails(t, input), "an over-bound update satisfied the bounded circuit").to.equal(true);
  });

  it("costs P squares and one range check, as the estimate says", async function () {
    this.timeout(300_000);
    const c = trainingCost(bounded);
    expect(c.constraints).to.equal(await compiledConstraints(file));
    expect(c.bound).to.equal(paramCount(bounded) + updateNormBound(bounded)!.bits);
    expect(trainingCost(free).constraints).to.equal(c.constraints - c.bound);
  });
});

