/**
 * SVG element builders and the shared palette of the two renderers. Colour is never the only
 * signal: every mark has a <title>, and each chart sits next to a table of the same data.
 */
import { append, applyAttrs, type Child } from "../dom";

const NS = "http://www.w3.org/2000/svg";

export function s(tag: string, attrs: Record<string, string | number | null | undefined> = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

/** A chart's root: a viewBox at its natural size, described for screen readers by a title and a summary. */
export function chart(width: number, height: number, label: string, summary: string, testid: string, ...children: Child[]): SVGElement {
  const id = `${testid}-${Math.random().toString(36).slice(2, 8)}`;
  return s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-labelledby": `${id}-t ${id}-d`, "data-testid": testid, class: "chart" },
    s("title", { id: `${id}-t` }, label),
    s("desc", { id: `${id}-d` }, summary),
    ...children,
  );
}

/** Lane colours, told apart with the common colour-vision deficiencies (the Okabe–Ito set). */
export const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#7f6a00"];
export const laneColor = (lane: number) => PALETTE[lane % PALETTE.length];

/** Shared horizontal geometry, so a commit's column in the graph is its column in the plot. */
export const COLUMN = { left: 96, width: 56, right: 24 };
export const columnX = (col: number) => COLUMN.left + col * COLUMN.width + COLUMN.width / 2;
export const columnsWidth = (n: number) => COLUMN.left + Math.max(n, 1) * COLUMN.width + COLUMN.right;
