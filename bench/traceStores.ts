/**
 * Inference on data points in each trace store: for B = 16 and 32, B data points deposited on L1, an
 * on-chain inference request on each, the state batches that authorise them, and one full inference
 * batch of B answering them, settled on a calldata, a blob and an IPFS (2-of-3 committee) deployment —
 * all through the real paths (deployRollup → deployState → registerModel → FlavumState deposits and
 * requests → runStateBatch → Sequencer prove/submit/deliver). Reports the settlement gas per inference,
 * and with delivery (fulfil or fulfillFromBatch, which in blob and IPFS modes also pays the fee and marks
 * the request included) per inference.
 */
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { Wallet } from "ethers";
import { deployRollup, DeployRollupOptions } from "../src/chain/deployRollup";
import { deployState } from "../src/chain/deployState";
import { EvmStateLedger } from "../src/chain/evmState";
import { EvmRollupLedger } from "../src/chain/evmRollup";
import { runStateBatch } from "../src/rollup/stateSequencer";
import { openSequencer, registerModel, resetStore } from "../src/rollup/service";
import { loadModel } from "../src/model/artifacts";
import { quantizeInput } from "../src/quant/intExec";
import { readSamples } from "../src/model/samples";
import { repoRoot } from "../src/zk/paths";
import { startTraceNode, stopTraceNode, TraceNode } from "../src/traceStore/ipfs";
import { HeliaIpfsPoster } from "../src/traceStore/ipfsPoster";
import { GAS_PER_BLOB } from "../src/traceStore/blob";
import { TRACE_STORES, TraceStoreMode } from "../src/traceStore/commitment";
import { benchDir, errorMessage, median, scoped } from "./common";

export const TRACE_STORE_MODEL = "logreg_cancer";
export const TRACE_STORE_BATCHES = [16, 32];
/** The small state circuit: its size does not change an inference batch's cost. */
const STATE = { depth: 8, opsPerBatch: 4, deadline: 10_000 };

export interface TraceStoreRow {
  mode: TraceStoreMode;
  batchSize: number;
  /** gasUsed of the inference batch's settlement (submitBatch / submitBatchBlob / submitBatchIpfs). */
  submitGas?: number;
  gasPerInference?: number;
  /** Median gasUsed of delivering one request (fulfil, or fulfillFromBatch in blob/IPFS). */
  deliverGas?: number;
  /** (submit + B deliveries) / B. */
  gasPerDeliveredInference?: number;
  /** Blob gas (its own fee market): 131,072 per blob. */
  blobGas?: number;
  traceBytes?: number;
  error?: string;
}

const dacKeys = [1, 2, 3].map((i) => new Wallet(`0x${(0xdac100n + BigInt(i)).toString(16).padStart(64, "0")}`));

export async function benchTraceStores(hre: HardhatRuntimeEnvironment, batchSizes: number[]): Promise<TraceStoreRow[]> {
  const log = scoped("trace stores");
  const model = loadModel(TRACE_STORE_MODEL);
  const samples = readSamples(path.join(repoRoot(), "fixtures", "data", `${TRACE_STORE_MODEL}.heldout.json`));
  const rows: TraceStoreRow[] = [];
  for (const B of batchSizes)
    for (const mode of TRACE_STORES) {
      const row: TraceStoreRow = { mode, batchSize: B };
      const nodes: TraceNode[] = [];
      try {
        const opts: DeployRollupOptions = mode === "ipfs" ? { traceStore: mode, dac: dacKeys.map((w) => w.address), dacThreshold: 2 } : { traceStore: mode };
        const d = await deployRollup(hre, opts);
        const s = await deployState(hre, d, STATE);
        const state = await EvmStateLedger.connect(hre, s.addresses.state, 0, log);
        const store = path.join(benchDir("traceStores"), `${mode}_batch${B}.sequencer.db`);
        resetStore(store);
        const seq = await openSequencer(hre, { addresses: d.addresses, store, progress: log });
        try {
          const ledger = seq.ledger as EvmRollupLedger;
          if (mode === "ipfs") {
            const publisher = await startTraceNode();
            const members = await Promise.all(dacKeys.slice(0, 2).map(async (wallet) => ({ wallet, node: await startTraceNode() })));
            nodes.push(publisher, ...members.map((m) => m.node));
            ledger.ipfsPoster = new HeliaIpfsPoster(publisher, members, dacKeys.map((w) => w.address), 2);
          }
          if (mode === "blob") ledger.blobArchive = benchDir("traceStores", "blobs");
          const { modelId } = await registerModel(seq, hre, TRACE_STORE_MODEL, B, log);
          for (let i = 0; i < B; i++) {
            const values = quantizeInput(model.q, samples[i % samples.length]);
            await (await s.state.deposit(values, model.q.input.bits, false)).wait();
            await (await s.state.requestInference(modelId, BigInt(i + 1), hre.ethers.ZeroAddress)).wait();
          }
          while (await runStateBatch(state, { progress: log }));
          await seq.syncOnchainRequests();
          const b = await seq.proveNext();
          if (!b || b.count !== B) throw new Error(`expected a full batch of ${B} requests on data points, got ${b?.count ?? "none"}`);
          const settled = (await seq.submit())!;
          row.submitGas = Number(settled.gasUsed);
          row.gasPerInference = Math.round(row.submitGas / B);
          row.traceBytes = (b.trace.length - 2) / 2;
          if (mode === "blob") row.blobGas = Number(GAS_PER_BLOB);
          const from = await hre.ethers.provider.getBlockNumber();
          if ((await seq.deliver()) !== B) throw new Error(`expected ${B} deliveries`);
          const fulfilled = await d.rollup.queryFilter(d.rollup.filters.InferenceFulfilled(), from + 1);
          const gas = await Promise.all(fulfilled.map(async (e) => Number((await e.getTransactionReceipt()).gasUsed)));
          row.deliverGas = median(gas);
          row.gasPerDeliveredInference = Math.round((row.submitGas + gas.reduce((a, x) => a + x, 0)) / B);
          log(`${mode}, B = ${B}: settle ${row.submitGas} gas (${row.gasPerInference}/inference), deliver ${row.deliverGas} each, ${row.gasPerDeliveredInference}/delivered inference`);
        } finally {
          seq.store.close();
        }
      } catch (e) {
        row.error = errorMessage(e);
        log(`${mode}, B = ${B}: ${row.error}`);
      } finally {
        for (const n of nodes) await stopTraceNode(n);
      }
      rows.push(row);
    }
  return rows;
}
