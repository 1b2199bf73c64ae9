/**
 * A circomlib-ml / keras2circom-style BASELINE circuit for a quantized model: the yardstick the
 * benchmark measures Flavum's circuits against. It is never used to prove anything real.
 *
 * It makes the choices those projects make (written here from their published design, not copied):
 *  - weights AND biases are private inputs, so every weight × activation product is a constraint;
 *  - a rescale is a division whose remainder is NOT range-checked
 *    (`out <-- s \ d; rem <-- s - out*d; s === out*d + rem`): any quotient passes with a matching
 *    remainder, which is unsound — the point of the comparison;
 *  - ReLU (and the LeakyReLU sign) through a full-width sign test: Num2Bits(254) + circomlib's Sign,
 *    as circomlib-ml's IsPositive does (517 constraints a ReLU);
 *  - max pooling and argmax through chains of circomlib's GreaterThan(252);
 *  - the sigmoid segment chosen from a full Num2Bits(254) split and one IsEqual per segment;
 *  - no commitment to the input or the weights.
 * Its templates are written inline into each generated baseline main, NOT kept in circuits/lib: they
 * are the thing Flavum beats, not part of Flavum. For an honest witness it computes exactly the integer
 * executor's outputs (same rounding: floor((acc + 2^(k-1)) / 2^k)), so constraint counts compare like
 * for like.
 *
 * Public signals, in order: out[0..n-1], [label].
 */
import type { QGraph, QNode } from "../quant/qgraph";
import { fromField, toField } from "../quant/fixed";
import { circomIdent } from "./circuit";
import { weightLayout } from "./weights";

export const BASELINE_INCLUDES = [
  "circomlib/circuits/bitify.circom",
  "circomlib/circuits/comparators.circom",
  "circomlib/circuits/sign.circom",
];

/** The baseline's building blocks (inline in every generated baseline main). */
export const BASELINE_TEMPLATES = `
// ---- Baseline building blocks (circomlib-ml / keras2circom style; intentionally NOT Flavum's) ----

// out = floor((in + d/2) / d), d = 2^shift. The remainder is not range-checked: UNSOUND by design.
template BaselineRescale(shift) {
    signal input in;
    signal output out;
    signal rem;
    var d = 2 ** shift;
    var s = in + d \\ 2;
    var q = s >= 0 ? s \\ d : -((-s + d - 1) \\ d);
    out <-- q;
    rem <-- s - q * d;
    in + d \\ 2 === out * d + rem;
}

// 1 when in, read as a signed field element, is >= 0: full 254-bit split + circomlib's Sign.
template BaselineIsPositive() {
    signal input in;
    signal output out;
    component split = Num2Bits(254);
    split.in <== in;
    component sign = Sign();
    for (var i = 0; i < 254; i++) { sign.in[i] <== split.out[i]; }
    out <== 1 - sign.sign;
}

template BaselineRelu() {
    signal input in;
    signal output out;
    component pos = BaselineIsPositive();
    pos.in <== in;
    out <== in * pos.out;
}

template BaselineLeakyRelu(alphaNum, alphaShift) {
    signal input in;
    signal output out;
    component pos = BaselineIsPositive();
    pos.in <== in;
    component neg = BaselineRescale(alphaShift);
    neg.in <== alphaNum * in;
    out <== neg.out + pos.out * (in - neg.out);
}

// Running maximum through n - 1 full-width comparisons.
template BaselineMax(n) {
    signal input in[n];
    signal output out;
    signal m[n];
    component gt[n];
    m[0] <== in[0];
    for (var i = 1; i < n; i++) {
        gt[i] = GreaterThan(252);
        gt[i].in[0] <== in[i];
        gt[i].in[1] <== m[i - 1];
        m[i] <== m[i - 1] + gt[i].out * (in[i] - m[i - 1]);
    }
    out <== m[n - 1];
}

// First index of the maximum, through n - 1 full-width comparisons.
template BaselineArgMax(n) {
    signal input in[n];
    signal output out;
    signal m[n];
    signal idx[n];
    component gt[n];
    m[0] <== in[0];
    idx[0] <== 0;
    for (var i = 1; i < n; i++) {
        gt[i] = GreaterThan(252);
        gt[i].in[0] <== in[i];
        gt[i].in[1] <== m[i - 1];
        m[i] <== m[i - 1] + gt[i].out * (in[i] - m[i - 1]);
        idx[i] <== idx[i - 1] + gt[i].out * (i - idx[i - 1]);
    }
    out <== idx[n - 1];
}

// Piecewise-linear sigmoid with the same table as Flavum's, the segment picked naively.
template BaselineSigmoid(bitsIn, segBits, guard, A, D) {
    signal input in;
    signal output out;
    var L = bitsIn - segBits;
    component split = Num2Bits(254);
    split.in <== in + 2 ** (bitsIn - 1);
    var seg = 0;
    for (var i = 0; i < segBits; i++) { seg += split.out[L + i] * 2 ** i; }
    var t = 0;
    for (var i = 0; i < L; i++) { t += split.out[i] * 2 ** i; }
    component eq[2 ** segBits];
    var a = 0;
    var d = 0;
    for (var k = 0; k < 2 ** segBits; k++) {
        eq[k] = IsEqual();
        eq[k].in[0] <== seg;
        eq[k].in[1] <== k;
        a += A[k] * eq[k].out;
        d += D[k] * eq[k].out;
    }
    signal rise <== d * t;
    component r = BaselineRescale(L + guard);
    r.in <== a * 2 ** L + rise;
    out <== r.out;
}
`;

export interface BaselineCircuit {
  source: string;
  templateName: string;
  outputSize: number;
  argmax: boolean;
  publicSignals: string[];
}

type Ref = (i: number) => string;

export function generateBaseline(q: QGraph, name: string): BaselineCircuit {
  const templateName = `Baseline_${circomIdent(name)}`;
  const layout = weightLayout(q);
  const lines: string[] = [];
  const body = (s: string) => lines.push(`    ${s}`);
  const refs = new Map<string, Ref>([[q.input.name, (i) => `x[${i}]`]]);
  const out = q.tensors[q.output];
  let wOff = 0;
  let bOff = 0;

  body(`signal input x[${q.input.size}];`);
  body(`signal input w[${Math.max(1, layout.weights.length)}];`);
  body(`signal input b[${Math.max(1, layout.biases.length)}];`);
  body(`signal output out[${out.size}];`);
  if (q.argmax) body(`signal output label;`);

  q.nodes.forEach((node, k) => {
    const size = q.tensors[node.out].size;
    const src = (n: string) => refs.get(n)!;
    body("");
    body(`// ${node.kind} <- ${node.from.join(", ")}`);
    switch (node.kind) {
      case "affine": {
        const ins = node.inputs.map(src);
        const nnz = node.rows.reduce((a, rows) => a + rows.reduce((s, r) => s + r.idx.length, 0), 0);
        if (nnz > 0) body(`signal p${k}[${nnz}];`);
        body(`component r${k}[${size}];`);
        if (node.act === "relu") body(`component a${k}[${size}];`);
        let e = 0;
        for (let i = 0; i < size; i++) {
          const terms: string[] = [];
          node.rows.forEach((rows, t) => {
            for (const j of rows[i].idx) {
              body(`p${k}[${e}] <== w[${wOff++}] * ${ins[t](j)};`);
              terms.push(`p${k}[${e++}]`);
            }
          });
          body(`r${k}[${i}] = BaselineRescale(${node.shift}); r${k}[${i}].in <== ${[`b[${bOff++}]`, ...terms].join(" + ")};`);
          if (node.act === "relu") body(`a${k}[${i}] = BaselineRelu(); a${k}[${i}].in <== r${k}[${i}].out;`);
        }
        refs.set(node.out, node.act === "relu" ? (i) => `a${k}[${i}].out` : (i) => `r${k}[${i}].out`);
        return;
      }
      case "relu":
      case "leakyrelu": {
        const tmpl = node.kind === "relu" ? "BaselineRelu()" : `BaselineLeakyRelu(${node.alphaNum}, ${node.alphaShift})`;
        const x = src(node.input);
        body(`component a${k}[${size}];`);
        for (let i = 0; i < size; i++) body(`a${k}[${i}] = ${tmpl}; a${k}[${i}].in <== ${x(i)};`);
        break;
      }
      case "maxpool": {
        const x = src(node.input);
        body(`component a${k}[${size}];`);
        node.windows.forEach((win, i) => {
          body(`a${k}[${i}] = BaselineMax(${win.length});`);
          win.forEach((j, m) => body(`a${k}[${i}].in[${m}] <== ${x(j)};`));
        });
        break;
      }
      case "sigmoid": {
        const x = src(node.input);
        body(`var ta${k}[${node.A.length}] = [${node.A.join(", ")}];`);
        body(`var td${k}[${node.D.length}] = [${node.D.join(", ")}];`);
        body(`component a${k}[${size}];`);
        for (let i = 0; i < size; i++)
          body(`a${k}[${i}] = BaselineSigmoid(${node.bitsIn}, ${node.segBits}, ${node.guard}, ta${k}, td${k}); a${k}[${i}].in <== ${x(i)};`);
        break;
      }
      default:
        throw new Error(`baseline: no template for ${(node as QNode).kind}`);
    }
    refs.set(node.out, (i) => `a${k}[${i}].out`);
  });

  body("");
  const res = refs.get(q.output)!;
  for (let i = 0; i < out.size; i++) body(`out[${i}] <== ${res(i)};`);
  if (q.argmax) {
    body(`component top = BaselineArgMax(${out.size});`);
    body(`for (var i = 0; i < ${out.size}; i++) { top.in[i] <== out[i]; }`);
    body(`label <== top.out;`);
  }

  const source = [
    `pragma circom 2.1.6;`,
    ``,
    `// BASELINE circuit generated by Flavum's benchmark from model "${name}" — DO NOT EDIT, DO NOT DEPLOY.`,
    `// circomlib-ml / keras2circom style: private weights and biases, UNCHECKED division remainders`,
    `// (unsound), full-width comparisons, no commitments. Its templates are inline on purpose: they are`,
    `// the comparison point Flavum's circuits/lib templates beat, not part of Flavum.`,
    ...BASELINE_INCLUDES.map((f) => `include "${f}";`),
    BASELINE_TEMPLATES,
    `template ${templateName}() {`,
    ...lines,
    `}`,
    ``,
    `component main = ${templateName}();`,
    ``,
  ].join("\n");

  const publicSignals = [
    ...Array.from({ length: out.size }, (_, i) => `out[${i}]`),
    ...(q.argmax ? ["label"] : []),
  ];
  return { source, templateName, outputSize: out.size, argmax: q.argmax, publicSignals };
}

/** The baseline's witness input: the quantized sample, and every weight and bias (all private). */
export function baselineInput(q: QGraph, xq: readonly bigint[]): Record<string, string[]> {
  const layout = weightLayout(q);
  const f = (v: bigint) => toField(v).toString();
  return {
    x: xq.map(f),
    w: (layout.weights.length ? layout.weights : [0n]).map(f),
    b: (layout.biases.length ? layout.biases : [0n]).map(f),
  };
}

export function decodeBaselinePublic(
  c: Pick<BaselineCircuit, "outputSize" | "argmax">,
  signals: readonly (string | bigint)[],
): { out: bigint[]; label?: number } {
  const out = signals.slice(0, c.outputSize).map((s) => fromField(s));
  return c.argmax ? { out, label: Number(signals[c.outputSize]) } : { out };
}
