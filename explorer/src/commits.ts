/**
 * A repository's commits as a graph: the enum names of IModelRepository (the API gives numbers),
 * and the layout both SVG renderers share — one column per commit in id order (a commit's parents
 * are always minted before it), one lane per branch, main on top.
 */
import type { Commit } from "./types";

export const COMMIT_KINDS = ["none", "initial", "train", "merge", "revert"];
export const COMMIT_STATUSES = ["none", "proposed", "merged", "rejected", "accepted"];

export const kindName = (k: number) => COMMIT_KINDS[k] ?? `kind ${k}`;
export const statusName = (s: number) => COMMIT_STATUSES[s] ?? `status ${s}`;

export interface PlacedCommit {
  commit: Commit;
  col: number;
  lane: number;
}

export interface CommitEdge {
  from: PlacedCommit;
  to: PlacedCommit;
  /** Not the first parent: a merge's other inputs. */
  merge: boolean;
}

export interface CommitLayout {
  nodes: PlacedCommit[];
  edges: CommitEdge[];
  lanes: string[];
  /** Parents the list does not hold (a partial history): named, not drawn. */
  missingParents: string[];
}

export function layoutCommits(commits: Commit[]): CommitLayout {
  const ordered = [...commits].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0));
  const lanes: string[] = [];
  if (ordered.some((c) => c.branch === "main")) lanes.push("main");
  for (const c of ordered) if (!lanes.includes(c.branch)) lanes.push(c.branch);
  const byId = new Map<string, PlacedCommit>();
  const nodes = ordered.map((commit, col) => {
    const n = { commit, col, lane: lanes.indexOf(commit.branch) };
    byId.set(commit.id, n);
    return n;
  });
  const edges: CommitEdge[] = [];
  const missing = new Set<string>();
  for (const to of nodes) {
    to.commit.parents.forEach((p, i) => {
      const from = byId.get(p);
      if (from) edges.push({ from, to, merge: i > 0 });
      else missing.add(p);
    });
  }
  return { nodes, edges, lanes, missingParents: [...missing] };
}
