/**
 * A repository shared over IPFS, so contributors on different machines need no shared folder.
 * Every commit that carries weights of its own records where to find them: the repository token's
 * URI (the initial commit) and each training commit's URI are ipfs://<manifest CID> of its spec,
 * weights (and transcript) — computed offline when the commit is made (ipfsObjects.ts), so nothing
 * has to be online to push. A merge or revert records no URI and needs none: a merge's weights are
 * the repository's aggregate of the merged commits' weights (recomputed here with the same
 * reference the merge proof was made from), a revert's are the restored commit's.
 *
 * Whoever pulls trusts no peer: the spec block must hash to the repository's on-chain
 * architectureHash, every weights vector must open its commit's on-chain weightsHash, and a merge's
 * recomputed aggregate must open the merge commit's.
 */
import { FlavumError } from "../errors";
import { commitWeights, TrainingSpec } from "../training";
import { CommitKind } from "../chain/deployRepos";
import type { IpfsNode } from "../traceStore/ipfs";
import { cidFromCommitUri, fetchCommitObjects, publishCommitObjects } from "./ipfsObjects";
import { mergeInput } from "./circuits";
import { RepoContext, loadWeights, repoInfo, storeWeights } from "./workflow";

/**
 * Publishes on `node` the objects of every commit of `repo` whose weights this machine holds, so
 * peers can pull them; returns the manifest CIDs. Commits whose weights are not here are skipped
 * (counted): they are pulled from whoever has them.
 */
export async function serveRepository(ctx: RepoContext, node: IpfsNode, repo: string): Promise<{ served: string[]; missing: number }> {
  const { repoId, spec, specObj } = await repoInfo(ctx, repo);
  const specText = ctx.objects.get(specObj).toString("utf8");
  const served: string[] = [];
  let missing = 0;
  const seen = new Set<bigint>();
  for (const id of await ctx.ledger.commitsOf(repoId)) {
    const c = await ctx.ledger.commit(id);
    if (seen.has(c.weightsHash)) continue;
    seen.add(c.weightsHash);
    let weights: bigint[];
    try {
      weights = loadWeights(ctx, c.weightsHash);
    } catch {
      missing++;
      continue;
    }
    served.push((await publishCommitObjects(node, { spec, weights, specText })).cid);
  }
  return { served, missing };
}

/**
 * The weights of commit `token` of `repo`, from the local store or else over IPFS from the peers
 * `node` is connected to; everything fetched is verified against the chain and kept locally.
 */
export async function pullWeights(ctx: RepoContext, node: IpfsNode, repo: string, token: bigint, o: { timeoutMs?: number } = {}): Promise<bigint[]> {
  const { repoId, info, specObj } = await repoInfoOrFetch(ctx, node, repo, o);
  const spec = ctx.objects.getJson<TrainingSpec>(specObj);
  const resolve = async (id: bigint, depth: number): Promise<bigint[]> => {
    if (depth > 512) throw new FlavumError(`commit ${token} of ${repo}: history deeper than 512 commits`, "BAD_INPUT");
    const c = await ctx.ledger.commit(id);
    try {
      return loadWeights(ctx, c.weightsHash);
    } catch {
      // not here: fetched below
    }
    let weights: bigint[];
    if (c.kind === CommitKind.Train || c.kind === CommitKind.Initial) {
      const uri = c.kind === CommitKind.Initial ? info.uri : await ctx.ledger.tokenURI(id);
      const got = await fetchCommitObjects(node, cidFromCommitUri(uri), {
        expectedWeightsHash: c.weightsHash, expectedSpecHash: info.architectureHash, timeoutMs: o.timeoutMs, pin: true,
      });
      weights = got.weights;
    } else if (c.kind === CommitKind.Revert) weights = await resolve(c.revertOf, depth + 1);
    else {
      const merged = c.parents.slice(1);
      const list = await Promise.all(merged.map((m) => resolve(m, depth + 1)));
      const samples = await Promise.all(merged.map(async (m) => (await ctx.ledger.commit(m)).samples));
      weights = (await mergeInput(spec, list, samples)).weights;
      const h = await commitWeights(spec, weights);
      if (h !== c.weightsHash)
        throw new FlavumError(`merge commit ${c.contentId}: the aggregate of its commits' weights opens ${h}, the chain records ${c.weightsHash}`, "WEIGHTS_HASH_MISMATCH");
    }
    await storeWeights(ctx, spec, specObj, weights);
    return weights;
  };
  return resolve(token, 0);
}

/** The repository's spec, fetched from its token URI's objects (bound to architectureHash) if it is not here. */
async function repoInfoOrFetch(ctx: RepoContext, node: IpfsNode, repo: string, o: { timeoutMs?: number }) {
  const repoId = await ctx.ledger.repoIdByName(repo);
  const info = await ctx.ledger.repository(repoId);
  const specObj = info.architectureHash.replace(/^0x/, "");
  if (!ctx.objects.has(specObj)) {
    const initial = await ctx.ledger.commit(info.initialCommit);
    const got = await fetchCommitObjects(node, cidFromCommitUri(info.uri), {
      expectedWeightsHash: initial.weightsHash, expectedSpecHash: info.architectureHash, timeoutMs: o.timeoutMs, pin: true,
    });
    // The spec text the architectureHash commits to: JSON.stringify of its parse, as the object store writes it.
    const stored = ctx.objects.putJson(got.spec);
    if (stored !== specObj) throw new FlavumError(`internal: the fetched spec is stored as ${stored}, the repository's architectureHash is ${specObj}`, "CORRUPT_OBJECT");
    await storeWeights(ctx, got.spec, specObj, got.weights);
  }
  return { repoId, info, specObj };
}
