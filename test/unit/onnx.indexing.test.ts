import { expect } from "chai";
import { UnsupportedOpError } from "../../src/errors";
import { maxAbs } from "../../src/onnx/corpus";
import { lowerModel } from "../../src/onnx/lower";
import { decodeModel } from "../../src/onnx/load";
import { DT, ModelSpec, buildModel, tensor, vsOrt } from "./onnxBuilder";

/** Gather/Scatter with indices that are a model input: one equality per candidate, against onnxruntime. */
async function matches(spec: ModelSpec, input: number[]) {
  const { graph, ort, ours, diff } = await vsOrt(spec, input);
  expect(ours.length).to.equal(ort.length);
  expect(diff, `ours ${ours} vs ort ${ort}`).to.be.at.most(1e-5 * Math.max(1, maxAbs(ort)));
  return graph;
}

const table = Array.from({ length: 12 }, (_, i) => Math.fround(Math.sin(i * 1.7) * 3));

describe("onnx: GatherElements / ScatterElements on data indices", () => {
  it("GatherElements picks along axis 1 from a data tensor, with negative indices as ONNX allows", async () => {
    const spec: ModelSpec = {
      inputs: [{ name: "x", shape: [1, 4, 3] }, { name: "i", shape: [1, 2, 3], elemType: DT.INT64 }], outputs: [{ name: "y" }],
      nodes: [{ op: "GatherElements", inputs: ["x", "i"], outputs: ["y"], attrs: { axis: 1 } }],
    };
    for (const idx of [[0, 1, 2, 3, 0, 1], [3, 3, 3, -1, -4, 2], [2, 0, 1, 1, 0, 2]]) {
      const g = await matches(spec, [...table, ...idx]);
      expect(g.nodes.map((n) => n.kind)).to.include.members(["compare", "mul"]);
    }
  });

  it("GatherElements on a constant table is a weighted sum of equality flags (no products)", async () => {
    const spec: ModelSpec = {
      inputs: [{ name: "i", shape: [2, 2], elemType: DT.INT64 }], outputs: [{ name: "y" }],
      initializers: [tensor("t", [2, 5], [1, 2, 3, 4, 5, -1, -2, -3, -4, -5])],
      nodes: [{ op: "GatherElements", inputs: ["t", "i"], outputs: ["y"], attrs: { axis: 1 } }],
    };
    const g = await matches(spec, [4, 0, 2, -5]);
    expect(g.nodes.map((n) => n.kind)).to.not.include("mul");
  });

  it("ScatterElements writes updates at data indices along the last axis (reduction none and add)", async () => {
    for (const reduction of ["none", "add"]) {
      const spec: ModelSpec = {
        inputs: [
          { name: "x", shape: [1, 3, 4] }, { name: "i", shape: [1, 3, 2], elemType: DT.INT64 }, { name: "u", shape: [1, 3, 2] },
        ],
        outputs: [{ name: "y" }],
        nodes: [{ op: "ScatterElements", inputs: ["x", "i", "u"], outputs: ["y"], attrs: { axis: 2, reduction } }],
        opset: 18,
      };
      const upd = [0.5, -1.25, 2, 3.5, -0.75, 1];
      for (const idx of [[0, 3, 1, 2, 2, 0], [3, -4, -1, 0, 1, 2]]) await matches(spec, [...table, ...idx, ...upd]);
    }
  });

  it("refuses a reduction it does not prove, naming the node", () => {
    const spec: ModelSpec = {
      inputs: [{ name: "x", shape: [1, 4] }, { name: "i", shape: [1, 2], elemType: DT.INT64 }, { name: "u", shape: [1, 2] }],
      outputs: [{ name: "y" }],
      nodes: [{ op: "ScatterElements", name: "sc", inputs: ["x", "i", "u"], outputs: ["y"], attrs: { axis: 1, reduction: "max" } }],
      opset: 18,
    };
    expect(() => lowerModel(decodeModel(buildModel(spec)))).to.throw(UnsupportedOpError, /ScatterElements \(node "sc"\).*reduction "max"/);
  });
});
