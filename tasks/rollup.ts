import { task, types } from "hardhat/config";
import { flavumAction, progress, userPath } from "./util";
import { deployRollup } from "../src/chain/deployRollup";
import { deployRepositories } from "../src/chain/deployRepos";
import { defaultStorePath, openSequencer, registerModel, resetStore } from "../src/rollup/service";
import { readSamples } from "../src/model/samples";
import type { Sequencer } from "../src/rollup/sequencer";

type StoreArgs = { store?: string; from: number };
const withSequencer = async <T>(hre: any, a: StoreArgs, fn: (s: Sequencer) => Promise<T>): Promise<T> => {
  const seq = await openSequencer(hre, { store: a.store && userPath(a.store), signerIndex: a.from, progress });
  try {
    return await fn(seq);
  } finally {
    seq.store.close();
  }
};
const storeParams = (t: any) =>
  t.addOptionalParam("store", "Sequencer store (default build/rollup/<network>/sequencer.db)")
    .addOptionalParam("from", "Signer index", 0, types.int);

task("rollup:deploy", "Deploy ModelRegistry, FlavumRollup, the Poseidon hashers and ModelRepository; record them in deployments/<network>.json")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .setAction(
    flavumAction(async (a: { from: number }, hre) => {
      const d = await deployRollup(hre, { signerIndex: a.from });
      const r = await deployRepositories(hre, { signerIndex: a.from });
      // A new rollup starts from an empty tree: the previous sequencer state belongs to the old one.
      if (hre.network.name !== "hardhat") resetStore(defaultStorePath(hre.network.name));
      console.log(`ModelRegistry   ${d.addresses.registry}\nFlavumRollup    ${d.addresses.rollup}\nModelRepository ${r.address}\nempty root      ${d.emptyRoot}`);
    }),
  );

storeParams(
  task("model:register", "Build the model's batch circuit, deploy its verifier and mint the model NFT")
    .addParam("name", "Compiled model name")
    .addOptionalParam("batch", "Batch size (a power of two)", 8, types.int)
    .addFlag("json", "Print JSON"),
).setAction(
  flavumAction(async (a: StoreArgs & { name: string; batch: number; json: boolean }, hre) =>
    withSequencer(hre, a, async (seq) => {
      const r = await registerModel(seq, hre, a.name, a.batch, progress);
      if (a.json) console.log(JSON.stringify({ modelId: r.modelId.toString(), verifier: r.verifier, batchSize: a.batch }));
      else console.log(`model ${a.name} is model id ${r.modelId}${r.reused ? " (already registered)" : ""}: batches of ${a.batch}, ${r.constraints} constraints, verifier ${r.contract} at ${r.verifier}`);
    }),
  ),
);

storeParams(
  task("infer:request", "Queue inference requests with the sequencer")
    .addParam("model", "Model id or name")
    .addParam("input", "JSON samples (array of flat arrays, or one flat array)")
    .addFlag("json", "Print JSON"),
).setAction(
  flavumAction(async (a: StoreArgs & { model: string; input: string; json: boolean }, hre) =>
    withSequencer(hre, a, async (seq) => {
      const ids = seq.request(a.model, readSamples(userPath(a.input)));
      console.log(a.json ? JSON.stringify({ requests: ids.map(String) }) : `queued request(s) ${ids.join(", ")}`);
    }),
  ),
);

async function proveStep(seq: Sequencer) {
  await seq.syncOnchainRequests();
  return seq.proveNext();
}

async function submitStep(seq: Sequencer, json: boolean) {
  const s = await seq.submit();
  if (!s) {
    console.log(json ? JSON.stringify({ batchId: null }) : "no proven batch to submit");
    return;
  }
  const fulfilled = await seq.fulfillOnchain(s);
  const out = { batchId: s.batchId.toString(), txHash: s.txHash, gasUsed: s.gasUsed.toString(), inferences: s.inferences };
  console.log(json ? JSON.stringify(out) : `batch ${out.batchId}: ${out.inferences} inference(s) settled in ${out.txHash}, ${out.gasUsed} gas` +
    (fulfilled ? `, ${fulfilled} on-chain request(s) fulfilled` : ""));
}

storeParams(task("batch:prove", "Prove the next batch of pending requests").addFlag("json", "Print JSON")).setAction(
  flavumAction(async (a: StoreArgs & { json: boolean }, hre) =>
    withSequencer(hre, a, async (seq) => {
      const b = await proveStep(seq);
      const out = b && { batch: b.batchNumber.toString(), inferences: b.count, proveMs: Math.round(b.proveMs), status: b.status };
      console.log(a.json ? JSON.stringify(out ?? { batch: null }) : out ? `batch ${out.batch}: ${out.inferences} inference(s) proven (${out.status}) in ${out.proveMs} ms` : "nothing pending");
    }),
  ),
);

storeParams(task("batch:submit", "Settle the proven batch on the rollup").addFlag("json", "Print JSON")).setAction(
  flavumAction(async (a: StoreArgs & { json: boolean }, hre) => withSequencer(hre, a, (seq) => submitStep(seq, a.json))),
);

storeParams(task("batch:run", "Prove and settle the next batch").addFlag("json", "Print JSON")).setAction(
  flavumAction(async (a: StoreArgs & { json: boolean }, hre) =>
    withSequencer(hre, a, async (seq) => {
      if (!(await proveStep(seq))) return console.log(a.json ? JSON.stringify({ batchId: null }) : "nothing pending");
      await submitStep(seq, a.json);
    }),
  ),
);

storeParams(
  task("trace:show", "Show a request's inference, batch and root, and whether the ledger confirms it")
    .addParam("request", "Request id")
    .addFlag("json", "Print JSON"),
).setAction(
  flavumAction(async (a: StoreArgs & { request: string; json: boolean }, hre) =>
    withSequencer(hre, a, async (seq) => {
      const t = await seq.trace(BigInt(a.request));
      if (a.json) return console.log(JSON.stringify(t));
      console.log([
        `request ${t.requestId} (model ${t.modelId}): ${t.status}`,
        t.inputHash && `  input commitment ${t.inputHash}`,
        t.output && `  output ${t.output.map((v) => +v.toFixed(4)).join(", ")} (label ${t.label})`,
        t.batch && `  batch ${t.batch}, leaf ${t.index}, batch root ${t.batchRoot}`,
        t.stateRoot && `  state root after it ${t.stateRoot}, tx ${t.txHash}`,
        `  ledger confirms it: ${t.verified ? "yes" : "no"}`,
      ].filter(Boolean).join("\n"));
    }),
  ),
);
