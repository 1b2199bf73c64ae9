import { task, types } from "hardhat/config";
import { progress, withStdoutOnStderr } from "./util";
import { COMMIT, From, fromParam, repoAction, withRepos } from "./repos";
import { INSECURE_DEV_SETUP_HELP } from "../src/zk/setupPolicy";
import { openSequencer } from "../src/rollup/service";
import { publishCommit } from "../src/repos/publish";
import { claimAll, modelShares, publishedModels, revenueContracts } from "../src/repos/revenue";
import { FlavumError } from "../src/errors";

fromParam(
  task("repo:publish", "Serve a repository commit on the rollup: batch circuit bound to the commit's weights, registered with its provenance")
    .addParam("repo", "Repository name")
    .addParam("commit", COMMIT)
    .addOptionalParam("batch", "Batch size (a power of two)", 8, types.int)
    .addOptionalParam("name", "Model name (default <repo>_<commit id>)")
    .addOptionalParam("contributorBps", "Basis points of each inference fee paid to the commit's contributors", 5000, types.int)
    .addFlag("insecureDevSetup", INSECURE_DEV_SETUP_HELP)
    .addFlag("json", "Print JSON: {modelId, commit}"),
).setAction(
  repoAction(async (a: From & { repo: string; commit: string; batch: number; name?: string; contributorBps: number; insecureDevSetup: boolean; json: boolean }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const seq = await openSequencer(hre, { signerIndex: a.from, progress });
      try {
        // The verifier's compile prints on stdout, which carries the --json result.
        const { r, shares } = await withStdoutOnStderr(async () => {
          const r = await publishCommit(ctx, seq, a.repo, a.commit, { batch: a.batch, name: a.name, contributorBps: a.contributorBps, insecureDevSetup: a.insecureDevSetup });
          // The split opens now, so the first claim costs no walk of the history.
          const c = await revenueContracts(hre, a.from);
          return { r, shares: await modelShares(c, { modelId: r.modelId, commitId: r.commitToken, contributorBps: r.contributorBps }, { open: true }) };
        });
        if (a.json) console.log(JSON.stringify({ modelId: r.modelId.toString(), commit: r.commit }));
        else
          console.log(
            `${a.repo} commit ${r.commit} is model id ${r.modelId} ("${r.name}")${r.reused ? " (already published)" : ""}: batches of ${r.batchSize}, ` +
              `${r.constraints} constraints; ${r.contributorBps / 100}% of each fee goes to ${shares.contributors.length} contributor(s)`,
          );
      } finally {
        seq.store.close();
      }
    }),
  ),
);

fromParam(
  task("repo:shares", "Contributors of a repository's published model, their proven samples, revenue share and claimable fees")
    .addParam("repo", "Repository name")
    .addOptionalParam("model", "A model id published from the repository (default: the latest)")
    .addFlag("json", "Print JSON: {contributors: [{account, samples, share, claimable}]}"),
).setAction(
  repoAction(async (a: From & { repo: string; model?: string; json: boolean }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const repoId = await ctx.ledger.repoIdByName(a.repo);
      const c = await revenueContracts(hre, a.from);
      const models = await publishedModels(c, await ctx.ledger.contract.getAddress(), repoId);
      if (!models.length) throw new FlavumError(`repository ${a.repo} has published no model: repo:publish --repo ${a.repo} --commit <id> first`, "BAD_INPUT");
      const m = a.model === undefined ? models[models.length - 1] : models.find((x) => x.modelId.toString() === a.model);
      if (!m) throw new FlavumError(`model ${a.model} was not published from ${a.repo} (its models: ${models.map((x) => x.modelId).join(", ")})`, "BAD_INPUT");
      const s = await modelShares(c, m, { open: true });
      if (a.json) console.log(JSON.stringify(s));
      else {
        console.log(`${a.repo}: model ${s.modelId} (commit token ${s.commitId}), ${s.contributorBps / 100}% of each fee to contributors; received ${s.received} wei`);
        for (const x of s.contributors) console.log(`  ${x.account}  ${x.samples} samples  ${(x.share * 100).toFixed(2)}%  claimable ${x.claimable} wei`);
      }
    }),
  ),
);

fromParam(
  task("repo:claim", "Claim the signer's share of the fees of every model published from a repository")
    .addParam("repo", "Repository name")
    .addFlag("json", "Print JSON: {account, claimed: [{modelId, amount, txHash}]}"),
).setAction(
  repoAction(async (a: From & { repo: string; json: boolean }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const repoId = await ctx.ledger.repoIdByName(a.repo);
      const c = await revenueContracts(hre, a.from);
      const claimed = await claimAll(c, await ctx.ledger.contract.getAddress(), repoId, ctx.ledger.account);
      if (a.json) console.log(JSON.stringify({ account: ctx.ledger.account, claimed }));
      else if (!claimed.length) console.log(`${ctx.ledger.account} has nothing to claim from ${a.repo}`);
      else for (const x of claimed) console.log(`${ctx.ledger.account} claimed ${x.amount} wei from model ${x.modelId} (${x.txHash})`);
    }),
  ),
);
