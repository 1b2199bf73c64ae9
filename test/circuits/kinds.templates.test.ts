/**
 * The operator templates PiecewiseLinear (and SigmoidPL, now a wrapper of it), DivRound, SqrtRound,
 * CompareZero and RoundToInt against their TypeScript twins in src/quant/intOps.ts (fast-check plus
 * explicit edge cases), inputs without a witness, tampered witnesses for every signal that carries
 * soundness, and each template's constraint count at --O2 (what production compiles with).
 */
import fs from "fs";
import os from "os";
import path from "path";
import { expect } from "chai";
import fc from "fast-check";
import { compileMain, expectTamperRejected, INCLUDE, readSignal, Tester } from "../helpers/circuit";
import { FIELD_P, fitsSigned, fromField, toField } from "../../src/quant/fixed";
import { evalSigmoidPL, sigmoidSegments } from "../../src/quant/sigmoidPL";
import { compareZero, divRound, evalPiecewise, isqrt, PiecewiseTable, roundToInt, sqrtRound } from "../../src/quant/intOps";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { wasm: wasmTester } = require("circom_tester");

const RUNS = 40;
const signedBits = (bits: number) => fc.bigInt(-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n);
const lo = (bits: number) => -(1n << BigInt(bits - 1));
const hi = (bits: number) => (1n << BigInt(bits - 1)) - 1n;
const mod = (v: bigint) => toField(v);
function powMod(b: bigint, e: bigint): bigint {
  let r = 1n;
  for (b = mod(b); e > 0n; e >>= 1n, b = (b * b) % FIELD_P) if (e & 1n) r = (r * b) % FIELD_P;
  return r;
}
const inverse = (v: bigint) => powMod(v, FIELD_P - 2n);

async function out(t: Tester, input: Record<string, bigint>): Promise<bigint> {
  const fieldInput = Object.fromEntries(Object.entries(input).map(([k, v]) => [k, toField(v)]));
  const w = await t.calculateWitness(fieldInput, true);
  return fromField(readSignal(t, w, "out"));
}

async function witness(t: Tester, input: Record<string, bigint>): Promise<bigint[]> {
  return t.calculateWitness(Object.fromEntries(Object.entries(input).map(([k, v]) => [k, toField(v)])), true);
}

async function expectNoWitness(t: Tester, input: Record<string, bigint>): Promise<void> {
  let failed = false;
  try {
    await witness(t, input);
  } catch {
    failed = true;
  }
  expect(failed, `input ${JSON.stringify(input, (_, v) => (typeof v === "bigint" ? v.toString() : v))} has a witness`).to.equal(true);
}

/**
 * `changes` plus Num2Bits component `prefix` fed `value`: its input and its n bits (signals that
 * --O1 merged into another are skipped), so a forged value passes that range check.
 */
function withBits(t: Tester, changes: Record<string, bigint>, prefix: string, value: bigint, n: number): Record<string, bigint> {
  const out = { ...changes };
  const input = t.symbols[`main.${prefix}.in`];
  if (input && input.varIdx >= 0) out[`${prefix}.in`] = value;
  for (let i = 0; i < n; i++) {
    const name = `${prefix}.out[${i}]`;
    const s = t.symbols[`main.${name}`];
    if (s && s.varIdx >= 0) out[name] = (value >> BigInt(i)) & 1n;
  }
  return out;
}

/** Non-linear constraints of `main` compiled at --O2 (linear ones are substituted away there). */
async function constraintsO2(name: string, includes: string[], main: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `flavum-count-${name}-`));
  try {
    const file = path.join(dir, `${name}.circom`);
    fs.writeFileSync(file, [`pragma circom 2.1.6;`, ...includes.map((i) => `include "${i}";`), main, ""].join("\n"));
    const t = await wasmTester(file, { include: INCLUDE, output: dir, O: 2 });
    await t.loadConstraints();
    return t.constraints.length;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A wrapper main around a template that takes tables (circom has no array literals as arguments). */
function tableMain(template: string, args: string, A: bigint[], D: bigint[]): string {
  return [
    `template Main() {`,
    `  signal input in;`,
    `  signal output out;`,
    `  var ta[${A.length}] = [${A.join(", ")}];`,
    `  var td[${D.length}] = [${D.join(", ")}];`,
    `  component p = ${template}(${args}, ta, td);`,
    `  p.in <== in;`,
    `  out <== p.out;`,
    `}`,
    `component main = Main();`,
  ].join("\n");
}

describe("operator templates (kinds)", function () {
  describe("PiecewiseLinear", () => {
    // bitsIn 10, segBits 4 (L = 6), guard 3, bitsOut 10: some segments overflow 10 bits at their end.
    const A = [-4096, -3900, -2500, -1200, -640, -80, -1, 0, 1, 77, 640, 1333, 2048, 3000, 3999, 4090].map(BigInt);
    const D = [196, 1400, 1300, -560, 560, 79, -1, 1, 76, 563, -693, 715, 952, 999, 91, 300].map(BigInt);
    const table: PiecewiseTable = { bitsIn: 10, segBits: 4, lowBits: 6, guard: 3, A, D };
    // Exact lookup tables (L = 0): rounding ties at guard 2 (±0.5, ±1.5) and the extremes of 8 bits.
    const LA = [-512, -6, -2, -1, 0, 1, 2, 6, 10, -10, 509, 506, -514, 100, -100, 3].map(BigInt);
    const LD = [5, -5, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9].map(BigInt); // ignored when L = 0
    const lut: PiecewiseTable = { bitsIn: 4, segBits: 4, lowBits: 0, guard: 2, A: LA, D: LD };
    const LA0 = [-32, -1, 0, 1, 31, 7, -7, 12].map(BigInt);
    const lut0: PiecewiseTable = { bitsIn: 3, segBits: 3, lowBits: 0, guard: 0, A: LA0, D: LA0.map(() => 0n) };
    let pl: Tester;
    let lutT: Tester;
    let lut0T: Tester;
    before(async () => {
      pl = await compileMain("pl", ["PiecewiseLinear.circom"], tableMain("PiecewiseLinear", "10, 4, 3, 10", A, D));
      lutT = await compileMain("pl_lut", ["PiecewiseLinear.circom"], tableMain("PiecewiseLinear", "4, 4, 2, 8", LA, LD));
      lut0T = await compileMain("pl_lut0", ["PiecewiseLinear.circom"], tableMain("PiecewiseLinear", "3, 3, 0, 6", LA0, lut0.D));
    });

    const check = async (z: bigint) => {
      const want = evalPiecewise(table, z);
      if (fitsSigned(want, 10)) expect(await out(pl, { in: z })).to.equal(want);
      else await expectNoWitness(pl, { in: z });
    };

    it("equals the twin over the whole input range (and has no witness where out overflows)", async () => {
      await fc.assert(fc.asyncProperty(signedBits(10), check), { numRuns: RUNS });
      // Segment boundaries, zero, ±1, both extremes.
      for (const z of [-512n, -449n, -448n, -385n, -1n, 0n, 1n, 63n, 64n, 447n, 448n, 511n]) await check(z);
      // And exhaustively: both branches really occur with this table.
      for (let z = lo(10); z <= hi(10); z++) await check(z);
      expect(fitsSigned(evalPiecewise(table, 511n), 10)).to.equal(false);
      expect(evalPiecewise(table, -512n)).to.equal(-512n);
    });

    it("is an exact lookup table when L = 0 (rounded at guard bits, ties up; D unused)", async () => {
      const want = [-128n, -1n, 0n, 0n, 0n, 0n, 1n, 2n, 3n, -2n, 127n, 127n, -128n, 25n, -25n, 1n];
      for (let z = -8n; z < 8n; z++) {
        const e = evalPiecewise(lut, z);
        expect(e).to.equal(want[Number(z + 8n)]);
        expect(await out(lutT, { in: z })).to.equal(e);
      }
      for (let z = -4n; z < 4n; z++) expect(await out(lut0T, { in: z })).to.equal(evalPiecewise(lut0, z));
      await expectNoWitness(lut0T, { in: 4n });
      await expectNoWitness(lut0T, { in: -5n });
    });

    it("refuses to compile an L = 0 table with an entry outside bitsOut", async () => {
      // round(506 / 4) = 127 fits 8 signed bits; round(510 / 4) = 128 does not.
      let failed = false;
      try {
        await compileMain("pl_lut_bad", ["PiecewiseLinear.circom"], tableMain("PiecewiseLinear", "4, 4, 2, 8", LA.map((a) => (a === 506n ? 510n : a)), LD));
      } catch {
        failed = true;
      }
      expect(failed).to.equal(true);
    });

    it("has no witness for an input outside bitsIn", async () => {
      await expectNoWitness(pl, { in: 512n });
      await expectNoWitness(pl, { in: -513n });
    });

    it("rejects a forged segment, a forged offset and a wrong output", async () => {
      // z = -443: segment 1, t = 5. Donors: the same t in segment 2, and t + 1 in segment 1.
      const z = -443n;
      const w = await witness(pl, { in: z });
      const o = fromField(readSignal(pl, w, "out"));
      await expectTamperRejected(pl, w, { out: o + 1n });
      await expectTamperRejected(pl, w, { out: o - 1n });
      const nextSeg = await witness(pl, { in: z + 64n });
      expect(evalPiecewise(table, z + 64n)).to.not.equal(o);
      await expectTamperRejected(pl, nextSeg, { in: z });
      const nextT = await witness(pl, { in: z + 1n });
      await expectTamperRejected(pl, nextT, { in: z });
      // The one-hot selector moved to another segment.
      await expectTamperRejected(pl, w, { "p.seg.out[1]": 0n, "p.seg.out[2]": 1n });
      // Lookup table: select entry 7 (value 2) for input -8 + 6 = -2 (entry 6, value 1).
      const lw = await witness(lutT, { in: -2n });
      expect(fromField(readSignal(lutT, lw, "out"))).to.equal(1n);
      await expectTamperRejected(lutT, lw, { "p.seg.out[6]": 0n, "p.seg.out[7]": 1n, out: 2n });
      await expectTamperRejected(lutT, lw, { out: 2n });
      await expectTamperRejected(lutT, await witness(lutT, { in: -1n }), { in: -2n });
    });
  });

  describe("SigmoidPL (a PiecewiseLinear wrapper)", () => {
    const seg = sigmoidSegments(16, 12, 8, 12, 4);
    let sig: Tester;
    before(async () => {
      sig = await compileMain("sigmoid", ["SigmoidPL.circom"], tableMain("SigmoidPL", "16, 8, 4, 16", seg.A, seg.D));
    });

    it("still equals evalSigmoidPL (and evalPiecewise)", async () => {
      const check = async (z: bigint) => {
        const want = evalSigmoidPL(seg, z);
        expect(evalPiecewise(seg, z)).to.equal(want);
        expect(await out(sig, { in: z })).to.equal(want);
      };
      await fc.assert(fc.asyncProperty(signedBits(16), check), { numRuns: RUNS });
      for (const z of [lo(16), -1n, 0n, 1n, 255n, 256n, hi(16)]) await check(z);
    });

    it("rejects the output of a neighbouring segment", async () => {
      const z = 1000n;
      await expectTamperRejected(sig, await witness(sig, { in: z + 256n }), { in: z });
    });
  });

  describe("DivRound", () => {
    // a: 12 bits, b: 8 bits, k = 4, out: 12 bits (large a over small b overflows).
    let div: Tester;
    before(async () => {
      div = await compileMain("divround", ["DivRound.circom"], `component main = DivRound(12, 8, 4, 12);`);
    });
    const check = async (a: bigint, b: bigint) => {
      const want = divRound(a, b, 4);
      if (fitsSigned(want, 12)) expect(await out(div, { a, b })).to.equal(want);
      else await expectNoWitness(div, { a, b });
    };
    const nonzero = (bits: number) => signedBits(bits).filter((b) => b !== 0n);

    it("equals round(a·2^k / b), ties toward +inf, for either sign of b", async () => {
      await fc.assert(
        fc.asyncProperty(signedBits(12), fc.oneof(nonzero(8), fc.bigInt(-4n, 4n).filter((b) => b !== 0n)), check),
        { numRuns: RUNS },
      );
      // Ties: 16·a / ±32 = ±0.5, ±1.5 (all toward +inf).
      expect(divRound(1n, 32n, 4)).to.equal(1n);
      expect(divRound(1n, -32n, 4)).to.equal(0n);
      expect(divRound(-1n, 32n, 4)).to.equal(0n);
      expect(divRound(-1n, -32n, 4)).to.equal(1n);
      expect(divRound(3n, 32n, 4)).to.equal(2n);
      expect(divRound(-3n, 32n, 4)).to.equal(-1n);
      expect(divRound(3n, -32n, 4)).to.equal(-1n);
      const edges: [bigint, bigint][] = [
        [1n, 32n], [1n, -32n], [-1n, 32n], [-1n, -32n], [3n, 32n], [-3n, 32n], [3n, -32n], [-3n, -32n],
        [0n, 1n], [0n, -1n], [0n, -128n], [1n, 1n], [1n, -1n], [-1n, 1n], [-1n, -1n],
        [127n, 1n], [-128n, 1n], [127n, -1n], [-128n, -1n], [-129n, -1n], // ±2^11 boundary of out
        [lo(12), -128n], [hi(12), -128n], [lo(12), 127n], [hi(12), 127n], [hi(12), 16n], [lo(12), 16n],
        [hi(12), 1n], [lo(12), -1n], [5n, 3n], [-5n, 3n], [5n, -3n], [-5n, -3n],
      ];
      for (const [a, b] of edges) await check(a, b);
    });

    it("has no witness for b = 0 or a quotient outside bitsOut; the twin throws on b = 0", async () => {
      expect(() => divRound(5n, 0n, 4)).to.throw(/division by zero/);
      await expectNoWitness(div, { a: 5n, b: 0n });
      await expectNoWitness(div, { a: 0n, b: 0n });
      await expectNoWitness(div, { a: 128n, b: 1n }); // 2048
      expect(await out(div, { a: 128n, b: -1n })).to.equal(-2048n); // the other end fits
      await expectNoWitness(div, { a: hi(12), b: 2n });
    });

    it("rejects a quotient off by one with the remainder shifted to match, and a forged sign", async () => {
      for (const [a, b] of [[500n, 7n], [-500n, 7n], [500n, -7n], [-500n, -7n], [hi(12), 127n], [1n, -32n], [0n, 1n]] as [bigint, bigint][]) {
        const w = await witness(div, { a, b });
        const q = fromField(readSignal(div, w, "out"));
        const r = fromField(readSignal(div, w, "r"));
        const m = b < 0n ? -b : b;
        // out·2m + r is unchanged and out's bits follow it, so only the remainder's range check can object.
        const shifted = (d: bigint) => withBits(div, { out: q + d, r: r - 2n * d * m }, "range", q + d + 2048n, 12);
        await expectTamperRejected(div, w, shifted(1n));
        await expectTamperRejected(div, w, shifted(-1n));
        await expectTamperRejected(div, w, { out: q + 1n });
        // Forged sign: neg flipped and m negated keep b = m - 2·neg·m; with the products and the
        // division equation made consistent, m - 1 >= 0 (and the remainder bounds) object.
        const neg = b < 0n ? 0n : 1n;
        const fm = -m;
        const num = (a - 2n * neg * a) * 32n + fm;
        await expectTamperRejected(div, w, { neg, m: fm, negM: neg * fm, negA: neg * a, r: num - q * 2n * fm });
        // A non-boolean sign "bit" that passes off m = 2|b| as b's magnitude (b = m·(1 - 2·neg) in
        // the field): the division is by 2b, every range check is made to hold (while 2|b| - 1 fits
        // bitsB - 1 bits), and only neg·(neg - 1) = 0 objects.
        const m2 = 2n * m;
        if (m2 > 128n) continue;
        const fneg = mod((m2 - b) * inverse(2n * m2));
        const fnegA = mod(fneg * a);
        const fnum = mod((1n << 5n) * (a - 2n * fnegA) + m2);
        const small = fromField(fnum); // = 16·a·sign(b) + 2|b|, a small integer
        const fq = small >= 0n ? small / (2n * m2) : -((-small + 2n * m2 - 1n) / (2n * m2));
        const fr = small - fq * 2n * m2;
        expect(fr >= 0n && fr < 2n * m2 && fitsSigned(fq, 12)).to.equal(true);
        let forged: Record<string, bigint> = { neg: fneg, m: m2, negM: mod(fneg * m2), negA: fnegA, out: fq, r: fr };
        forged = withBits(div, forged, "mPos", m2 - 1n, 7);
        forged = withBits(div, forged, "rLow", fr, 8);
        forged = withBits(div, forged, "rHigh", 2n * m2 - 1n - fr, 8);
        forged = withBits(div, forged, "range", fq + 2048n, 12);
        await expectTamperRejected(div, w, forged);
      }
    });
  });

  describe("SqrtRound", () => {
    // e >= 0 with an output that can overflow; e = -4 and -6 (ties exist: x·2^(e+2) an odd square);
    // e = -6 with bitsIn small takes lo's narrower (bitsIn - 1) width; odd e = 3 and e = -1.
    const configs = [
      { bitsIn: 16, bitsOut: 9, e: 2 },
      { bitsIn: 16, bitsOut: 10, e: -4 },
      { bitsIn: 10, bitsOut: 6, e: -6 },
      { bitsIn: 14, bitsOut: 12, e: 3 },
      { bitsIn: 12, bitsOut: 8, e: -1 },
    ];
    const testers: Tester[] = [];
    before(async () => {
      for (const c of configs) {
        const name = `sqrt_${c.bitsIn}_${c.bitsOut}_${c.e < 0 ? "m" : ""}${Math.abs(c.e)}`;
        testers.push(await compileMain(name, ["SqrtRound.circom"], `component main = SqrtRound(${c.bitsIn}, ${c.bitsOut}, ${c.e});`));
      }
    });
    const check = async (i: number, x: bigint) => {
      const { bitsOut, e } = configs[i];
      if (x < 0n) return expectNoWitness(testers[i], { in: x });
      const want = sqrtRound(x, e);
      if (want < 1n << BigInt(bitsOut - 1)) expect(await out(testers[i], { in: x })).to.equal(want);
      else await expectNoWitness(testers[i], { in: x });
    };

    it("the twin is the real square root rounded half up", () => {
      expect(isqrt(0n)).to.equal(0n);
      expect(isqrt(15n)).to.equal(3n);
      expect(isqrt(16n)).to.equal(4n);
      expect(isqrt((1n << 200n) - 1n)).to.equal((1n << 100n) - 1n);
      expect(sqrtRound(4n, -4)).to.equal(1n); // sqrt(0.25) = 0.5 -> 1
      expect(sqrtRound(36n, -4)).to.equal(2n); // 1.5 -> 2
      expect(sqrtRound(3n, -4)).to.equal(0n); // 0.433
      expect(sqrtRound(5n, -4)).to.equal(1n); // 0.559
      expect(sqrtRound(2n, 0)).to.equal(1n); // 1.414
      expect(sqrtRound(3n, 0)).to.equal(2n); // 1.732
      expect(sqrtRound(20n, 2)).to.equal(9n); // sqrt(80) = 8.94
      expect(sqrtRound(0n, -7)).to.equal(0n);
      expect(() => sqrtRound(-1n, 0)).to.throw(/negative/);
      fc.assert(
        fc.property(fc.bigInt(0n, 1n << 40n), fc.integer({ min: -12, max: 12 }), (x, e) => {
          // Compare with a floating square root away from ties (exact ties only when e + 2 < 0).
          const s = Math.sqrt(Number(x) * 2 ** e);
          const frac = s - Math.floor(s);
          fc.pre(Math.abs(frac - 0.5) > 1e-6);
          expect(sqrtRound(x, e)).to.equal(BigInt(Math.round(s)));
        }),
        { numRuns: 200 },
      );
    });

    it("equals the twin for every configuration (no witness for x < 0 or an overflowing root)", async () => {
      for (let i = 0; i < configs.length; i++) {
        const { bitsIn, e } = configs[i];
        await fc.assert(fc.asyncProperty(signedBits(bitsIn), (x) => check(i, x)), { numRuns: RUNS });
        for (const x of [0n, 1n, 2n, 3n, 4n, 5n, 36n, 35n, 37n, 100n, hi(bitsIn), hi(bitsIn) - 1n, -1n, lo(bitsIn)]) await check(i, x);
        // Ties x·2^(e+2) = (2n+1)^2 when e + 2 < 0.
        if (e + 2 < 0) for (const n of [0n, 1n, 2n, 5n]) await check(i, ((2n * n + 1n) ** 2n) << BigInt(-(e + 2)));
      }
      // The largest input whose root fits and the first that does not (bitsOut 9, e = 2: out < 256).
      expect(sqrtRound(16320n, 2)).to.equal(255n); // sqrt(65280) = 255.499
      expect(sqrtRound(16321n, 2)).to.equal(256n); // sqrt(65284) = 255.507
      expect(await out(testers[0], { in: 16320n })).to.equal(255n);
      await expectNoWitness(testers[0], { in: 16321n });
    });

    it("rejects a root off by one, a flipped half bit and another input's root", async () => {
      for (const [i, x] of [[0, 1000n], [1, 36n], [1, 4n], [2, 500n], [3, 0n], [4, 77n]] as [number, bigint][]) {
        const t = testers[i];
        const w = await witness(t, { in: x });
        const o = fromField(readSignal(t, w, "out"));
        const c = readSignal(t, w, "c");
        const z = (o: bigint, c: bigint) => 2n * o + c - 1n;
        const ob = configs[i].bitsOut - 1;
        // sq and out's bits follow the forged root, so only the lo / hi range checks can object.
        for (const d of [1n, -1n]) if (o + d >= 0n) await expectTamperRejected(t, w, withBits(t, { out: o + d, sq: z(o + d, c) ** 2n }, "outRange", o + d, ob));
        await expectTamperRejected(t, w, { c: 1n - c, sq: z(o, 1n - c) ** 2n });
        // z kept, the half bit made non-boolean: out moves by one and only c·(c - 1) = 0 objects.
        if (o > 0n) await expectTamperRejected(t, w, withBits(t, { c: c + 2n, out: o - 1n }, "outRange", o - 1n, ob));
        await expectTamperRejected(t, w, withBits(t, { c: c - 2n, out: o + 1n }, "outRange", o + 1n, ob));
        await expectTamperRejected(t, w, { out: o + 1n });
        // A donor input whose root differs: every signal consistent except the link to `in`.
        let y = x + 1n;
        while (sqrtRound(y, configs[i].e) === o) y++;
        await expectTamperRejected(t, await witness(t, { in: y }), { in: x });
      }
    });
  });

  describe("CompareZero", () => {
    const BITS = 12;
    const testers: Tester[] = [];
    before(async () => {
      for (let op = 0; op < 4; op++) testers.push(await compileMain(`cmp${op}`, ["CompareZero.circom"], `component main = CompareZero(${BITS}, ${op});`));
    });

    it("equals x > 0, x >= 0, x == 0, x != 0", async () => {
      const check = async (x: bigint) => {
        for (let op = 0; op < 4; op++) expect(await out(testers[op], { in: x })).to.equal(compareZero(x, op));
      };
      await fc.assert(fc.asyncProperty(signedBits(BITS), check), { numRuns: RUNS });
      for (const x of [0n, 1n, -1n, 2n, -2n, lo(BITS), hi(BITS)]) await check(x);
      expect([0, 1, 2, 3].map((op) => compareZero(0n, op))).to.deep.equal([0n, 1n, 1n, 0n]);
      expect(() => compareZero(0n, 4)).to.throw(/unknown op/);
    });

    it("has no witness for ge outside bits, nor gt outside [1 - 2^bits, 2^bits] (eq / ne take any field element)", async () => {
      await expectNoWitness(testers[1], { in: 1n << BigInt(BITS - 1) });
      await expectNoWitness(testers[1], { in: lo(BITS) - 1n });
      // gt's decomposition of in - 1 + 2^bits is one bit wider: still exact where it has a witness.
      expect(await out(testers[0], { in: 1n << BigInt(BITS) })).to.equal(1n);
      expect(await out(testers[0], { in: 1n - (1n << BigInt(BITS)) })).to.equal(0n);
      await expectNoWitness(testers[0], { in: (1n << BigInt(BITS)) + 1n });
      await expectNoWitness(testers[0], { in: -(1n << BigInt(BITS)) });
      expect(await out(testers[2], { in: 1n << 100n })).to.equal(0n);
      expect(await out(testers[3], { in: 1n << 100n })).to.equal(1n);
    });

    it("rejects a flipped result", async () => {
      for (const x of [0n, 1n, -1n, 5n, lo(BITS), hi(BITS)]) {
        for (let op = 0; op < 4; op++) {
          const t = testers[op];
          const w = await witness(t, { in: x });
          const o = readSignal(t, w, "out");
          await expectTamperRejected(t, w, { out: 1n - o });
          if (op >= 2) for (const inv of [0n, 1n, 7n]) await expectTamperRejected(t, w, { out: 1n - o, inv });
        }
      }
    });
  });

  describe("RoundToInt", () => {
    const configs = [
      { bits: 12, shift: 4 },
      { bits: 6, shift: 1 },
      { bits: 5, shift: 3 },
      // shift >= bits - 1: decomposed in shift + 2 bits, out in {-1, 0, 1}.
      { bits: 5, shift: 4 },
      { bits: 4, shift: 6 },
    ];
    const testers: Tester[][] = [];
    before(async () => {
      for (const { bits, shift } of configs) {
        const row: Tester[] = [];
        for (let mode = 0; mode < 4; mode++) row.push(await compileMain(`rti_${bits}_${shift}_${mode}`, ["RoundToInt.circom"], `component main = RoundToInt(${bits}, ${shift}, ${mode});`));
        testers.push(row);
      }
    });

    it("the twin rounds half to even, floors, ceils and truncates", () => {
      // shift 4: x / 16. 8 = 0.5, 24 = 1.5, 40 = 2.5, -8 = -0.5, -24 = -1.5, 9 = 0.5625, -9.
      const cases: [bigint, bigint[]][] = [
        [8n, [0n, 0n, 1n, 0n]], [24n, [2n, 1n, 2n, 1n]], [40n, [2n, 2n, 3n, 2n]],
        [-8n, [0n, -1n, 0n, 0n]], [-24n, [-2n, -2n, -1n, -1n]], [-40n, [-2n, -3n, -2n, -2n]],
        [9n, [1n, 0n, 1n, 0n]], [-9n, [-1n, -1n, 0n, 0n]], [7n, [0n, 0n, 1n, 0n]], [-7n, [0n, -1n, 0n, 0n]],
        [0n, [0n, 0n, 0n, 0n]], [16n, [1n, 1n, 1n, 1n]], [-16n, [-1n, -1n, -1n, -1n]],
        [1n, [0n, 0n, 1n, 0n]], [-1n, [0n, -1n, 0n, 0n]],
      ];
      for (const [x, want] of cases) expect([0, 1, 2, 3].map((m) => roundToInt(x, 4, m))).to.deep.equal(want);
      expect([0, 1, 2, 3].map((m) => roundToInt(-8n, 4, m))).to.deep.equal([0n, -1n, 0n, 0n]);
      expect([0, 1, 2, 3].map((m) => roundToInt(7n, 6, m))).to.deep.equal([0n, 0n, 1n, 0n]);
      expect(() => roundToInt(1n, 0, 0)).to.throw(/shift/);
      expect(() => roundToInt(1n, 4, 4)).to.throw(/unknown mode/);
    });

    it("equals the twin in every mode (exhaustively for the small configurations)", async () => {
      const check = async (c: number, x: bigint) => {
        for (let mode = 0; mode < 4; mode++) expect(await out(testers[c][mode], { in: x })).to.equal(roundToInt(x, configs[c].shift, mode));
      };
      await fc.assert(fc.asyncProperty(signedBits(12), (x) => check(0, x)), { numRuns: RUNS });
      for (const x of [0n, 1n, -1n, 8n, -8n, 24n, -24n, 40n, -40n, 7n, 9n, -7n, -9n, 16n, -16n, lo(12), hi(12), lo(12) + 8n, hi(12) - 7n]) await check(0, x);
      for (let c = 1; c < configs.length; c++) for (let x = lo(configs[c].bits); x <= hi(configs[c].bits); x++) await check(c, x);
    });

    it("has no witness for an input outside bits", async () => {
      for (let mode = 0; mode < 4; mode++) {
        await expectNoWitness(testers[0][mode], { in: 2048n });
        await expectNoWitness(testers[0][mode], { in: -2049n });
      }
    });

    it("rejects the other neighbour, in particular on a tie", async () => {
      const [even, floor, ceil, trunc] = testers[0];
      // 0.5 -> 0 (even) and 1.5 -> 2 (even): claiming the other neighbour fails, also with the tie flag cleared.
      for (const x of [8n, 24n, -8n, -24n]) {
        const w = await witness(even, { in: x });
        const o = fromField(readSignal(even, w, "out"));
        const other = o === roundToInt(x, 4, 1) ? o + 1n : o - 1n;
        await expectTamperRejected(even, w, { out: other });
        const tie = readSignal(even, w, "tieEven.out");
        await expectTamperRejected(even, w, { out: other, "tieEven.out": 1n - tie });
        await expectTamperRejected(even, w, { out: other, "tieEven.out": 1n - tie, "tieEven.inv": 0n });
      }
      for (const x of [9n, -9n, 0n, 16n]) {
        for (const t of [floor, ceil, trunc, even]) {
          const w = await witness(t, { in: x });
          const o = fromField(readSignal(t, w, "out"));
          await expectTamperRejected(t, w, { out: o + 1n });
          await expectTamperRejected(t, w, { out: o - 1n });
        }
        // Forged "exact" flags on ceil / trunc, with the output following the forged flag.
        const fl = roundToInt(x, 4, 1);
        for (const t of [ceil, trunc]) {
          const w = await witness(t, { in: x });
          const e = 1n - readSignal(t, w, "exact.out");
          const changes: Record<string, bigint> = { "exact.out": e, "exact.inv": 0n, out: fl + 1n - e };
          if (t === trunc) {
            const up = (1n - e) * (x < 0n ? 1n : 0n);
            Object.assign(changes, { up, out: fl + up });
          }
          await expectTamperRejected(t, w, changes);
        }
      }
    });
  });

  describe("constraint costs at --O2", () => {
    const seg = sigmoidSegments(16, 12, 8, 12, 4);
    const lutA = Array.from({ length: 16 }, (_, i) => BigInt(i * 67 - 500));
    const cases: [string, string, string, number][] = [
      // SigmoidPL(16, 8, 4, 16) measured 299 before it became a wrapper: 16 + 254 + 1 + 16 + 12.
      ["SigmoidPL_16_8_4_16", "SigmoidPL.circom", tableMain("SigmoidPL", "16, 8, 4, 16", seg.A, seg.D), 299],
      ["PiecewiseLinear_16_8_4_16", "PiecewiseLinear.circom", tableMain("PiecewiseLinear", "16, 8, 4, 16", seg.A, seg.D), 299],
      // L = 0: bitsIn + 2^segBits - 2.
      ["PiecewiseLinear_lut_4", "PiecewiseLinear.circom", tableMain("PiecewiseLinear", "4, 4, 3, 8", lutA, lutA), 18],
      ["DivRound_16_16_8_16", "DivRound.circom", `component main = DivRound(16, 16, 8, 16);`, 3 * 16 + 16 + 3],
      ["SqrtRound_16_16_8", "SqrtRound.circom", `component main = SqrtRound(16, 16, 8);`, 3 * 16 + 3],
      ["SqrtRound_16_12_m6", "SqrtRound.circom", `component main = SqrtRound(16, 12, -6);`, 1 + 1 + 11 + 15 + 17],
      ["CompareZero_16_gt", "CompareZero.circom", `component main = CompareZero(16, 0);`, 17],
      ["CompareZero_16_ge", "CompareZero.circom", `component main = CompareZero(16, 1);`, 16],
      ["CompareZero_16_eq", "CompareZero.circom", `component main = CompareZero(16, 2);`, 2],
      ["CompareZero_16_ne", "CompareZero.circom", `component main = CompareZero(16, 3);`, 2],
      ["RoundToInt_16_8_even", "RoundToInt.circom", `component main = RoundToInt(16, 8, 0);`, 18],
      ["RoundToInt_16_8_floor", "RoundToInt.circom", `component main = RoundToInt(16, 8, 1);`, 16],
      ["RoundToInt_16_8_ceil", "RoundToInt.circom", `component main = RoundToInt(16, 8, 2);`, 18],
      ["RoundToInt_16_8_trunc", "RoundToInt.circom", `component main = RoundToInt(16, 8, 3);`, 19],
    ];
    for (const [name, file, main, want] of cases) {
      it(`${name}: ${want}`, async () => {
        expect(await constraintsO2(name, [file], main)).to.equal(want);
      });
    }
  });
});
