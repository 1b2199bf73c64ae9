import fs from "fs";
import { task, types } from "hardhat/config";
import { flavumAction, progress, userPath } from "./util";
import { INSECURE_DEV_SETUP_HELP } from "../src/zk/setupPolicy";
import { deployRollup, DEFAULT_INCLUSION_DELAY, traceStoreConfig } from "../src/chain/deployRollup";
import { traceStoreMode } from "../src/traceStore/commitment";
import { deployRepositories } from "../src/chain/deployRepos";
import { deployState, DEFAULT_DEADLINE, DEFAULT_STATE } from "../src/chain/deployState";
import { checkStateParameters } from "../src/rollup/stateBuild";
import { EvmStateLedger, recordedState } from "../src/chain/evmState";
import { runStateBatch } from "../src/rollup/stateSequencer";
import { FlavumError, InputError } from "../src/errors";
import { EvmRollupLedger, recordedRollup } from "../src/chain/evmRollup";
import { attachLocalCommittee } from "../src/traceStore/localCommittee";
import { defaultStorePath, moveStoreAside, openSequencer, registerModel } from "../src/rollup/service";
import { deployOnChains, registerOnChains, runOnChains } from "./chains";
import { idArg, intArg } from "./args";
import { readSamples, reviewSamples } from "../src/model/samples";
import { loadModel } from "../src/model/artifacts";
import type { Sequencer, TraceReport } from "../src/rollup/sequencer";
import type { QGraph } from "../src/quant/qgraph";
import type { FlavumNodeClient, NodeModel } from "../src/sdk/client";

// Loaded when a --node path runs, after the compile: the client's contract factories are TypeChain
// output (typechain-types/), which a fresh clone has only once `compile` has run, and every task
// file is loaded with hardhat.config.ts.
const sdkClient = () => import("../src/sdk/client");

export type StoreArgs = { store?: string; from: number };
const withSequencer = async <T>(hre: any, a: StoreArgs, fn: (s: Sequencer) => Promise<T>): Promise<T> => {
  const seq = await openSequencer(hre, { store: a.store && userPath(a.store), signerIndex: a.from, progress });
  let stopCommittee = async () => undefined as void;
  try {
    // An IPFS deployment's batches need the committee's attestations (src/traceStore/localCommittee.ts).
    const ledger = seq.ledger as EvmRollupLedger;
    if ((await ledger.traceStore()) === "ipfs") {
      const { committee, threshold } = await ledger.dacCommittee();
      stopCommittee = await attachLocalCommittee(ledger, committee, threshold);
    }
    return await fn(seq);
  } finally {
    seq.store.close();
    await stopCommittee();
  }
};
/** Sequencer commands act on a rollup an earlier command deployed: the chain must outlive them. */
const seqAction = <A>(fn: (a: A, hre: any) => Promise<unknown>) => flavumAction(fn, { persistent: true });
const storeParams = (t: any) =>
  t.addOptionalParam("store", "Sequencer store (default build/rollup/<network>/<chainId>-<rollup>/sequencer.db)")
    .addOptionalParam("from", "Signer index", 0, types.int);

/** The store of the rollup recorded for this network, if it has one (it stays where it is). */
async function previousStore(hre: any): Promise<{ rollup: string; store: string } | undefined> {
  if (hre.network.name === "hardhat") return undefined;
  let rollup: string;
  try {
    rollup = recordedRollup(hre.network.name).rollup;
  } catch {
    return undefined;
  }
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const store = defaultStorePath(hre.network.name, { chainId, rollup });
  return fs.existsSync(store) ? { rollup, store } : undefined;
}

task("rollup:deploy", "Deploy ModelRegistry, FlavumRollup, FlavumState (data points), the Poseidon hashers, ModelRepository and RepositoryRollup; record them in deployments/<network>.json")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .addOptionalParam("chains", "Deploy one rollup on several chains: Hardhat network names, comma-separated, the primary first (e.g. localhost,localhost2)")
  .addOptionalParam("inclusionDelay", `Blocks after which a pending on-chain request must be included, or may be cancelled (default ${DEFAULT_INCLUSION_DELAY})`)
  .addOptionalParam("deadline", `Blocks within which a queued state operation (deposit, transfer, exit, authorisation) must be processed before exodus may open (default ${DEFAULT_DEADLINE})`)
  .addOptionalParam("stateDepth", `Depth of the state tree: data points 1..2^depth - 1 (default ${DEFAULT_STATE.depth})`)
  .addOptionalParam("stateOps", `Operations per state batch, a power of two (default ${DEFAULT_STATE.opsPerBatch})`)
  .addOptionalParam("traceStore", "Where batch traces are posted: calldata (bound on chain), blob (EIP-4844) or ipfs (validium, with --dac)", "calldata")
  .addOptionalParam("dac", "ipfs: the data-availability committee, comma-separated addresses")
  .addOptionalParam("dacThreshold", "ipfs: how many committee members must attest each batch")
  .addFlag("json", "Print JSON")
  .setAction(
    flavumAction(async (a: DeployArgs, hre) => {
      const opts = deployOptions(a, hre);
      if (a.chains !== undefined) return deployOnChains(hre, a, opts);
      if (hre.network.name === "hardhat")
        progress("note: the in-process hardhat network forgets this deployment when the command ends; use --network localhost with `npx hardhat node` to keep it");
      const out = await deployOn(hre, opts);
      console.log(a.json ? JSON.stringify(out) : deploySummary(out));
    }, { artifacts: true }),
  );

type DeployArgs = { from: number; chains?: string; inclusionDelay?: string; deadline?: string; stateDepth?: string; stateOps?: string; traceStore: string; dac?: string; dacThreshold?: string; json: boolean };
export type DeployOptions = ReturnType<typeof deployOptions>;

/** The command line's deployment parameters, checked before anything is deployed. */
function deployOptions(a: DeployArgs, hre: any) {
  const inclusionDelay = intArg("inclusion-delay", a.inclusionDelay, { min: 1, fallback: DEFAULT_INCLUSION_DELAY });
  const deadline = intArg("deadline", a.deadline, { min: 1, fallback: DEFAULT_DEADLINE });
  const stateParams = { depth: intArg("state-depth", a.stateDepth, { min: 2, fallback: DEFAULT_STATE.depth }), opsPerBatch: intArg("state-ops", a.stateOps, { min: 1, fallback: DEFAULT_STATE.opsPerBatch }) };
  checkStateParameters(stateParams);
  const traceStore = traceStoreMode(a.traceStore);
  const dac = a.dac ? a.dac.split(",").map((x) => x.trim()).filter(Boolean) : [];
  for (const m of dac) if (!hre.ethers.isAddress(m)) throw new FlavumError(`--dac must list addresses, got "${m}"`, "BAD_INPUT");
  if (traceStore === "ipfs" && !dac.length) throw new FlavumError(`--trace-store ipfs needs its committee: --dac <addresses> --dac-threshold k`, "BAD_INPUT");
  const dacThreshold = traceStore === "ipfs" ? intArg("dac-threshold", a.dacThreshold, { min: 1, fallback: dac.length }) : 0;
  traceStoreConfig(traceStore, dac, dacThreshold);
  return { signerIndex: a.from, inclusionDelay, deadline, stateParams, traceStore, dac, dacThreshold };
}

/** Deploys the whole rollup on `hre`'s network (one chain of a multi-chain rollup when `domain` is given). */
export async function deployOn(hre: any, o: DeployOptions, chain: { domain?: bigint; chainTag?: number } = {}) {
  const previous = await previousStore(hre);
  const d = await deployRollup(hre, { signerIndex: o.signerIndex, inclusionDelay: o.inclusionDelay, traceStore: o.traceStore, dac: o.dac, dacThreshold: o.dacThreshold, ...chain });
  if (previous) progress(`the earlier rollup ${previous.rollup} keeps its sequencer store ${previous.store}; deployments/${hre.network.name}.json now records the new one`);
  const st = await deployState(hre, d, { ...o.stateParams, deadline: o.deadline, signerIndex: o.signerIndex });
  const r = await deployRepositories(hre, { signerIndex: o.signerIndex });
  const chainId = (await hre.ethers.provider.getNetwork()).chainId as bigint;
  // Each deployment has its own store; one left at this path by an earlier chain (a restarted
  // node reuses addresses) holds another rollup's history: keep it, out of the way.
  if (hre.network.name !== "hardhat") {
    const store = defaultStorePath(hre.network.name, { chainId, rollup: d.addresses.rollup });
    const aside = moveStoreAside(store);
    if (aside) progress(`a sequencer store of an earlier deployment at the same address was kept as ${aside}`);
  }
  return {
    network: hre.network.name as string, chainId: chainId.toString(), domain: "0x" + d.domain.toString(16), chainTag: d.chainTag,
    registry: d.addresses.registry, rollup: d.addresses.rollup, state: st.addresses.state, token: st.addresses.token,
    repository: r.address, repositoryRollup: r.rollupAddress, traceStore: o.traceStore, dac: o.dac, dacThreshold: o.dacThreshold,
    stateDepth: o.stateParams.depth, stateOps: o.stateParams.opsPerBatch, deadline: o.deadline, emptyRoot: d.emptyRoot.toString(),
  };
}

export function deploySummary(d: Awaited<ReturnType<typeof deployOn>>): string {
  return `ModelRegistry   ${d.registry}\nFlavumRollup    ${d.rollup}\nFlavumState     ${d.state} (depth ${d.stateDepth}, ${d.stateOps} ops per state batch, deadline ${d.deadline} blocks)\nDataPointToken  ${d.token}\nModelRepository ${d.repository}\nRepositoryRollup ${d.repositoryRollup}\ntrace store     ${d.traceStore}${d.traceStore === "ipfs" ? ` (committee ${d.dac.join(", ")}, ${d.dacThreshold} of ${d.dac.length})` : ""}\ndomain          ${d.domain} (chain ${d.chainId}, tag ${d.chainTag})\nempty root      ${d.emptyRoot}`;
}

storeParams(
  task("model:register", "Build the model's batch circuit, deploy its verifier and mint the model NFT")
    .addParam("name", "Compiled model name")
    .addOptionalParam("chains", "A rollup on several chains: register on each of these Hardhat networks, with the same model id")
    .addOptionalParam("batch", "Batch size (a power of two)", 8, types.int)
    .addFlag("insecureDevSetup", INSECURE_DEV_SETUP_HELP)
    .addFlag("json", "Print JSON"),
).setAction(
  seqAction(async (a: StoreArgs & { name: string; batch: number; json: boolean; insecureDevSetup: boolean; chains?: string }, hre) =>
    a.chains !== undefined ? registerOnChains(hre, { ...a, chains: a.chains }) : withSequencer(hre, a, async (seq) => {
      const r = await registerModel(seq, hre, a.name, a.batch, progress, { insecureDevSetup: a.insecureDevSetup });
      if (a.json) console.log(JSON.stringify({ modelId: r.modelId.toString(), verifier: r.verifier, batchSize: a.batch }));
      else console.log(`model ${a.name} is model id ${r.modelId}${r.reused ? " (already registered)" : ""}: batches of ${a.batch}, ${r.constraints} constraints, verifier ${r.contract} at ${r.verifier}`);
    }),
  ),
);

storeParams(
  task("infer:request", "Queue inference requests with the sequencer (--input), or request one on chain on a data point (--datapoint)")
    .addParam("model", "Model id or name")
    .addOptionalParam("input", "JSON samples (array of flat arrays, or one flat array)")
    .addOptionalParam("datapoint", "A data point id: an on-chain request, authorised by the next state batch (yours, or common)")
    .addOptionalParam("node", "A Flavum node's URL: send the samples to it as requests signed by --from, instead of queueing them in a local store")
    .addFlag("strict", "Refuse input the model would round (a fraction for an integer input) instead of warning on stderr")
    .addFlag("json", "Print JSON"),
).setAction(
  seqAction(async (a: StoreArgs & { model: string; input?: string; datapoint?: string; node?: string; strict: boolean; json: boolean }, hre) => {
    if (a.node !== undefined) return requestThroughNode(hre, { ...a, node: a.node });
    return withSequencer(hre, a, async (seq) => {
      if ((a.input === undefined) === (a.datapoint === undefined)) throw new FlavumError(`give either --input (off-chain requests) or --datapoint (an on-chain request on a data point)`, "BAD_INPUT");
      let ids: bigint[];
      if (a.datapoint !== undefined) {
        const dpId = idArg("datapoint", a.datapoint, "data point");
        const modelId = seq.served(a.model).modelId;
        const ledger = await EvmStateLedger.connect(hre, recordedState(hre.network.name), a.from, progress);
        const rollup = await hre.ethers.getContractAt("FlavumRollup", recordedRollup(hre.network.name).rollup);
        const fee = await rollup.estimateFee(modelId);
        const id = (await ledger.state.requestInference.staticCall(modelId, dpId, hre.ethers.ZeroAddress, { value: fee })) as bigint;
        await ledger.send(`requesting model ${modelId} on data point ${dpId}`, ledger.state.requestInference(modelId, dpId, hre.ethers.ZeroAddress, { value: fee }));
        ids = [id];
      } else {
        // A model with several inputs takes one flat array per input (src/model/samples.ts).
        const ports = loadModel(seq.served(a.model).name).q.inputs;
        ids = seq.request(a.model, readSamples(userPath(a.input!), ports), { strict: a.strict, what: `input file ${a.input}` });
      }
      console.log(a.json ? JSON.stringify({ requests: ids.map(String) }) : `queued request(s) ${ids.join(", ")}`);
    });
  }),
);

// ---------------------------------------------------------------- --node: through a node's API
// The node keeps its own store: these paths never open one, and read and sign nothing but what
// the node's API and the --network chain give.

/** A client pinned to the --network's chain and, when one is recorded, its rollup. */
async function nodeClient(hre: any, url: string): Promise<NodeContext> {
  const chainId = (await hre.ethers.provider.getNetwork()).chainId as bigint;
  let rollup: string | undefined;
  try {
    rollup = recordedRollup(hre.network.name).rollup;
  } catch {
    // Nothing recorded for this network (a remote chain deployed elsewhere): the chain id is pinned.
  }
  const { FlavumNodeClient } = await sdkClient();
  return { client: new FlavumNodeClient(url, { expect: { chainId, rollup } }), chainId, rollup, network: hre.network.name };
}

interface NodeContext {
  client: FlavumNodeClient;
  chainId: bigint;
  rollup?: string;
  network: string;
}

function refuseLocalOptions(a: { store?: string; node: string }): void {
  if (a.store !== undefined) throw new FlavumError(`--store does not go with --node: the node at ${a.node} keeps its own store`, "BAD_INPUT");
}

/** A WRONG_DEPLOYMENT from the client, told in the terms of this command line. */
function deploymentHint<T>(p: Promise<T>, n: NodeContext): Promise<T> {
  return p.catch((e) => {
    if (e instanceof FlavumError && (e.code === "WRONG_DEPLOYMENT" || e.code === "WRONG_CHAIN"))
      throw new FlavumError(`${e.message}; --network ${n.network} is chain ${n.chainId}` +
        (n.rollup ? ` with rollup ${n.rollup} recorded in deployments/${n.network}.json` : "") + `: point --node and --network at the same deployment`, e.code);
    throw e;
  });
}

async function nodeModelOf(client: FlavumNodeClient, idOrName: string): Promise<NodeModel> {
  const models = await client.models();
  const m = models.find((x) => x.modelId === idOrName.trim() || x.name === idOrName);
  if (!m)
    throw new FlavumError(`model "${idOrName}" is not served by the node at ${client.url} (it serves: ${models.map((x) => `${x.modelId} (${x.name})`).join(", ") || "none"})`, "UNKNOWN_MODEL");
  return m;
}

async function requestThroughNode(hre: any, a: StoreArgs & { model: string; input?: string; datapoint?: string; node: string; strict: boolean; json: boolean }) {
  if (a.datapoint !== undefined || a.input === undefined)
    throw new FlavumError(`--node sends the --input samples to the node; a request on a data point is made on chain (--datapoint, without --node)`, "BAD_INPUT");
  refuseLocalOptions(a);
  const n = await nodeClient(hre, a.node);
  const { client } = n;
  const model = await nodeModelOf(client, a.model);
  const samples = readSamples(userPath(a.input));
  const what = `input file ${a.input}`;
  // The rounding review reads nothing but the input tensor's scale and width, which the registry records.
  reviewSamples({ input: { scale: model.shape.inputScale, bits: model.shape.inputBits } } as unknown as QGraph, samples, what, { strict: a.strict, progress });
  const signer = (await hre.ethers.getSigners())[a.from];
  if (!signer) throw new FlavumError(`--from ${a.from}: --network ${hre.network.name} has no signer ${a.from}`, "BAD_INPUT");
  // Every sample is encoded and signed before the first is sent, so a bad one sends nothing.
  const signed = [];
  for (const [i, sample] of samples.entries()) {
    try {
      signed.push(await deploymentHint(client.signRequest({ modelId: model.modelId, sample, signer }), n));
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`sample ${i} of ${what}: ${e.message}`);
      throw e;
    }
  }
  const ids: string[] = [];
  for (const [i, body] of signed.entries()) {
    try {
      ids.push((await client.send(body)).requestId);
    } catch (e) {
      if (!(e instanceof (await sdkClient()).FlavumNodeError)) throw e;
      throw new FlavumError(`the node refused sample ${i} of ${what} (${e.status} ${e.code}): ${e.message}` +
        (ids.length ? `; sample(s) before it were sent as request(s) ${ids.join(", ")}` : "; nothing was sent"), e.code);
    }
  }
  console.log(a.json ? JSON.stringify({ requests: ids }) : `sent request(s) ${ids.join(", ")} to ${client.url} (model ${model.modelId}, signed by ${await signer.getAddress()})`);
}

/** The node's account of a request, with `verified` asked of the rollup on the --network chain by this command. */
async function traceThroughNode(hre: any, a: StoreArgs & { node: string }, request: bigint): Promise<TraceReport & Record<string, unknown>> {
  refuseLocalOptions(a);
  const n = await nodeClient(hre, a.node);
  // A node of another deployment would be asked about requests the --network rollup never saw.
  await deploymentHint(n.client.domain(), n);
  const t = await n.client.request(request);
  const verified = t.proof ? await deploymentHint(n.client.verifyOnChain(t.proof, hre.ethers.provider), n) : false;
  return { ...t, verified, node: n.client.url };
}

async function proveStep(seq: Sequencer) {
  await seq.syncOnchainRequests();
  return seq.proveNext();
}

async function submitStep(seq: Sequencer, json: boolean, replace = false, stateBatches?: unknown[]) {
  const s = await seq.submit({ replace });
  // Delivery is a queue: results proven earlier but not yet delivered go out on every run.
  const fulfilled = await seq.deliver();
  if (!s) {
    console.log(json ? JSON.stringify({ batchId: null, fulfilled, ...(stateBatches && { stateBatches }) }) : `no proven batch to submit${fulfilled ? `; ${fulfilled} on-chain request(s) fulfilled` : ""}`);
    return;
  }
  const out = { batchId: s.batchId.toString(), txHash: s.txHash, gasUsed: s.gasUsed.toString(), inferences: s.inferences, ...(stateBatches && { stateBatches }) };
  console.log(json ? JSON.stringify(out) : `batch ${out.batchId}: ${out.inferences} inference(s) settled in ${out.txHash}, ${out.gasUsed} gas` +
    (fulfilled ? `, ${fulfilled} on-chain request(s) fulfilled` : ""));
}

storeParams(task("batch:prove", "Prove the next batch of pending requests").addFlag("json", "Print JSON")).setAction(
  seqAction(async (a: StoreArgs & { json: boolean }, hre) =>
    withSequencer(hre, a, async (seq) => {
      const b = await proveStep(seq);
      const out = b && { batch: b.batchNumber.toString(), inferences: b.count, proveMs: Math.round(b.proveMs), status: b.status };
      console.log(a.json ? JSON.stringify(out ?? { batch: null }) : out ? `batch ${out.batch}: ${out.inferences} inference(s) proven (${out.status}) in ${out.proveMs} ms` : "nothing pending");
    }),
  ),
);

storeParams(
  task("batch:submit", "Settle the proven batch on the rollup (waits for a transaction an earlier run sent)")
    .addFlag("json", "Print JSON")
    .addFlag("replace", "Replace the batch's pending transaction: same nonce, higher fees"),
).setAction(
  seqAction(async (a: StoreArgs & { json: boolean; replace: boolean }, hre) => withSequencer(hre, a, (seq) => submitStep(seq, a.json, a.replace))),
);

/** State batches first (they release requests on data points to their models), as many as are due. */
export async function stateSteps(hre: any, a: StoreArgs) {
  let address: string;
  try {
    address = recordedState(hre.network.name);
  } catch {
    return [];
  }
  const ledger = await EvmStateLedger.connect(hre, address, a.from, progress);
  const settled = [];
  for (let s; (s = await runStateBatch(ledger, { progress })); ) settled.push({ stateBatch: s.stateBatch.toString(), operations: s.count, status: s.status.toString(2), txHash: s.txHash, gasUsed: s.gasUsed.toString() });
  return settled;
}

storeParams(
  task("batch:run", "Prove and settle what is due: state batches (deposits, transfers, exits), then the next inference batch")
    .addOptionalParam("chains", "A rollup on several chains: settle on each of these Hardhat networks in turn, the primary first")
    .addOptionalParam("anchor", "With --chains: anchor the settlement history in this local Mina anchor (a journal file; created if absent)")
    .addFlag("json", "Print JSON"),
).setAction(
  seqAction(async (a: StoreArgs & { json: boolean; chains?: string; anchor?: string }, hre) => {
    if (a.chains !== undefined) return runOnChains(hre, { ...a, chains: a.chains });
    if (a.anchor !== undefined) throw new FlavumError(`--anchor goes with --chains (e.g. --chains ${hre.network.name === "hardhat" ? "localhost" : hre.network.name})`, "BAD_INPUT");
    const states = await stateSteps(hre, a);
    if (!a.json) for (const s of states) console.log(`state batch ${s.stateBatch}: ${s.operations} operation(s) settled in ${s.txHash}, ${s.gasUsed} gas`);
    return withSequencer(hre, a, async (seq) => {
      if (!(await proveStep(seq))) {
        const fulfilled = await seq.deliver();
        return console.log(a.json ? JSON.stringify({ batchId: null, fulfilled, stateBatches: states }) : `no inference pending${fulfilled ? `; ${fulfilled} on-chain request(s) fulfilled` : ""}`);
      }
      await submitStep(seq, a.json, false, states);
    });
  }),
);

storeParams(
  task("trace:show", "Show a request's inference, batch and root, and whether the ledger confirms it")
    .addParam("request", "Request id")
    .addOptionalParam("node", "A Flavum node's URL: ask it instead of a local store (the on-chain check is still made here)")
    .addFlag("json", "Print JSON"),
).setAction(
  seqAction(async (a: StoreArgs & { request: string; node?: string; json: boolean }, hre) => {
    const request = idArg("request", a.request, "request");
    if (a.node !== undefined) return printTrace(await traceThroughNode(hre, { ...a, node: a.node }, request), a.json);
    return withSequencer(hre, a, async (seq) => printTrace(await seq.trace(request), a.json));
  }),
);

function printTrace(t: TraceReport, json: boolean): void {
  if (json) return console.log(JSON.stringify(t));
  console.log([
    `request ${t.requestId} (model ${t.modelId}): ${t.status}`,
    t.inputHash && `  input commitment ${t.inputHash}`,
    t.output && `  output ${t.output.map((v) => +v.toFixed(4)).join(", ")} (label ${t.label})`,
    t.batch && `  batch ${t.batch}, leaf ${t.index}, batch root ${t.batchRoot}`,
    t.stateRoot && `  state root after it ${t.stateRoot}, tx ${t.txHash}`,
    `  ledger confirms it: ${t.verified ? "yes" : "no"}`,
  ].filter(Boolean).join("\n"));
}
