/**
 * Draws a repository's commit graph from the parents each commit names: commits left to right in
 * id order, a lane per branch, an edge from every parent (a merge has several). Fill says the review
 * state — filled: accepted or merged, hollow: proposed, grey and dashed: rejected — and a ring marks
 * merge commits; each commit's <title> spells all of it out.
 */
import type { CommitLayout, PlacedCommit } from "../commits";
import { kindName, statusName } from "../commits";
import { percent } from "../format";
import { chart, columnX, columnsWidth, laneColor, s } from "./svg";

const LANE_H = 44;
const TOP = 20;
const R = 9;

const laneY = (lane: number) => TOP + lane * LANE_H + LANE_H / 2;

function edgePath(a: PlacedCommit, b: PlacedCommit): string {
  const [x1, y1, x2, y2] = [columnX(a.col), laneY(a.lane), columnX(b.col), laneY(b.lane)];
  if (y1 === y2) return `M${x1},${y1} L${x2},${y2}`;
  const mid = (x1 + x2) / 2;
  return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
}

function commitMark(n: PlacedCommit): SVGElement {
  const c = n.commit;
  const status = statusName(c.status);
  const color = laneColor(n.lane);
  const x = columnX(n.col);
  const y = laneY(n.lane);
  const rejected = status === "rejected";
  const fill = rejected ? "#bbb" : status === "proposed" ? "#fff" : color;
  const title = `commit ${c.id}: ${kindName(c.kind)}, ${status}, on ${c.branch}; parents ${c.parents.length ? c.parents.join(", ") : "none"}; accuracy ${percent(c.accuracy)} (${c.correct}/${c.samples})`;
  return s("g", { class: `commit commit-${status}`, "data-commit-id": c.id },
    s("title", {}, title),
    kindName(c.kind) === "merge" && s("circle", { cx: x, cy: y, r: R + 4, fill: "none", stroke: color, "stroke-width": 1.5 }),
    s("circle", { cx: x, cy: y, r: R, fill, stroke: rejected ? "#777" : color, "stroke-width": 2.5, "stroke-dasharray": rejected ? "3 2" : null }),
    s("text", { x, y: y + R + 13, "text-anchor": "middle", class: "commit-id" }, c.id),
  );
}

export function commitGraph(layout: CommitLayout, repoName: string): SVGElement {
  const width = columnsWidth(layout.nodes.length);
  const height = TOP + Math.max(layout.lanes.length, 1) * LANE_H + 12;
  const summary = `${layout.nodes.length} commits on ${layout.lanes.length} branches (${layout.lanes.join(", ")}), ${layout.edges.length} parent links` +
    (layout.missingParents.length ? `; parents not listed: ${layout.missingParents.join(", ")}` : "");
  return chart(width, height, `Commit graph of ${repoName}`, summary, "commit-graph",
    layout.lanes.map((name, lane) => s("g", { class: "lane" },
      s("line", { x1: columnX(0) - 20, x2: width - 8, y1: laneY(lane), y2: laneY(lane), stroke: laneColor(lane), "stroke-opacity": 0.15, "stroke-width": 14, "stroke-linecap": "round" }),
      s("text", { x: 8, y: laneY(lane) + 4, class: "lane-name", fill: laneColor(lane) }, name.length > 12 ? `${name.slice(0, 11)}…` : name),
    )),
    layout.edges.map((e) => s("path", { d: edgePath(e.from, e.to), fill: "none", stroke: laneColor(e.merge ? e.from.lane : e.to.lane), "stroke-width": 2, class: e.merge ? "edge edge-merge" : "edge" })),
    layout.nodes.map(commitMark),
  );
}
