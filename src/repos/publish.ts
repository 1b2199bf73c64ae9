/**
 * `repo:publish`: a repository commit becomes a model the rollup serves. The commit's weights are
 * turned into a quantized graph with committed weights (./publishGraph.ts), written as a model
 * build (build/models/<name>/, manifest + graph; there is no single-inference circuit), its batch
 * circuit is built and set up, and the model is registered through `ModelRegistry.publish`, which
 * checks on chain that the model's weightsHash is the commit's and records the provenance; every
 * batch proof then proves its inferences used weights with that commitment. Last, the contributor
 * revenue split of the model is opened (shares: proven samples along the commit's history).
 */
import fs from "fs";
import path from "path";
import { FlavumError, InputError } from "../errors";
import { replaceDirAtomically, sourceHash } from "../zk";
import { commitWeights, TrainingSpec } from "../training";
import { qgraphToJson } from "../model/qgraphJson";
import { MODEL_FILES, ModelManifest, modelDir, validateName, verifierFile, verifierContractName } from "../model/artifacts";
import { registrationsFile } from "../model/registrations";
import { repoRoot } from "../zk/paths";
import type { QGraph } from "../quant/qgraph";
import { publishedGraph } from "./publishGraph";
import { shortId } from "./commitIds";
import { RepoContext, loadWeights, repoInfo, resolveCommit } from "./workflow";
import { CommitStatus, RepoRole } from "../chain/deployRepos";
import { registerModel } from "../rollup/service";
import type { Sequencer } from "../rollup/sequencer";

export interface PublishedProvenance {
  repository: string;
  repo: string;
  repoId: bigint;
  commitId: bigint;
  contentId: string;
}

/** The default model name of a published commit: the repository's name and the commit's short id. */
export function publishedModelName(repo: string, contentId: string): string {
  const base = repo.replace(/[^A-Za-z0-9_]/g, "_");
  return `${/^[A-Za-z]/.test(base) ? base : `r_${base}`}_${shortId(contentId).replace(/^0x/, "")}`.slice(0, 64);
}

/**
 * Writes the model build of a commit's weights. The weights are checked against the commit's
 * commitment first, so a corrupted local object can never be published under the commit's name.
 */
export async function writePublishedModel(name: string, spec: TrainingSpec, weights: bigint[], p: PublishedProvenance): Promise<{ q: QGraph; dir: string }> {
  const expected = await commitWeights(spec, weights);
  const q = publishedGraph(spec, weights);
  const graph = qgraphToJson(q);
  const final = modelDir(name);
  const existing = path.join(final, MODEL_FILES.manifest);
  if (fs.existsSync(existing)) {
    const m = JSON.parse(fs.readFileSync(existing, "utf8")) as ModelManifest;
    if (m.weightsCommitment !== expected.toString())
      throw new FlavumError(
        `a model named "${name}" is already built here from other weights (commitment ${m.weightsCommitment}); publish under another --name`,
        "REGISTERED_MODEL",
      );
  }
  const out = q.tensors[q.output];
  await replaceDirAtomically(final, async (tmp) => {
    if (fs.existsSync(registrationsFile(final))) fs.copyFileSync(registrationsFile(final), registrationsFile(tmp));
    fs.writeFileSync(path.join(tmp, MODEL_FILES.qgraph), graph);
    const manifest: ModelManifest & { published: Record<string, string> } = {
      name,
      createdAt: new Date().toISOString(),
      source: `repository ${p.repo} commit ${p.contentId}`,
      weights: "private",
      quant: q.options,
      ops: q.nodes.reduce<Record<string, number>>((a, n) => ({ ...a, [n.kind]: (a[n.kind] ?? 0) + 1 }), {}),
      head: q.head,
      inputShape: q.input.shape,
      outputShape: out.shape,
      inputScale: q.input.scale,
      inputBits: q.input.bits,
      outputScale: out.scale,
      weightsCommitment: expected.toString(),
      // A published model has batch circuits only; its identity is the graph they are generated from.
      circuit: {
        // No single-inference circuit, so no key of its own: registrations record "none".
        template: "published", hash: sourceHash(graph), vkHash: "none", constraints: 0, wires: 0,
        layout: {
          mode: "private", inputSize: q.input.size, outputSize: out.size, argmax: q.argmax, packed: true, outputBits: out.bits,
          publicSignals: [],
        },
      },
      ptau: { power: 0, source: "none" },
      verifier: { contract: verifierContractName(name), file: path.relative(repoRoot(), verifierFile(name)) },
      fidelity: { samples: 0, argmaxAgreement: 1, maxAbsError: 0, overflows: 0 },
      timings: { circuitMs: 0, setupMs: 0 },
      published: {
        repository: p.repository, repo: p.repo, repoId: p.repoId.toString(), commitId: p.commitId.toString(), contentId: p.contentId,
      },
    };
    fs.writeFileSync(path.join(tmp, MODEL_FILES.manifest), JSON.stringify(manifest, null, 2));
  });
  return { q, dir: final };
}

/** Basis points of each inference fee that go to the contributors: an integer 0 … 10000. */
export function checkContributorBps(bps: number): number {
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000)
    throw new InputError(`--contributor-bps must be an integer from 0 to 10000 (basis points of each inference fee), got ${bps}`);
  return bps;
}

export interface PublishOptions {
  batch: number;
  /** Model name (default: publishedModelName). */
  name?: string;
  contributorBps: number;
  insecureDevSetup?: boolean;
}

export interface PublishResult {
  modelId: bigint;
  commit: string;
  commitToken: bigint;
  name: string;
  batchSize: number;
  verifier: string;
  constraints: number;
  reused: boolean;
  contributorBps: number;
}

/**
 * Publishes commit `ref` of `repo` to the rollup `seq` settles on. Only a reviewed commit (Accepted
 * or Merged) can be published, and only by a maintainer or owner: the registry checks both again.
 */
export async function publishCommit(ctx: RepoContext, seq: Sequencer, repo: string, ref: string | bigint, o: PublishOptions): Promise<PublishResult> {
  const bps = checkContributorBps(o.contributorBps);
  const { repoId, spec } = await repoInfo(ctx, repo);
  const { token, commit } = await resolveCommit(ctx, repo, repoId, ref);
  if (commit.status !== CommitStatus.Accepted && commit.status !== CommitStatus.Merged)
    throw new FlavumError(
      `commit ${shortId(commit.contentId)} of ${repo} is ${CommitStatus[commit.status]}: only a merged or accepted commit (one on a reviewed branch) can be published`,
      "BAD_INPUT",
    );
  const role = await ctx.ledger.roleOf(repoId, ctx.ledger.account);
  if (role < RepoRole.Maintainer)
    throw new FlavumError(`${ctx.ledger.account} is ${RepoRole[role]} in ${repo}: publishing needs a Maintainer or Owner`, "BAD_INPUT");
  const name = validateName(o.name ?? publishedModelName(repo, commit.contentId));
  const weights = loadWeights(ctx, commit.weightsHash);
  const provenance = { repository: await ctx.ledger.contract.getAddress(), repo, repoId, commitId: token, contentId: commit.contentId };
  ctx.progress(`publishing ${repo} commit ${shortId(commit.contentId)} as model "${name}" (batches of ${o.batch}, ${bps / 100}% of each fee to its contributors)`);
  await writePublishedModel(name, spec, weights, provenance);
  const reg = await registerModel(seq, ctx.hre, name, o.batch, ctx.progress, { insecureDevSetup: o.insecureDevSetup }, {
    repository: provenance.repository, repoId, commitId: token, contributorBps: bps,
  });
  return {
    modelId: reg.modelId, commit: commit.contentId, commitToken: token, name, batchSize: o.batch, verifier: reg.verifier,
    constraints: reg.constraints, reused: reg.reused, contributorBps: bps,
  };
}
