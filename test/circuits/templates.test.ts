/**
 * Every circuit template against its TypeScript twin (fast-check), and a tampered witness for each
 * constraint that carries soundness: wrong remainder, wrong quotient, forged sign, wrong max,
 * wrong or ambiguous argmax, wrong segment, wrong commitment.
 */
import { expect } from "chai";
import fc from "fast-check";
import { compileMain, expectTamperRejected, readSignal, Tester } from "../helpers/circuit";
import { fromField, roundShift, toField } from "../../src/quant/fixed";
import { packedHash } from "../../src/quant/commitment";
import { argmaxOf } from "../../src/quant/intExec";

const RUNS = 25;
const signedBits = (bits: number) => fc.bigInt(-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n);

describe("circuit templates", function () {
  describe("RescaleAct", () => {
    const BITS = 12;
    const SHIFT = 6;
    let plain: Tester;
    let relu: Tester;
    before(async () => {
      plain = await compileMain("rescale", ["RescaleAct.circom"], `component main = RescaleAct(${BITS}, ${SHIFT}, 0);`);
      relu = await compileMain("rescale_relu", ["RescaleAct.circom"], `component main = RescaleAct(${BITS}, ${SHIFT}, 1);`);
    });

    it("equals round(in / 2^shift), and its ReLU, for every in-range accumulator", async () => {
      await fc.assert(
        fc.asyncProperty(signedBits(BITS + SHIFT), async (acc) => {
          const q = roundShift(acc, SHIFT);
          fc.pre(q >= -(1n << BigInt(BITS - 1)) && q < 1n << BigInt(BITS - 1));
          const w = await plain.calculateWitness({ in: toField(acc) }, true);
          expect(fromField(readSignal(plain, w, "out"))).to.equal(q);
          const r = await relu.calculateWitness({ in: toField(acc) }, true);
          expect(fromField(readSignal(relu, r, "out"))).to.equal(q < 0n ? 0n : q);
        }),
        { numRuns: RUNS },
      );
    });

    it("has no witness for an accumulator outside the calibrated range", async () => {
      const tooBig = 1n << BigInt(BITS - 1 + SHIFT);
      let failed = false;
      try {
        await plain.calculateWitness({ in: tooBig }, true);
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
    });

    it("rejects a wrong quotient and a wrong remainder", async () => {
      const acc = 12345n;
      const w = await plain.calculateWitness({ in: acc }, true);
      const q = fromField(readSignal(plain, w, "out"));
      await expectTamperRejected(plain, w, { out: q + 1n });
      const bit0 = readSignal(plain, w, "split.out[0]");
      await expectTamperRejected(plain, w, { "split.out[0]": 1n - bit0 });
      // Shifting the remainder into the quotient keeps the bit sum but not the bit constraints.
      await expectTamperRejected(plain, w, { out: q + 1n, "split.out[0]": bit0 - 1n });
    });

    it("rejects a forged sign bit on ReLU", async () => {
      const acc = -5000n;
      const w = await relu.calculateWitness({ in: toField(acc) }, true);
      const q = roundShift(acc, SHIFT);
      expect(fromField(readSignal(relu, w, "out"))).to.equal(0n);
      await expectTamperRejected(relu, w, { [`split.out[${SHIFT + BITS - 1}]`]: 1n, out: q });
      await expectTamperRejected(relu, w, { out: q });
    });
  });

  describe("Relu and LeakyRelu", () => {
    let relu: Tester;
    let leaky: Tester;
    before(async () => {
      relu = await compileMain("relu", ["Relu.circom"], `component main = Relu(10);`);
      leaky = await compileMain("leaky", ["LeakyRelu.circom"], `component main = LeakyRelu(10, 26, 8);`);
    });

    it("match max(x, 0) and the quantized leaky slope", async () => {
      await fc.assert(
        fc.asyncProperty(signedBits(10), async (x) => {
          const w = await relu.calculateWitness({ in: toField(x) }, true);
          expect(fromField(readSignal(relu, w, "out"))).to.equal(x < 0n ? 0n : x);
          const l = await leaky.calculateWitness({ in: toField(x) }, true);
          expect(fromField(readSignal(leaky, l, "out"))).to.equal(x < 0n ? roundShift(26n * x, 8) : x);
        }),
        { numRuns: RUNS },
      );
    });

    it("rejects a forged sign", async () => {
      const w = await relu.calculateWitness({ in: toField(-7n) }, true);
      await expectTamperRejected(relu, w, { "split.out[9]": 1n, out: -7n });
      const l = await leaky.calculateWitness({ in: toField(-100n) }, true);
      await expectTamperRejected(leaky, l, { out: -100n });
    });
  });

  describe("MaxN", () => {
    let max: Tester;
    before(async () => {
      max = await compileMain("maxn", ["MaxN.circom"], `component main = MaxN(4, 10);`);
    });

    it("is the maximum", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(signedBits(10), { minLength: 4, maxLength: 4 }), async (xs) => {
          const w = await max.calculateWitness({ in: xs.map(toField) }, true);
          expect(fromField(readSignal(max, w, "out"))).to.equal(xs.reduce((a, b) => (a > b ? a : b)));
        }),
        { numRuns: RUNS },
      );
    });

    it("rejects a value that is not the maximum", async () => {
      const xs = [3n, -9n, 40n, 17n];
      const w = await max.calculateWitness({ in: xs.map(toField) }, true);
      await expectTamperRejected(max, w, { out: 17n }); // an input, but not the largest
      await expectTamperRejected(max, w, { out: 41n }); // larger than all, but not an input
    });
  });

  describe("ArgMax", () => {
    let am: Tester;
    before(async () => {
      am = await compileMain("argmax", ["ArgMax.circom"], `component main = ArgMax(5, 10);`);
    });

    it("is the first index of the maximum", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.bigInt(-3n, 3n), { minLength: 5, maxLength: 5 }), async (xs) => {
          const w = await am.calculateWitness({ in: xs.map(toField) }, true);
          expect(Number(readSignal(am, w, "out"))).to.equal(argmaxOf(xs));
        }),
        { numRuns: RUNS },
      );
    });

    it("rejects a wrong label, a tie broken the other way and a two-hot selector", async () => {
      const xs = [1n, 7n, -2n, 7n, 0n];
      const w = await am.calculateWitness({ in: xs.map(toField) }, true);
      expect(readSignal(am, w, "out")).to.equal(1n);
      await expectTamperRejected(am, w, { out: 2n, "hot[1]": 0n, "hot[2]": 1n, "pick[1]": 0n, "pick[2]": -2n });
      await expectTamperRejected(am, w, { out: 3n, "hot[1]": 0n, "hot[3]": 1n, "pick[1]": 0n, "pick[3]": 7n });
      await expectTamperRejected(am, w, { out: 4n, "hot[3]": 1n, "pick[3]": 7n });
      await expectTamperRejected(am, w, { out: 0n });
    });
  });

  describe("PackedHash", () => {
    it("equals the TypeScript commitment, across several Poseidon chunks", async () => {
      // 20 bits → 12 values per element; 200 values → 17 elements → one full chunk and a rest.
      const ph = await compileMain("packed", ["PackedHash.circom"], `component main = PackedHash(200, 20);`);
      const values = Array.from({ length: 200 }, (_, i) => BigInt(((i * 7919) % 1000000) - 500000));
      const w = await ph.calculateWitness({ in: values.map(toField) }, true);
      expect(readSignal(ph, w, "out")).to.equal(await packedHash(values, 20));
      await expectTamperRejected(ph, w, { out: readSignal(ph, w, "out") + 1n });
      await expectTamperRejected(ph, w, { "in[3]": values[3] + 1n });
    });

    it("has no witness for a value wider than its bits (packing must stay injective)", async () => {
      const ph = await compileMain("packed_small", ["PackedHash.circom"], `component main = PackedHash(3, 8);`);
      expect(readSignal(ph, await ph.calculateWitness({ in: [1, 2, 3] }, true), "out")).to.equal(
        await packedHash([1n, 2n, 3n], 8),
      );
      let failed = false;
      try {
        await ph.calculateWitness({ in: [1, 256, 3] }, true);
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
    });
  });
});
