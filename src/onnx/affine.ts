import { AffineNode, FloatNode, SparseRow, nodeInputs, size } from "./ir";

export { nodeInputs };

/**
 * Accumulates the terms of an affine map row by row. Terms may repeat an index (x + x, or a
 * composed map); `build` merges them and drops zero weights so rows stay as sparse as the math allows.
 */
export class AffineBuilder {
  private readonly inputs: string[] = [];
  private readonly terms: { idx: number[]; w: number[] }[][] = [];
  readonly bias: Float64Array;

  constructor(readonly outSize: number) {
    this.bias = new Float64Array(outSize);
  }

  slot(input: string): number {
    let s = this.inputs.indexOf(input);
    if (s < 0) {
      s = this.inputs.length;
      this.inputs.push(input);
      this.terms.push(Array.from({ length: this.outSize }, () => ({ idx: [], w: [] })));
    }
    return s;
  }

  add(row: number, slot: number, idx: number, w: number): void {
    if (w === 0) return;
    const t = this.terms[slot][row];
    t.idx.push(idx);
    t.w.push(w);
  }

  build(out: string, shape: number[], from: string[]): AffineNode {
    const rows = this.terms.map((perRow) => perRow.map((t) => mergeTerms(t.idx, t.w)));
    return { kind: "affine", out, inputs: [...this.inputs], shape, rows, bias: this.bias, from };
  }
}

function mergeTerms(idx: number[], w: number[]): SparseRow {
  let sorted = true;
  for (let k = 1; k < idx.length; k++) if (idx[k] <= idx[k - 1]) { sorted = false; break; }
  if (sorted) {
    const keep = w.map((v, k) => (v !== 0 ? k : -1)).filter((k) => k >= 0);
    return { idx: Int32Array.from(keep, (k) => idx[k]), w: Float64Array.from(keep, (k) => w[k]) };
  }
  const acc = new Map<number, number>();
  for (let k = 0; k < idx.length; k++) acc.set(idx[k], (acc.get(idx[k]) ?? 0) + w[k]);
  const keys = [...acc.keys()].filter((j) => acc.get(j) !== 0).sort((a, b) => a - b);
  return { idx: Int32Array.from(keys), w: Float64Array.from(keys, (j) => acc.get(j) as number) };
}

/**
 * B ∘ A where A produces B's input `via`: B's rows over `via` are expanded through A's rows, and
 * B's own rows over A's inputs (if B also reads them directly) are added in.
 */
export function composeAffine(b: AffineNode, a: AffineNode, via: string, sizes: Map<string, number>): AffineNode {
  const viaSlot = b.inputs.indexOf(via);
  const inputs = b.inputs.filter((t) => t !== via);
  for (const t of a.inputs) if (!inputs.includes(t)) inputs.push(t);
  const outSize = size(b.shape);
  const bias = Float64Array.from(b.bias);
  const rows: SparseRow[][] = inputs.map(() => new Array<SparseRow>(outSize));
  const viaRows = b.rows[viaSlot];
  for (let s = 0; s < inputs.length; s++) {
    const name = inputs[s];
    const bSlot = b.inputs.indexOf(name);
    const aSlot = a.inputs.indexOf(name);
    const dense = new Float64Array(sizes.get(name) ?? 0);
    const touched: number[] = [];
    const put = (j: number, v: number) => {
      if (dense[j] === 0) touched.push(j);
      dense[j] += v;
    };
    for (let i = 0; i < outSize; i++) {
      if (bSlot >= 0) {
        const r = b.rows[bSlot][i];
        for (let k = 0; k < r.idx.length; k++) put(r.idx[k], r.w[k]);
      }
      if (aSlot >= 0) {
        const r = viaRows[i];
        for (let k = 0; k < r.idx.length; k++) {
          const ar = a.rows[aSlot][r.idx[k]];
          const wk = r.w[k];
          for (let q = 0; q < ar.idx.length; q++) put(ar.idx[q], wk * ar.w[q]);
        }
      }
      // An entry can cancel to zero and be re-touched; dedupe before emitting.
      const uniq = [...new Set(touched)].filter((j) => dense[j] !== 0).sort((x, y) => x - y);
      rows[s][i] = { idx: Int32Array.from(uniq), w: Float64Array.from(uniq, (j) => dense[j]) };
      for (const j of touched) dense[j] = 0;
      touched.length = 0;
    }
  }
  for (let i = 0; i < outSize; i++) {
    const r = viaRows[i];
    for (let k = 0; k < r.idx.length; k++) bias[i] += r.w[k] * a.bias[r.idx[k]];
  }
  return { kind: "affine", out: b.out, inputs, shape: b.shape, rows, bias, from: [...a.from, ...b.from] };
}

/** Drop nodes the output does not depend on (dead branches of the ONNX graph). */
export function pruneDead(nodes: FloatNode[], output: string): FloatNode[] {
  const live = new Set<string>([output]);
  const keep: FloatNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (!live.has(nodes[i].out)) continue;
    keep.push(nodes[i]);
    for (const t of nodeInputs(nodes[i])) live.add(t);
  }
  return keep.reverse();
}

/**
 * Fuse chains of affine nodes: an affine node whose output feeds exactly one node, which is also
 * affine, and which is not the graph output, disappears into its consumer. Linear layers are free
 * in the circuit, so fewer affine boundaries means fewer rescalings to prove.
 */
export function fuseAffine(nodes: FloatNode[], output: string, inputName: string, inputSize: number): FloatNode[] {
  const sizes = new Map<string, number>([[inputName, inputSize]]);
  for (const n of nodes) sizes.set(n.out, size(n.shape));
  const consumers = new Map<string, number>();
  for (const n of nodes) for (const t of new Set(nodeInputs(n))) consumers.set(t, (consumers.get(t) ?? 0) + 1);
  const producer = new Map<string, AffineNode>();
  const removed = new Set<string>();
  const result: FloatNode[] = [];
  for (const orig of nodes) {
    let n = orig;
    if (n.kind === "affine") {
      let changed = true;
      while (changed) {
        changed = false;
        for (const t of (n as AffineNode).inputs) {
          const a = producer.get(t);
          if (!a || t === output || consumers.get(t) !== 1) continue;
          const before = (n as AffineNode).inputs;
          n = composeAffine(n as AffineNode, a, t, sizes);
          removed.add(t);
          // A's inputs now feed n instead of A; one consumer fewer where n already read them.
          for (const s of a.inputs) if (before.includes(s)) consumers.set(s, (consumers.get(s) ?? 1) - 1);
          changed = true;
          break;
        }
      }
      producer.set(n.out, n as AffineNode);
    }
    result.push(n);
  }
  return result.filter((n) => !removed.has(n.out));
}

/**
 * An affine node left after fusion that only moves values (one input, every row a single weight of
 * exactly 1, no bias: a transpose, slice or concat between non-linear nodes) becomes a `select`,
 * which costs no constraint: its values were range-checked where they were produced.
 */
export function selectify(nodes: FloatNode[]): FloatNode[] {
  return nodes.map((n) => {
    if (n.kind !== "affine" || n.inputs.length !== 1) return n;
    if (n.bias.some((b) => b !== 0)) return n;
    const rows = n.rows[0];
    if (!rows.every((r) => r.idx.length === 1 && r.w[0] === 1)) return n;
    return { kind: "select", out: n.out, input: n.inputs[0], shape: n.shape, idx: Int32Array.from(rows, (r) => r.idx[0]), from: n.from };
  });
}
