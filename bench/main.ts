/**
 * `npm run bench`: Flavum's circuits against a circomlib-ml/keras2circom-style baseline on the
 * fixture models, held-out fidelity, verifier gas, and the peer corpus. Progress goes to stderr;
 * stdout gets the tables, or with --json exactly one JSON object. Scratch files stay in build/.
 */
import fs from "fs";
import os from "os";
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { shutdown } from "../src/zk";
import { repoRoot } from "../src/zk/paths";
import { BenchOptions, defaultOptions, progress, wants } from "./common";
import { compileModels, measureBaselines, measureModel, ModelResult, selectedModels } from "./models";
import { benchCorpus } from "./corpus";
import { BenchReport, formatReport, toJson } from "./report";

export async function runBench(hre: HardhatRuntimeEnvironment, over: Partial<BenchOptions> = {}): Promise<BenchReport> {
  const opts = defaultOptions(over);
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
    const results = new Map<string, ModelResult>();
    if (specs.length) {
      progress(`compiling ${specs.map((s) => s.name).join(", ")} (reusing unchanged builds)`);
      await compileModels(specs, results);
      progress("compiling the verifier contracts");
      await hre.run("compile", { quiet: true });
      for (const r of results.values()) await measureModel(hre, r, opts);
      if (opts.baseline) await measureBaselines(hre, [...results.values()], opts);
      notes.push(
        "baseline = weights and biases as private inputs, division remainders not range-checked (unsound), " +
          "ReLU as Num2Bits(254)+Sign (517 constraints, as circomlib-ml's IsPositive; this reproduces circomlib-ml's " +
          "published 73,416 for a 784-56-10 MLP = 44,464 products + 56×517), max pool/argmax via GreaterThan(252) chains, no commitments",
        `ptau: ${process.env.FLAVUM_PTAU_DIR ?? "resolvePtau default order"}; circuits needing more than 2^${opts.maxPower} are not set up (BENCH_MAX_POWER)`,
      );
    }
    const corpus = opts.corpus && wants({ ...opts, only: opts.only?.includes("corpus") ? undefined : opts.only }, "corpus")
      ? await benchCorpus(opts)
      : undefined;
    const report: BenchReport = {
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
      options: { ...opts },
      models: [...results.values()],
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
