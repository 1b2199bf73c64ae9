/**
 * The explorer's commit graph without a browser: its layout of a repository history (branches as
 * lanes, merges as extra edges, a missing parent named) and its names for the contract's enums,
 * read from IModelRepository.sol so a reordered enum cannot be shown under the wrong name.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import { COMMIT_KINDS, COMMIT_STATUSES, layoutCommits } from "../../explorer/src/commits";
import { REPO } from "../helpers/circuit";

const commit = (id: number, branch: string, parents: number[], kind = 2) => ({
  id: String(id), author: "0x0", kind, status: 4, branch, parents: parents.map(String), weightsHash: "0", samples: 10, correct: 7, accuracy: 0.7,
});

function solidityEnum(name: string): string[] {
  const src = fs.readFileSync(path.join(REPO, "contracts/interfaces/IModelRepository.sol"), "utf8");
  const body = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(src)![1];
  return body.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
}

describe("explorer: commit graph layout", () => {
  it("names the commit kinds and statuses as IModelRepository orders them", () => {
    expect(COMMIT_KINDS).to.deep.equal(solidityEnum("CommitKind"));
    expect(COMMIT_STATUSES).to.deep.equal(solidityEnum("CommitStatus"));
  });

  it("puts commits in id order, one lane per branch with main first, and marks a merge's other parents", () => {
    // main: 1 → 4 (merge of 2 and 3); branches a: 2 (from 1), b: 3 (from 1); 5 on a names a parent not listed.
    const layout = layoutCommits([commit(4, "main", [1, 2, 3], 3), commit(3, "b", [1]), commit(1, "main", [], 1), commit(2, "a", [1]), commit(5, "a", [9])]);
    expect(layout.nodes.map((n) => n.commit.id)).to.deep.equal(["1", "2", "3", "4", "5"]);
    expect(layout.lanes).to.deep.equal(["main", "a", "b"]);
    expect(layout.nodes.map((n) => n.lane)).to.deep.equal([0, 1, 2, 0, 1]);
    const edges = layout.edges.map((e) => `${e.from.commit.id}->${e.to.commit.id}${e.merge ? " merge" : ""}`);
    expect(edges).to.have.members(["1->2", "1->3", "1->4", "2->4 merge", "3->4 merge"]);
    expect(layout.missingParents).to.deep.equal(["9"]);
  });
});
