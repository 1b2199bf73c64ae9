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
import { benchRepos, ReposSummary } from "./repos";
import { benchCeremony, CEREMONY_MODEL, CeremonySummary } from "./ceremony";
import { benchState, STATE_MODEL, stateOptions, StateBenchOptions, StateSummary, wantsState } from "./state";
import { benchTraceStores, TRACE_STORE_BATCHES, TraceStoreRow } from "./traceStores";
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
    const toCompile = [...specs, ...[...rollupSpecs, ...ceremonySpecs, ...stateSpecs].filter((m, i, all) => !specs.includes(m) && all.indexOf(m) === i)];
    const results = new Map<string, ModelResult>();
    if (toCompile.length) {
      progress(`compiling ${toCompile.map((s) => s.name).join(", ")} (reusing unchanged builds)`);
      await compileModels(toCompile, results);
      // The ceremony figures deploy nothing: a ceremony-only run must not need compilable contracts.
      if (specs.length || rollupSpecs.length || stateSpecs.length) {
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
    let ceremony: CeremonySummary | undefined;
    if (wantsCeremony) {
      progress("ceremony: 2 contributions, beacon and verification on logreg_cancer's B = 16 batch circuit");
      ceremony = await benchCeremony(opts);
    }
    const corpus = opts.corpus && wants({ ...opts, only: opts.only?.includes("corpus") ? undefined : opts.only }, "corpus")
      ? await benchCorpus(opts)
      : undefined;
    const report: BenchReport = {
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
      options: { ...opts },
      models: specs.map((s) => results.get(s.name)!),
      rollup,
      state,
      traceStores,
      repos,
      ceremony,
      corpus,
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
