/**
 * The multi-chain commands: one rollup deployed and settled on several EVM chains (`--chains a,b`,
 * the primary first) and anchored in a non-EVM ledger (`--anchor <journal>`). The logic lives in
 * src/chain/chainSet.ts, src/chain/multiChainLedger.ts, src/rollup/chainMirror.ts and
 * src/rollup/anchorSync.ts; this file only wires the command line to it.
 */
import { task, types } from "hardhat/config";
import { FlavumError } from "../src/errors";
import { parseChains, runtimeFor } from "../src/chain/networks";
import { connectChains, ChainMember } from "../src/chain/chainSet";
import { MultiChainLedger } from "../src/chain/multiChainLedger";
import { EvmRollupLedger } from "../src/chain/evmRollup";
import { newDomainId } from "../src/protocol/domain";
import { catchUpAll } from "../src/rollup/chainMirror";
import { rollupStatus } from "../src/rollup/chainStatus";
import { registerModelOnChains } from "../src/rollup/multiChainModels";
import { defaultStorePath } from "../src/rollup/service";
import { Sequencer } from "../src/rollup/sequencer";
import { SequencerStore } from "../src/rollup/store";
import type { AnchorLedger } from "../src/chain/anchor";
import type { ChainHistory } from "../src/rollup/anchorSync";
import { flavumAction, progress, userPath } from "./util";
import { deployOn, deploySummary, stateSteps, type DeployOptions, type StoreArgs } from "./rollup";

/** Loaded only when --anchor is given: o1js is large and slow to load. */
async function openAnchor(file: string): Promise<AnchorLedger> {
  const { MinaAnchorLedger } = await import("../src/chain/mina/minaAnchor");
  return MinaAnchorLedger.open({ file: userPath(file), progress });
}

async function withAnchor<T>(file: string | undefined, fn: (a: AnchorLedger | undefined) => Promise<T>): Promise<T> {
  const anchor = file === undefined ? undefined : await openAnchor(file);
  try {
    return await fn(anchor);
  } finally {
    await anchor?.close();
  }
}

// ------------------------------------------------------------------ deploy

/** rollup:deploy --chains: the same rollup (one domain, chain tags 0, 1, …) on each chain, each one told of the others. */
export async function deployOnChains(hre: any, a: { chains?: string; json: boolean }, o: DeployOptions) {
  if (a.chains === undefined) throw new FlavumError("rollup:deploy --chains needs the networks to deploy on", "BAD_INPUT");
  const names = parseChains(a.chains);
  if (o.traceStore !== "calldata")
    throw new FlavumError(`--chains deploys calldata rollups only for now (got --trace-store ${o.traceStore}): a blob or IPFS batch would need its data posted and attested per chain`, "BAD_INPUT");
  if (names.length > 1 << 16) throw new FlavumError(`--chains lists ${names.length} chains; a rollup has at most 65536`, "BAD_INPUT");
  const views = [];
  for (const n of names) views.push(await runtimeFor(hre, n));
  // The domain is fixed by the primary's genesis deployment: its chain, deployer and nonce.
  const primary = views[0];
  const deployer = (await primary.ethers.getSigners())[o.signerIndex];
  if (!deployer) throw new FlavumError(`--from ${o.signerIndex}: network ${names[0]} has no signer ${o.signerIndex}`, "BAD_INPUT");
  const address = await deployer.getAddress();
  const domain = newDomainId((await primary.ethers.provider.getNetwork()).chainId, address, BigInt(await primary.ethers.provider.getTransactionCount(address)));
  const deployed = [];
  for (const [tag, view] of views.entries()) {
    progress(`deploying on ${names[tag]} (chain tag ${tag})`);
    deployed.push(await deployOn(view, o, { domain, chainTag: tag }));
  }
  // Every rollup lists every chain of the domain (its own entry is registered by the deploy).
  for (const [i, view] of views.entries()) {
    const ledger = await EvmRollupLedger.connect(view, { registry: deployed[i].registry, rollup: deployed[i].rollup }, o.signerIndex, progress);
    for (const [j, other] of deployed.entries()) {
      if (j === i) continue;
      await ledger.evm.send(`registering ${other.network}'s rollup with ${names[i]}'s`, ledger.rollup.registerSettlement(BigInt(other.chainId), other.rollup, j));
    }
  }
  const out = { domain: "0x" + domain.toString(16), chains: deployed };
  console.log(a.json ? JSON.stringify(out) : deployed.map((d) => `--- ${d.network} (chain ${d.chainId})\n${deploySummary(d)}`).join("\n"));
}

// ------------------------------------------------------------------ sequencer over several chains

async function withChains<T>(hre: any, a: StoreArgs & { chains: string }, fn: (members: ChainMember[], store: SequencerStore) => Promise<T>): Promise<T> {
  const members = await connectChains(hre, parseChains(a.chains), a.from, progress);
  const p = members[0];
  if ((await p.ledger.traceStore()) !== "calldata") throw new FlavumError(`--chains settles calldata rollups only; ${p.network}'s posts traces elsewhere`, "BAD_INPUT");
  const store = new SequencerStore(a.store ? userPath(a.store) : defaultStorePath(p.network, { chainId: p.chainId, rollup: p.rollup }));
  try {
    return await fn(members, store);
  } finally {
    store.close();
  }
}

export async function registerOnChains(hre: any, a: StoreArgs & { chains: string; name: string; batch: number; json: boolean; insecureDevSetup: boolean }) {
  return withChains(hre, a, async (members, store) => {
    // Registration goes through the primary's own ledger; the others follow in registerModelOnChains.
    const seq = await Sequencer.open(store, members[0].ledger, progress);
    const r = await registerModelOnChains(seq, members, a.name, a.batch, progress, { insecureDevSetup: a.insecureDevSetup });
    if (a.json) console.log(JSON.stringify({ modelId: r.modelId.toString(), verifier: r.verifier, batchSize: a.batch, chains: r.chains }));
    else console.log(`model ${a.name} is model id ${r.modelId} on ${r.chains.map((c) => `${c.network} (verifier ${c.verifier}${c.reused ? ", already registered" : ""})`).join(", ")}: batches of ${a.batch}`);
  });
}

/**
 * batch:run --chains: state batches on each chain (each chain's data points are its own), the next
 * inference batch proven once and settled on the primary, every other chain caught up in the
 * primary's order, results delivered on the chain each request came from, and the history anchored.
 */
export async function runOnChains(hre: any, a: StoreArgs & { chains: string; anchor?: string; json: boolean }) {
  // The anchor is opened (its journal replayed) before any chain is touched: the replay holds the
  // event loop for seconds, long enough for a node to drop an idle keep-alive connection.
  return withAnchor(a.anchor, (anchor) => withChains(hre, a, async (members, store) => {
    const stateBatches: Record<string, unknown[]> = {};
    for (const m of members) stateBatches[m.network] = await stateSteps(m.hre, a);
    const seq = await Sequencer.open(store, new MultiChainLedger(members), progress);
    await seq.syncOnchainRequests();
    const t0 = Date.now();
    const proven = await seq.proveNext();
    const settled = proven ? await seq.submit() : undefined;
    const primaryMs = Date.now() - t0;
    const chains = await catchUpAll(store, members, { progress });
    const fulfilled = await seq.deliver();
    let anchored;
    if (anchor) {
      const { anchorPending } = await import("../src/rollup/anchorSync");
      anchored = await anchorPending(anchor, await members[0].ledger.settledBatches(), progress);
    }
    const out = {
      batchId: settled ? settled.batchId.toString() : null,
      ...(settled && { txHash: settled.txHash, gasUsed: settled.gasUsed.toString(), inferences: settled.inferences, primaryMs }),
      chains, fulfilled, stateBatches, ...(anchored && { anchored }),
    };
    if (a.json) return console.log(JSON.stringify(out));
    console.log(settled ? `batch ${out.batchId}: ${settled.inferences} inference(s) settled on ${members[0].network} in ${settled.txHash}, ${settled.gasUsed} gas` : "no inference pending");
    for (const c of chains)
      console.log(`${c.network}: ${c.error ? `not caught up (${c.error})` : `${c.to}/${c.target} batches${c.sent.length ? `, sent ${c.sent.length}` : ""}${c.pending ? ` (${c.pending})` : ""}`}`);
    if (fulfilled) console.log(`${fulfilled} on-chain request(s) fulfilled`);
    if (anchored) console.log(`anchored ${anchored.anchored} batch(es) in the ${a.anchor} anchor`);
  }));
}

// ------------------------------------------------------------------ status and anchor check

task("rollup:status", "Where the rollup stands on each chain (settlement history root and batches) and whether the chains agree")
  .addOptionalParam("chains", "Hardhat networks of a multi-chain rollup, comma-separated (default: --network)")
  .addOptionalParam("anchor", "A local Mina anchor journal to report too")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .addFlag("json", "Print JSON")
  .setAction(
    flavumAction(async (a: { chains?: string; anchor?: string; from: number; json: boolean }, hre) => {
      // The anchor first, for the reason runOnChains gives.
      const s = await withAnchor(a.anchor, async (anchor) =>
        rollupStatus(await connectChains(hre, a.chains ? parseChains(a.chains) : [hre.network.name], a.from, progress), anchor));
      if (a.json) return console.log(JSON.stringify(s));
      for (const c of s.chains) console.log(`${c.network} (chain ${c.chainId}): ${c.error ? `unreachable: ${c.error}` : `${c.batches} batches, history root ${c.root}`}`);
      if (s.anchor) console.log(`anchor (${s.anchor.kind}): ${s.anchor.batches} batches, root ${s.anchor.root}`);
      console.log(s.agree ? "the chains agree" : "the chains do NOT agree");
    }, { persistent: true }),
  );

task("rollup:anchor-check", "Check that the roots anchored in the non-EVM ledger are the roots proven on every EVM chain, in the same order")
  .addParam("anchor", "The local Mina anchor journal")
  .addOptionalParam("chains", "Hardhat networks of the rollup, comma-separated (default: --network)")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .addFlag("json", "Print JSON")
  .setAction(
    flavumAction(async (a: { chains?: string; anchor: string; from: number; json: boolean }, hre) => {
      const members = await connectChains(hre, a.chains ? parseChains(a.chains) : [hre.network.name], a.from, progress);
      const { checkAnchor } = await import("../src/rollup/anchorSync");
      const chains: ChainHistory[] = [];
      for (const m of members) chains.push({ network: m.network, chainId: m.chainId, batches: await m.ledger.settledBatches(), history: await m.ledger.history() });
      const report = await withAnchor(a.anchor, (anchor) => checkAnchor(anchor!, chains));
      if (a.json) console.log(JSON.stringify(report));
      else {
        for (const c of report.chains) console.log(`${c.network}: ${c.ok ? "ok" : "MISMATCH"}, ${c.agreeing} of ${c.proven} proven batch(es) anchored${c.mismatch ? `: ${c.mismatch}` : ""}`);
        console.log(report.ok ? "the anchor agrees with every chain" : "the anchor does NOT agree with every chain");
      }
      if (!report.ok) process.exitCode = 1;
    }, { persistent: true }),
  );
