/**
 * A metric per column (accuracy per commit) as an SVG plot on the columns of the commit graph
 * above it, so a point sits under its commit. Lines join a point to its parents' points: the plot
 * follows the history's lineage, not merely the id order. Columns without a value get no point.
 */
import { chart, columnX, columnsWidth, s } from "./svg";

export interface PlotPoint {
  col: number;
  value: number | null;
  color: string;
  title: string;
  /** Columns this point descends from. */
  links: number[];
}

export interface PlotOptions {
  label: string;
  yLabel: string;
  columns: string[];
  points: PlotPoint[];
  format: (v: number) => string;
  /** Where the metric can lie at all (accuracy: 0..1); the axis zooms to the data within it. */
  bounds: [number, number];
  testid: string;
}

const TOP = 14;
const PLOT_H = 150;
const BOTTOM = 34;

/** Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi] in about `count` steps. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => st >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(12)));
  return ticks;
}

export function metricPlot(o: PlotOptions): SVGElement {
  const values = o.points.map((p) => p.value).filter((v): v is number => v !== null);
  const width = columnsWidth(o.columns.length);
  const height = TOP + PLOT_H + BOTTOM;
  let lo = values.length ? Math.min(...values) : o.bounds[0];
  let hi = values.length ? Math.max(...values) : o.bounds[1];
  const pad = Math.max((hi - lo) * 0.15, (o.bounds[1] - o.bounds[0]) * 0.02);
  lo = Math.max(o.bounds[0], lo - pad);
  hi = Math.min(o.bounds[1], hi + pad);
  const ticks = niceTicks(lo, hi);
  lo = Math.min(lo, ticks[0]);
  hi = Math.max(hi, ticks[ticks.length - 1]);
  const y = (v: number) => TOP + PLOT_H - ((v - lo) / (hi - lo || 1)) * PLOT_H;
  const byCol = new Map(o.points.map((p) => [p.col, p]));
  const x0 = columnX(0) - 20;
  const summary = values.length
    ? `${values.length} of ${o.columns.length} commits have a ${o.yLabel}, from ${o.format(Math.min(...values))} to ${o.format(Math.max(...values))}`
    : `no commit has a ${o.yLabel} yet`;
  return chart(width, height, o.label, summary, o.testid,
    ticks.map((t) => s("g", { class: "tick" },
      s("line", { x1: x0, x2: width - 8, y1: y(t), y2: y(t), class: "grid" }),
      s("text", { x: x0 - 6, y: y(t) + 4, "text-anchor": "end" }, o.format(t)),
    )),
    s("text", { x: 8, y: TOP + PLOT_H / 2, class: "axis-label", transform: `rotate(-90 8 ${TOP + PLOT_H / 2})`, "text-anchor": "middle", "dominant-baseline": "hanging" }, o.yLabel),
    o.columns.map((c, col) => s("text", { x: columnX(col), y: TOP + PLOT_H + 18, "text-anchor": "middle", class: "axis-tick" }, c)),
    o.points.flatMap((p) => p.value === null ? [] : p.links.map((from) => {
      const q = byCol.get(from);
      return q && q.value !== null ? s("line", { x1: columnX(q.col), y1: y(q.value), x2: columnX(p.col), y2: y(p.value!), stroke: p.color, "stroke-width": 2, class: "link" }) : null;
    })),
    o.points.map((p) => p.value === null ? null : s("circle", { cx: columnX(p.col), cy: y(p.value), r: 5, fill: p.color, class: "point", "data-col": p.col },
      s("title", {}, `${p.title}: ${o.format(p.value)}`))),
  );
}
