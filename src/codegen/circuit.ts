/**
 * Quantized graph → circom main. Public weights are written into the linear combinations as
 * constants (no constraints); private weights are inputs, multiplied in and committed with
 * PackedHash. Only rescales, activations, pools, the argmax and the commitments cost constraints.
 *
 * Public signals, in order: inputHash, [weightsHash], outputWord — or, when the outputs do not fit
 * one word, out[0..n-1] and [label] instead of outputWord.
 */
import type { QAffine, QGraph, QNode } from "../quant/qgraph";
import { isPrivateAffine, weightLayout, WeightLayout } from "./weights";
import { emitNewKind, emitTable } from "./kinds";
import { Ref, assign, term } from "./linear";

export type WeightsMode = "public" | "private";

export interface CircuitLayout {
  mode: WeightsMode;
  inputSize: number;
  outputSize: number;
  argmax: boolean;
  /** Outputs and label travel as one packed output word (see src/protocol/batch.ts). */
  packed: boolean;
  outputBits: number;
  weightBits?: number;
  biasBits?: number;
  /** Names of the public signals in order. */
  publicSignals: string[];
}

export interface GeneratedCircuit {
  /** A complete circom file whose main is the model template. */
  source: string;
  /** The model template alone, for circuits that instantiate it (batches). */
  template: string;
  includes: string[];
  templateName: string;
  layout: CircuitLayout;
}

/** Terms per generated template above which an affine node's rows are split into chunk templates. */
const SPLIT_TERMS = 60_000;

function affineTerms(node: QAffine): number {
  return node.rows.reduce((a, rows) => a + rows.reduce((s, r) => s + r.idx.length, 0), 0);
}

/** Consecutive row ranges [start, end) of at most `limit` terms each (a longer row gets a chunk of its own). */
function rowChunks(node: QAffine, limit: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  let n = 0;
  const size = node.bias.length;
  for (let i = 0; i < size; i++) {
    const t = node.rows.reduce((s, rows) => s + rows[i].idx.length, 0);
    if (n + t > limit && i > start) {
      out.push([start, i]);
      start = i;
      n = 0;
    }
    n += t;
  }
  out.push([start, size]);
  return out;
}

export function circomIdent(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(s) ? s : `M_${s}`;
}

export interface GenerateOptions {
  /** Terms per template above which an affine node is split (tests lower it). */
  splitTerms?: number;
  /**
   * Commit to the input (the inputHash output, PackedHash(x)); default true. A circuit that already
   * binds (and range-checks) the inputs itself — a training step's frozen trunk, whose rows the data
   * hash covers — turns it off: then x is not range-checked here and there is no inputHash.
   */
  inputCommit?: boolean;
  /**
   * Private weights only: commit to them here (the weightsHash output); default true. A circuit
   * that binds the weights to a commitment of its own — a published repository commit's batch
   * circuit, whose weights are the commit's training-layout vector — turns it off.
   */
  weightsCommit?: boolean;
}

export function generateCircuit(q: QGraph, name: string, mode: WeightsMode, opts: GenerateOptions = {}): GeneratedCircuit {
  const splitTerms = opts.splitTerms ?? SPLIT_TERMS;
  const inputCommit = opts.inputCommit ?? true;
  const templateName = `Flavum_${circomIdent(name)}`;
  const lines: string[] = [];
  const body = (s: string) => lines.push(`    ${s}`);
  const includes = new Set<string>(["PackedHash"]);
  const refs = new Map<string, Ref>();
  const extraTemplates: string[] = [];
  const inputSize = q.input.size;
  refs.set(q.input.name, (i) => `x[${i}]`);
  const layout = mode === "private" ? weightLayout(q) : undefined;
  const commitWeights = layout !== undefined && (opts.weightsCommit ?? true);
  let wOff = 0;
  let bOff = 0;

  body(`signal input x[${inputSize}];`);
  if (layout) {
    body(`signal input w[${layout.weights.length}];`);
    body(`signal input b[${layout.biases.length}];`);
  }
  if (inputCommit) body(`signal output inputHash;`);
  if (commitWeights) body(`signal output weightsHash;`);
  const out = q.tensors[q.output];
  body(`signal output out[${out.size}];`);
  if (q.argmax) body(`signal output label;`);
  body("");
  if (inputCommit) {
    body(`component inputCommit = PackedHash(${inputSize}, ${q.input.bits});`);
    body(`for (var i = 0; i < ${inputSize}; i++) { inputCommit.in[i] <== x[i]; }`);
    body(`inputHash <== inputCommit.out;`);
  }
  // A boolean model input takes 0 or 1 only: its range check alone would allow a few more values.
  for (const p of q.inputs ?? []) {
    if (p.elem !== "bool") continue;
    const n = p.shape.reduce((a, b) => a * b, 1);
    const one = q.input.scale >= 0 ? 1n << BigInt(q.input.scale) : 1n;
    body(`for (var i = ${p.offset}; i < ${p.offset + n}; i++) { x[i] * (x[i] - ${one}) === 0; }`);
  }

  /** Too many terms for one WebAssembly function (V8 refuses functions above ~7.6 MB): the rows
   * go to templates of their own, a chunk each, which circom compiles to separate functions. */
  const emitChunkedAffine = (a: QAffine): void => {
    const k = q.nodes.indexOf(a);
    const c = `n${k}`;
    includes.add("RescaleAct");
    const ins = a.inputs.map((n) => refs.get(n)!);
    const chunks = rowChunks(a, splitTerms);
    chunks.forEach(([start, end], j) => {
      const name = `${templateName}_n${k}_${j}`;
      const sub: string[] = [`template ${name}() {`];
      a.inputs.forEach((n, t) => sub.push(`    signal input in${t}[${q.tensors[n].size}];`));
      sub.push(`    signal output out[${end - start}];`, `    component r[${end - start}];`);
      for (let i = start; i < end; i++) {
        const terms: string[] = [];
        a.rows.forEach((rows, t) => {
          const r = rows[i];
          for (let m = 0; m < r.idx.length; m++) if (r.w[m] !== 0n) terms.push(term(r.w[m], `in${t}[${r.idx[m]}]`));
        });
        sub.push(`    r[${i - start}] = RescaleAct(${a.bits}, ${a.shift}, ${a.act === "relu" ? 1 : 0});`);
        assign(`r[${i - start}].in`, terms, String(a.bias[i]), `acc${i}`).forEach((l) => sub.push(`    ${l}`));
        sub.push(`    out[${i - start}] <== r[${i - start}].out;`);
      }
      sub.push("}");
      extraTemplates.push(sub.join("\n"));
      body(`component ${c}c${j} = ${name}();`);
      a.inputs.forEach((n, t) => {
        for (let i = 0; i < q.tensors[n].size; i++) body(`${c}c${j}.in${t}[${i}] <== ${ins[t](i)};`);
      });
    });
    const at = (i: number) => chunks.findIndex(([s0, e0]) => i >= s0 && i < e0);
    refs.set(a.out, (i) => {
      const j = at(i);
      return `${c}c${j}.out[${i - chunks[j][0]}]`;
    });
  };

  q.nodes.forEach((node, k) => {
    const c = `n${k}`;
    // This node's weights are private inputs (else constants of its linear combinations).
    const priv = layout !== undefined && node.kind === "affine" && isPrivateAffine(q, node);
    const size = q.tensors[node.out].size;
    body("");
    body(`// ${node.kind} ${describe(node)} <- ${node.from.join(", ")}`);
    if (node.kind === "select") {
      // Wiring only: the selected signals were range-checked where they were produced.
      const src = refs.get(node.input)!;
      const idx = node.idx;
      refs.set(node.out, (i) => src(idx[i]));
      return;
    }
    const chunked = node.kind === "affine" && !node.unchecked && !priv && affineTerms(node) > splitTerms;
    if (!(node.kind === "affine" && node.unchecked && !priv) && !chunked) body(`component ${c}[${size}];`);
    if (emitNewKind(node, c, k, size, refs, body, includes)) return;
    if (chunked) {
      emitChunkedAffine(node as QAffine);
      return;
    }
    switch (node.kind) {
      case "affine": {
        const ins = node.inputs.map((n) => refs.get(n)!);
        if (node.unchecked && !priv) {
          // Exact and bounded by its inputs' proven ranges (quantize.ts tightenAffine): wiring, no check.
          body(`signal ${c}_v[${size}];`);
          for (let i = 0; i < size; i++) {
            const terms: string[] = [];
            node.rows.forEach((rows, t) => {
              const r = rows[i];
              for (let j = 0; j < r.idx.length; j++) if (r.w[j] !== 0n) terms.push(term(r.w[j], ins[t](r.idx[j])));
            });
            assign(`${c}_v[${i}]`, terms, String(node.bias[i]), `acc${k}_${i}`).forEach(body);
          }
          refs.set(node.out, (i) => `${c}_v[${i}]`);
          return;
        }
        includes.add("RescaleAct");
        body(`for (var i = 0; i < ${size}; i++) { ${c}[i] = RescaleAct(${node.bits}, ${node.shift}, ${node.act === "relu" ? 1 : 0}); }`);
        if (priv) {
          const nnz = node.rows.reduce((a, rows) => a + rows.reduce((s, r) => s + r.idx.length, 0), 0);
          body(`signal p${k}[${nnz}];`);
          let e = 0;
          for (let i = 0; i < size; i++) {
            const terms: string[] = [];
            node.rows.forEach((rows, t) => {
              for (const j of rows[i].idx) {
                body(`p${k}[${e}] <== w[${wOff++}] * ${ins[t](j)};`);
                terms.push(`+ p${k}[${e++}]`);
              }
            });
            assign(`${c}[${i}].in`, terms, `b[${bOff++}]`, `acc${k}_${i}`).forEach(body);
          }
        } else {
          for (let i = 0; i < size; i++) {
            const terms: string[] = [];
            node.rows.forEach((rows, t) => {
              const r = rows[i];
              for (let j = 0; j < r.idx.length; j++) if (r.w[j] !== 0n) terms.push(term(r.w[j], ins[t](r.idx[j])));
            });
            assign(`${c}[${i}].in`, terms, String(node.bias[i]), `acc${k}_${i}`).forEach(body);
          }
        }
        break;
      }

      case "relu":
      case "leakyrelu": {
        const tmpl = node.kind === "relu" ? `Relu(${node.bits})` : `LeakyRelu(${node.bits}, ${node.alphaNum}, ${node.alphaShift})`;
        includes.add(node.kind === "relu" ? "Relu" : "LeakyRelu");
        const src = refs.get(node.input)!;
        for (let i = 0; i < size; i++) body(`${c}[${i}] = ${tmpl}; ${c}[${i}].in <== ${src(i)};`);
        break;
      }
      case "maxpool": {
        includes.add("MaxN");
        const src = refs.get(node.input)!;
        node.windows.forEach((w, i) => {
          body(`${c}[${i}] = MaxN(${w.length}, ${node.bits});`);
          w.forEach((j, m) => body(`${c}[${i}].in[${m}] <== ${src(j)};`));
        });
        break;
      }
      case "sigmoid":
        emitTable("SigmoidPL", node, c, k, size, refs, body, includes);
        break;
    }
    refs.set(node.out, (i) => `${c}[${i}].out`);
  });

  body("");
  const res = refs.get(q.output)!;
  for (let i = 0; i < out.size; i++) body(`out[${i}] <== ${res(i)};`);
  if (q.argmax) {
    includes.add("ArgMax");
    body(`component top = ArgMax(${out.size}, ${out.bits});`);
    body(`for (var i = 0; i < ${out.size}; i++) { top.in[i] <== out[i]; }`);
    body(`label <== top.out;`);
  }
  if (commitWeights) {
    body("");
    body(`component weightCommit = PackedHash(${layout.weights.length}, ${layout.weightBits});`);
    body(`for (var i = 0; i < ${layout.weights.length}; i++) { weightCommit.in[i] <== w[i]; }`);
    body(`component biasCommit = PackedHash(${layout.biases.length}, ${layout.biasBits});`);
    body(`for (var i = 0; i < ${layout.biases.length}; i++) { biasCommit.in[i] <== b[i]; }`);
    body(`component weightsCommit = Poseidon(2);`);
    body(`weightsCommit.inputs[0] <== weightCommit.out;`);
    body(`weightsCommit.inputs[1] <== biasCommit.out;`);
    body(`weightsHash <== weightsCommit.out;`);
  }

  const template = [...extraTemplates, [`template ${templateName}() {`, ...lines, `}`].join("\n")].join("\n\n");
  const header = [
    `// Generated by Flavum from model "${name}" (weights ${mode}) — DO NOT EDIT.`,
    `// ${templateName} proves: out = the quantized model applied to x` + (inputCommit ? `, inputHash = PackedHash(x)` : "") +
      (commitWeights ? `, weightsHash = Poseidon(PackedHash(w), PackedHash(b))` : layout ? ` (w and b are committed by the instantiating circuit)` : "") +
      (q.argmax ? `, label = first argmax of out.` : "."),
  ];
  // One output word instead of n outputs and a label: each public signal costs ~7k gas to verify.
  const packed = 8 + out.size * out.bits <= 248;
  const mainTemplate = packed ? packedMain(templateName, inputSize, layout, out.size, out.bits, q.argmax, inputCommit, commitWeights) : undefined;
  const source = [
    `pragma circom 2.1.6;`,
    ``,
    ...header,
    ...[...includes].sort().map((t) => `include "${t}.circom";`),
    ``,
    template,
    ``,
    ...(mainTemplate ? [mainTemplate.source, ``, `component main = ${mainTemplate.name}();`] : [`component main = ${templateName}();`]),
    ``,
  ].join("\n");

  const publicSignals = [
    ...(inputCommit ? ["inputHash"] : []),
    ...(commitWeights ? ["weightsHash"] : []),
    ...(packed
      ? ["outputWord"]
      : [...Array.from({ length: out.size }, (_, i) => `out[${i}]`), ...(q.argmax ? ["label"] : [])]),
  ];
  return {
    source,
    template,
    includes: [...includes].sort(),
    templateName,
    layout: {
      mode, inputSize, outputSize: out.size, argmax: q.argmax, packed, outputBits: out.bits,
      weightBits: layout?.weightBits, biasBits: layout?.biasBits, publicSignals,
    },
  };
}

/**
 * The main of a single-inference proof when the outputs fit one word: the model template, with
 * its outputs packed as the rollup's trace does (src/protocol/batch.ts packOutputWord). The
 * outputs are range-checked by the templates that produce them, so the packing is injective.
 */
function packedMain(
  templateName: string, inputSize: number, layout: WeightLayout | undefined, n: number, bits: number, argmax: boolean, inputCommit = true,
  commitWeights = layout !== undefined,
): { name: string; source: string } {
  const name = templateName.replace(/^Flavum_/, "FlavumInference_");
  const offset = 1n << BigInt(bits - 1);
  const word = [argmax ? "m.label" : "0", ...Array.from({ length: n }, (_, j) => `(m.out[${j}] + ${offset}) * ${1n << BigInt(8 + bits * j)}`)];
  const lines = [
    `template ${name}() {`,
    `    signal input x[${inputSize}];`,
    ...(layout ? [`    signal input w[${layout.weights.length}];`, `    signal input b[${layout.biases.length}];`] : []),
    ...(inputCommit ? [`    signal output inputHash;`] : []),
    ...(commitWeights ? [`    signal output weightsHash;`] : []),
    `    signal output outputWord;`,
    `    component m = ${templateName}();`,
    `    for (var i = 0; i < ${inputSize}; i++) { m.x[i] <== x[i]; }`,
    ...(layout
      ? [
          `    for (var i = 0; i < ${layout.weights.length}; i++) { m.w[i] <== w[i]; }`,
          `    for (var i = 0; i < ${layout.biases.length}; i++) { m.b[i] <== b[i]; }`,
          ...(commitWeights ? [`    weightsHash <== m.weightsHash;`] : []),
        ]
      : []),
    ...(inputCommit ? [`    inputHash <== m.inputHash;`] : []),
    `    outputWord <== ${word.join(" + ")};`,
    `}`,
  ];
  return { name, source: lines.join("\n") };
}

function describe(node: QNode): string {
  switch (node.kind) {
    case "affine":
      return `shift ${node.shift}, bits ${node.bits}${node.act === "relu" ? ", relu" : ""}`;
    case "sigmoid":
    case "pwl":
      return `${2 ** node.segBits} segments`;
    case "mul":
      return `shift ${node.shift}, bits ${node.bits}`;
    case "div":
      return `k ${node.k}, bits ${node.bits}`;
    default:
      return `bits ${node.bits}`;
  }
}
