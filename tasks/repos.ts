import { task, types } from "hardhat/config";
import { userPath } from "./util";
import { INSECURE_DEV_SETUP_HELP } from "../src/zk/setupPolicy";
import * as repos from "../src/repos/workflow";
import { shortId } from "../src/repos/commitIds";
import { InputError } from "../src/errors";
import { dialAddress, startIpfsNode, stopIpfsNode } from "../src/traceStore/ipfs";
import { pullWeights, serveRepository } from "../src/repos/ipfsSync";
import { pushToRollup, trainForRollup } from "../src/repos/rollupTraining";
import { COMMIT, From, fromParam, inboxParam, parseVia, repoAction, withRepos, withRollupRepos } from "./repoCommon";

export { COMMIT, fromParam, repoAction, withRepos } from "./repoCommon";
export type { From } from "./repoCommon";

fromParam(
  task("repo:create", "Create a model repository from an ONNX model (its first commit on main); prints what a training step costs before it builds")
    .addParam("name", "Repository name")
    .addParam("onnx", "ONNX model: a stack of Gemm + ReLU layers with a logistic, linear or softmax head (or a CNN with --train-from)")
    .addOptionalParam("batch", "Mini-batch size (power of two)", 16, types.int)
    .addOptionalParam("steps", "SGD steps per proof", 1, types.int)
    .addOptionalParam("lr", "Learning rate", 0.5, types.float)
    .addOptionalParam("aggregation", "How merges aggregate: fedavg (sample-weighted) | median (coordinate-wise) | trimmed (coordinate-wise trimmed mean)", "fedavg")
    .addOptionalParam("trim", "Trimmed mean: values dropped at each end of every coordinate", undefined, types.int)
    .addOptionalParam("maxUpdateNorm", "Bound on one proof's weight change, ||Δw||₂ (the training proof enforces it)", undefined, types.float)
    .addOptionalParam("mergeSizes", "Comma-separated merge sizes to build verifiers for (2 … 8), or none (single commits fast-forward)", "2,3,4")
    .addOptionalParam("trainFrom", "CNN: the node (name or output name) after which the dense head is trained; the trunk up to it stays frozen")
    .addOptionalParam("calibration", "With --train-from: raw input rows (JSON array, or {\"features\"}) to quantize the frozen trunk with")
    .addFlag("insecureDevSetup", INSECURE_DEV_SETUP_HELP),
).setAction(
  repoAction(async (a: From & {
    name: string; onnx: string; batch: number; steps: number; lr: number; aggregation: string; trim?: number; maxUpdateNorm?: number;
    mergeSizes: string; trainFrom?: string; calibration?: string; insecureDevSetup: boolean;
  }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const r = await repos.createRepo(ctx, a.name, userPath(a.onnx), {
        batch: a.batch, steps: a.steps, lr: a.lr, aggregation: a.aggregation as repos.CreateOptions["aggregation"], trim: a.trim,
        maxUpdateNorm: a.maxUpdateNorm, mergeSizes: parseSizes(a.mergeSizes), trainFrom: a.trainFrom,
        calibration: a.calibration ? userPath(a.calibration) : undefined, insecureDevSetup: a.insecureDevSetup,
      });
      console.log(`repository ${a.name} is id ${r.repoId}; initial commit ${r.commit} on main ` +
        `(training circuit ${r.constraints.train} constraints` +
        (r.mergeSizes.length ? `, merge circuits of ${r.mergeSizes.join("/")}: ${r.constraints.merge.join("/")})` : `; no merge circuits: single commits fast-forward)`));
    }),
  ),
);

/** The branch head's weights (and the spec) over IPFS from `peer`, into the local store. */
async function pullOverIpfs(ctx: repos.RepoContext, repo: string, branch: string, peer: string, timeoutMs: number): Promise<void> {
  const node = await startIpfsNode();
  try {
    await dialAddress(node, peer);
    const repoId = await ctx.ledger.repoIdByName(repo);
    const head = await ctx.ledger.head(repoId, branch);
    await pullWeights(ctx, node, repo, head, { timeoutMs });
  } finally {
    await stopIpfsNode(node);
  }
}

fromParam(
  task("repo:serve", "Serve a repository's commits (spec, weights) over IPFS to collaborators until stopped (Ctrl-C)")
    .addParam("repo", "Repository name")
    .addOptionalParam("port", "TCP port on 127.0.0.1 (0: any free port)", 0, types.int)
    .addFlag("json", "Print JSON: {peer, addresses, commits, missing}"),
).setAction(
  repoAction(async (a: From & { repo: string; port: number; json: boolean }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const node = await startIpfsNode({ port: a.port });
      try {
        const r = await serveRepository(ctx, node, a.repo);
        const out = { peer: node.peerId, addresses: node.multiaddrs, commits: r.served.length, missing: r.missing };
        console.log(a.json ? JSON.stringify(out) : `serving ${r.served.length} commit(s) of ${a.repo} at ${node.multiaddrs.join(", ")}` + (r.missing ? ` (${r.missing} whose weights are not here)` : ""));
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
      } finally {
        await stopIpfsNode(node);
      }
    }),
  ),
);

/** "2,3,5" → [2, 3, 5]; "none" → [] (fast-forwards only); anything else is named. */
function parseSizes(v: string): number[] {
  if (v.trim() === "none") return [];
  const parts = v.split(",").map((p) => p.trim()).filter(Boolean);
  const out = parts.map(Number);
  if (parts.length === 0 || out.some((k) => !Number.isInteger(k))) throw new InputError(`--merge-sizes must be comma-separated integers such as 2,3,4, or none, got "${v}"`);
  return out;
}

fromParam(
  task("repo:invite", "Give an account a role in a repository")
    .addParam("repo", "Repository name")
    .addParam("account", "Address")
    .addParam("role", "owner | maintainer | contributor"),
).setAction(
  repoAction(async (a: From & { repo: string; account: string; role: string }, hre) =>
    withRepos(hre, a, async (ctx) => {
      await repos.invite(ctx, a.repo, a.account, a.role);
      console.log(`${a.account} is now ${a.role} of ${a.repo}`);
    }),
  ),
);

fromParam(
  task("repo:pull", "Fetch a branch head's weights into the local store and show them, or write them as an ONNX model")
    .addParam("repo", "Repository name")
    .addOptionalParam("branch", "Branch", "main")
    .addOptionalParam("onnx", "Write the head as an ONNX model to this file (onnxruntime gives the outputs repo:eval computes)")
    .addOptionalParam("peer", "Fetch what this machine lacks over IPFS from this peer (a multiaddr repo:serve printed), verified against the chain")
    .addOptionalParam("timeout", "With --peer: seconds to wait for the objects", 60, types.int)
    .addFlag("json", "Print JSON"),
).setAction(
  repoAction(async (a: From & { repo: string; branch: string; onnx?: string; peer?: string; timeout: number; json: boolean }, hre) =>
    withRepos(hre, a, async (ctx) => {
      if (a.peer !== undefined) await pullOverIpfs(ctx, a.repo, a.branch, a.peer, a.timeout * 1000);
      const p = await repos.pull(ctx, a.repo, a.branch, a.onnx ? userPath(a.onnx) : undefined);
      if (a.json) return console.log(JSON.stringify({ head: p.head, branch: p.branch, weights: p.weights, spec: p.spec, ...(a.onnx ? { onnx: userPath(a.onnx) } : {}) }));
      console.log(`${a.repo}/${a.branch} at commit ${p.head}: ${p.spec.kind}, ${p.weights.length} parameters` + (a.onnx ? `; wrote ${a.onnx}` : ""));
    }),
  ),
);

fromParam(
  task("repo:train", "Train on every row of a private data file and prove it (a chain of proofs); prints the commit id")
    .addParam("repo", "Repository name")
    .addParam("data", 'JSON {"features": [[...]], "labels": [...]}; its rows must fill whole chunks of n·K rows')
    .addOptionalParam("branch", "Branch to train from", "main")
    .addOptionalParam("via", "Where the commit is to count: l1 (ModelRepository) | rollup (from the rollup head, settled by repo:settle)", "l1")
    .addOptionalParam("epochs", "Passes over the rows (each chunk of n·K rows is one proof per epoch)", 1, types.int)
    .addOptionalParam("steps", "SGD steps per proof (must match the repository's)", undefined, types.int)
    .addOptionalParam("lr", "Learning rate (must match the repository's)", undefined, types.float)
    .addFlag("strict", "Refuse features outside the training range instead of clamping them with a warning")
    .addFlag("json", "Print JSON"),
).setAction(
  repoAction(async (a: From & { repo: string; data: string; branch: string; via: string; epochs: number; steps?: number; lr?: number; strict: boolean; json: boolean }, hre) => {
    if (parseVia(a.via) === "rollup") {
      return withRollupRepos(hre, a, async (ctx) => {
        const r = await trainForRollup(ctx, a.repo, userPath(a.data), { epochs: a.epochs, steps: a.steps, lr: a.lr, strict: a.strict, branch: a.branch === "main" ? undefined : a.branch });
        if (a.json) return console.log(JSON.stringify({ commit: r.id, rows: r.rows, samples: r.samples, proofs: r.proofs, proveMs: Math.round(r.proveMs), correct: r.correct, head: r.head, round: r.round }));
        console.log(`commit ${r.id} (from the rollup head of round ${r.round}): ${r.samples} samples in ${r.proofs} proof(s), ${r.correct}/${r.samples} right before their step; ` +
          `proven in ${(r.proveMs / 1000).toFixed(1)} s; send it with repo:push --via rollup`);
      });
    }
    return withRepos(hre, a, async (ctx) => {
      const r = await repos.train(ctx, a.repo, userPath(a.data), { branch: a.branch, epochs: a.epochs, steps: a.steps, lr: a.lr, strict: a.strict });
      if (a.json)
        return console.log(JSON.stringify({
          commit: r.id, rows: r.rows, samples: r.samples, epochs: r.epochs, proofs: r.proofs, proveMs: Math.round(r.proveMs), correct: r.correct, parent: r.parent,
        }));
      console.log(`commit ${r.id} (from ${shortId(r.parent)}): ${r.rows} rows × ${r.epochs} epoch(s) = ${r.samples} samples in ${r.proofs} proof(s), ` +
        `${r.correct}/${r.samples} right before their step; proven in ${(r.proveMs / 1000).toFixed(1)} s` +
        (r.clamped ? `; ${r.clamped} feature values clamped into range` : ""));
    });
  }),
);

inboxParam(
  fromParam(
    task("repo:push", "Send a trained commit; the contract verifies every proof of its chain (--via rollup: to the sequencer's inbox, settled by repo:settle)")
      .addParam("repo", "Repository name")
      .addParam("commit", "Commit id from repo:train (or its first 8+ hex digits)")
      .addOptionalParam("via", "l1 (ModelRepository, now) | rollup (the repository's sequencer, next round)", "l1")
      .addFlag("json", "Print JSON"),
  ),
).setAction(
  repoAction(async (a: From & { repo: string; commit: string; via: string; inbox?: string; json: boolean }, hre) => {
    if (parseVia(a.via) === "rollup") {
      return withRollupRepos(hre, a, async (ctx) => {
        const r = await pushToRollup(ctx, a.repo, a.commit);
        console.log(a.json ? JSON.stringify({ commit: r.commit, inbox: r.file }) : `sent commit ${r.commit} (${r.proofs} proof(s)) to the sequencer's inbox for round ${r.round + 1}`);
      });
    }
    if (a.inbox) throw new InputError("--inbox applies to --via rollup only");
    return withRepos(hre, a, async (ctx) => {
      const r = await repos.push(ctx, a.repo, a.commit);
      console.log(a.json ? JSON.stringify({ commit: r.commit }) :
        r.already ? `commit ${r.commit} is already pushed` : `pushed commit ${r.commit} (${r.proofs} proof(s) verified) on branch ${r.branch}`);
    });
  }),
);

fromParam(
  task("repo:merge", "Merge commits into main with the repository's proven aggregation (FedAvg, median or trimmed mean)")
    .addParam("repo", "Repository name")
    .addParam("commits", "Comma-separated commit ids (or their first 8+ hex digits, or token numbers); 1 to 8, merged by the repository's rule")
    .addFlag("json", "Print JSON"),
).setAction(
  repoAction(async (a: From & { repo: string; commits: string; json: boolean }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const r = await repos.merge(ctx, a.repo, a.commits.split(",").map((s) => s.trim()).filter(Boolean));
      console.log(a.json ? JSON.stringify({ commit: r.commit }) : `merged as commit ${r.commit} on main`);
    }),
  ),
);

fromParam(
  task("repo:reject", "Reject a proposed commit")
    .addParam("repo", "Repository name")
    .addParam("commit", COMMIT)
    .addOptionalParam("reason", "Why", "rejected by a maintainer"),
).setAction(
  repoAction(async (a: From & { repo: string; commit: string; reason: string }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const r = await repos.reject(ctx, a.repo, a.commit, a.reason);
      console.log(`commit ${r.commit} rejected`);
    }),
  ),
);

fromParam(
  task("repo:revert", "Move main back to an earlier commit's weights as a new commit (history is kept)")
    .addParam("repo", "Repository name")
    .addParam("to", `The commit to return to: ${COMMIT}`),
).setAction(
  repoAction(async (a: From & { repo: string; to: string }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const r = await repos.revert(ctx, a.repo, a.to);
      console.log(`reverted main to commit ${shortId(r.to)}'s weights as commit ${r.commit}`);
    }),
  ),
);

fromParam(task("repo:log", "The repository's commits, branches and metrics").addParam("repo", "Repository name").addFlag("json", "Print JSON")).setAction(
  repoAction(async (a: From & { repo: string; json: boolean }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const l = await repos.log(ctx, a.repo);
      if (a.json) return console.log(JSON.stringify(l));
      console.log(`repository ${l.repo} (id ${l.repoId}); branches: ${l.branches.map((b) => `${b.name}@${shortId(b.head)}`).join(", ")}`);
      for (const c of [...l.commits].reverse())
        console.log(`  ${shortId(c.id)} ${c.kind.padEnd(7)} ${c.status.padEnd(8)} parents [${c.parents.map(shortId).join(", ")}] by ${c.author.slice(0, 10)}… on ${c.branch}` +
          (c.kind === "train" ? `, ${c.proofs} proof(s)` : "") +
          (c.metrics.trainAccuracy !== null ? `, ${c.metrics.correct}/${c.metrics.samples} right` : c.metrics.samples ? `, ${c.metrics.samples} samples` : "") +
          (c.revertOf ? `, revert of ${shortId(c.revertOf)}` : ""));
      if (l.unpushed.length) console.log(`  not pushed: ${l.unpushed.join(", ")}`);
    }),
  ),
);

fromParam(
  task("repo:diff", "Per-layer weight change between two commits")
    .addParam("a", COMMIT)
    .addParam("b", COMMIT)
    .addOptionalParam("repo", "Repository name (needed for shortened commit ids)")
    .addFlag("json", "Print JSON"),
).setAction(
  repoAction(async (a: From & { a: string; b: string; repo?: string; json: boolean }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const d = await repos.diff(ctx, a.a, a.b, a.repo);
      if (a.json) return console.log(JSON.stringify(d));
      for (const l of d) console.log(`  ${l.layer.padEnd(4)} ${String(l.params).padStart(4)} params  |Δ|₂ ${l.l2.toFixed(5)}  max |Δ| ${l.maxAbs.toFixed(5)}`);
    }),
  ),
);

fromParam(
  task("repo:eval", "Accuracy (and loss) of a commit's model on a data file")
    .addParam("repo", "Repository name")
    .addParam("commit", COMMIT)
    .addParam("data", 'JSON {"features": [[...]], "labels": [...]}')
    .addFlag("strict", "Refuse features outside the training range instead of warning")
    .addFlag("json", "Print JSON"),
).setAction(
  repoAction(async (a: From & { repo: string; commit: string; data: string; strict: boolean; json: boolean }, hre) =>
    withRepos(hre, a, async (ctx) => {
      const e = await repos.evalCommit(ctx, a.repo, a.commit, userPath(a.data), { strict: a.strict });
      console.log(a.json ? JSON.stringify(e) : `commit ${e.commit} on ${e.rows} rows: ` +
        (e.accuracy !== null ? `accuracy ${(e.accuracy * 100).toFixed(2)}%, ` : "") + `loss ${e.loss.toFixed(4)}`);
    }),
  ),
);
