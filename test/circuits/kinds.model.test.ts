/**
 * The node kinds beyond the original five, end to end below the ONNX layer: hand-built float graphs
 * are calibrated, quantized and compiled to circuits, and for every kind the witness equals the
 * integer executor bit for bit, the quantized result stays close to float64, and a tampered
 * activation of that kind is rejected. Lowering from ONNX is tested in test/unit/onnx.*.test.ts.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { generateCircuit, CircuitLayout } from "../../src/codegen/circuit";
import { circuitInput } from "../../src/codegen/witness";
import { quantizeInput, runInt } from "../../src/quant/intExec";
import { quantizeGraph } from "../../src/quant/quantize";
import { calibrate } from "../../src/quant/calibrate";
import { dequantize, fromField } from "../../src/quant/fixed";
import type { QGraph } from "../../src/quant/qgraph";
import { runFloat } from "../../src/onnx/floatExec";
import type { AffineNode, FloatGraph, FloatNode } from "../../src/onnx/ir";
import { CONCAT_INPUT } from "../../src/onnx/lower";
import { INCLUDE, Tester, expectTamperRejected, readSignal } from "../helpers/circuit";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { wasm: wasmTester } = require("circom_tester");

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const ints = (a: number[]) => Int32Array.from(a);

/** y = W·x + b with W[i][j] = w(i, j), dense over one input. */
function affine(out: string, input: string, inSize: number, outSize: number, w: (i: number, j: number) => number, b: (i: number) => number): AffineNode {
  return {
    kind: "affine", out, inputs: [input], shape: [outSize], bias: Float64Array.from(range(outSize), b), from: [out],
    rows: [range(outSize).map((i) => ({ idx: ints(range(inSize)), w: Float64Array.from(range(inSize), (j) => w(i, j)) }))],
  };
}

function graph(inputSize: number, nodes: FloatNode[], output: string, inputs?: FloatGraph["inputs"]): FloatGraph {
  const last = nodes.find((n) => n.out === output)!;
  const input = { name: inputs ? CONCAT_INPUT : "x", shape: [inputSize] };
  return {
    input, inputs: inputs ?? [{ name: "x", shape: [inputSize], offset: 0, elem: "float" }],
    outputs: [{ name: output, shape: last.shape, offset: 0, elem: "float" }],
    nodes, output, outputShape: last.shape, head: "none", ops: {}, onnxOutput: output,
  };
}

/** Deterministic pseudo-random samples in [lo, hi). */
function samples(n: number, size: number, lo: number, hi: number, seed = 7): number[][] {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, () => Array.from({ length: size }, () => lo + (hi - lo) * rand()));
}

async function compile(q: QGraph, name: string): Promise<{ t: Tester; layout: CircuitLayout }> {
  const gen = generateCircuit(q, name, "public");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `flavum-kinds-${name}-`));
  const file = path.join(dir, `${name}.circom`);
  fs.writeFileSync(file, gen.source);
  const t: Tester = await wasmTester(file, { include: INCLUDE, output: dir });
  await t.loadSymbols();
  return { t, layout: gen.layout };
}

const inner = (layout: CircuitLayout, s: string) => (layout.packed ? `m.${s}` : s);

interface Case {
  name: string;
  g: FloatGraph;
  calib: number[][];
  test: number[][];
  /** Largest allowed |quantized − float| on the output, in real units. */
  tol: number;
  /** A signal a tamper test changes: a node's first output, or the model's output where the node produces it. */
  tamper: string;
}

const X = "x";
const cases: Case[] = [
  (() => {
    const pre = affine("pre", X, 4, 6, (i, j) => Math.sin(i * 3 + j) * 1.5, (i) => 0.1 * i);
    const nodes: FloatNode[] = [
      pre,
      { kind: "pwl", out: "tanh", input: "pre", shape: [6], fn: "tanh", params: [], from: ["tanh"] },
      { kind: "pwl", out: "erf", input: "pre", shape: [6], fn: "erf", params: [], from: ["erf"] },
      { kind: "pwl", out: "exp", input: "pre", shape: [6], fn: "exp", params: [], from: ["exp"] },
      affine("sum", "tanh", 6, 6, (i, j) => (i === j ? 1 : 0), () => 0),
    ];
    // Combine the three tables into one output so all of them are proven.
    const cat: AffineNode = {
      kind: "affine", out: "y", inputs: ["tanh", "erf", "exp"], shape: [18], bias: new Float64Array(18), from: ["cat"],
      rows: [0, 1, 2].map((t) => range(18).map((i) => (Math.floor(i / 6) === t ? { idx: ints([i % 6]), w: Float64Array.of(1) } : { idx: ints([]), w: new Float64Array(0) }))),
    };
    nodes.splice(4, 1, cat);
    return { name: "pwl", g: graph(4, nodes, "y"), calib: samples(64, 4, -1, 1), test: samples(4, 4, -1, 1, 99), tol: 0.02, tamper: "n1[0].out" };
  })(),
  (() => {
    const a = affine("a", X, 4, 4, (i, j) => (i === j ? 1.2 : 0.3), (i) => 0.2 * i);
    const b = affine("b", X, 4, 4, (i, j) => (i + j) % 3 === 0 ? -0.7 : 0.4, () => -0.1);
    // y[0..3] = a ⊙ b, y[4] = (1/4) Σ a·b (a dot product as attention scores have).
    const ia = [...range(4).map((i) => ints([i])), ints(range(4))];
    const mul: FloatNode = { kind: "mul", out: "y", a: "a", b: "b", shape: [5], ia, ib: ia, coef: Float64Array.of(1, 1, 1, 1, 0.25), from: ["mul"] };
    return { name: "mul", g: graph(4, [a, b, mul], "y"), calib: samples(64, 4, -1, 1), test: samples(4, 4, -1, 1, 5), tol: 0.01, tamper: "out[0]" };
  })(),
  (() => {
    const a = affine("a", X, 3, 3, (i, j) => (i === j ? 1 : 0.25), () => 0);
    // Divisors in [1.5, 3.5] (positive) and [-3.5, -1.5] (negative): both signs are proven.
    const b = affine("b", X, 3, 3, (i, j) => (i === j ? 0.5 : 0), (i) => (i === 1 ? -2.5 : 2.5));
    const div: FloatNode = { kind: "div", out: "y", a: "a", b: "b", shape: [3], ia: ints([0, 1, 2]), ib: ints([0, 1, 2]), from: ["div"] };
    return { name: "div", g: graph(3, [a, b, div], "y"), calib: samples(64, 3, -1, 1), test: samples(4, 3, -1, 1, 11), tol: 0.01, tamper: "out[0]" };
  })(),
  (() => {
    const sq = affine("sq", X, 3, 3, (i, j) => (i === j ? 2 : 0), () => 2.5);
    const nodes: FloatNode[] = [sq, { kind: "sqrt", out: "y", input: "sq", shape: [3], from: ["sqrt"] }];
    return { name: "sqrt", g: graph(3, nodes, "y"), calib: samples(64, 3, -1, 1), test: samples(4, 3, -1, 1, 13), tol: 0.005, tamper: "out[0]" };
  })(),
  (() => {
    // Integer inputs: the comparisons and the equality are exact.
    const d = affine("d", X, 4, 4, (i, j) => (j === i ? 1 : j === (i + 1) % 4 ? -1 : 0), () => 0);
    const nodes: FloatNode[] = [d];
    const ops = ["gt", "ge", "eq", "ne"] as const;
    ops.forEach((op) => nodes.push({ kind: "compare", op, out: `c_${op}`, input: "d", shape: [4], from: [op] }));
    nodes.push({ kind: "argindex", out: "first", input: X, shape: [2], windows: [ints([0, 1]), ints([2, 3])], last: false, from: ["argmax"] });
    nodes.push({ kind: "argindex", out: "lastmax", input: X, shape: [1], windows: [ints([0, 1, 2, 3])], last: true, from: ["argmax_last"] });
    const parts = [...ops.map((o) => `c_${o}`), "first", "lastmax"];
    const sizes = [4, 4, 4, 4, 2, 1];
    const total = sizes.reduce((a, b) => a + b, 0);
    const offs = sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a + b, 0));
    nodes.push({
      kind: "affine", out: "y", inputs: parts, shape: [total], bias: new Float64Array(total), from: ["cat"],
      rows: parts.map((_, t) => range(total).map((i) => (i >= offs[t] && i < offs[t] + sizes[t] ? { idx: ints([i - offs[t]]), w: Float64Array.of(1) } : { idx: ints([]), w: new Float64Array(0) }))),
    });
    const intSamples = (n: number, seed: number) => samples(n, 4, -3, 4, seed).map((s) => s.map(Math.floor));
    const test = [[1, 1, 1, 1], [2, -3, 2, 0], ...intSamples(3, 17)];
    return { name: "logic", g: graph(4, nodes, "y"), calib: intSamples(64, 3), test, tol: 0, tamper: "n1[0].out" };
  })(),
  (() => {
    const a = affine("a", X, 4, 4, (i, j) => (i === j ? 1 : 0), () => 0);
    const modes = ["even", "floor", "ceil", "trunc"] as const;
    const nodes: FloatNode[] = [a, ...modes.map((mode) => ({ kind: "round" as const, mode, out: `r_${mode}`, input: "a", shape: [4], from: [mode] }))];
    nodes.push({
      kind: "affine", out: "y", inputs: modes.map((m) => `r_${m}`), shape: [16], bias: new Float64Array(16), from: ["cat"],
      rows: modes.map((_, t) => range(16).map((i) => (Math.floor(i / 4) === t ? { idx: ints([i % 4]), w: Float64Array.of(1) } : { idx: ints([]), w: new Float64Array(0) }))),
    });
    // Halves are exact ties at any binary scale: half-even, floor, ceil and trunc all differ on them.
    const test = [[0.5, -0.5, 1.5, -2.5], [0.25, -0.75, 3.5, -3.5], ...samples(2, 4, -4, 4, 23)];
    return { name: "round", g: graph(4, nodes, "y"), calib: samples(64, 4, -4, 4), test, tol: 0, tamper: "n1[0].out" };
  })(),
  (() => {
    // Two model inputs, concatenated: each is a free view (select) of its slice.
    const inputs: FloatGraph["inputs"] = [
      { name: "u", shape: [3], offset: 0, elem: "float" },
      { name: "v", shape: [2], offset: 3, elem: "float" },
    ];
    const nodes: FloatNode[] = [
      { kind: "select", out: "u", input: CONCAT_INPUT, shape: [3], idx: ints([0, 1, 2]), from: ["u"] },
      { kind: "select", out: "v", input: CONCAT_INPUT, shape: [2], idx: ints([3, 4]), from: ["v"] },
      { kind: "mul", out: "y", a: "u", b: "v", shape: [3], ia: [ints([0]), ints([1]), ints([2])], ib: [ints([0]), ints([1]), ints([0])], coef: Float64Array.of(1, 1, 1), from: ["mul"] },
    ];
    return { name: "inputs", g: graph(5, nodes, "y", inputs), calib: samples(64, 5, -1, 1), test: samples(4, 5, -1, 1, 29), tol: 0.01, tamper: "m2[0]" };
  })(),
];

describe("node kinds: circuit = integer executor ≈ float", function () {
  it("an affine node too large for one WebAssembly function is split into chunk templates, with the same witness", async () => {
    const pre = affine("y", X, 6, 5, (i, j) => Math.cos(i * 2 + j) * 1.3, (i) => 0.05 * i);
    const g = graph(6, [pre], "y");
    const q = quantizeGraph(g, calibrate(g, samples(32, 6, -1, 1)));
    const gen = generateCircuit(q, "kinds_chunked", "public", { splitTerms: 12 });
    expect(gen.template.match(/template Flavum_kinds_chunked_n0_\d+\(\)/g)).to.have.length(3);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-kinds-chunked-"));
    fs.writeFileSync(path.join(dir, "c.circom"), gen.source);
    const t: Tester = await wasmTester(path.join(dir, "c.circom"), { include: INCLUDE, output: dir });
    await t.loadSymbols();
    for (const s of samples(3, 6, -1, 1, 77)) {
      const xq = quantizeInput(q, s);
      const w = await t.calculateWitness(circuitInput(q, gen.layout, xq), true);
      await t.checkConstraints(w);
      runInt(q, xq).output.forEach((v, i) => expect(fromField(readSignal(t, w, inner(gen.layout, `out[${i}]`)))).to.equal(v));
    }
  });

  it("a boolean model input is constrained to 0 or 1, in the circuit and by the executor", async () => {
    const inputs: FloatGraph["inputs"] = [
      { name: "u", shape: [2], offset: 0, elem: "float" },
      { name: "b", shape: [2], offset: 2, elem: "bool" },
    ];
    const nodes: FloatNode[] = [
      { kind: "select", out: "u", input: CONCAT_INPUT, shape: [2], idx: ints([0, 1]), from: ["u"] },
      { kind: "select", out: "b", input: CONCAT_INPUT, shape: [2], idx: ints([2, 3]), from: ["b"] },
      { kind: "mul", out: "y", a: "u", b: "b", shape: [2], ia: [ints([0]), ints([1])], ib: [ints([0]), ints([1])], coef: Float64Array.of(1, 1), from: ["mul"] },
    ];
    const g = graph(4, nodes, "y", inputs);
    const q = quantizeGraph(g, calibrate(g, [[0.5, -0.25, 1, 0], [-0.75, 0.5, 0, 1]]));
    const { t, layout } = await compile(q, "kinds_bool");
    const honest = quantizeInput(q, [0.5, -0.25, 1, 0]);
    await t.checkConstraints(await t.calculateWitness(circuitInput(q, layout, honest), true));
    expect(() => quantizeInput(q, [0.5, -0.25, 2, 0])).to.throw(/boolean input "b", expected 0 or 1/);
    const forged = [...honest];
    forged[2] = 2n * honest[2];
    let refused = false;
    try {
      await t.checkConstraints(await t.calculateWitness(circuitInput(q, layout, forged), true));
    } catch {
      refused = true;
    }
    expect(refused, "a boolean input of 2 was accepted").to.equal(true);
  });

  for (const c of cases) {
    describe(c.name, () => {
      let q: QGraph;
      let t: Tester;
      let layout: CircuitLayout;
      before(async () => {
        q = quantizeGraph(c.g, calibrate(c.g, c.calib));
        ({ t, layout } = await compile(q, `kinds_${c.name}`));
      });

      it("witness outputs equal the integer executor, and stay close to float64", async () => {
        const out = q.tensors[q.output];
        for (const s of c.test) {
          const xq = quantizeInput(q, s);
          const ref = runInt(q, xq);
          const w = await t.calculateWitness(circuitInput(q, layout, xq), true);
          await t.checkConstraints(w);
          ref.output.forEach((v, i) => expect(fromField(readSignal(t, w, inner(layout, `out[${i}]`))), `out[${i}]`).to.equal(v));
          const float = runFloat(c.g, s).get(c.g.output)!;
          // The float reference sees the input as quantized, so only the kinds' own rounding shows.
          const fq = runFloat(c.g, Array.from(xq, (v) => dequantize(v, q.input.scale))).get(c.g.output)!;
          ref.output.forEach((v, i) => expect(Math.abs(dequantize(v, out.scale) - fq[i]), `output ${i}: ${dequantize(v, out.scale)} vs ${fq[i]} (float ${float[i]})`).to.be.at.most(c.tol + 2 ** -out.scale));
        }
      });

      it("rejects a tampered activation", async () => {
        const xq = quantizeInput(q, c.test[0]);
        const w = await t.calculateWitness(circuitInput(q, layout, xq), true);
        const sig = inner(layout, c.tamper);
        await expectTamperRejected(t, w, { [sig]: fromField(readSignal(t, w, sig)) + 1n });
      });
    });
  }
});
