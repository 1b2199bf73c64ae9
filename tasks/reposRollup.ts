import { task, types } from "hardhat/config";
import { From, fromParam, Inbox, inboxParam, repoAction, withRollupRepos } from "./repoCommon";
import { openRollup, rollupStatus, settleRollupRound, type SettleOptions } from "../src/repos/rollupTraining";
import { InputError } from "../src/errors";

function parseMerge(v: string): SettleOptions["merge"] {
  if (v === "all" || v === "none") return v;
  const k = Number(v);
  if (!Number.isInteger(k) || k < 0) throw new InputError(`--merge must be all, none or a count of commits, got "${v}"`);
  return k;
}

fromParam(
  task("repo:rollup-open", "Open a repository's rollup (its owner, once): training rounds settled as batches of verified proofs")
    .addParam("repo", "Repository name")
    .addFlag("json", "Print JSON: {repoId, head, keyHash, gasUsed}"),
).setAction(
  repoAction(async (a: From & { repo: string; json: boolean }, hre) =>
    withRollupRepos(hre, a, async (ctx) => {
      const r = await openRollup(ctx, a.repo);
      if (a.json) console.log(JSON.stringify({ repoId: r.repoId.toString(), head: r.head.toString(), keyHash: r.keyHash, gasUsed: r.gasUsed.toString() }));
      else console.log(`the rollup of ${a.repo} is open at main's head (weights ${r.head}); its training key ${r.keyHash} matches the repository's training verifier`);
    }),
  ),
);

inboxParam(
  fromParam(
    task("repo:settle", "Settle the sequencer's inbox as one rollup round (a maintainer): check each proposal, merge, verify all proofs in one transaction")
      .addParam("repo", "Repository name")
      .addOptionalParam("merge", "Which commits to merge: all | none | k (the first k)", "all")
      .addOptionalParam("max", "At most this many commits in the round", undefined, types.int)
      .addFlag("json", "Print JSON: {round, settled, merged, head, gasUsed, gasPerCommit, rejected}"),
  ),
).setAction(
  repoAction(async (a: From & Inbox & { repo: string; merge: string; max?: number; json: boolean }, hre) =>
    withRollupRepos(hre, a, async (ctx) => {
      const r = await settleRollupRound(ctx, a.repo, { merge: parseMerge(a.merge), max: a.max });
      if (a.json) return console.log(JSON.stringify(r));
      if (!r.settled) return console.log(`nothing to settle for ${a.repo}${r.rejected.length ? ` (${r.rejected.length} proposal(s) set aside)` : ""}`);
      console.log(
        `round ${r.round} of ${a.repo}: ${r.settled} commit(s), ${r.proofs} proof(s), merged ${r.merged.length}; head ${r.head}; ` +
          `${r.gasUsed} gas (${r.gasPerCommit} a commit)` + (r.rejected.length ? `; ${r.rejected.length} proposal(s) set aside` : "") + (r.pending ? `; ${r.pending} wait for the next round` : ""),
      );
    }),
  ),
);

inboxParam(
  fromParam(
    task("repo:rollup", "Show a repository's rollup: head, rounds, pending proposals, merged samples per contributor")
      .addParam("repo", "Repository name")
      .addFlag("json", "Print JSON: {open, head, round, root, commits, pending, contributors: [{account, commits, samples}]}"),
  ),
).setAction(
  repoAction(async (a: From & Inbox & { repo: string; json: boolean }, hre) =>
    withRollupRepos(hre, a, async (ctx) => {
      const r = await rollupStatus(ctx, a.repo);
      if (a.json) return console.log(JSON.stringify(r));
      if (!r.open) return console.log(`${a.repo} has no open rollup`);
      console.log(`${a.repo}: round ${r.round}, head ${r.head}, ${r.commits} settled commit(s), ${r.pending} pending`);
      for (const c of r.contributors) console.log(`  ${c.account}: ${c.commits} commit(s), ${c.samples} merged samples`);
    }),
  ),
);


