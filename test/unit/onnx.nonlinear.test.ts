import { expect } from "chai";
import fs from "fs";
import path from "path";
import { UnsupportedOpError } from "../../src/errors";
import { FloatGraph, FloatNode } from "../../src/onnx/ir";
import { lowerModel } from "../../src/onnx/lower";
import { decodeModel } from "../../src/onnx/load";
import { scanModel } from "../../src/onnx/corpus";
import { AttrValue, ModelSpec, buildModel, f, tensor, vsOrt } from "./onnxBuilder";

const CORPUS = path.resolve(__dirname, "../../../shared/peer-onnx/ezkl-examples");

const lower = (spec: ModelSpec): FloatGraph => lowerModel(decodeModel(buildModel(spec)));

/**
 * n evenly spaced float32 points over [lo, hi], plus zero (when inside) and each kink with its
 * float32 neighbours either side, so a misplaced breakpoint or an off-by-one slope shows up.
 */
function spread(lo: number, hi: number, kinks: number[] = [], n = 40): number[] {
  const xs = Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  if (lo <= 0 && hi >= 0) xs.push(0);
  for (const k of kinks) xs.push(k, k - 1e-3, k + 1e-3);
  return xs.map(Math.fround);
}

/** Lower, run in float64 and in onnxruntime; every element within 1e-5 · max(1, |ort|). */
async function matchesOrt(spec: ModelSpec, input: number[]): Promise<FloatGraph> {
  const { graph, ort, ours } = await vsOrt(spec, input);
  expect(ours.length, "output length").to.equal(ort.length);
  ort.forEach((v, i) => {
    expect(Number.isFinite(v), `onnxruntime output ${i} (${v}) must be finite: choose inputs in the op's domain`).to.equal(true);
    expect(Math.abs(ours[i] - v), `element ${i}: x=${input[i]}, ours=${ours[i]}, ort=${v}`).to.be.at.most(1e-5 * Math.max(1, Math.abs(v)));
  });
  return graph;
}

interface OneOp {
  op: string;
  attrs?: Record<string, AttrValue>;
  /** Extra node inputs after x (initializer names, or "" for an omitted optional input). */
  extra?: string[];
  initializers?: ModelSpec["initializers"];
  opset?: number;
  shape?: number[];
}

function oneOp(c: OneOp, n: number): ModelSpec {
  return {
    inputs: [{ name: "x", shape: c.shape ?? [1, n] }], outputs: [{ name: "y" }],
    nodes: [{ op: c.op, inputs: ["x", ...(c.extra ?? [])], outputs: ["y"], name: `${c.op}_node`, attrs: c.attrs }],
    initializers: c.initializers, opset: c.opset,
  };
}

const kinds = (g: FloatGraph): string[] => g.nodes.map((n) => n.kind);
const pwlFns = (g: FloatGraph): string[] => g.nodes.filter((n): n is Extract<FloatNode, { kind: "pwl" }> => n.kind === "pwl").map((n) => n.fn);

describe("onnx: elementwise non-linear ops against onnxruntime", () => {
  const tables: { name: string; c: OneOp; xs: number[]; fn: string }[] = [
    { name: "Tanh", c: { op: "Tanh" }, xs: spread(-4, 4), fn: "tanh" },
    { name: "Erf (both series branches)", c: { op: "Erf" }, xs: spread(-4, 4, [2.5, -2.5]), fn: "erf" },
    { name: "Exp", c: { op: "Exp" }, xs: spread(-6, 5), fn: "exp" },
    { name: "Log (positive inputs: ORT gives NaN/-inf elsewhere)", c: { op: "Log" }, xs: spread(0.01, 20, [1]), fn: "log" },
    { name: "Softplus", c: { op: "Softplus" }, xs: spread(-8, 8), fn: "softplus" },
    { name: "Softsign", c: { op: "Softsign" }, xs: spread(-8, 8), fn: "softsign" },
    { name: "Elu (default alpha)", c: { op: "Elu" }, xs: spread(-5, 3), fn: "elu" },
    { name: "Elu alpha=0.37", c: { op: "Elu", attrs: { alpha: f(0.37) } }, xs: spread(-5, 3), fn: "elu" },
    { name: "Selu (defaults)", c: { op: "Selu" }, xs: spread(-5, 3), fn: "selu" },
    { name: "Selu alpha=2, gamma=0.5", c: { op: "Selu", attrs: { alpha: f(2), gamma: f(0.5) } }, xs: spread(-5, 3), fn: "selu" },
    { name: "Celu alpha=2 (opset 12)", c: { op: "Celu", attrs: { alpha: f(2) }, opset: 12 }, xs: spread(-6, 3), fn: "celu" },
    { name: "Gelu exact (opset 20)", c: { op: "Gelu", opset: 20 }, xs: spread(-5, 5), fn: "gelu" },
    { name: "Gelu approximate=tanh (opset 20)", c: { op: "Gelu", attrs: { approximate: "tanh" }, opset: 20 }, xs: spread(-5, 5), fn: "gelu_tanh" },
    { name: "Mish (opset 18)", c: { op: "Mish", opset: 18 }, xs: spread(-6, 6), fn: "mish" },
    { name: "HardSwish (opset 14)", c: { op: "HardSwish", opset: 14 }, xs: spread(-5, 5, [-3, 3]), fn: "hardswish" },
    { name: "Sin", c: { op: "Sin" }, xs: spread(-7, 7), fn: "sin" },
    { name: "Cos", c: { op: "Cos" }, xs: spread(-7, 7), fn: "cos" },
    { name: "Tan (between the poles)", c: { op: "Tan" }, xs: spread(-1.5, 1.5), fn: "tan" },
    { name: "Asin", c: { op: "Asin" }, xs: spread(-1, 1), fn: "asin" },
    { name: "Acos", c: { op: "Acos" }, xs: spread(-1, 1), fn: "acos" },
    { name: "Atan", c: { op: "Atan" }, xs: spread(-10, 10), fn: "atan" },
    { name: "Sinh", c: { op: "Sinh", opset: 9 }, xs: spread(-5, 5), fn: "sinh" },
    { name: "Cosh", c: { op: "Cosh", opset: 9 }, xs: spread(-5, 5), fn: "cosh" },
    { name: "Asinh", c: { op: "Asinh", opset: 9 }, xs: spread(-10, 10), fn: "asinh" },
    { name: "Reciprocal (zero excluded: ORT gives inf)", c: { op: "Reciprocal" }, xs: spread(-4, 4, [], 40).filter((v) => v !== 0), fn: "reciprocal" },
  ];
  for (const t of tables) {
    it(`${t.name} is one "${t.fn}" table`, async () => {
      expect(t.xs.length).to.be.at.least(32);
      const g = await matchesOrt(oneOp(t.c, t.xs.length), t.xs);
      expect(kinds(g)).to.deep.equal(["pwl"]);
      expect(pwlFns(g)).to.deep.equal([t.fn]);
    });
  }

  // Exact piecewise-linear ops: relu hinges and affine maps only, never a table.
  const exact: { name: string; c: OneOp; xs: number[] }[] = [
    { name: "Abs", c: { op: "Abs" }, xs: spread(-5, 5, [0]) },
    { name: "Neg", c: { op: "Neg" }, xs: spread(-5, 5) },
    { name: "Sign", c: { op: "Sign", opset: 9 }, xs: spread(-3, 3, [0]) },
    { name: "HardSigmoid (defaults 0.2, 0.5)", c: { op: "HardSigmoid" }, xs: spread(-5, 5, [-2.5, 2.5]) },
    { name: "HardSigmoid alpha=1/6, beta=0.5 (as in the corpus)", c: { op: "HardSigmoid", attrs: { alpha: f(1 / 6) } }, xs: spread(-5, 5, [-3, 3]) },
    { name: "HardSigmoid alpha=0.3, beta=0.1", c: { op: "HardSigmoid", attrs: { alpha: f(0.3), beta: f(0.1) } }, xs: spread(-5, 5, [-1 / 3, 3]) },
    {
      name: "Clip with both bounds", xs: spread(-4, 4, [-1.5, 2]),
      c: { op: "Clip", extra: ["lo", "hi"], initializers: [tensor("lo", [], [-1.5]), tensor("hi", [], [2])] },
    },
    { name: "Clip with min only", xs: spread(-4, 4, [-0.5]), c: { op: "Clip", extra: ["lo"], initializers: [tensor("lo", [], [-0.5])] } },
    { name: "Clip with max only (min omitted)", xs: spread(-4, 4, [0.75]), c: { op: "Clip", extra: ["", "hi"], initializers: [tensor("hi", [], [0.75])] } },
    { name: "Clip with min > max (every output is max)", xs: spread(-4, 4), c: { op: "Clip", extra: ["lo", "hi"], initializers: [tensor("lo", [], [1]), tensor("hi", [], [-1])] } },
    { name: "Clip with opset-10 attributes", xs: spread(-4, 4, [0, 6]), c: { op: "Clip", attrs: { min: f(0), max: f(6) }, opset: 10 } },
    { name: "Clip with one opset-10 attribute", xs: spread(-4, 4, [1]), c: { op: "Clip", attrs: { max: f(1) }, opset: 10 } },
    { name: "ThresholdedRelu (default alpha 1)", c: { op: "ThresholdedRelu", opset: 10 }, xs: spread(-3, 3, [1]) },
    { name: "ThresholdedRelu alpha=-0.5", c: { op: "ThresholdedRelu", attrs: { alpha: f(-0.5) }, opset: 10 }, xs: spread(-3, 3, [-0.5]) },
  ];
  for (const t of exact) {
    it(`${t.name} is exact (relu, compare and affine nodes only)`, async () => {
      expect(t.xs.length).to.be.at.least(32);
      const g = await matchesOrt(oneOp(t.c, t.xs.length), t.xs);
      expect(g.nodes.length).to.be.greaterThan(0);
      for (const k of kinds(g)) expect(["relu", "affine", "compare"]).to.include(k);
    });
  }

  it("Abs is 2·relu(x) − x with relu reading x directly (two nodes)", async () => {
    const xs = spread(-5, 5, [0]);
    const g = await matchesOrt(oneOp({ op: "Abs" }, xs.length), xs);
    expect(kinds(g)).to.deep.equal(["relu", "affine"]);
  });

  it("Sign gives -1, 0 and 1 exactly", async () => {
    const xs = spread(-3, 3, [0]);
    const { ours } = await vsOrt(oneOp({ op: "Sign", opset: 9 }, xs.length), xs);
    ours.forEach((v, i) => expect(v).to.equal(Math.sign(xs[i])));
  });

  describe("PRelu", () => {
    it("per-channel slope [C,1,1] on NCHW", async () => {
      const xs = spread(-4, 4, [0]).slice(0, 36);
      const slope = tensor("s", [3, 1, 1], [0.25, -0.5, 1.5]);
      const g = await matchesOrt(oneOp({ op: "PRelu", extra: ["s"], initializers: [slope], shape: [1, 3, 3, 4] }, 36), xs);
      expect(kinds(g)).to.deep.equal(["relu", "affine"]);
    });

    it("scalar slope [1]", async () => {
      const xs = spread(-4, 4, [0]);
      await matchesOrt(oneOp({ op: "PRelu", extra: ["s"], initializers: [tensor("s", [1], [-0.248])] }, xs.length), xs);
    });

    it("slope along the last axis", async () => {
      const xs = spread(-4, 4, [0]).slice(0, 40);
      await matchesOrt(oneOp({ op: "PRelu", extra: ["s"], initializers: [tensor("s", [4], [0.1, 0.2, -0.3, 2])], shape: [1, 10, 4] }, 40), xs);
    });

    it("a slope that does not broadcast onto x is refused", () => {
      const spec = oneOp({ op: "PRelu", extra: ["s"], initializers: [tensor("s", [3], [1, 2, 3])], shape: [1, 4] }, 4);
      expect(() => lower(spec)).to.throw(/PRelu "PRelu_node".*slope of shape \[3\]/);
    });
  });

  it("Sqrt is one sqrt node", async () => {
    const xs = spread(0, 50, [1]);
    const g = await matchesOrt(oneOp({ op: "Sqrt" }, xs.length), xs);
    expect(kinds(g)).to.deep.equal(["sqrt"]);
  });

  describe("Pow with a constant exponent", () => {
    const pow = (p: number, n: number, dims: number[] = []) =>
      oneOp({ op: "Pow", extra: ["p"], initializers: [tensor("p", dims, new Array(dims.reduce((a, b) => a * b, 1)).fill(p))] }, n);
    const cases: { p: number; xs: number[]; kinds: string[]; fn?: string }[] = [
      { p: 2, xs: spread(-4, 4), kinds: ["mul"] },
      { p: 3, xs: spread(-4, 4), kinds: ["mul", "mul"] },
      { p: 4, xs: spread(-3, 3), kinds: ["mul", "mul"] },
      { p: 5, xs: spread(-3, 3), kinds: ["mul", "mul", "mul"] },
      { p: 0.5, xs: spread(0, 20), kinds: ["sqrt"] },
      { p: -1, xs: spread(-4, 4).filter((v) => v !== 0), kinds: ["pwl"], fn: "reciprocal" },
      { p: -2, xs: spread(-4, 4).filter((v) => v !== 0), kinds: ["pwl"], fn: "powi" },
      { p: 1.7, xs: spread(0, 6), kinds: ["pwl"], fn: "pow" },
      { p: Math.fround(-0.1), xs: spread(0.01, 6), kinds: ["pwl"], fn: "pow" },
      { p: 20, xs: spread(-1.2, 1.2), kinds: ["pwl"], fn: "powi" },
    ];
    for (const c of cases) {
      it(`p = ${c.p} → ${c.fn ?? c.kinds.join(", ")}`, async () => {
        expect(c.xs.length).to.be.at.least(32);
        const g = await matchesOrt(pow(c.p, c.xs.length), c.xs);
        expect(kinds(g)).to.deep.equal(c.kinds);
        if (c.fn) expect(pwlFns(g)).to.deep.equal([c.fn]);
      });
    }

    it("p = 1 is the identity (no node)", async () => {
      const xs = spread(-4, 4);
      const spec: ModelSpec = {
        ...pow(1, xs.length),
        nodes: [
          { op: "Pow", inputs: ["x", "p"], outputs: ["t"] },
          { op: "Relu", inputs: ["t"], outputs: ["y"] },
        ],
      };
      const g = await matchesOrt(spec, xs);
      expect(kinds(g)).to.deep.equal(["relu"]);
    });

    it("p = 0 is the constant 1 (folded into what follows)", async () => {
      const xs = spread(-4, 4);
      const spec: ModelSpec = {
        ...pow(0, xs.length),
        nodes: [
          { op: "Pow", inputs: ["x", "p"], outputs: ["t"] },
          { op: "Add", inputs: ["x", "t"], outputs: ["y"] },
        ],
      };
      const g = await matchesOrt(spec, xs);
      expect(kinds(g)).to.deep.equal(["affine"]);
    });

    it("an exponent of a larger shape repeats the base", async () => {
      const xs = spread(-4, 4).slice(0, 32);
      const g = await matchesOrt(pow(2, 32, [2, 1, 32]), xs);
      expect(g.outputShape).to.deep.equal([2, 1, 32]);
    });

    it("an exponent that depends on the data is refused, naming the node", () => {
      const spec: ModelSpec = {
        inputs: [{ name: "x", shape: [1, 4] }, { name: "e", shape: [1, 4] }], outputs: [{ name: "y" }],
        nodes: [{ op: "Pow", inputs: ["x", "e"], outputs: ["y"], name: "my/Pow" }],
      };
      expect(() => lower(spec)).to.throw(UnsupportedOpError, /Pow \(node "my\/Pow"\).*exponent \(input 1 "e"\) depends on the model input/);
    });

    it("an exponent with different values per element is refused", () => {
      const spec = oneOp({ op: "Pow", extra: ["p"], initializers: [tensor("p", [2], [2, 3])], shape: [1, 2] }, 2);
      expect(() => lower(spec)).to.throw(UnsupportedOpError, /Pow \(node "Pow_node"\).*different values per element/);
    });
  });

  it("Clip with a data-dependent bound is refused, naming the node", () => {
    const spec: ModelSpec = {
      inputs: [{ name: "x", shape: [1, 4] }, { name: "m", shape: [] }], outputs: [{ name: "y" }],
      nodes: [{ op: "Clip", inputs: ["x", "m"], outputs: ["y"], name: "clip1" }],
    };
    expect(() => lower(spec)).to.throw(UnsupportedOpError, /Clip \(node "clip1"\).*min bound/);
  });

  it("Gelu with an unknown approximation is refused", () => {
    expect(() => lower(oneOp({ op: "Gelu", attrs: { approximate: "fast" }, opset: 20 }, 4))).to.throw(/Gelu "Gelu_node".*approximate="fast"/);
  });

  const corpusModels = [
    "1l_elu", "1l_erf", "1l_tanh", "1l_sqrt", "1l_prelu", "prelu_gmm", "1l_powf", "hard_sigmoid",
    "log_softmax", "selu", "softplus", "trig",
  ];
  it(`corpus models import and match onnxruntime: ${corpusModels.join(", ")}`, async function () {
    if (!fs.existsSync(CORPUS)) this.skip();
    for (const name of corpusModels) {
      const e = await scanModel(path.join(CORPUS, name));
      expect(e.status, `${name}: ${e.message}`).to.equal("imported");
      expect(e.matchesOrt, `${name}: max |diff| ${e.ortMaxAbsDiff} ${e.compareError ?? ""}`).to.equal(true);
      if (e.matchesOutputData !== undefined) expect(e.matchesOutputData, `${name}: output_data`).to.equal(true);
    }
  });
});
