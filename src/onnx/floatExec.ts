import { InputError } from "../errors";
import { FloatGraph, RoundNode, size } from "./ir";
import { evalPwlFloat } from "./pwlFunctions";

/** ONNX Round is half to even; Cast from float to an integer type truncates toward zero. */
export function roundFloat(mode: RoundNode["mode"], x: number): number {
  switch (mode) {
    case "floor": return Math.floor(x);
    case "ceil": return Math.ceil(x);
    case "trunc": return Math.trunc(x);
    case "even": {
      const f = Math.floor(x);
      const d = x - f;
      if (d > 0.5) return f + 1;
      if (d < 0.5) return f;
      return f % 2 === 0 ? f : f + 1;
    }
  }
}

/** Check a user-supplied input against the graph's input shape before anything runs on it. */
export function validateInput(graph: FloatGraph, input: ArrayLike<number>): Float64Array {
  const want = size(graph.input.shape);
  if (input.length !== want) {
    throw new InputError(
      `input "${graph.input.name}" expects shape [${graph.input.shape.join(", ")}] (${want} values), got ${input.length} values`,
    );
  }
  const x = Float64Array.from(input);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new InputError(`input "${graph.input.name}" has a non-finite value (${input[i]}) at index ${i}`);
  }
  return x;
}

/** Evaluate the float graph in float64; returns every tensor (input, intermediates, output). */
export function runFloat(graph: FloatGraph, input: Float64Array | number[]): Map<string, Float64Array> {
  const env = new Map<string, Float64Array>([[graph.input.name, validateInput(graph, input)]]);
  const get = (name: string): Float64Array => {
    const t = env.get(name);
    if (!t) throw new Error(`float graph is malformed: tensor "${name}" is read before it is computed`);
    return t;
  };
  for (const node of graph.nodes) {
    const y = new Float64Array(size(node.shape));
    switch (node.kind) {
      case "affine": {
        y.set(node.bias);
        node.inputs.forEach((name, t) => {
          const x = get(name);
          const rows = node.rows[t];
          for (let i = 0; i < y.length; i++) {
            const { idx, w } = rows[i];
            let acc = 0;
            for (let k = 0; k < idx.length; k++) acc += w[k] * x[idx[k]];
            y[i] += acc;
          }
        });
        break;
      }
      case "relu": { const x = get(node.input); for (let i = 0; i < y.length; i++) y[i] = x[i] > 0 ? x[i] : 0; break; }
      case "leakyrelu": { const x = get(node.input); for (let i = 0; i < y.length; i++) y[i] = x[i] >= 0 ? x[i] : node.alpha * x[i]; break; }
      case "sigmoid": { const x = get(node.input); for (let i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-x[i])); break; }
      case "maxpool": {
        const x = get(node.input);
        node.windows.forEach((win, i) => {
          let m = -Infinity;
          for (const j of win) if (x[j] > m) m = x[j];
          y[i] = m;
        });
        break;
      }
      case "pwl": { const x = get(node.input); for (let i = 0; i < y.length; i++) y[i] = evalPwlFloat(node.fn, node.params, x[i]); break; }
      case "mul": {
        const a = get(node.a);
        const b = get(node.b);
        for (let i = 0; i < y.length; i++) {
          const ia = node.ia[i];
          const ib = node.ib[i];
          let acc = 0;
          for (let k = 0; k < ia.length; k++) acc += a[ia[k]] * b[ib[k]];
          y[i] = node.coef[i] * acc;
        }
        break;
      }
      case "div": {
        const a = get(node.a);
        const b = get(node.b);
        for (let i = 0; i < y.length; i++) y[i] = a[node.ia[i]] / b[node.ib[i]];
        break;
      }
      case "sqrt": { const x = get(node.input); for (let i = 0; i < y.length; i++) y[i] = Math.sqrt(x[i]); break; }
      case "compare": {
        const x = get(node.input);
        const test = { gt: (v: number) => v > 0, ge: (v: number) => v >= 0, eq: (v: number) => v === 0, ne: (v: number) => v !== 0 }[node.op];
        for (let i = 0; i < y.length; i++) y[i] = test(x[i]) ? 1 : 0;
        break;
      }
      case "argindex": {
        const x = get(node.input);
        node.windows.forEach((win, i) => {
          let best = 0;
          for (let k = 1; k < win.length; k++) {
            if (x[win[k]] > x[win[best]] || (node.last && x[win[k]] === x[win[best]])) best = k;
          }
          y[i] = best;
        });
        break;
      }
      case "round": { const x = get(node.input); for (let i = 0; i < y.length; i++) y[i] = roundFloat(node.mode, x[i]); break; }
      case "select": { const x = get(node.input); for (let i = 0; i < y.length; i++) y[i] = x[node.idx[i]]; break; }
    }
    env.set(node.out, y);
  }
  return env;
}

/** Index of the largest value; ties go to the first, as ONNX ArgMax with select_last_index=0. */
export function argmaxOf(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

export function softmax(v: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) m = Math.max(m, v[i]);
  const e = Array.from(v, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** What the model shows after its proven logits: softmax probabilities, or the logits themselves. */
export function applyHead(graph: FloatGraph, logits: ArrayLike<number>): { output: number[]; argmax: number } {
  const output = graph.head === "softmax" ? softmax(logits) : Array.from(logits);
  return { output, argmax: argmaxOf(logits) };
}
