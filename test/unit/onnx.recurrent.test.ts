import fs from "fs";
import path from "path";
import { expect } from "chai";
import { onnx } from "onnx-proto";
import { UnsupportedOpError } from "../../src/errors";
import { FloatGraph, FloatNode } from "../../src/onnx/ir";
import { importOnnx, lowerModel } from "../../src/onnx/lower";
import { decodeModel } from "../../src/onnx/load";
import { OrtReference } from "../../src/onnx/reference";
import { floatModelOutput, maxAbs, maxAbsDiff, scanModel } from "../../src/onnx/corpus";
import { AttrValue, DT, ModelSpec, buildModel, f, tensor, writeModel } from "./onnxBuilder";

/** String and float lists for the recurrent node (the builder encodes every list as INTS). */
type Lists = Record<string, string[] | number[]>;

function encode(spec: ModelSpec, lists: Lists = {}): Uint8Array {
  const m = decodeModel(buildModel(spec));
  const AT = onnx.AttributeProto.AttributeType;
  for (const n of m.graph?.node ?? []) {
    for (const [name, list] of Object.entries(lists)) {
      (n.attribute ??= []).push(list.every((v) => typeof v === "string")
        ? onnx.AttributeProto.create({ name, type: AT.STRINGS, strings: (list as string[]).map((v) => Buffer.from(v)) })
        : onnx.AttributeProto.create({ name, type: AT.FLOATS, floats: list as number[] }));
    }
  }
  return onnx.ModelProto.encode(m).finish();
}

const lower = (spec: ModelSpec): FloatGraph => lowerModel(decodeModel(encode(spec)));

/** Flavum's float graph and onnxruntime on the same file and input. */
async function vsOrt(bytes: Uint8Array, input: number[]): Promise<{ graph: FloatGraph; diff: number; ort: number[]; ours: number[] }> {
  const file = writeModel(bytes);
  const graph = importOnnx(file);
  const ref = await OrtReference.load(file);
  try {
    const ort = await ref.run(input);
    const ours = floatModelOutput(graph, input);
    return { graph, diff: maxAbsDiff(ours, ort), ort, ours };
  } finally {
    await ref.release();
  }
}

/** mulberry32: a seeded stream, so every random model is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n float32 values uniform in [−amp, amp]. */
function uniform(r: () => number, n: number, amp: number): number[] {
  return Array.from({ length: n }, () => Math.fround((2 * r() - 1) * amp));
}

type Op = "RNN" | "LSTM" | "GRU";
type Dir = "forward" | "reverse" | "bidirectional";
/** Initial states: absent (zeros), constant initializers, or extra graph inputs (data). */
type Init = "none" | "const" | "input";

interface Case {
  op: Op;
  dir: Dir;
  seq: number;
  inSize: number;
  hidden: number;
  batch?: number;
  bias: boolean;
  init: Init;
  lbr?: number;
  peepholes?: boolean;
  attrs?: Record<string, AttrValue>;
  /** activations, activation_alpha, activation_beta. */
  lists?: Lists;
  seqLens?: number[];
  opset?: number;
  /** Output names; "" omits one. Default: all of Y, Y_h (and Y_c). */
  outputs?: string[];
  seed: number;
}

const GATES: Record<Op, number> = { RNN: 1, GRU: 3, LSTM: 4 };

/** A one-node model for the case, with random weights; returns it and the number of graph input values. */
function recurrentModel(c: Case): { spec: ModelSpec; bytes: Uint8Array; inputSize: number } {
  const r = rng(c.seed);
  const nd = c.dir === "bidirectional" ? 2 : 1;
  const B = c.batch ?? 1;
  const G = GATES[c.op];
  const H = c.hidden;
  const inits = [
    tensor("W", [nd, G * H, c.inSize], uniform(r, nd * G * H * c.inSize, 0.9)),
    tensor("R", [nd, G * H, H], uniform(r, nd * G * H * H, 0.9)),
  ];
  const ins = ["X", "W", "R"];
  const graphInputs: ModelSpec["inputs"] = [{ name: "X", shape: [c.seq, B, c.inSize] }];
  const opt = (name: string, make: () => void) => { if (name) make(); ins.push(name); };
  opt(c.bias ? "B" : "", () => inits.push(tensor("B", [nd, 2 * G * H], uniform(r, nd * 2 * G * H, 0.6))));
  opt(c.seqLens ? "lens" : "", () => inits.push(tensor("lens", [B], c.seqLens as number[], DT.INT32)));
  const state = (name: string) => opt(c.init === "none" ? "" : name, () => {
    if (c.init === "const") inits.push(tensor(name, [nd, B, H], uniform(r, nd * B * H, 0.8)));
    else graphInputs.push({ name, shape: [nd, B, H] });
  });
  state("h0");
  if (c.op === "LSTM") {
    state("c0");
    opt(c.peepholes ? "P" : "", () => inits.push(tensor("P", [nd, 3 * H], uniform(r, nd * 3 * H, 0.7))));
  }
  while (ins[ins.length - 1] === "") ins.pop();
  const outputs = c.outputs ?? (c.op === "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]);
  const attrs: Record<string, AttrValue> = { hidden_size: H, direction: c.dir, ...c.attrs };
  if (c.lbr !== undefined) attrs.linear_before_reset = c.lbr;
  const spec: ModelSpec = {
    inputs: graphInputs,
    outputs: outputs.filter((o) => o).map((name) => ({ name })),
    nodes: [{ op: c.op, name: "cell", inputs: ins, outputs, attrs }],
    initializers: inits,
    opset: c.opset ?? 14,
  };
  const inputSize = c.seq * B * c.inSize + (c.init === "input" ? nd * B * H * (c.op === "LSTM" ? 2 : 1) : 0);
  return { spec, bytes: encode(spec, c.lists), inputSize };
}

/** The case against onnxruntime on several random inputs, all outputs compared. */
async function matchesOrt(c: Case, samples = 3): Promise<FloatGraph & { lastOutput: number[] }> {
  const { bytes, inputSize } = recurrentModel(c);
  const r = rng(c.seed * 7919 + 1);
  let last: { graph: FloatGraph; ours: number[] } | undefined;
  for (let s = 0; s < samples; s++) {
    const res = await vsOrt(bytes, uniform(r, inputSize, 2));
    expect(res.ours.length, "output length").to.equal(res.ort.length);
    expect(res.diff, `sample ${s}`).to.be.at.most(1e-5 * Math.max(1, maxAbs(res.ort)));
    last = res;
  }
  const { graph, ours } = last as { graph: FloatGraph; ours: number[] };
  return { ...graph, lastOutput: ours };
}

const count = (nodes: FloatNode[], kind: FloatNode["kind"]) => nodes.filter((n) => n.kind === kind).length;

function refusal(c: Case, pattern: RegExp): void {
  const { bytes } = recurrentModel(c);
  let err: unknown;
  try { lowerModel(decodeModel(bytes)); } catch (e) { err = e; }
  expect(err, "lowering should refuse").to.be.instanceOf(UnsupportedOpError);
  expect((err as Error).message).to.include('"cell"').and.match(pattern);
}

describe("onnx: RNN, LSTM and GRU unrolled, against onnxruntime", function () {
  this.timeout(60_000);

  const families: { op: Op; lbr?: number }[] = [{ op: "RNN" }, { op: "LSTM" }, { op: "GRU", lbr: 0 }, { op: "GRU", lbr: 1 }];
  const dirs: Dir[] = ["forward", "reverse", "bidirectional"];
  let seed = 1;
  for (const fam of families) {
    for (const dir of dirs) {
      for (const withState of [false, true]) {
        const s = seed++;
        const c: Case = {
          op: fam.op, lbr: fam.lbr, dir, seed: s,
          seq: 3 + (s % 3), inSize: 2 + (s % 3), hidden: 3 + ((s * 2) % 3),
          bias: withState, init: withState ? "const" : "none",
        };
        const label = `${fam.op}${fam.lbr !== undefined ? ` linear_before_reset=${fam.lbr}` : ""}, ${dir}, ` +
          `${withState ? "biases and constant initial states" : "no bias, zero initial state"} (seq ${c.seq}, input ${c.inSize}, hidden ${c.hidden})`;
        it(label, async () => {
          const g = await matchesOrt(c);
          const nd = dir === "bidirectional" ? 2 : 1;
          const shapes = g.outputs.map((o) => o.shape);
          expect(shapes[0]).to.deep.equal([c.seq, nd, 1, c.hidden]);
          for (const sh of shapes.slice(1)) expect(sh).to.deep.equal([nd, 1, c.hidden]);
        });
      }
    }
  }

  it("initial states that depend on the input (extra graph inputs)", async () => {
    await matchesOrt({ op: "LSTM", dir: "bidirectional", seq: 3, inSize: 3, hidden: 4, bias: true, init: "input", seed: 101 });
    await matchesOrt({ op: "GRU", lbr: 1, dir: "reverse", seq: 4, inSize: 2, hidden: 3, bias: true, init: "input", seed: 102 });
    await matchesOrt({ op: "GRU", lbr: 0, dir: "forward", seq: 4, inSize: 2, hidden: 3, bias: false, init: "input", seed: 103 });
    await matchesOrt({ op: "RNN", dir: "bidirectional", seq: 3, inSize: 4, hidden: 5, bias: true, init: "input", seed: 104 });
  });

  it("LSTM with peepholes", async () => {
    await matchesOrt({ op: "LSTM", dir: "bidirectional", seq: 4, inSize: 3, hidden: 3, bias: true, init: "const", peepholes: true, seed: 111 });
    await matchesOrt({ op: "LSTM", dir: "forward", seq: 3, inSize: 2, hidden: 4, bias: false, init: "none", peepholes: true, seed: 112 });
  });

  it("activations other than the defaults, with activation_alpha / activation_beta consumed in order", async () => {
    await matchesOrt({ op: "RNN", dir: "bidirectional", seq: 4, inSize: 3, hidden: 4, bias: true, init: "const", seed: 121, lists: { activations: ["Relu", "Sigmoid"] } });
    await matchesOrt({
      op: "LSTM", dir: "forward", seq: 3, inSize: 3, hidden: 3, bias: true, init: "const", seed: 122,
      lists: { activations: ["Sigmoid", "LeakyRelu", "Affine"], activation_alpha: [0.3, 0.7], activation_beta: [0.2] },
    });
    await matchesOrt({
      op: "GRU", lbr: 1, dir: "reverse", seq: 3, inSize: 2, hidden: 4, bias: true, init: "const", seed: 123,
      lists: { activations: ["Sigmoid", "ScaledTanh"], activation_alpha: [1.5], activation_beta: [0.8] },
    });
    await matchesOrt({ op: "GRU", lbr: 0, dir: "forward", seq: 3, inSize: 2, hidden: 3, bias: true, init: "none", seed: 124, lists: { activations: ["Sigmoid", "Elu"] } });
    await matchesOrt({ op: "RNN", dir: "forward", seq: 3, inSize: 2, hidden: 3, bias: true, init: "none", seed: 125, lists: { activations: ["Softplus"] } });
  });

  it("clip bounds the gates' pre-activations", async () => {
    for (const [k, op] of (["RNN", "LSTM", "GRU"] as Op[]).entries()) {
      const g = await matchesOrt({ op, lbr: op === "GRU" ? 1 : undefined, dir: "forward", seq: 3, inSize: 3, hidden: 3, bias: true, init: "const", seed: 131 + k, attrs: { clip: f(0.5) } });
      expect(count(g.nodes, "relu"), `${op}: the clamps are relu nodes`).to.be.greaterThan(0);
    }
    // An initial cell far outside the clip: onnxruntime does not clamp the cell before h's activation.
    await matchesOrt({ op: "LSTM", dir: "bidirectional", seq: 3, inSize: 2, hidden: 3, bias: true, init: "input", seed: 134, attrs: { clip: f(0.5) } });
    await matchesOrt({ op: "GRU", lbr: 0, dir: "reverse", seq: 3, inSize: 2, hidden: 3, bias: true, init: "input", seed: 135, attrs: { clip: f(0.7) } });
  });

  it("a constant sequence_lens shorter than the sequence leaves zeros after it", async () => {
    const g = await matchesOrt({ op: "LSTM", dir: "bidirectional", seq: 5, inSize: 2, hidden: 3, bias: true, init: "const", seqLens: [3], seed: 141 });
    const ours = g.lastOutput;
    expect(ours.slice(0, 3 * 2 * 3).some((v) => v !== 0), "Y within the length").to.equal(true);
    expect(ours.slice(3 * 2 * 3, 5 * 2 * 3).every((v) => v === 0), "Y after the length").to.equal(true);
    expect(g.outputs[0].shape).to.deep.equal([5, 2, 1, 3]);
    await matchesOrt({ op: "GRU", lbr: 0, dir: "reverse", seq: 4, inSize: 2, hidden: 3, bias: true, init: "none", seqLens: [4], seed: 142 });
  });

  it("a batch of two sequences", async () => {
    await matchesOrt({ op: "LSTM", dir: "bidirectional", seq: 3, inSize: 2, hidden: 3, batch: 2, bias: true, init: "input", seed: 151 });
    await matchesOrt({ op: "GRU", lbr: 0, dir: "forward", seq: 3, inSize: 3, hidden: 4, batch: 2, bias: true, init: "const", seed: 152 });
  });

  it("opset 7, and only some outputs requested (Y omitted, or only Y)", async () => {
    await matchesOrt({ op: "GRU", lbr: 1, dir: "forward", seq: 3, inSize: 2, hidden: 3, bias: true, init: "const", opset: 7, seed: 161 });
    await matchesOrt({ op: "LSTM", dir: "forward", seq: 4, inSize: 2, hidden: 3, bias: true, init: "none", outputs: ["", "Y_h"], seed: 162 });
    await matchesOrt({ op: "LSTM", dir: "reverse", seq: 4, inSize: 2, hidden: 3, bias: true, init: "none", outputs: ["", "", "Y_c"], seed: 163 });
    await matchesOrt({ op: "RNN", dir: "forward", seq: 3, inSize: 2, hidden: 3, bias: true, init: "none", outputs: ["Y"], seed: 164 });
  });

  it("layout 1 with batch 1 is layout 0 with other shapes", async () => {
    const c: Case = { op: "GRU", lbr: 0, dir: "bidirectional", seq: 4, inSize: 2, hidden: 3, bias: true, init: "const", seed: 171 };
    const { spec } = recurrentModel(c);
    const one: ModelSpec = {
      ...spec,
      inputs: [{ name: "X", shape: [1, 4, 2] }],
      nodes: [{ ...spec.nodes[0], attrs: { ...spec.nodes[0].attrs, layout: 1 } }],
      initializers: (spec.initializers ?? []).map((t) => (t.name === "h0" ? { ...t, dims: [1, 2, 3] } : t)),
    };
    const x = uniform(rng(9), 8, 2);
    const g = lower(one);
    expect(g.outputs.map((o) => o.shape)).to.deep.equal([[1, 4, 2, 3], [1, 2, 3]]);
    const ref = await vsOrt(encode(spec), x);
    const ours = floatModelOutput(g, x);
    expect(ours.length).to.equal(ref.ort.length);
    ours.forEach((v, i) => expect(Math.abs(v - ref.ort[i])).to.be.at.most(1e-5 * Math.max(1, Math.abs(ref.ort[i]))));
  });

  it("keeps the non-linear nodes per step to the minimum", () => {
    // Zero initial states cost nothing at the first step: f ⊙ c0, r ⊙ h0 and h0 − n vanish or fold.
    const lstm = lower(recurrentModel({ op: "LSTM", dir: "forward", seq: 4, inSize: 3, hidden: 3, bias: true, init: "none", seed: 181 }).spec);
    expect(count(lstm.nodes, "sigmoid")).to.equal(4);
    expect(count(lstm.nodes, "pwl")).to.equal(8);
    expect(count(lstm.nodes, "mul")).to.equal(2 + 3 * 3);
    const gru = lower(recurrentModel({ op: "GRU", lbr: 0, dir: "forward", seq: 4, inSize: 3, hidden: 3, bias: true, init: "none", seed: 182 }).spec);
    expect(count(gru.nodes, "sigmoid")).to.equal(4);
    expect(count(gru.nodes, "pwl")).to.equal(4);
    expect(count(gru.nodes, "mul")).to.equal(1 + 3 * 2);
    // One product per output with coefficient 1: signs and constant factors go to the affine nodes.
    for (const m of [...lstm.nodes, ...gru.nodes]) {
      if (m.kind === "mul") expect(m.ia.every((r) => r.length === 1) && m.coef.every((v) => v === 1), m.out).to.equal(true);
    }
    const rnn = lower(recurrentModel({ op: "RNN", dir: "bidirectional", seq: 4, inSize: 3, hidden: 3, bias: true, init: "none", seed: 183 }).spec);
    expect(rnn.nodes.filter((n) => n.kind !== "affine" && n.kind !== "select").length).to.equal(8);
    const names = rnn.nodes.map((n) => n.out);
    expect(new Set(names).size, "unique node names over both directions").to.equal(names.length);
  });

  describe("refusals name the node", () => {
    it("layout 1 with a batch of two", () => {
      const { spec } = recurrentModel({ op: "RNN", dir: "forward", seq: 3, inSize: 2, hidden: 3, bias: true, init: "none", seed: 191, attrs: { layout: 1 } });
      const two = { ...spec, inputs: [{ name: "X", shape: [2, 3, 2] }] };
      let err: unknown;
      try { lower(two); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(UnsupportedOpError);
      expect((err as Error).message).to.include('"cell"').and.match(/layout=1/);
    });
    it("input_forget=1", () => {
      refusal({ op: "LSTM", dir: "forward", seq: 3, inSize: 2, hidden: 3, bias: true, init: "none", seed: 192, attrs: { input_forget: 1 } }, /input_forget/);
    });
    it("sequence_lens that differ within the batch", () => {
      refusal({ op: "GRU", lbr: 0, dir: "forward", seq: 3, inSize: 2, hidden: 3, batch: 2, bias: true, init: "none", seqLens: [3, 2], seed: 193 }, /sequence_lens/);
    });
    it("an activation without a lowering", () => {
      refusal({ op: "RNN", dir: "forward", seq: 3, inSize: 2, hidden: 3, bias: true, init: "none", seed: 194, lists: { activations: ["HardSigmoid"] } }, /HardSigmoid/);
    });
    it("Affine without its alpha and beta (onnxruntime's defaults are not the spec's)", () => {
      refusal({ op: "RNN", dir: "forward", seq: 3, inSize: 2, hidden: 3, bias: true, init: "none", seed: 195, lists: { activations: ["Affine"] } }, /activation_alpha/);
      refusal({ op: "RNN", dir: "forward", seq: 3, inSize: 2, hidden: 3, bias: true, init: "none", seed: 195, lists: { activations: ["Affine"], activation_alpha: [2] } }, /activation_beta/);
    });
    it("one direction's activations on a bidirectional node (onnxruntime refuses it too)", () => {
      const { bytes } = recurrentModel({ op: "LSTM", dir: "bidirectional", seq: 3, inSize: 2, hidden: 3, bias: true, init: "none", seed: 196, lists: { activations: ["Sigmoid", "Tanh", "Relu"] } });
      expect(() => lowerModel(decodeModel(bytes))).to.throw(/"cell".*activations has 3 entries; expected 3 per direction \(6 for 2 directions\)/);
    });
  });

  describe("corpus models", () => {
    const CORPUS = path.resolve(__dirname, "../../../shared/peer-onnx/ezkl-examples");
    for (const [name, outputs] of [["rnn", 2], ["lstm", 3]] as const) {
      it(`${name} imports with its ${outputs} outputs and matches onnxruntime`, async function () {
        if (!fs.existsSync(path.join(CORPUS, name))) this.skip();
        const e = await scanModel(path.join(CORPUS, name));
        expect(e.status, e.message).to.equal("imported");
        expect(e.compareError).to.equal(undefined);
        expect(e.matchesOrt, `max diff ${e.ortMaxAbsDiff}`).to.equal(true);
        const g = lowerModel(decodeModel(fs.readFileSync(path.join(CORPUS, name, "network.onnx"))));
        expect(g.outputs.length).to.equal(outputs);
      });
    }
  });
});
