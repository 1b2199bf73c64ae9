/**
 * Model repositories: branches with their heads, the commit graph drawn from each commit's parents,
 * accuracy per commit plotted on the same columns, and the commits as a table (the charts' data for
 * anyone who cannot see them).
 */
import { badge, fields, h, table } from "../dom";
import { kindName, layoutCommits, statusName } from "../commits";
import { code, percent } from "../format";
import { commitGraph } from "../svg/commitGraph";
import { metricPlot } from "../svg/metricPlot";
import { laneColor } from "../svg/svg";
import type { Commit, Repository } from "../types";
import type { View } from "./view";

function repository(r: Repository): HTMLElement {
  const layout = layoutCommits(r.commits);
  const colOf = new Map(layout.nodes.map((n) => [n.commit.id, n.col]));
  return h("article", { class: "card", "data-testid": "repository", "data-repo-id": r.repoId },
    h("h2", {}, r.name),
    fields([
      ["Repository id", r.repoId],
      ["Owner", code(r.owner, true)],
      ["URI", r.uri],
      ["Branches", r.branches.map((b, i) => [i ? ", " : "", h("strong", {}, b.name), ` → commit ${b.head}`])],
    ]),
    h("h3", {}, "History"),
    h("div", { class: "chart-scroll" },
      commitGraph(layout, r.name),
      metricPlot({
        label: `Accuracy per commit of ${r.name}`, yLabel: "accuracy", testid: "accuracy-plot", bounds: [0, 1],
        columns: layout.nodes.map((n) => n.commit.id),
        points: layout.nodes.map((n) => ({
          col: n.col, value: n.commit.accuracy, color: laneColor(n.lane), title: `commit ${n.commit.id} (${n.commit.correct}/${n.commit.samples})`,
          links: n.commit.parents.map((p) => colOf.get(p)).filter((c): c is number => c !== undefined),
        })),
        format: (v) => `${Math.round(v * 1000) / 10}%`,
      }),
    ),
    table<Commit>(`Commits of ${r.name}`, [
      { head: "Commit", cell: (c) => c.id, numeric: true },
      { head: "Kind", cell: (c) => kindName(c.kind) },
      { head: "Status", cell: (c) => badge(statusName(c.status)) },
      { head: "Branch", cell: (c) => c.branch },
      { head: "Parents", cell: (c) => c.parents.join(", ") || "—" },
      { head: "Accuracy", cell: (c) => `${percent(c.accuracy)}${c.samples ? ` (${c.correct}/${c.samples})` : ""}`, numeric: true },
      { head: "Author", cell: (c) => code(c.author) },
      { head: "Weights hash", cell: (c) => code(c.weightsHash) },
    ], r.commits),
  );
}

export const repositoriesView: View = async (_p, ctx) => {
  const repos = ctx.status.repositories ? await ctx.api.repositories() : [];
  return {
    title: "Repositories",
    body: h("section", {},
      h("h1", { tabindex: -1 }, "Repositories"),
      repos.length ? repos.map(repository) : h("p", { class: "empty" }, ctx.status.repositories ? "No repository yet (repo:create makes one)." : "This rollup was deployed without a model repository contract."),
    ),
  };
};
