/**
 * `npm run bench`: Flavum's circuits against a circomlib-ml/keras2circom-style baseline on the
 * fixture models, held-out fidelity, verifier gas, the rollup's batch figures (bench/rollup.ts),
 * the model-repository figures (bench/repos.ts), the rollup state figures (bench/state.ts) with inference on
 * data points in each trace store (bench/traceStores.ts), and
 * the peer corpus. Progress goes to stderr;
 * stdout gets the tables, or with --json exactly one JSON object. Scratch files stay in build/.
 */
import fs from "fs";
import os from "os";
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { shutdown } from "../src/zk";
import { repoRoot } from "../src/zk/paths";
import { BenchOptions, defaultOptions, progress, wants } from "./common";
import { compileModels, measureBaselines, measureModel, MODELS, ModelResult, selectedModels } from "./models";
import { benchRollup, rollupModels, RollupSummary } from "./rollup";
import { benchCorpus } from "./corpus";
import { benchOps } from "./ops";
import { benchRepos, ReposSummary } from "./repos";
import { benchFederated, FederatedSummary } from "./federated";
import { benchPublish, PublishSummary } from "./publish";
import { benchRepoRollup, RepoRollupSummary } from "./repoRollup";
import { benchMinaAnchor, MinaAnchorSummary } from "./minaAnchor";
import { benchMultichain, MULTICHAIN_MODEL, MultichainSummary } from "./multichain";
import { benchCeremony, CEREMONY_MODEL, CeremonySummary } from "./ceremony";
import { benchState, STATE_MODEL, stateOptions, StateBenchOptions, StateSummary, wantsState } from "./state";
import { benchTraceStores, TRACE_STORE_BATCHES, TraceStoreRow } from "./traceStores";
import { benchWitness, WITNESS_MODEL, WitnessSummary, wantsWitness } from "./witness";
import { benchProvers, PROVERS_MODEL, ProversSummary, wantsProvers } from "./provers";
import { benchNode, NODE_MODEL, NodeSummary, wantsNode } from "./node";
import { BenchReport, formatReport, toJson } from "./report";

export async function runBench(hre: HardhatRuntimeEnvironment, over: Partial<BenchOptions & StateBenchOptions> = {}): Promise<BenchReport> {
  const opts = { ...defaultOptions(over), ...stateOptions(over) };
  const start = performance.now();
  const shared = path.resolve(repoRoot(), "..", "shared", "ptau");
  if (!process.env.FLAVUM_PTAU_DIR && fs.existsSync(shared)) process.env.FLAVUM_PTAU_DIR = shared;

  // Nothing but the report (the tables, or the one JSON object) may reach stdout: stray console
  // output (Hardhat's "Compiled N Solidity files", plugins) goes to stderr with the progress.
  const restore = { log: console.log, info: console.info };
  console.log = console.info = (...a: unknown[]) => console.error(...a);
  const notes: string[] = [];
  try {
    const specs = selectedModels(opts);
    // --only rollup compiles the rollup's models without measuring them for the model table.
    const rollupSpecs = MODELS.filter((m) => rollupModels(opts).includes(m.name));
    const wantsCeremony = opts.ceremony && (!opts.only || opts.only.includes("ceremony"));
    const ceremonySpecs = wantsCeremony ? MODELS.filter((m) => m.name === CEREMONY_MODEL) : [];
    // The state figures' data points hold logreg_cancer's quantized held-out samples.
    const stateSpecs = wantsState(opts) ? MODELS.filter((m) => m.name === STATE_MODEL) : [];
    // The witness figures run the digits MLP's batch circuits; they need its build, not its contract.
    const witnessSpecs = wantsWitness(opts) ? MODELS.filter((m) => m.name === WITNESS_MODEL) : [];
    // The prover figures prove the digits MLP's batch circuits; they need its build, not its contract.
    const proverSpecs = wantsProvers(opts) ? MODELS.filter((m) => m.name === PROVERS_MODEL) : [];
    // The node figures register the digits MLP on a fresh rollup: its build and the contracts.
    const nodeSpecs = wantsNode(opts) ? MODELS.filter((m) => m.name === NODE_MODEL) : [];
    // The multi-chain figures settle logreg_cancer's batches on two hardhat nodes.
    const multichainSpecs = wants(opts, "multichain") ? MODELS.filter((m) => m.name === MULTICHAIN_MODEL) : [];
    const toCompile = [...specs, ...[...rollupSpecs, ...multichainSpecs, ...ceremonySpecs, ...stateSpecs, ...witnessSpecs, ...proverSpecs, ...nodeSpecs].filter((m, i, all) => !specs.includes(m) && all.indexOf(m) === i)];
    const results = new Map<string, ModelResult>();
    if (toCompile.length) {
      progress(`compiling ${toCompile.map((s) => s.name).join(", ")} (reusing unchanged builds)`);
      await compileModels(toCompile, results);
      // The ceremony figures deploy nothing: a ceremony-only run must not need compilable contracts.
      if (specs.length || rollupSpecs.length || stateSpecs.length || nodeSpecs.length || multichainSpecs.length) {
        progress("compiling the verifier contracts");
        await hre.run("compile", { quiet: true });
      }
    }
    if (specs.length) {
      for (const s of specs) await measureModel(hre, results.get(s.name)!, opts);
      if (opts.baseline) await measureBaselines(hre, specs.map((s) => results.get(s.name)!), opts);
      notes.push(
        "baseline = weights and biases as private inputs, division remainders not range-checked (unsound), " +
          "ReLU as Num2Bits(254)+Sign (517 constraints, as circomlib-ml's IsPositive; this reproduces circomlib-ml's " +
          "published 73,416 for a 784-56-10 MLP = 44,464 products + 56×517), max pool/argmax via GreaterThan(252) chains, no commitments",
        `ptau: ${process.env.FLAVUM_PTAU_DIR ?? "resolvePtau default order"}; circuits needing more than 2^${opts.maxPower} are not set up (BENCH_MAX_POWER)`,
      );
    }
    let rollup: RollupSummary | undefined;
    if (rollupSpecs.length) {
      progress(`rollup: ${rollupSpecs.map((s) => s.name).join(", ")} at batch sizes ${opts.rollupBatches.join(", ")}`);
      rollup = await benchRollup(hre, rollupSpecs, results, opts);
    }
    let state: StateSummary | undefined;
    if (stateSpecs.length) {
      progress(`state: state circuits at depth ${opts.stateDepth} with ${opts.stateOps.join(", ")} operations per batch, state batches and FlavumState gas`);
      state = await benchState(hre, opts, results.get(STATE_MODEL)?.error);
    }
    let traceStores: TraceStoreRow[] | undefined;
    if (stateSpecs.length && !results.get(STATE_MODEL)?.error) {
      progress(`trace stores: inference on data points at B = ${TRACE_STORE_BATCHES.join(", ")} in calldata, blob and ipfs mode`);
      traceStores = await benchTraceStores(hre, TRACE_STORE_BATCHES);
    }
    let repos: ReposSummary | undefined;
    if (opts.repos && (!opts.only || opts.only.includes("repos"))) {
      progress("repos: training commits, FedAvg merge and federated accuracy (logistic, mlp, linear)");
      repos = await benchRepos(hre, opts);
    }
    let federated: FederatedSummary | undefined;
    if (opts.repos && (!opts.only || opts.only.includes("federated"))) {
      progress("federated: digits repositories — step and merge circuits, federated vs central, a poisoned contributor per merge rule, the update bound");
      federated = await benchFederated(opts);
    }
    let publish: PublishSummary | undefined;
    if (opts.repos && (!opts.only || opts.only.includes("publish"))) {
      progress("publish: a repository commit served with committed weights vs the same model with public weights (batches of 8)");
      publish = await benchPublish(hre);
    }
    let repoRollup: RepoRollupSummary | undefined;
    if (opts.repos && (!opts.only || opts.only.includes("rollup-training"))) {
      progress("rollup-training: gas per training commit on L1 (pushCommit each + a merge) vs through RepositoryRollup (one settleRound), N = 4 and 16 contributors");
      repoRollup = await benchRepoRollup(hre);
    }
    let minaAnchor: MinaAnchorSummary | undefined;
    if (!opts.only || opts.only.includes("mina-anchor")) {
      progress("mina-anchor: one rollup root anchored in Mina (o1js LocalBlockchain) with proofs enabled: compile, prove, fee");
      minaAnchor = await benchMinaAnchor({ progress });
    }
    let multichain: MultichainSummary | undefined;
    if (multichainSpecs.length && !results.get(MULTICHAIN_MODEL)?.error) {
      progress("multichain: one batch proven once and settled on two hardhat nodes (chain ids 31338, 31339): gas per chain, time to settle on both");
      multichain = await benchMultichain(hre);
    }
    let ceremony: CeremonySummary | undefined;
    if (wantsCeremony) {
      progress("ceremony: 2 contributions, beacon and verification on logreg_cancer's B = 16 batch circuit");
      ceremony = await benchCeremony(opts);
    }
    let witness: WitnessSummary | undefined;
    if (witnessSpecs.length) {
      progress(`witness: wasm vs native witness generation on ${WITNESS_MODEL}'s batch circuits`);
      witness = await benchWitness(results.get(WITNESS_MODEL)?.error);
    }
    let node: NodeSummary | undefined;
    if (nodeSpecs.length && !results.get(NODE_MODEL)?.error) {
      progress(`node: signed requests through the node's HTTP API on ${NODE_MODEL}, in-process prover vs 1 and 2 prover:worker processes`);
      node = await benchNode(hre, opts.rollupBatches.filter((b) => b === 8 || b === 16).length ? opts.rollupBatches.filter((b) => b === 8 || b === 16) : [8, 16]);
    }
    let provers: ProversSummary | undefined;
    if (proverSpecs.length) {
      progress(`provers: cold vs warm proofs and the BullMQ queue with 1 and 2 workers on ${PROVERS_MODEL}'s batch circuits`);
      provers = await benchProvers(opts, results.get(PROVERS_MODEL)?.error);
    }
    const corpus = opts.corpus && wants({ ...opts, only: opts.only?.includes("corpus") ? undefined : opts.only }, "corpus")
      ? await benchCorpus(opts)
      : undefined;
    const ops = wants(opts, "ops") ? benchOps() : undefined;
    const report: BenchReport = {
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
      options: { ...opts },
      models: specs.map((s) => results.get(s.name)!),
      rollup,
      state,
      traceStores,
      repos,
      federated,
      publish,
      repoRollup,
      minaAnchor,
      multichain,
      ceremony,
      witness,
      provers,
      node,
      corpus,
      ops,
      notes,
      totalMs: Math.round(performance.now() - start),
    };
    if (opts.json) process.stdout.write(`${toJson(report)}\n`);
    else process.stdout.write(`${formatReport(report)}\n`);
    return report;
  } finally {
    console.log = restore.log;
    console.info = restore.info;
    await shutdown();
  }
}
