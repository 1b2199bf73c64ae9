/**
 * One rollup on two EVM chains: two `hardhat node`s (chain ids 31338 and 31339) as separate
 * processes, the rollup deployed on both with one domain, logreg_cancer registered on both, and one
 * full batch proven once and settled on both through the real path (Sequencer over a
 * MultiChainLedger, then chainMirror's catch-up), timed end to end. Each chain's submitBatch gas is
 * its receipt's; the anchoring figure (Mina, proofs enabled) is bench/minaAnchor.ts's.
 */
import fs from "fs";
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { deployRollup } from "../src/chain/deployRollup";
import { connectChains } from "../src/chain/chainSet";
import { MultiChainLedger } from "../src/chain/multiChainLedger";
import { runtimeFor } from "../src/chain/networks";
import { EvmRollupLedger } from "../src/chain/evmRollup";
import { newDomainId } from "../src/protocol/domain";
import { catchUpAll } from "../src/rollup/chainMirror";
import { registerModelOnChains } from "../src/rollup/multiChainModels";
import { Sequencer } from "../src/rollup/sequencer";
import { SequencerStore } from "../src/rollup/store";
import { repoRoot } from "../src/zk/paths";
import { startHardhatNode, type HardhatNode } from "../test/helpers/processes";
import { benchDir, progress as benchProgress, scoped } from "./common";

export const MULTICHAIN_MODEL = "logreg_cancer";
const BATCH = 8;

export interface MultichainSummary {
  model: string;
  batchSize: number;
  chains: { network: string; chainId: string; gasUsed: number; settleMs: number }[];
  /** Witness + proof of the batch, once for both chains. */
  proveMs: number;
  /** From the proven batch to its settlement on both chains (primary, then the other). */
  settleBothMs: number;
  /** Both chains report the same settlement history root afterwards. */
  agree: boolean;
}

export async function benchMultichain(hre: HardhatRuntimeEnvironment): Promise<MultichainSummary> {
  const log = scoped("multichain");
  const dir = benchDir("multichain", String(Date.now()));
  const nodes: HardhatNode[] = [];
  const saved = { deployments: process.env.FLAVUM_DEPLOYMENTS_DIR, a: hre.config.networks.localhost, b: hre.config.networks.localhost2 };
  process.env.FLAVUM_DEPLOYMENTS_DIR = dir;
  try {
    for (const id of ["31338", "31339"]) nodes.push(await startHardhatNode({ env: { ...process.env, FLAVUM_CHAIN_ID: id } }));
    // The bench's own runtime was configured before the nodes had ports: point both networks at them.
    (hre.config.networks as Record<string, unknown>).localhost = { ...saved.a, url: nodes[0].url };
    (hre.config.networks as Record<string, unknown>).localhost2 = { ...saved.b, url: nodes[1].url };
    const networks = ["localhost", "localhost2"];
    const views = [await runtimeFor(hre, networks[0]), await runtimeFor(hre, networks[1])];
    const deployer = (await views[0].ethers.getSigners())[0];
    const address = await deployer.getAddress();
    const domain = newDomainId(31338n, address, BigInt(await views[0].ethers.provider.getTransactionCount(address)));
    log("deploying one domain on both chains");
    const deployed = [];
    for (const [tag, view] of views.entries()) deployed.push(await deployRollup(view, { domain, chainTag: tag }));
    for (const [i, view] of views.entries()) {
      const ledger = await EvmRollupLedger.connect(view, { registry: deployed[i].addresses.registry, rollup: deployed[i].addresses.rollup });
      const other = deployed[1 - i];
      await ledger.evm.send("registering the other chain", ledger.rollup.registerSettlement(BigInt((await views[1 - i].ethers.provider.getNetwork()).chainId), other.addresses.rollup, 1 - i));
    }
    const members = await connectChains(hre, networks, 0, log);
    const store = new SequencerStore(path.join(dir, "sequencer.db"));
    try {
      const primary = await Sequencer.open(store, members[0].ledger, log);
      await registerModelOnChains(primary, members, MULTICHAIN_MODEL, BATCH, log);
      const seq = await Sequencer.open(store, new MultiChainLedger(members), log);
      const heldout = JSON.parse(fs.readFileSync(path.join(repoRoot(), "fixtures", "data", "logreg_cancer.heldout.json"), "utf8")) as { inputs: number[][] };
      const samples = heldout.inputs.slice(0, BATCH);
      seq.request(MULTICHAIN_MODEL, samples, { strict: false, what: "held-out samples" });
      const b = await seq.proveNext();
      if (!b) throw new Error("multichain: no batch to prove");
      const proveMs = b.proveMs;
      const t0 = performance.now();
      const settled = await seq.submit();
      const primaryMs = performance.now() - t0;
      const [sync] = await catchUpAll(store, members, { progress: log });
      const settleBothMs = performance.now() - t0;
      if (!settled || sync.error || sync.sent.length !== 1) throw new Error(`multichain: the batch did not settle on both chains (${sync.error ?? sync.pending ?? "nothing sent"})`);
      const [ha, hb] = [await members[0].ledger.history(), await members[1].ledger.history()];
      return {
        model: MULTICHAIN_MODEL, batchSize: BATCH, proveMs, settleBothMs,
        chains: [
          { network: networks[0], chainId: members[0].chainId.toString(), gasUsed: Number(settled.gasUsed), settleMs: primaryMs },
          { network: networks[1], chainId: members[1].chainId.toString(), gasUsed: Number(sync.sent[0].gasUsed), settleMs: sync.sent[0].ms },
        ],
        agree: ha.root === hb.root && ha.batches === hb.batches,
      };
    } finally {
      store.close();
    }
  } finally {
    for (const n of nodes) await n.stop();
    (hre.config.networks as Record<string, unknown>).localhost = saved.a;
    (hre.config.networks as Record<string, unknown>).localhost2 = saved.b;
    if (saved.deployments === undefined) delete process.env.FLAVUM_DEPLOYMENTS_DIR;
    else process.env.FLAVUM_DEPLOYMENTS_DIR = saved.deployments;
    fs.rmSync(dir, { recursive: true, force: true });
    benchProgress("multichain: both nodes stopped");
  }
}

export function formatMultichain(m: MultichainSummary): string {
  const rows = m.chains.map((c) => `  ${c.network} (chain ${c.chainId}): submitBatch ${c.gasUsed.toLocaleString("en-US")} gas, ${(c.settleMs / 1000).toFixed(2)} s`);
  return [
    `One batch of ${m.batchSize} (${m.model}) on two EVM chains: proven once in ${(m.proveMs / 1000).toFixed(1)} s, settled on both in ${(m.settleBothMs / 1000).toFixed(2)} s; chains agree: ${m.agree ? "yes" : "NO"}`,
    ...rows,
  ].join("\n");
}
