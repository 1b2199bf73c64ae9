/**
 * The registry commitment's architecture hash: what a quantized model computes without its weights
 * (node kinds, output shapes, scales and widths, the input shape and the head). Registration and
 * `model:audit` both compute it here, so an honest model always audits to the value it registered.
 */
import crypto from "crypto";
import type { QGraph } from "../quant/qgraph";

export function architectureHash(q: QGraph): string {
  const arch = q.nodes.map((n) => ({ kind: n.kind, out: q.tensors[n.out].shape, scale: q.tensors[n.out].scale, bits: q.tensors[n.out].bits }));
  return "0x" + crypto.createHash("sha256").update(JSON.stringify({ input: q.input.shape, arch, head: q.head })).digest("hex");
}
