/** QGraph ⇄ JSON: bigints become decimal strings and Int32Arrays plain arrays. */
import type { QGraph } from "../quant/qgraph";

export function qgraphToJson(q: QGraph): string {
  return JSON.stringify(q, (_k, v) => {
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Int32Array) return Array.from(v);
    return v;
  });
}

export function qgraphFromJson(text: string): QGraph {
  const q = JSON.parse(text) as QGraph;
  const big = (a: unknown[]) => a.map((v) => BigInt(v as string));
  for (const n of q.nodes) {
    switch (n.kind) {
      case "affine":
        n.bias = big(n.bias);
        n.rows = n.rows.map((rows) => rows.map((r) => ({ idx: Int32Array.from(r.idx), w: big(r.w) })));
        break;
      case "leakyrelu":
        n.alphaNum = BigInt(n.alphaNum as unknown as string);
        break;
      case "maxpool":
        n.windows = n.windows.map((w) => Int32Array.from(w));
        break;
      case "sigmoid":
      case "pwl":
        n.A = big(n.A);
        n.D = big(n.D);
        break;
      case "mul":
        n.coef = big(n.coef);
        n.ia = n.ia.map((a) => Int32Array.from(a));
        n.ib = n.ib.map((b) => Int32Array.from(b));
        break;
      case "div":
        n.ia = Int32Array.from(n.ia);
        n.ib = Int32Array.from(n.ib);
        break;
      case "argindex":
        n.windows = n.windows.map((w) => Int32Array.from(w));
        break;
      case "select":
        n.idx = Int32Array.from(n.idx);
        break;
      case "relu":
        break;
    }
  }
  return q;
}
