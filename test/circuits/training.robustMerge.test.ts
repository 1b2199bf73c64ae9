/**
 * Robust merges (src/training/robustMerge.ts): coordinate-wise median and trimmed mean.
 * (a) The TypeScript references (fast-check): the median is the sorted middle, results do not depend
 *     on the input order, equal values aggregate to themselves, results lie within [min, max], at
 *     most t forged inputs cannot move a trimmed mean outside the honest inputs' range.
 * (b) The circuits (logistic d = 3, P = 4 weights; k = 3 and 4 medians, k = 5 trimmed by 1) equal the
 *     references on random inputs with negative weights, ties and the extremes ±2^(bw-1).
 * (c) Tampered witnesses fail: a result off by one, a non-permutation (a value duplicated over
 *     another, including a tie that keeps the set of values but not the multiset), an unsorted
 *     order, a wrong remainder; RoundDivConst on its own shows why its caller must range-check out.
 * (d) The cost formula equals the compiled (--O2) constraint count; the digits-sized numbers.
 */
import { expect } from "chai";
import fc from "fast-check";
import fs from "fs";
import os from "os";
import path from "path";
import { Tester, compileMain, expectTamperRejected, readSignal, signalIndex, compileSource, compiledConstraints } from "../helpers/circuit";
import { FIELD_P, fromField, toField } from "../../src/quant/fixed";
import { commitWeights, fedAvg, fedAvgMergeCost, generateMergeCircuit, paramCount, roundDiv, trainingSpec, TrainingSpec, MERGE_COUNT_BITS } from "../../src/training";
import {
  coordinateMedian, generateRobustMergeCircuit, medianTrim, robustMergeCircuitInput, robustMergeCost, trimmedMean,
  RobustMergeWitnessInput,
} from "../../src/training/robustMerge";

// circom_tester shells out to `circom`: bin/circom forwards to the circom2 package (hardhat.config.ts
// does the same), so the file also runs under plain mocha.
process.env.PATH = `${path.resolve(__dirname, "../../bin")}${path.delimiter}${process.env.PATH ?? ""}`;


const SEED = Number(process.env.FLAVUM_FC_SEED ?? 20261207);
const S = trainingSpec({ kind: "logistic", d: 3 });
const P = paramCount(S);
const HALF = 1n << BigInt(S.bw - 1);

/** The witness generator's or the constraint check's complaint, or undefined if the input passes. */
async function witnessError(t: Tester, input: object): Promise<string | undefined> {
  try {
    const w = await t.calculateWitness(input as Record<string, unknown>, true);
    await t.checkConstraints(w);
    return undefined;
  } catch (e) {
    return String((e as Error).message ?? e);
  }
}

/** Weights in bw bits, biased toward the edges and toward small values (so coordinates tie). */
const valueArb = fc.oneof(
  fc.bigInt(-HALF, HALF - 1n),
  fc.constantFrom(-HALF, HALF - 1n, 0n),
  fc.bigInt(-2n, 2n),
);
const vectorsArb = (k: number, n = P) => fc.array(fc.array(valueArb, { minLength: n, maxLength: n }), { minLength: k, maxLength: k });
const column = (ws: readonly (readonly bigint[])[], j: number) => ws.map((w) => w[j]);
const sorted = (xs: bigint[]) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const minOf = (xs: bigint[]) => xs.reduce((a, b) => (b < a ? b : a));
const maxOf = (xs: bigint[]) => xs.reduce((a, b) => (b > a ? b : a));

describe("robust merges: coordinate-wise median and trimmed mean", function () {
  describe("TypeScript references (fast-check)", () => {
    const kArb = fc.integer({ min: 1, max: 8 });
    const caseArb = kArb.chain((k) => fc.record({ ws: vectorsArb(k, 3), trim: fc.integer({ min: 0, max: Math.floor((k - 1) / 2) }) }));

    it("the median is the sorted middle value (for even k the rounded mean of the two middle values)", () => {
      fc.assert(
        fc.property(kArb.chain((k) => vectorsArb(k, 3)), (ws) => {
          const k = ws.length;
          const med = coordinateMedian(ws);
          med.forEach((v, j) => {
            const c = sorted(column(ws, j));
            expect(v).to.equal(k % 2 === 1 ? c[(k - 1) / 2] : roundDiv(c[k / 2 - 1] + c[k / 2], 2n));
          });
        }),
        { numRuns: 200, seed: SEED },
      );
    });

    it("does not depend on the order of the inputs", () => {
      fc.assert(
        fc.property(caseArb.chain((c) => fc.record({ c: fc.constant(c), order: fc.shuffledSubarray(c.ws.map((_, i) => i), { minLength: c.ws.length, maxLength: c.ws.length }) })), ({ c, order }) => {
          const shuffled = order.map((i) => c.ws[i]);
          expect(trimmedMean(shuffled, c.trim)).to.deep.equal(trimmedMean(c.ws, c.trim));
          expect(coordinateMedian(shuffled)).to.deep.equal(coordinateMedian(c.ws));
        }),
        { numRuns: 200, seed: SEED },
      );
    });

    it("aggregates equal values to that value, for every k and trim", () => {
      fc.assert(
        fc.property(kArb, valueArb, (k, v) => {
          const ws = Array.from({ length: k }, () => [v, v]);
          for (let t = 0; 2 * t < k; t++) expect(trimmedMean(ws, t)).to.deep.equal([v, v]);
        }),
        { numRuns: 100, seed: SEED },
      );
    });

    it("lies within each coordinate's [min, max]; trim 0 is FedAvg with equal counts", () => {
      fc.assert(
        fc.property(caseArb, ({ ws, trim }) => {
          trimmedMean(ws, trim).forEach((v, j) => {
            const c = column(ws, j);
            expect(v >= minOf(c) && v <= maxOf(c), `coordinate ${j}`).to.equal(true);
          });
          expect(trimmedMean(ws, 0)).to.deep.equal(fedAvg(ws, ws.map(() => 1)));
        }),
        { numRuns: 200, seed: SEED },
      );
    });

    it("is robust: up to trim forged inputs cannot leave the honest inputs' range", () => {
      const arb = fc.integer({ min: 3, max: 8 }).chain((k) =>
        fc.record({ honest: vectorsArb(k, 2), trim: fc.integer({ min: 1, max: Math.floor((k - 1) / 2) }), forged: fc.array(fc.array(valueArb, { minLength: 2, maxLength: 2 }), { minLength: 1, maxLength: 3 }) }),
      );
      fc.assert(
        fc.property(arb, ({ honest, trim, forged }) => {
          const f = forged.slice(0, trim);
          const ws = [...honest.slice(f.length), ...f];
          trimmedMean(ws, trim).forEach((v, j) => {
            const c = column(honest.slice(f.length), j);
            expect(v >= minOf(c) && v <= maxOf(c)).to.equal(true);
          });
        }),
        { numRuns: 200, seed: SEED },
      );
    });

    it("rejects a trim that leaves nothing, ragged vectors and out-of-range weights", () => {
      expect(() => trimmedMean([[1n], [2n], [3n], [4n]], 2)).to.throw(/trim/);
      expect(() => trimmedMean([[1n], [2n], [3n]], -1)).to.throw(/trim/);
      expect(() => coordinateMedian([[1n, 2n], [3n]])).to.throw(/parameters/);
      expect(() => coordinateMedian([Array(P).fill(HALF), Array(P).fill(0n)], S)).to.throw(/bits/);
      expect(() => generateRobustMergeCircuit(S, 9, 1)).to.throw(/k must be/);
      expect(medianTrim(4)).to.equal(1);
      expect(medianTrim(5)).to.equal(2);
    });
  });

  // (k, trim) of the compiled circuits: odd median, even median, trimmed mean.
  const CIRCUITS: [number, number, string][] = [
    [3, 1, "median of 3"],
    [4, 1, "median of 4 (mean of the two middle values)"],
    [5, 1, "trimmed mean of 5, trim 1"],
  ];

  for (const [k, trim, label] of CIRCUITS) {
    describe(`circuit: ${label} (P = ${P}, bw = ${S.bw})`, () => {
      let t: Tester;
      let file: string;
      const m = k - 2 * trim;
      before(async () => {
        ({ t, file } = await compileSource(`robust_k${k}_t${trim}`, generateRobustMergeCircuit(S, k, trim).source));
      });

      const counts = Array.from({ length: k }, (_, i) => [7, 0, 123456, 2 ** 32 - 1, 1][i % 5]);

      async function checkParity(ws: bigint[][]) {
        const { input, weights, publicSignals } = await robustMergeCircuitInput(S, ws, counts, trim);
        expect(weights).to.deep.equal(trimmedMean(ws, trim));
        const w = await t.calculateWitness(input as unknown as Record<string, unknown>, true);
        await t.checkConstraints(w);
        // Public signals sit at witness[1..] in declaration order: newHash, hashes, counts.
        publicSignals.forEach((v, i) => expect(w[1 + i], `public signal ${i}`).to.equal(toField(v)));
        expect(w[1]).to.equal(await commitWeights(S, trimmedMean(ws, trim)));
        return { input, weights, w };
      }

      it("newHash equals the reference's hash on random inputs (negatives, ties, ±2^(bw-1); fast-check)", async () => {
        await fc.assert(fc.asyncProperty(vectorsArb(k), async (ws) => void (await checkParity(ws))), { numRuns: 12, seed: SEED });
      });

      it("handles all-extreme and all-tied coordinates", async () => {
        const ws = Array.from({ length: k }, (_, i) => [i % 2 === 0 ? -HALF : HALF - 1n, -HALF, HALF - 1n, 5n]);
        const { weights } = await checkParity(ws);
        expect(weights[1]).to.equal(-HALF);
        expect(weights[2]).to.equal(HALF - 1n);
        expect(weights[3]).to.equal(5n);
        await checkParity(Array.from({ length: k }, (_, i) => [BigInt(i % 2), -1n, 0n, BigInt(-i)]));
      });

      it("ignores the sample counts", async () => {
        const ws = Array.from({ length: k }, (_, i) => [BigInt(10 * i), BigInt(-i), 3n, BigInt(i * i)]);
        const a = await robustMergeCircuitInput(S, ws, counts, trim);
        const b = await robustMergeCircuitInput(S, ws, counts.map(() => 1), trim);
        expect(a.publicSignals[0]).to.equal(b.publicSignals[0]);
      });

      it(`costs what robustMergeCost estimates (${robustMergeCost(S, k, trim).constraints} constraints)`, async () => {
        expect(await compiledConstraints(file)).to.equal(robustMergeCost(S, k, trim).constraints);
      });

      describe("soundness", () => {
        // Coordinate 1 has distinct values, coordinate 2 a tie, coordinate 3 negatives.
        const ws = Array.from({ length: k }, (_, i) => [BigInt(3 * i - 4), BigInt(100 * ((i * 7) % k) - 150), BigInt(i < 2 ? 9 : 30 + i), BigInt(-50 - 11 * i)]);
        let honest: Awaited<ReturnType<typeof robustMergeCircuitInput>>;
        let w: bigint[];
        before(async () => {
          honest = await robustMergeCircuitInput(S, ws, counts, trim);
          w = await t.calculateWitness(honest.input as unknown as Record<string, unknown>, true);
          await t.checkConstraints(w);
        });

        /**
         * A cheating input: coordinate j's sorted values replaced by `sCol` and the permutation rows by
         * `rows` (row r claims input rows[r]; the circuit derives the last row), with newHash forged to
         * match the result that sCol would give, so only the sort proof stands in the way.
         */
        async function forge(j: number, sCol: bigint[], rows: number[], permOverride?: string[][]): Promise<RobustMergeWitnessInput> {
          const forgedWeights = [...honest.weights];
          let sum = 0n;
          for (let r = trim; r < k - trim; r++) sum += sCol[r];
          forgedWeights[j] = roundDiv(sum, BigInt(m));
          const s = honest.input.s!.map((c) => [...c]);
          s[j] = sCol.map((v) => toField(v).toString());
          const perm = honest.input.perm!.map((b) => b.map((r) => [...r]));
          perm[j] = permOverride ?? rows.slice(0, k - 1).map((src) => Array.from({ length: k - 1 }, (_, i) => (src === i ? "1" : "0")));
          return { ...honest.input, s, perm, newHash: (await commitWeights(S, forgedWeights)).toString() };
        }

        /** Input indices of coordinate j in sorted order (what the honest witness uses). */
        const order = (j: number) => column(ws, j).map((v, i) => [v, i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1])).map((x) => x[1]);

        it("the forging helper is faithful: the honest sort passes through it", async () => {
          const j = 1;
          const o = order(j);
          expect(await witnessError(t, await forge(j, o.map((i) => ws[i][j]), o))).to.equal(undefined);
        });

        it("rejects a result off by one in one coordinate", async () => {
          const forged = [...honest.weights];
          forged[1] += 1n;
          expect(await witnessError(t, { ...honest.input, newHash: (await commitWeights(S, forged)).toString() })).to.match(/Assert Failed/);
          if (t.symbols["main.agg[1].out"]?.varIdx >= 0) await expectTamperRejected(t, w, { "agg[1].out": forged[1] });
        });

        it("rejects a non-permutation: a value duplicated over its neighbour, rows pointing at it", async () => {
          const j = 1;
          const o = order(j);
          // The middle value replaced by the one below it: the sorted order still holds.
          const mid = trim;
          const dup = [...o];
          dup[mid] = o[mid - 1];
          const err = await witnessError(t, await forge(j, dup.map((i) => ws[i][j]), dup));
          expect(err).to.match(/SortedPermutation/);
          // Same at the top: the largest value duplicated over the second largest.
          const top = [...o];
          top[k - 2] = o[k - 1];
          expect(await witnessError(t, await forge(j, top.map((i) => ws[i][j]), top))).to.match(/SortedPermutation/);
        });

        it("rejects a multiset change that keeps the set of values (ties: 9, 9, x … → 9, x, x …)", async () => {
          const j = 2; // inputs 0 and 1 are 9, the others 30 + i
          const o = order(j);
          const c = o.map((i) => ws[i][j]);
          expect(c[0]).to.equal(9n);
          expect(c[1]).to.equal(9n);
          const cheat = [...c];
          cheat[1] = c[2];
          const rows = [o[0], o[2], ...o.slice(2)];
          expect(await witnessError(t, await forge(j, cheat, rows))).to.match(/SortedPermutation/);
          // A fractional matrix cannot help either (no booleanity is needed for soundness)…
          const half = (FIELD_P + 1n) / 2n;
          const fr = Array.from({ length: k - 1 }, (_, r) => Array.from({ length: k - 1 }, (_, i) => (r < 2 && i < 2 ? half.toString() : r === i ? "1" : "0")));
          expect(await witnessError(t, await forge(j, cheat, rows, fr))).to.match(/SortedPermutation/);
          // …and with the honest values it is accepted: any matrix is fine once s is the sorted multiset.
          expect(await witnessError(t, await forge(j, c, o, fr))).to.equal(undefined);
        });

        it("rejects an unsorted order (a true permutation, two values swapped)", async () => {
          const j = 1;
          const o = order(j);
          for (const [a, b] of [[trim - 1, trim], [k - 1 - trim, k - trim], [0, k - 1]]) {
            const sw = [...o];
            [sw[a], sw[b]] = [sw[b], sw[a]];
            expect(await witnessError(t, await forge(j, sw.map((i) => ws[i][j]), sw)), `swap ${a}, ${b}`).to.match(/Num2Bits[\s\S]*SortedPermutation|SortedPermutation[\s\S]*Num2Bits/);
          }
        });

        it("rejects weights other than the committed ones, and counts out of range", async () => {
          const other = honest.input.w.map((r) => [...r]);
          other[0][3] = toField(ws[0][3] + 1n).toString();
          expect(await witnessError(t, { ...honest.input, w: other })).to.not.equal(undefined);
          const bigCount = [...honest.input.counts];
          bigCount[0] = (1n << BigInt(MERGE_COUNT_BITS)).toString();
          expect(await witnessError(t, { ...honest.input, counts: bigCount })).to.not.equal(undefined);
        });

        if (m > 1)
          it(`rejects a wrong remainder of the division by m = ${m}`, async () => {
            for (let j = 0; j < P; j++) {
              const q = fromField(readSignal(t, w, `agg[${j}].out`));
              const r = readSignal(t, w, `agg[${j}].div.rem`);
              expect(q).to.equal(honest.weights[j]);
              await expectTamperRejected(t, w, { [`agg[${j}].div.rem`]: r + 1n });
              await expectTamperRejected(t, w, { [`agg[${j}].out`]: q - 1n, [`agg[${j}].div.rem`]: r + 2n * BigInt(m) });
              await expectTamperRejected(t, w, { [`agg[${j}].out`]: q + 1n, [`agg[${j}].div.rem`]: r - 2n * BigInt(m) });
            }
          });
      });
    });
  }

  describe("RoundDivConst on its own", () => {
    /** Sets a signal if the compiled witness kept it, and a Num2Bits component's bits to v's low bits. */
    function set(t: Tester, w: bigint[], name: string, v: bigint, bits = 0) {
      const s = t.symbols[`main.${name}`];
      if (s && s.varIdx >= 0) w[s.varIdx] = toField(v);
      const u = toField(v);
      for (let b = 0; b < bits; b++) {
        const bit = t.symbols[`main.${name.replace(/\.in$/, "")}.out[${b}]`];
        if (bit && bit.varIdx >= 0) w[bit.varIdx] = (u >> BigInt(b)) & 1n;
      }
    }

    it("equals roundDiv by a constant; a field-inverse quotient passes only without the caller's range check", async () => {
      const M = 3;
      const body = (checked: boolean) => `template T() {
    signal input num;
    signal output out;
    component d = RoundDivConst(${M});
    d.num <== num;
    out <== d.out;
    ${checked ? `component range = Num2Bits(18);\n    range.in <== out + ${2 ** 17};` : ""}
}
component main = T();`;
      const loose = await compileMain("rdc_loose", ["circomlib/circuits/bitify.circom", "RoundDivConst.circom"], body(false));
      const tight = await compileMain("rdc_tight", ["circomlib/circuits/bitify.circom", "RoundDivConst.circom"], body(true));
      for (const num of [-7n, -6n, -5n, -4n, -1n, 0n, 1n, 4n, 5n, 6n, 7n, 3n * 131071n, -3n * 131072n]) {
        const x = await tight.calculateWitness({ num: toField(num) }, true);
        await tight.checkConstraints(x);
        expect(fromField(readSignal(tight, x, "out")), `num ${num}`).to.equal(roundDiv(num, BigInt(M)));
      }
      /** A complete witness claiming (out, rem) for num, every bit re-decomposed as a cheater would. */
      const cheat = (t: Tester, w: bigint[], out: bigint, rem: bigint) => {
        const c = [...w];
        set(t, c, "out", out);
        set(t, c, "d.out", out);
        set(t, c, "d.rem", rem);
        set(t, c, "d.remLow.in", rem, 3);
        set(t, c, "d.remHigh.in", 2n * BigInt(M) - 1n - rem, 3);
        set(t, c, "range.in", out + 2n ** 17n, 18);
        return c;
      };
      const accepts = async (t: Tester, w: bigint[]) => {
        try {
          await t.checkConstraints(w);
          return true;
        } catch {
          return false;
        }
      };
      // num = 2: 2·2 + 3 = 7 = 6·1 + 1. The helper is faithful: the true (1, 1) passes through it.
      let wt = await tight.calculateWitness({ num: 2n }, true);
      expect(await accepts(tight, cheat(tight, wt, 1n, 1n))).to.equal(true);
      // (0, 7): 7 fits remLow's 3 bits, only the upper check 2m - 1 - rem >= 0 rejects it.
      expect(await accepts(tight, cheat(tight, wt, 0n, 7n)), "remainder 2m + 1").to.equal(false);
      expect(await accepts(tight, cheat(tight, wt, 2n, toField(-5n))), "negative remainder").to.equal(false);
      // num = 10: 2·10 + 3 = 23 = 6·3 + 5. Claim remainder 4 instead: out = 19/6 in the field. It
      // satisfies RoundDivConst alone (the precondition is load-bearing), not with out range-checked.
      const inv = ((19n * modInverse(6n)) % FIELD_P);
      const wl = await loose.calculateWitness({ num: 10n }, true);
      expect(await accepts(loose, cheat(loose, wl, inv, 4n)), "field-inverse quotient, no range check").to.equal(true);
      wt = await tight.calculateWitness({ num: 10n }, true);
      expect(await accepts(tight, cheat(tight, wt, inv, 4n)), "field-inverse quotient, range-checked").to.equal(false);
      expect(signalIndex(tight, "out")).to.be.greaterThan(0);
    });
  });

  describe("cost", () => {
    it("the formula equals the compiled --O2 count for other k and trims (median, trimmed, trim 0)", async () => {
      for (const [k, trim] of [[2, 0], [3, 0], [6, 2], [7, 1], [8, 3], [8, 2]]) {
        const { file } = await writeOnly(`robust_cost_k${k}_t${trim}`, generateRobustMergeCircuit(S, k, trim).source);
        expect(await compiledConstraints(file), `k=${k} trim=${trim}`).to.equal(robustMergeCost(S, k, trim).constraints);
      }
      const { file } = await writeOnly("fedavg_cost_k4", generateMergeCircuit(S, 4).source);
      expect(await compiledConstraints(file), "FedAvg k=4").to.equal(fedAvgMergeCost(S, 4));
    });

    it("digits softmax regression (d = 64, 10 classes, P = 650): robust vs FedAvg merge sizes", () => {
      const digits = trainingSpec({ kind: "softmax", d: 64, k: 10 });
      expect(paramCount(digits)).to.equal(650);
      const rows = [
        ["median, k = 3", robustMergeCost(digits, 3, medianTrim(3)).constraints, 84858],
        ["median, k = 5", robustMergeCost(digits, 5, medianTrim(5)).constraints, 146478],
        ["trimmed mean, k = 5, trim 1", robustMergeCost(digits, 5, 1).constraints, 150378],
        ["FedAvg, k = 3", fedAvgMergeCost(digits, 3), 115408],
        ["FedAvg, k = 5", fedAvgMergeCost(digits, 5), 145828],
      ] as const;
      for (const [what, got, want] of rows) {
        console.log(`      ${what}: ${got.toLocaleString("en-US")} constraints`);
        expect(got, what).to.equal(want);
      }
    });
  });
});

/** Writes a main file for an --O2 count without building a tester. */
async function writeOnly(name: string, source: string): Promise<{ file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `flavum-${name}-`));
  const file = path.join(dir, `${name}.circom`);
  fs.writeFileSync(file, source);
  return { file };
}

function modInverse(a: bigint): bigint {
  // Fermat: a^(p-2) mod p.
  let result = 1n;
  let base = ((a % FIELD_P) + FIELD_P) % FIELD_P;
  let e = FIELD_P - 2n;
  while (e > 0n) {
    if (e & 1n) result = (result * base) % FIELD_P;
    base = (base * base) % FIELD_P;
    e >>= 1n;
  }
  return result;
}
