import { expect } from "chai";
import { UnsupportedOpError } from "../../src/errors";
import { AffineNode, FloatGraph, SelectNode } from "../../src/onnx/ir";
import { lowerModel } from "../../src/onnx/lower";
import { decodeModel } from "../../src/onnx/load";
import { maxAbs } from "../../src/onnx/corpus";
import { AttrValue, DT, ModelSpec, NodeSpec, buildModel, tensor, vsOrt } from "./onnxBuilder";

const lower = (spec: ModelSpec): FloatGraph => lowerModel(decodeModel(buildModel(spec)));

function seq(n: number, seed: number): number[] {
  // Irregular float32 values, so an indexing bug cannot hide behind symmetry.
  return Array.from({ length: n }, (_, i) => Math.fround(Math.round(Math.sin(seed * 97 + i * 13.7) * 1000) / 500));
}

/** Lower the model, run it in float64 and in onnxruntime, and require agreement (values and length). */
async function matchesOrt(spec: ModelSpec, input: number[]): Promise<FloatGraph> {
  const { graph, ort, ours, diff } = await vsOrt(spec, input);
  expect(ours.length, "output length").to.equal(ort.length);
  expect(diff).to.be.at.most(1e-5 * Math.max(1, maxAbs(ort)));
  return graph;
}

function oneOp(shape: number[], node: Omit<NodeSpec, "outputs">, extra: Partial<ModelSpec> = {}): ModelSpec {
  return { inputs: [{ name: "x", shape }], outputs: [{ name: "y" }], nodes: [{ ...node, outputs: ["y"] }], ...extra };
}

const i64 = (name: string, data: number[], dims = [data.length]) => tensor(name, dims, data, DT.INT64);

describe("onnx: data movement and reductions against onnxruntime", () => {
  it("Concat of data, an activation of it and a constant (the constant becomes bias)", async () => {
    const spec: ModelSpec = {
      inputs: [{ name: "x", shape: [1, 2, 3] }], outputs: [{ name: "y" }],
      initializers: [tensor("c", [1, 2, 2], [9, 8, 7, 6])],
      nodes: [
        { op: "Relu", inputs: ["x"], outputs: ["r"] },
        { op: "Concat", inputs: ["x", "c", "r"], outputs: ["y"], attrs: { axis: -1 } },
      ],
    };
    const g = await matchesOrt(spec, seq(6, 1));
    expect(g.outputShape).to.deep.equal([1, 2, 8]);
    const g0 = await matchesOrt({ ...spec, nodes: [spec.nodes[0], { ...spec.nodes[1], inputs: ["x", "r"], attrs: { axis: 1 } }] }, seq(6, 2));
    expect(g0.outputShape).to.deep.equal([1, 4, 3]);
  });

  const sliceCases: { name: string; starts: number[]; ends: number[]; axes?: number[]; steps?: number[] }[] = [
    { name: "positive", starts: [1], ends: [4], axes: [2] },
    { name: "negative indices, two axes", starts: [-2, 0], ends: [1000, -1], axes: [1, -1] },
    { name: "steps", starts: [0, 1], ends: [3, 6], axes: [1, 2], steps: [2, 2] },
    { name: "negative step", starts: [-1, 4], ends: [-1000, 0], axes: [1, 2], steps: [-1, -2] },
    { name: "no axes", starts: [0, 1, 2], ends: [1, 3, 5] },
  ];
  for (const c of sliceCases) {
    it(`Slice (${c.name})`, async () => {
      const inits = [i64("st", c.starts), i64("en", c.ends)];
      const ins = ["x", "st", "en"];
      if (c.axes) { inits.push(i64("ax", c.axes)); ins.push("ax"); }
      if (c.steps) { if (!c.axes) throw new Error("steps need axes"); inits.push(i64("sp", c.steps)); ins.push("sp"); }
      await matchesOrt(oneOp([1, 3, 6], { op: "Slice", inputs: ins }, { initializers: inits }), seq(18, 3));
    });
  }

  it("Slice with opset-9 attributes", async () => {
    await matchesOrt(oneOp([1, 3, 6], { op: "Slice", inputs: ["x"], attrs: { starts: [1, -4], ends: [3, 100], axes: [1, 2] } }, { opset: 9 }), seq(18, 4));
  });

  const splitCases: { name: string; opset: number; split?: number[]; numOutputs?: number; n: number }[] = [
    { name: "split attribute (opset 11)", opset: 11, split: [1, 4, 2], n: 3 },
    { name: "split input (opset 13)", opset: 13, split: [3, 4], n: 2 },
    { name: "equal parts", opset: 13, n: 7 },
    { name: "num_outputs, uneven (opset 18)", opset: 18, numOutputs: 3, n: 3 },
  ];
  for (const c of splitCases) {
    it(`Split: ${c.name}, every output used`, async () => {
      const outs = Array.from({ length: c.n }, (_, k) => `p${k}`);
      const attrs: Record<string, AttrValue> = { axis: -1 };
      if (c.split && c.opset < 13) attrs.split = c.split;
      if (c.numOutputs) attrs.num_outputs = c.numOutputs;
      const ins = c.split && c.opset >= 13 ? ["x", "sp"] : ["x"];
      // Concat the parts in reverse, so each output's contents and order are checked.
      const spec: ModelSpec = {
        opset: c.opset,
        inputs: [{ name: "x", shape: [1, 2, 7] }], outputs: [{ name: "y" }],
        initializers: c.split && c.opset >= 13 ? [i64("sp", c.split)] : [],
        nodes: [
          { op: "Split", inputs: ins, outputs: outs, attrs },
          { op: "Concat", inputs: [...outs].reverse(), outputs: ["y"], attrs: { axis: 2 } },
        ],
      };
      await matchesOrt(spec, seq(14, 23));
    });
  }

  it("Transpose with perm and with the default (reversed) perm", async () => {
    const g = await matchesOrt(oneOp([1, 2, 3, 4], { op: "Transpose", inputs: ["x"], attrs: { perm: [0, 3, 1, 2] } }), seq(24, 5));
    expect(g.outputShape).to.deep.equal([1, 4, 2, 3]);
    await matchesOrt(oneOp([2, 3, 4], { op: "Transpose", inputs: ["x"] }), seq(24, 6));
  });

  for (const opset of [11, 13]) {
    it(`Squeeze / Unsqueeze on data (opset ${opset}: axes as ${opset >= 13 ? "input" : "attribute"})`, async () => {
      const axesIn = opset >= 13;
      const spec: ModelSpec = {
        opset,
        inputs: [{ name: "x", shape: [1, 3, 1, 2] }], outputs: [{ name: "y" }],
        initializers: axesIn ? [i64("sq", [2]), i64("us", [0, -1])] : [],
        nodes: [
          { op: "Squeeze", inputs: axesIn ? ["x", "sq"] : ["x"], outputs: ["s"], attrs: axesIn ? {} : { axes: [2] } },
          { op: "Unsqueeze", inputs: axesIn ? ["s", "us"] : ["s"], outputs: ["u"], attrs: axesIn ? {} : { axes: [0, -1] } },
          // Transpose after the reshape so a wrong shape would give wrong values, not only a wrong label.
          { op: "Transpose", inputs: ["u"], outputs: ["y"], attrs: { perm: [0, 1, 3, 2, 4] } },
        ],
      };
      const g = await matchesOrt(spec, seq(6, 7));
      expect(g.outputShape).to.deep.equal([1, 1, 2, 3, 1]);
    });
  }

  for (const axis of [0, 1, 2, -1]) {
    it(`Gather on constant indices, axis ${axis} (2-D and negative indices)`, async () => {
      const shape = [2, 3, 4];
      const a = axis < 0 ? axis + 3 : axis;
      const n = shape[a];
      const idx = [n - 1, 0, -1, 1 % n, -n, 0];
      await matchesOrt(oneOp(shape, { op: "Gather", inputs: ["x", "i"], attrs: { axis } }, { initializers: [i64("i", idx, [2, 3])] }), seq(24, 8));
    });
  }

  it("Gather with a scalar index drops the axis", async () => {
    const g = await matchesOrt(oneOp([1, 3, 4], { op: "Gather", inputs: ["x", "i"], attrs: { axis: 2 } }, { initializers: [i64("i", [-2], [])] }), seq(12, 9));
    expect(g.outputShape).to.deep.equal([1, 3]);
  });

  it("GatherElements on constant indices (axis 1, negative indices)", async () => {
    const idx = [0, 2, -1, 1, 1, 0, -3, 2];
    await matchesOrt(oneOp([2, 3, 2], { op: "GatherElements", inputs: ["x", "i"], attrs: { axis: 1 } }, { initializers: [i64("i", idx, [2, 2, 2])] }), seq(12, 10));
  });

  it("Tile and Expand (broadcast both ways)", async () => {
    await matchesOrt(oneOp([1, 2, 3], { op: "Tile", inputs: ["x", "r"] }, { initializers: [i64("r", [2, 1, 3])] }), seq(6, 11));
    const g = await matchesOrt(oneOp([2, 1, 3], { op: "Expand", inputs: ["x", "s"] }, { initializers: [i64("s", [2, 1, 4, 1])] }), seq(6, 12));
    expect(g.outputShape).to.deep.equal([2, 2, 4, 3]);
  });

  const reduceCases: { op: string; opset: number; axes?: number[]; keepdims?: number; noop?: number }[] = [
    { op: "ReduceSum", opset: 13, axes: [1, -1], keepdims: 0 },
    { op: "ReduceSum", opset: 13, keepdims: 1 },
    { op: "ReduceSum", opset: 13, noop: 1 },
    { op: "ReduceSum", opset: 11, axes: [2] },
    { op: "ReduceMean", opset: 13, axes: [-1] },
    { op: "ReduceMean", opset: 18, axes: [0, 2], keepdims: 0 },
    { op: "ReduceMax", opset: 13, axes: [1], keepdims: 0 },
    { op: "ReduceMax", opset: 13 },
    { op: "ReduceMin", opset: 13, axes: [2, 1] },
    { op: "ReduceMin", opset: 18, axes: [-1], keepdims: 0 },
  ];
  for (const c of reduceCases) {
    it(`${c.op} opset ${c.opset} axes ${c.axes ? `[${c.axes}]` : "(none)"} keepdims ${c.keepdims ?? 1}${c.noop ? " noop_with_empty_axes" : ""}`, async () => {
      const asInput = c.op === "ReduceSum" ? c.opset >= 13 : c.opset >= 18;
      const attrs: Record<string, AttrValue> = {};
      if (c.keepdims !== undefined) attrs.keepdims = c.keepdims;
      if (c.noop) attrs.noop_with_empty_axes = c.noop;
      if (c.axes && !asInput) attrs.axes = c.axes;
      const inputs = c.axes && asInput ? ["x", "ax"] : ["x"];
      const spec = oneOp([2, 3, 4], { op: c.op, inputs, attrs }, { opset: c.opset, initializers: c.axes && asInput ? [i64("ax", c.axes)] : [] });
      const g = await matchesOrt(spec, seq(24, 13).map((v) => v - 0.5));
      if (c.op === "ReduceMax" || c.op === "ReduceMin") expect(g.nodes.map((n) => n.kind)).to.include("maxpool");
    });
  }

  const resizeModes: [string, string][] = [
    ["half_pixel", "round_prefer_floor"], ["half_pixel", "round_prefer_ceil"], ["asymmetric", "floor"],
    ["asymmetric", "ceil"], ["align_corners", "round_prefer_floor"], ["pytorch_half_pixel", "floor"],
  ];
  for (const [coord, nearest] of resizeModes) {
    for (const by of ["scales", "sizes"]) {
      it(`Resize nearest ${coord} / ${nearest} by ${by} (up on one axis, down on the other)`, async () => {
        const inits = [tensor("roi", [0], []), by === "scales" ? tensor("sc", [4], [1, 1, 2.5, 0.5]) : tensor("sc", [0], [])];
        if (by === "sizes") inits.push(i64("sz", [1, 2, 7, 3]));
        const spec = oneOp([1, 2, 3, 5], {
          op: "Resize", inputs: by === "sizes" ? ["x", "roi", "sc", "sz"] : ["x", "roi", "sc"],
          attrs: { mode: "nearest", coordinate_transformation_mode: coord, nearest_mode: nearest },
        }, { initializers: inits });
        await matchesOrt(spec, seq(30, 14));
      });
    }
  }

  for (const coord of ["align_corners", "pytorch_half_pixel"]) {
    it(`Resize nearest ${coord} to an axis of length 1 (the formula's special case)`, async () => {
      const spec = oneOp([1, 1, 3, 4], { op: "Resize", inputs: ["x", "", "", "sz"], attrs: { mode: "nearest", coordinate_transformation_mode: coord } }, {
        initializers: [i64("sz", [1, 1, 1, 6])],
      });
      await matchesOrt(spec, seq(12, 22));
    });
  }

  it("Resize with default attributes, Upsample (opset 9) and Resize (opset 10, fractional scales) nearest", async () => {
    await matchesOrt(oneOp([1, 1, 2, 3], { op: "Resize", inputs: ["x", "", "sc"] }, { initializers: [tensor("sc", [4], [1, 1, 2, 3])] }), seq(6, 15));
    await matchesOrt(oneOp([1, 1, 2, 3], { op: "Upsample", inputs: ["x", "sc"], attrs: { mode: "nearest" } }, { opset: 9, initializers: [tensor("sc", [4], [1, 1, 2, 3])] }), seq(6, 16));
    await matchesOrt(oneOp([1, 1, 2, 3], { op: "Resize", inputs: ["x", "sc"], attrs: { mode: "nearest" } }, { opset: 10, initializers: [tensor("sc", [4], [1, 1, 2.5, 1.5])] }), seq(6, 17));
  });

  const ctCases: { name: string; attrs: Record<string, AttrValue>; k: number[] }[] = [
    { name: "plain", attrs: {}, k: [3, 3] },
    { name: "strides + pads + output_padding", attrs: { strides: [2, 3], pads: [1, 0, 0, 2], output_padding: [1, 2] }, k: [3, 4] },
    { name: "dilations", attrs: { dilations: [2, 1], strides: [1, 2] }, k: [2, 3] },
  ];
  for (const c of ctCases) {
    it(`ConvTranspose 2-D ${c.name}`, async () => {
      const [Cin, M] = [2, 3];
      const spec = oneOp([1, Cin, 3, 4], { op: "ConvTranspose", inputs: ["x", "W", "B"], attrs: c.attrs }, {
        initializers: [tensor("W", [Cin, M, ...c.k], seq(Cin * M * c.k[0] * c.k[1], 17)), tensor("B", [M], [0.5, -1, 0.25])],
      });
      await matchesOrt(spec, seq(24, 18));
    });
  }

  it("ConvTranspose 1-D without bias", async () => {
    const spec = oneOp([1, 2, 5], { op: "ConvTranspose", inputs: ["x", "W"], attrs: { strides: [2], pads: [1, 1] } }, {
      initializers: [tensor("W", [2, 1, 3], seq(6, 19))],
    });
    await matchesOrt(spec, seq(10, 20));
  });

  for (const mode of ["reflect", "edge"]) {
    it(`Pad mode ${mode}`, async () => {
      const spec = oneOp([1, 2, 3, 4], { op: "Pad", inputs: ["x", "p"], attrs: { mode } }, { initializers: [i64("p", [0, 0, 2, 1, 0, 0, 1, 3])] });
      const g = await matchesOrt(spec, seq(24, 21));
      expect(g.outputShape).to.deep.equal([1, 2, 6, 8]);
    });
  }

  it("a chain of rearrangements fuses into one selection, which costs no constraint", () => {
    const g = lower({
      inputs: [{ name: "x", shape: [1, 2, 3] }], outputs: [{ name: "y" }],
      initializers: [i64("st", [1]), i64("en", [3]), i64("ax", [2]), i64("rep", [1, 2, 1])],
      nodes: [
        { op: "Transpose", inputs: ["x"], outputs: ["t"], attrs: { perm: [0, 2, 1] } },
        { op: "Slice", inputs: ["t", "st", "en", "ax"], outputs: ["s"] },
        { op: "Tile", inputs: ["s", "rep"], outputs: ["y"] },
      ],
    });
    expect(g.nodes).to.have.length(1);
    const sel = g.nodes[0] as SelectNode;
    expect(sel.kind).to.equal("select");
    // x is [1, 2, 3]; transposed to [1, 3, 2], its last axis sliced to index 1 (x's second row), tiled twice.
    expect(Array.from(sel.idx)).to.deep.equal([3, 4, 5, 3, 4, 5]);
  });

  it("refuses unsupported attribute combinations naming op and node", () => {
    const w = tensor("W", [2, 2, 1, 1], [1, 2, 3, 4]);
    expect(() => lower(oneOp([1, 2, 2, 2], { op: "ConvTranspose", name: "ct", inputs: ["x", "W"], attrs: { group: 2 } }, { initializers: [w] })))
      .to.throw(UnsupportedOpError, /ConvTranspose \(node "ct"\).*group=2/);
    expect(() => lower(oneOp([1, 2, 2, 2], { op: "ConvTranspose", inputs: ["x", "W"], attrs: { output_shape: [4, 4] } }, { initializers: [w] })))
      .to.throw(UnsupportedOpError, /output_shape/);
    const sc = tensor("sc", [4], [1, 1, 2, 2]);
    expect(() => lower(oneOp([1, 1, 2, 2], { op: "Resize", name: "rs", inputs: ["x", "", "sc"], attrs: { mode: "linear" } }, { initializers: [sc] })))
      .to.throw(UnsupportedOpError, /Resize \(node "rs"\).*"linear"/);
    expect(() => lower(oneOp([1, 1, 2, 2], { op: "Resize", inputs: ["x", "", "sc"], attrs: { coordinate_transformation_mode: "tf_crop_and_resize" } }, { initializers: [sc] })))
      .to.throw(UnsupportedOpError, /tf_crop_and_resize/);
    expect(() => lower(oneOp([1, 1, 2, 2], { op: "Resize", inputs: ["x", "", "sc"], attrs: { coordinate_transformation_mode: "tf_half_pixel_for_nearest" } }, { initializers: [sc] })))
      .to.throw(UnsupportedOpError, /tf_half_pixel_for_nearest/);
    expect(() => lower(oneOp([1, 1, 2, 2], { op: "Pad", inputs: ["x", "p"], attrs: { mode: "wrap" } }, { opset: 19, initializers: [i64("p", [0, 0, 1, 1, 0, 0, 1, 1])] })))
      .to.throw(UnsupportedOpError, /Pad mode "wrap"/);
    expect(() => lower(oneOp([1, 1, 2, 2], { op: "Pad", inputs: ["x", "p"], attrs: { mode: "reflect" } }, { initializers: [i64("p", [0, 0, 2, 0, 0, 0, 0, 0])] })))
      .to.throw(UnsupportedOpError, /reflect pads/);
    const dataEnds: ModelSpec = {
      inputs: [{ name: "x", shape: [1, 3] }], outputs: [{ name: "y" }], initializers: [i64("s", [0])],
      nodes: [{ op: "Relu", inputs: ["x"], outputs: ["e"] }, { op: "Slice", inputs: ["x", "s", "e"], outputs: ["y"] }],
    };
    expect(() => lower(dataEnds))
      .to.throw(UnsupportedOpError, /Slice ends \(input 2\) must be a constant/);
    expect(() => lower(oneOp([1, 3], { op: "Tile", inputs: ["x", "x"] }))).to.throw(UnsupportedOpError, /Tile repeats/);
  });
});
