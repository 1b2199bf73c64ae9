/**
 * Reads a trace leaf's output word the way FlavumRollup.decodeOutput does: the low 8 bits are the
 * circuit's label, then output i sits in `bits` bits offset by 2^(bits-1), in the model's output
 * scale. The page shows the outputs decoded from the very word the inclusion proof is about, so what
 * a reader sees is what "Check on chain" confirms, whatever the node's own output field says.
 */

export interface OutputLayout {
  outputCount: number;
  outputBits: number;
  outputScale: number;
}

export function decodeOutputWord(word: string, layout: OutputLayout): { label: number; outputs: number[] } {
  const w = BigInt(word);
  const bits = BigInt(layout.outputBits);
  const mask = (1n << bits) - 1n;
  const off = 1n << (bits - 1n);
  const outputs: number[] = [];
  for (let i = 0; i < layout.outputCount; i++) {
    const q = ((w >> (8n + bits * BigInt(i))) & mask) - off;
    outputs.push(Number(q) / 2 ** layout.outputScale);
  }
  return { label: Number(w & 0xffn), outputs };
}
