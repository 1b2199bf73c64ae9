/**
 * Float graph + calibrated ranges → quantized graph. Scales are powers of two per tensor, chosen so
 * the calibrated magnitude plus headroom fills the tensor's bit budget; weights are quantized per
 * node. Linear layers cost no constraints when weights are public, so weight precision is bounded
 * only by how long the following rescale's range check becomes.
 */
import type { FloatGraph, FloatNode, AffineNode } from "../onnx/ir";
import { nodeInputs, size } from "../onnx/ir";
import { FlavumError } from "../errors";
import { TensorRanges } from "./calibrate";
import { DEFAULT_QUANT, QGraph, QNode, QTensor, QuantOptions, QAffine, QSigmoid } from "./qgraph";
import { quantizeValue } from "./fixed";
import { sigmoidSegments } from "./sigmoidPL";
import { KindCtx, isNewKind, quantizeNewKind } from "./quantizeKinds";

const LEAKY_SHIFT = 8;
const SIGMOID_GUARD = 4;
const SIGMOID_MAX_SEG_BITS = 8;

/** Largest s with maxAbs * 2^(s + headroom) <= 2^(bits-1) - 1. */
export function scaleFor(maxAbs: number, bits: number, headroomBits: number): number {
  const limit = 2 ** (bits - 1) - 1;
  if (!(maxAbs > 0)) return bits - 2 - headroomBits;
  return Math.floor(Math.log2(limit / maxAbs)) - headroomBits;
}

function consumers(graph: FloatGraph): Map<string, FloatNode[]> {
  const m = new Map<string, FloatNode[]>();
  for (const n of graph.nodes) {
    for (const i of nodeInputs(n)) m.set(i, [...(m.get(i) ?? []), n]);
  }
  return m;
}

export function quantizeGraph(graph: FloatGraph, ranges: TensorRanges, opts: Partial<QuantOptions> = {}): QGraph {
  const options: QuantOptions = { ...DEFAULT_QUANT, ...opts };
  const { bits } = options;
  const tensors: Record<string, QTensor> = {};
  const range = (name: string) => ranges.get(name) ?? 0;
  const define = (name: string, shape: number[], scale: number, b = bits) =>
    (tensors[name] = { name, shape, size: size(shape), scale, bits: b });

  const input = quantizeInputTensor(graph, ranges, options, define);
  // The largest |value| each tensor can hold, proven by range checks or by arithmetic on proven bounds.
  const bounds = new Map<string, bigint>([[input.name, 1n << BigInt(input.bits - 1)]]);
  const uses = consumers(graph);
  const nodes: QNode[] = [];
  const kindCtx: KindCtx = { tensors, options, range, scaleFor, define };
  // An affine node whose only consumer is a ReLU absorbs it: the ReLU reuses the rescale's sign bit.
  const fused = new Set<FloatNode>();

  graph.nodes.forEach((node, k) => {
    if (fused.has(node)) return;
    if (node.kind === "affine") {
      const next = graph.nodes[k + 1];
      const only = uses.get(node.out) ?? [];
      const fuse =
        next?.kind === "relu" && only.length === 1 && only[0] === next && node.out !== graph.output;
      const q = quantizeAffine(node, tensors, range(node.out), options, input.scale <= 0 ? input.name : undefined);
      if (fuse) {
        fused.add(next);
        q.out = next.out;
        q.act = "relu";
        q.from = [...q.from, ...next.from];
      }
      define(q.out, node.shape, q.accScale - q.shift);
      tightenAffine(q, tensors, bounds);
      nodes.push(q);
      return;
    }
    if (isNewKind(node)) {
      const qn = quantizeNewKind(node, kindCtx);
      bounds.set(qn.out, outputBound(qn, tensors, bounds));
      nodes.push(qn);
      return;
    }
    const src = tensors[node.input];
    // ReLU, LeakyReLU and max never widen their input: they keep its bits (a small integer input
    // stays small, and a table after it covers just that range).
    switch (node.kind) {
      case "relu":
        define(node.out, node.shape, src.scale, src.bits);
        nodes.push({ kind: "relu", out: node.out, input: node.input, bits: src.bits, from: node.from });
        return;
      case "leakyrelu": {
        if (!(node.alpha >= 0 && node.alpha <= 1))
          throw new FlavumError(`LeakyRelu ${node.from.join(",")}: alpha must be in [0, 1], got ${node.alpha}`);
        define(node.out, node.shape, src.scale, src.bits);
        nodes.push({
          kind: "leakyrelu", out: node.out, input: node.input, bits: src.bits,
          alphaNum: BigInt(Math.round(node.alpha * 2 ** LEAKY_SHIFT)), alphaShift: LEAKY_SHIFT, from: node.from,
        });
        return;
      }
      case "maxpool":
        define(node.out, node.shape, src.scale, src.bits);
        nodes.push({ kind: "maxpool", out: node.out, input: node.input, bits: src.bits, windows: node.windows, from: node.from });
        return;
      case "sigmoid": {
        const q = sigmoidTable(node.out, node.input, src, bits, node.from);
        define(node.out, node.shape, bits - 2);
        nodes.push(q);
        return;
      }
    }
  });

  const out = tensors[graph.output];
  if (!out) throw new FlavumError(`graph output ${graph.output} is not produced by any node`);
  for (const n of nodes) if (!bounds.has(n.out)) bounds.set(n.out, 1n << BigInt(tensors[n.out].bits - 1));
  return { options, tensors, input, inputs: graph.inputs, outputs: graph.outputs, nodes, output: graph.output, head: graph.head, argmax: out.size > 1 };
}

/** Bound of a node's output from its kind: 0/1 flags, indices, rewirings and maxima keep or shrink their input's. */
function outputBound(n: QNode, tensors: Record<string, QTensor>, bounds: Map<string, bigint>): bigint {
  const full = 1n << BigInt(tensors[n.out].bits - 1);
  const of = (name: string) => bounds.get(name) ?? 1n << BigInt(tensors[name].bits - 1);
  switch (n.kind) {
    case "compare": return 1n;
    case "argindex": return BigInt(n.windows.reduce((m, w) => Math.max(m, w.length), 1) - 1);
    case "select": case "relu": case "maxpool": return of(n.input) < full ? of(n.input) : full;
    default: return full;
  }
}

/**
 * An affine node that does not rescale (shift 0, no ReLU) computes its output exactly; when the
 * bounds of its inputs prove the output fits, its range check proves nothing and is dropped: the
 * output becomes a linear combination (free under --O2) with just the bits its bound needs. Sums of
 * comparison flags and index differences in tree ensembles are such maps. Private weights void the
 * bound (the prover picks them), so the circuit generator range-checks these nodes in that mode.
 */
function tightenAffine(q: QAffine, tensors: Record<string, QTensor>, bounds: Map<string, bigint>): void {
  const full = 1n << BigInt(q.bits - 1);
  bounds.set(q.out, full);
  if (q.shift !== 0 || q.act !== "none") return;
  const inB = q.inputs.map((n) => bounds.get(n) ?? 1n << BigInt(tensors[n].bits - 1));
  let worst = 0n;
  q.bias.forEach((b, i) => {
    let s = b < 0n ? -b : b;
    q.rows.forEach((rows, t) => {
      for (const w of rows[i].w) s += (w < 0n ? -w : w) * inB[t];
    });
    if (s > worst) worst = s;
  });
  if (worst >= full) return;
  let b = 2;
  while (1n << BigInt(b - 1) <= worst) b++;
  q.unchecked = true;
  q.bits = b;
  tensors[q.out].bits = b;
  bounds.set(q.out, worst);
}

/**
 * Inputs that were integers throughout calibration (pixels, counts) are kept exact at scale 2^0
 * with only the bits they need: fewer bits to range-check and commit, and no rounding at all.
 */
function quantizeInputTensor(
  graph: FloatGraph, ranges: TensorRanges, o: QuantOptions,
  define: (name: string, shape: number[], scale: number, b?: number) => QTensor,
): QTensor {
  const { name, shape } = graph.input;
  const maxAbs = ranges.get(name) ?? 0;
  if (ranges instanceof TensorRanges && ranges.integral.has(name) && maxAbs > 0) {
    const intBits = Math.ceil(Math.log2(maxAbs + 1)) + 1 + o.headroomBits;
    if (intBits <= o.bits) return define(name, shape, 0, Math.max(intBits, 2));
  }
  return define(name, shape, scaleFor(maxAbs, o.bits, o.headroomBits));
}

/** The smallest scale s >= 0 at which every weight of the node is an integer (Infinity if none up to 52). */
function exactScale(node: AffineNode): number {
  let s = 0;
  for (const rows of node.rows) {
    for (const r of rows) {
      for (const w of r.w) {
        while (s <= 52 && !Number.isInteger(w * 2 ** s)) s++;
        if (s > 52) return Infinity;
      }
    }
  }
  return s;
}

function quantizeAffine(node: AffineNode, tensors: Record<string, QTensor>, outRange: number, o: QuantOptions, exactInput?: string): QAffine {
  let maxW = 0;
  for (const rows of node.rows) for (const r of rows) for (const w of r.w) maxW = Math.max(maxW, Math.abs(w));
  // Weights that are exact at a coarser scale (±1 of a difference, integer counts, 1/n of a mean)
  // need no finer one: the accumulator, and so the rescale after it, stays that much shorter.
  const wScale = Math.min(scaleFor(maxW, o.weightBits, 0), exactScale(node));
  const inScales = node.inputs.map((n) => tensors[n].scale);
  // Where the float values cancel (x − max(x) over a single element) the calibrated range can be far
  // below the rounding its inputs already carry; the range must hold that rounding too.
  // Rounding accumulates through the layers before: allow each input two steps of it. The model's
  // input at scale 2^0 holds its integers exactly.
  let noise = 0;
  node.rows.forEach((rows, t) => {
    if (node.inputs[t] === exactInput) return;
    const q = 2 ** -inScales[t];
    for (const r of rows) {
      let s = 0;
      for (const w of r.w) s += Math.abs(w) * q;
      noise = Math.max(noise, s);
    }
  });
  const outScale = scaleFor(Math.max(outRange, 2 * noise), o.bits, o.headroomBits);
  // Every input must land on one accumulator scale, and rescaling may only shift right.
  const accScale = Math.max(outScale, ...inScales.map((s) => s + wScale));
  const rows = node.rows.map((perInput, t) =>
    perInput.map((r) => ({ idx: r.idx, w: Array.from(r.w, (w) => quantizeValue(w, accScale - inScales[t])) })),
  );
  const bias = Array.from(node.bias, (b) => quantizeValue(b, accScale));
  return {
    kind: "affine", out: node.out, inputs: node.inputs, rows, bias, accScale,
    shift: accScale - outScale, bits: o.bits, act: "none", from: node.from,
  };
}

function sigmoidTable(out: string, input: string, src: QTensor, bits: number, from: string[]): QSigmoid {
  // Segments about 1/8 wide in real units over the input's whole range, capped at 2^8 segments.
  const segBits = Math.max(1, Math.min(SIGMOID_MAX_SEG_BITS, src.bits, src.bits - src.scale + 3));
  return { kind: "sigmoid", out, input, ...sigmoidSegments(src.bits, src.scale, segBits, bits - 2, SIGMOID_GUARD), bits, from };
}
