/**
 * How values look on the page. Long hashes and field elements are shortened in tables, with the
 * whole value kept in the title and in the copy a reader selects; the inference view shows them whole.
 */
import { h } from "./dom";

/** A hash, address or 77-digit field element, shortened for a table cell. */
export function short(v: string, keep = 8): string {
  if (v.length <= keep * 2 + 3) return v;
  const head = v.startsWith("0x") ? keep + 2 : keep;
  return `${v.slice(0, head)}…${v.slice(-keep + 2)}`;
}

/** A value in code type: shortened unless `full`, the whole of it always in the title. */
export function code(v: string | null | undefined, full = false): HTMLElement | string {
  if (v === null || v === undefined) return "—";
  return h("code", { title: v, class: full ? "full" : null }, full ? v : short(v));
}

export function gas(v: string | null | undefined): string {
  return v ? `${BigInt(v).toLocaleString("en-US")} gas` : "—";
}

export function ms(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`;
}

export function when(iso: string): HTMLElement {
  const d = new Date(iso);
  return h("time", { datetime: iso, title: iso }, Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString());
}

/** A rollup batch id is modelId << 64 | the model's batch number; people read the two halves. */
export function batchName(modelId: string, batchNumber: string): string {
  return `model ${modelId} · batch ${batchNumber}`;
}

export function splitBatchId(batchId: string): { modelId: string; batchNumber: string } {
  const b = BigInt(batchId);
  return { modelId: (b >> 64n).toString(), batchNumber: (b & ((1n << 64n) - 1n)).toString() };
}

export function percent(x: number | null): string {
  return x === null ? "—" : `${(x * 100).toFixed(1)} %`;
}
