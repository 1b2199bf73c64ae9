import fs from "fs";
import path from "path";
import { task, types } from "hardhat/config";
import { flavumAction, progress, userPath } from "./util";
import { EvmRollupLedger, recordedRollup } from "../src/chain/evmRollup";
import { SequencerStore } from "../src/rollup/store";
import { defaultStorePath, openSequencer } from "../src/rollup/service";
import { rebuildStore, RebuildReport } from "../src/rollup/rebuild";
import { startTraceNode, stopTraceNode, TraceNode } from "../src/traceStore/ipfs";
import { repoRoot } from "../src/zk/paths";

function summary(r: RebuildReport): string {
  const lines = [`rebuilt ${r.store} from rollup deployment ${r.deployment}:`];
  for (const m of r.models)
    lines.push(`  model ${m.modelId} ${m.name}: batches of ${m.batchSize}, verifier ${m.verifier}, build ${m.build}${m.added ? "" : " (already in the store)"}`);
  for (const m of r.unservedModels) lines.push(`  model ${m.modelId} (${m.uri}) not served here: ${m.reason}`);
  for (const b of r.batches)
    lines.push(`  batch ${b.batchId} (model ${b.modelId}, its batch ${b.modelBatch}): ${b.count} inference(s) from ${b.traceFrom}, tx ${b.txHash}` +
      (b.added === false ? " (already in the store)" : b.added === "settled" ? " (was in flight: now recorded settled)" : ""));
  const q = r.requests;
  lines.push(`  requests proven in the batches added: ${q.settled} (${q.onchain} on chain, ${q.offchain} off chain), ${q.delivered} already delivered` +
    (q.moved ? `, ${q.moved} the store held unsettled moved into their batches` : "") +
    `; ${q.pendingOnchain} on-chain request(s) pending in no batch (the next batch:prove / batch:run picks them up)`);
  if (r.state) lines.push(`  data-point state: ${r.state.stateBatches} state batch(es), ${r.state.operations} operation(s) replayed from L1 events, ${r.state.ok ? "root matches" : `DIFFERS: ${r.state.detail}`}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  lines.push(`  not recoverable from the chain: ${r.unrecoverable.join("; ")}`);
  return lines.join("\n");
}

task("sequencer:rebuild", "Rebuild a lost sequencer store from the chain: models, settled batches with their proofs, and the requests they prove")
  .addOptionalParam("store", "Sequencer store to fill (default build/rollup/<network>/<chainId>-<rollup>/sequencer.db)")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .addFlag("force", "Fill a store that is not empty, adding only what it is missing")
  .addFlag("json", "Print JSON")
  .setAction(
    flavumAction(async (a: { store?: string; from: number; force: boolean; json: boolean }, hre) => {
      const addresses = recordedRollup(hre.network.name);
      const ledger = await EvmRollupLedger.connect(hre, addresses, a.from, progress);
      const chainId = (await hre.ethers.provider.getNetwork()).chainId;
      const file = a.store ? userPath(a.store) : defaultStorePath(hre.network.name, { chainId, rollup: addresses.rollup });
      let node: TraceNode | undefined;
      let report: RebuildReport;
      const store = new SequencerStore(file);
      try {
        // The sequencer's own publishing node keeps every trace it posted (src/traceStore/localCommittee.ts).
        const blocks = path.join(repoRoot(), "build", "rollup", hre.network.name, "ipfs", "sequencer");
        if ((await ledger.traceStore()) === "ipfs" && fs.existsSync(blocks)) node = await startTraceNode({ dir: blocks });
        report = await rebuildStore(store, ledger, { progress, force: a.force, ipfs: node && { node, timeoutMs: 5_000 } });
      } finally {
        store.close();
        if (node) await stopTraceNode(node);
      }
      // Opened the way every other command opens it: reconcile() fails unless the trees match the chain's roots.
      const seq = await openSequencer(hre, { store: file, addresses, signerIndex: a.from, progress });
      seq.store.close();
      if (a.json) console.log(JSON.stringify({ ...report, reconciled: true }));
      else console.log(`${summary(report)}\nthe sequencer opens on it: its trace trees match the rollup's roots`);
    }, { persistent: true }),
  );
