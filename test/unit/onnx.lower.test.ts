import { expect } from "chai";
import fc from "fast-check";
import fs from "fs";
import os from "os";
import path from "path";
import { FlavumError, InputError, UnsupportedOpError } from "../../src/errors";
import { AffineNode, FloatGraph } from "../../src/onnx/ir";
import { importOnnx, lowerModel } from "../../src/onnx/lower";
import { applyHead, runFloat } from "../../src/onnx/floatExec";
import { decodeModel, decodeTensor } from "../../src/onnx/load";
import { maxAbs, maxAbsDiff } from "../../src/onnx/corpus";
import { DT, ModelSpec, NodeSpec, buildModel, f, rawTensor, tensor, vsOrt } from "./onnxBuilder";

const lower = (spec: ModelSpec): FloatGraph => lowerModel(decodeModel(buildModel(spec)));

function seq(n: number, seed: number): number[] {
  // Deterministic, irregular values (no accidental symmetry that would hide an indexing bug).
  // Rounded to float32, so the float64 executor and a naive float64 reference see the same weights.
  return Array.from({ length: n }, (_, i) => Math.fround(Math.round(Math.sin(seed * 97 + i * 13.7) * 1000) / 500));
}


function expectClose(diff: number, ort: number[]): void {
  expect(diff).to.be.at.most(1e-4 * Math.max(1, maxAbs(ort)));
}

describe("onnx: loading", () => {
  it("reports a missing file and a non-ONNX file as FlavumError", () => {
    expect(() => importOnnx("/nonexistent/model.onnx")).to.throw(FlavumError, /cannot read ONNX model/);
    const junk = path.join(os.tmpdir(), "flavum-not-onnx.onnx");
    fs.writeFileSync(junk, "this is certainly not a protobuf model\n");
    expect(() => importOnnx(junk)).to.throw(FlavumError, /not an ONNX model/);
  });

  it("decodes float_data, int64_data, raw_data (FLOAT, DOUBLE, INT64, INT32) and Long values", () => {
    expect(Array.from(decodeTensor(tensor("a", [2], [1.5, -2])).data)).to.deep.equal([1.5, -2]);
    expect(Array.from(decodeTensor(rawTensor("b", [3], [0.25, -1, 3])).data)).to.deep.equal([0.25, -1, 3]);
    expect(Array.from(decodeTensor(rawTensor("c", [2], [0.1, 7], DT.DOUBLE)).data)).to.deep.equal([0.1, 7]);
    expect(Array.from(decodeTensor(rawTensor("d", [2], [-1, 1 << 30], DT.INT64)).data)).to.deep.equal([-1, 1 << 30]);
    expect(Array.from(decodeTensor(rawTensor("e", [2], [-5, 9], DT.INT32)).data)).to.deep.equal([-5, 9]);
    // Round-trip through protobuf so int64 values come back as Long objects.
    const bytes = buildModel({
      inputs: [{ name: "x", shape: [1, 2] }], outputs: [{ name: "y" }],
      nodes: [{ op: "Reshape", inputs: ["x", "s"], outputs: ["y"] }],
      initializers: [tensor("s", [2], [-1, 2], DT.INT64)],
    });
    const t = decodeModel(bytes).graph?.initializer?.[0];
    expect(Array.from(decodeTensor(t as never).data)).to.deep.equal([-1, 2]);
  });
});

describe("onnx: affine composition", () => {
  // Chains of Gemm / MatMul / Add-const / Mul-const with random small shapes.
  const layer = fc.record({
    kind: fc.constantFrom("gemm", "matmul", "add", "mul", "sub", "div"),
    out: fc.integer({ min: 1, max: 4 }),
    transB: fc.boolean(),
    alpha: fc.constantFrom(1, 0.5, -2),
    seed: fc.integer({ min: 0, max: 1000 }),
  });

  it("fuses a chain of linear ops into one affine node equal to sequential evaluation", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(layer, { minLength: 1, maxLength: 5 }), (n0, layers) => {
        const nodes: NodeSpec[] = [];
        const inits: ReturnType<typeof tensor>[] = [];
        let cur = "x";
        let width = n0;
        const steps: ((v: number[]) => number[])[] = [];
        layers.forEach((L, k) => {
          const out = k === layers.length - 1 ? "y" : `t${k}`;
          if (L.kind === "gemm" || L.kind === "matmul") {
            const W = seq(width * L.out, L.seed);
            const b = seq(L.out, L.seed + 1);
            const K = width;
            const wAt = (i: number, j: number) => (L.kind === "gemm" && L.transB ? W[j * K + i] : W[i * L.out + j]);
            if (L.kind === "gemm") {
              inits.push(tensor(`W${k}`, L.transB ? [L.out, K] : [K, L.out], W), tensor(`b${k}`, [L.out], b));
              nodes.push({ op: "Gemm", inputs: [cur, `W${k}`, `b${k}`], outputs: [out], attrs: { transB: L.transB ? 1 : 0, alpha: f(L.alpha), beta: f(0.5) } });
            } else {
              inits.push(tensor(`W${k}`, [K, L.out], W));
              nodes.push({ op: "MatMul", inputs: [cur, `W${k}`], outputs: [out] });
            }
            steps.push((v) => Array.from({ length: L.out }, (_, j) => {
              let s = 0;
              for (let i = 0; i < K; i++) s += v[i] * wAt(i, j);
              return L.kind === "gemm" ? L.alpha * s + 0.5 * b[j] : s;
            }));
            width = L.out;
          } else {
            const c = seq(width, L.seed).map((v) => (L.kind === "div" && v === 0 ? 1 : v));
            inits.push(tensor(`c${k}`, [width], c));
            const opName = { add: "Add", mul: "Mul", sub: "Sub", div: "Div" }[L.kind];
            nodes.push({ op: opName, inputs: [cur, `c${k}`], outputs: [out] });
            const g = { add: (a: number, b: number) => a + b, mul: (a: number, b: number) => a * b, sub: (a: number, b: number) => a - b, div: (a: number, b: number) => a / b }[L.kind];
            steps.push((v) => v.map((a, i) => g(a, c[i])));
          }
          cur = out;
        });
        const graph = lower({ inputs: [{ name: "x", shape: ["batch", n0] }], outputs: [{ name: "y" }], nodes, initializers: inits });
        expect(graph.nodes).to.have.length(1);
        expect(graph.nodes[0].kind).to.equal("affine");
        expect((graph.nodes[0] as AffineNode).from).to.have.length(layers.length);
        const x = seq(n0, 4242);
        const want = steps.reduce((v, s) => s(v), x);
        const got = runFloat(graph, x).get(graph.output) as Float64Array;
        expect(maxAbsDiff(got, want)).to.be.lessThan(1e-9 * Math.max(1, maxAbs(want)));
      }),
      { numRuns: 150 },
    );
  });

  it("keeps a tensor with two consumers, and fuses Add of two data tensors", async () => {
    // a = x·W1 feeds both Relu and Add, so it must stay a tensor; Add(a, b) and Sub(s, x) fuse into one node.
    const spec: ModelSpec = {
      inputs: [{ name: "x", shape: [1, 3] }], outputs: [{ name: "y" }],
      initializers: [tensor("W1", [3, 3], seq(9, 1)), tensor("W2", [3, 3], seq(9, 2))],
      nodes: [
        { op: "MatMul", inputs: ["x", "W1"], outputs: ["a"] },
        { op: "Relu", inputs: ["a"], outputs: ["r"] },
        { op: "MatMul", inputs: ["r", "W2"], outputs: ["b"] },
        { op: "Add", inputs: ["a", "b"], outputs: ["s"] },
        { op: "Sub", inputs: ["s", "x"], outputs: ["y"] },
      ],
    };
    const { graph, diff, ort } = await vsOrt(spec, [0.3, -0.7, 1.1]);
    expectClose(diff, ort);
    expect(graph.nodes.map((n) => n.kind)).to.deep.equal(["affine", "relu", "affine"]);
    const last = graph.nodes[2] as AffineNode;
    expect(last.inputs.sort()).to.deep.equal(["a", "r", "x"]);
  });

  it("folds Pad → Conv → BatchNorm → Mul-by-const into one affine node, and Gemm + Add into the bias", async () => {
    const spec: ModelSpec = {
      inputs: [{ name: "x", shape: ["N", 2, 5, 5] }], outputs: [{ name: "y" }],
      opset: 13,
      initializers: [
        tensor("pads", [8], [0, 0, 1, 0, 0, 0, 0, 2], DT.INT64),
        tensor("W", [3, 2, 3, 3], seq(54, 3)), tensor("B", [3], [0.1, -0.2, 0.3]),
        tensor("sc", [3], [1.5, 0.5, -1]), tensor("bb", [3], [0.1, 0.2, 0.3]),
        tensor("mu", [3], [0.05, -0.1, 0]), tensor("var", [3], [1, 2, 0.5]),
        tensor("m", [1], [0.25]),
        tensor("G", [7, 27], seq(7 * 27, 5)), tensor("gb", [7], seq(7, 6)), tensor("addc", [7], seq(7, 8)),
      ],
      nodes: [
        { op: "Pad", inputs: ["x", "pads"], outputs: ["p"], attrs: { mode: "constant" } },
        { op: "Conv", inputs: ["p", "W", "B"], outputs: ["c"], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 0, 1] } },
        { op: "BatchNormalization", inputs: ["c", "sc", "bb", "mu", "var"], outputs: ["bn"], attrs: { epsilon: f(1e-3) } },
        { op: "Mul", inputs: ["bn", "m"], outputs: ["mm"] },
        { op: "Relu", inputs: ["mm"], outputs: ["r"] },
        { op: "Flatten", inputs: ["r"], outputs: ["fl"], attrs: { axis: 1 } },
        { op: "Shape", inputs: ["fl"], outputs: ["sh"] },
        { op: "Gather", inputs: ["sh", "zero"], outputs: ["n0"], attrs: { axis: 0 } },
        { op: "Unsqueeze", inputs: ["n0", "ax0"], outputs: ["n0u"] },
        { op: "Concat", inputs: ["n0u", "minus1"], outputs: ["tgt"], attrs: { axis: 0 } },
        { op: "Reshape", inputs: ["fl", "tgt"], outputs: ["fl2"] },
        { op: "Gemm", inputs: ["fl2", "G", "gb"], outputs: ["g"], attrs: { transB: 1 } },
        { op: "Add", inputs: ["g", "addc"], outputs: ["y"] },
      ],
    };
    spec.initializers?.push(tensor("zero", [], [0], DT.INT64), tensor("ax0", [1], [0], DT.INT64), tensor("minus1", [1], [-1], DT.INT64));
    const { graph, diff, ort } = await vsOrt(spec, seq(50, 9));
    expectClose(diff, ort);
    expect(graph.nodes.map((n) => n.kind)).to.deep.equal(["affine", "relu", "affine"]);
    expect((graph.nodes[0] as AffineNode).from).to.have.length(4);
    expect((graph.nodes[2] as AffineNode).from).to.have.length(2);
    expect(graph.ops).to.include({ Pad: 1, Conv: 1, Gemm: 1, Shape: 1 });
  });

  it("grouped and depthwise Conv: each output channel sees only its group's input channels", async () => {
    for (const [C, M, group] of [[4, 6, 2], [3, 3, 3], [4, 8, 4]]) {
      const k = 3;
      const w = Array.from({ length: M * (C / group) * k * k }, (_, i) => Math.fround(Math.sin(i * 0.9 + C) * 0.5));
      const spec: ModelSpec = {
        inputs: [{ name: "x", shape: [1, C, 5, 5] }], outputs: [{ name: "y" }],
        initializers: [tensor("W", [M, C / group, k, k], w), tensor("b", [M], Array.from({ length: M }, (_, i) => i * 0.1 - 0.2))],
        nodes: [{ op: "Conv", inputs: ["x", "W", "b"], outputs: ["y"], attrs: { group, pads: [1, 1, 1, 1], strides: [2, 1] } }],
      };
      const { graph, diff, ort } = await vsOrt(spec, seq(C * 25, C + group));
      expectClose(diff, ort);
      expect(graph.nodes.map((n) => n.kind)).to.deep.equal(["affine"]);
    }
  });
});

describe("onnx: spatial ops against onnxruntime", () => {
  const convCases: { name: string; attrs: Record<string, number[] | string | number>; k: number[] }[] = [
    { name: "pads + stride", attrs: { pads: [1, 2, 0, 1], strides: [2, 1] }, k: [3, 2] },
    { name: "dilations", attrs: { dilations: [2, 1], strides: [1, 2] }, k: [2, 3] },
    { name: "SAME_UPPER", attrs: { auto_pad: "SAME_UPPER", strides: [2, 2] }, k: [4, 3] },
    { name: "SAME_LOWER", attrs: { auto_pad: "SAME_LOWER", strides: [2, 3] }, k: [4, 2] },
    { name: "VALID", attrs: { auto_pad: "VALID", strides: [2, 2] }, k: [3, 3] },
  ];
  for (const c of convCases) {
    it(`Conv ${c.name} matches onnxruntime${c.name === "pads + stride" ? " and a naive convolution" : ""}`, async () => {
      const [Cin, H, W, M] = [2, 7, 6, 3];
      const w = seq(M * Cin * c.k[0] * c.k[1], 11);
      const spec: ModelSpec = {
        inputs: [{ name: "x", shape: [1, Cin, H, W] }], outputs: [{ name: "y" }],
        initializers: [tensor("W", [M, Cin, ...c.k], w), tensor("B", [M], [0.5, -0.5, 1])],
        nodes: [{ op: "Conv", inputs: ["x", "W", "B"], outputs: ["y"], name: "conv", attrs: { ...c.attrs, kernel_shape: c.k } }],
      };
      const x = seq(Cin * H * W, 12);
      const { graph, diff, ort } = await vsOrt(spec, x);
      expectClose(diff, ort);
      if (c.name === "pads + stride") {
        // Naive NCHW convolution, written independently of the lowering.
        const [pt, pl] = [1, 2];
        const OH = Math.floor((H + 1 - 3) / 2) + 1;
        const OW = Math.floor((W + 3 - 2) / 1) + 1;
        expect(graph.outputShape).to.deep.equal([1, M, OH, OW]);
        const y: number[] = [];
        for (let m = 0; m < M; m++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
          let s = [0.5, -0.5, 1][m];
          for (let ci = 0; ci < Cin; ci++) for (let a = 0; a < 3; a++) for (let b = 0; b < 2; b++) {
            const ih = oh * 2 - pt + a;
            const iw = ow - pl + b;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += x[(ci * H + ih) * W + iw] * w[((m * Cin + ci) * 3 + a) * 2 + b];
          }
          y.push(s);
        }
        expect(maxAbsDiff(runFloat(graph, x).get(graph.output) as Float64Array, y)).to.be.lessThan(1e-12);
      }
    });
  }

  for (const includePad of [0, 1]) {
    it(`AveragePool with pads, count_include_pad=${includePad}, matches onnxruntime`, async () => {
      const spec: ModelSpec = {
        inputs: [{ name: "x", shape: [1, 2, 5, 4] }], outputs: [{ name: "y" }],
        nodes: [{ op: "AveragePool", inputs: ["x"], outputs: ["y"], attrs: { kernel_shape: [3, 2], pads: [1, 1, 1, 0], strides: [2, 1], count_include_pad: includePad } }],
      };
      const { diff, ort } = await vsOrt(spec, seq(40, 13));
      expectClose(diff, ort);
    });
  }

  it("MaxPool with pads (as -inf) and GlobalAveragePool match onnxruntime", async () => {
    const spec: ModelSpec = {
      inputs: [{ name: "x", shape: [1, 2, 5, 5] }], outputs: [{ name: "y" }],
      nodes: [
        { op: "MaxPool", inputs: ["x"], outputs: ["m"], attrs: { kernel_shape: [2, 3], pads: [1, 1, 1, 1], strides: [2, 2] } },
        { op: "Relu", inputs: ["m"], outputs: ["r"] },
        { op: "GlobalAveragePool", inputs: ["r"], outputs: ["y"] },
      ],
    };
    const x = seq(50, 14).map((v) => v - 3); // mostly negative: padding must not win as 0
    const { diff, ort } = await vsOrt(spec, x);
    expectClose(diff, ort);
    const mp = { ...spec, nodes: [spec.nodes[0]], outputs: [{ name: "m" }] };
    const r = await vsOrt(mp, x);
    expectClose(r.diff, r.ort);
  });

  it("Pad (opset 10 attributes), LeakyRelu, Sigmoid, Reshape with 0 and -1 match onnxruntime", async () => {
    const spec: ModelSpec = {
      opset: 10,
      inputs: [{ name: "x", shape: [1, 2, 3] }], outputs: [{ name: "y" }],
      initializers: [tensor("shape", [3], [0, -1, 2], DT.INT64)],
      nodes: [
        { op: "Pad", inputs: ["x"], outputs: ["p"], attrs: { pads: [0, 1, 0, 0, 1, 1], mode: "constant", value: f(0) } },
        { op: "LeakyRelu", inputs: ["p"], outputs: ["l"], attrs: { alpha: f(0.2) } },
        { op: "Reshape", inputs: ["l", "shape"], outputs: ["rs"] },
        { op: "Sigmoid", inputs: ["rs"], outputs: ["y"] },
      ],
    };
    const { graph, diff, ort } = await vsOrt(spec, seq(6, 15));
    expectClose(diff, ort);
    expect(graph.outputShape).to.deep.equal([1, 8, 2]);
  });
});

describe("onnx: heads", () => {
  const mlp = (head: NodeSpec | null, opset = 13): ModelSpec => ({
    opset,
    inputs: [{ name: "x", shape: ["b", 4] }],
    outputs: [{ name: "y", elemType: head?.op === "ArgMax" ? DT.INT64 : DT.FLOAT }],
    initializers: [tensor("W", [4, 5], seq(20, 18)), tensor("B", [5], seq(5, 19))],
    nodes: [{ op: "Gemm", inputs: ["x", "W", "B"], outputs: [head ? "z" : "y"] }, ...(head ? [head] : [])],
  });

  it("Softmax as last op becomes the softmax head", async () => {
    const { graph, diff, ort } = await vsOrt(mlp({ op: "Softmax", inputs: ["z"], outputs: ["y"], attrs: { axis: -1 } }), [1, -2, 0.5, 3]);
    expect(graph.head).to.equal("softmax");
    expect(graph.output).to.equal("z");
    expectClose(diff, ort);
    const logits = runFloat(graph, [1, -2, 0.5, 3]).get("z") as Float64Array;
    const { output, argmax } = applyHead(graph, logits);
    expect(output.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-12);
    expect(argmax).to.equal(ort.indexOf(Math.max(...ort)));
  });

  it("ArgMax as last op becomes the argmax head (keepdims 0 or 1)", async () => {
    for (const keepdims of [0, 1]) {
      const { graph, ort } = await vsOrt(mlp({ op: "ArgMax", inputs: ["z"], outputs: ["y"], attrs: { axis: 1, keepdims } }), [1, -2, 0.5, 3]);
      expect(graph.head).to.equal("argmax");
      const logits = runFloat(graph, [1, -2, 0.5, 3]).get(graph.output) as Float64Array;
      const h = applyHead(graph, logits);
      expect(h.output).to.deep.equal(Array.from(logits));
      expect([h.argmax]).to.deep.equal(ort);
    }
  });

  it("Softmax that is not the last op is computed in the graph (max, exp table, sum, proven division), not as the head", () => {
    const spec = mlp(null);
    spec.nodes = [
      { op: "Gemm", inputs: ["x", "W", "B"], outputs: ["z"] },
      { op: "Softmax", inputs: ["z"], outputs: ["s"], name: "mid_softmax" },
      { op: "Relu", inputs: ["s"], outputs: ["y"] },
    ];
    const g = lower(spec);
    expect(g.head).to.equal("none");
    expect(g.nodes.map((n) => n.kind)).to.include.members(["maxpool", "pwl", "div"]);
  });
});

describe("onnx: errors", () => {
  const base = (nodes: NodeSpec[], extra: Partial<ModelSpec> = {}): ModelSpec => ({
    inputs: [{ name: "x", shape: [1, 3] }], outputs: [{ name: "y" }], nodes, ...extra,
  });

  it("an op no lowering takes (NonZero: a data-dependent shape) is an UnsupportedOpError naming op, node and the supported list", () => {
    try {
      lower(base([{ op: "NonZero", inputs: ["x"], outputs: ["y"], name: "mask/NonZero" }]));
      expect.fail("should throw");
    } catch (e) {
      expect(e).to.be.instanceOf(UnsupportedOpError);
      const u = e as UnsupportedOpError;
      expect(u.opType).to.equal("NonZero");
      expect(u.nodeName).to.equal("mask/NonZero");
      expect(u.message).to.match(/unsupported ONNX op NonZero \(node "mask\/NonZero"\).*Supported ops: Gemm.*Tanh/);
    }
  });

  it("a group count that does not divide the channels and MaxPool's indices output are refused with details", () => {
    const conv = base([{ op: "Conv", inputs: ["x", "W"], outputs: ["y"], attrs: { group: 2 } }], {
      inputs: [{ name: "x", shape: [1, 3, 3, 3] }], initializers: [tensor("W", [2, 1, 1, 1], [1, 2])],
    });
    expect(() => lower(conv)).to.throw(FlavumError, /Conv.*group=2 must divide/);
    const mp = base([{ op: "MaxPool", inputs: ["x"], outputs: ["y", "idx"], attrs: { kernel_shape: [2, 2] } }], { inputs: [{ name: "x", shape: [1, 1, 3, 3] }] });
    expect(() => lower(mp)).to.throw(UnsupportedOpError, /MaxPool.*Indices/);
  });

  it("several inputs are concatenated and several outputs proven together, in the model's order", () => {
    const two = base([{ op: "Add", inputs: ["x", "x2"], outputs: ["y"] }, { op: "Relu", inputs: ["y"], outputs: ["z"] }], {
      inputs: [{ name: "x", shape: [1, 3] }, { name: "x2", shape: [1, 2, 3], elemType: DT.INT64 }], outputs: [{ name: "z" }, { name: "y" }],
    });
    two.nodes[0].inputs = ["x", "x2"];
    const g = lower(two);
    expect(g.input.shape).to.deep.equal([9]);
    expect(g.inputs.map((p) => [p.name, p.offset, p.elem])).to.deep.equal([["x", 0, "float"], ["x2", 3, "int"]]);
    expect(g.outputs.map((p) => [p.name, p.offset])).to.deep.equal([["z", 0], ["y", 6]]);
    const out = Array.from(runFloat(g, [1, -2, 3, 1, 1, 1, -5, 0, 0]).get(g.output) as Float64Array);
    expect(out).to.deep.equal([2, 0, 4, 0, 0, 3, 2, -1, 4, -4, -2, 3]);
  });

  it("an input of a type Flavum cannot represent (string) is refused naming it", () => {
    const str = base([{ op: "Identity", inputs: ["x"], outputs: ["y"] }], { inputs: [{ name: "x", shape: [1, 3], elemType: DT.STRING }] });
    expect(() => lower(str)).to.throw(FlavumError, /input "x" has element type STRING/);
  });

  it("an input of the wrong length names the expected shape and the given length; NaN names its index", () => {
    const g = lower(base([{ op: "Relu", inputs: ["x"], outputs: ["y"] }]));
    expect(() => runFloat(g, [1, 2, 3, 4, 5])).to.throw(InputError, /expects shape \[1, 3\] \(3 values\), got 5 values/);
    expect(() => runFloat(g, [1, NaN, 3])).to.throw(InputError, /non-finite value \(NaN\) at index 1/);
    expect(() => runFloat(g, [1, 2, Infinity])).to.throw(InputError, /index 2/);
    const map = runFloat(g, [1, -2, 3]);
    expect(Array.from(map.get("x") as Float64Array)).to.deep.equal([1, -2, 3]);
    expect(Array.from(map.get("y") as Float64Array)).to.deep.equal([1, 0, 3]);
  });
});
