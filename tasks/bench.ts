import { task, types } from "hardhat/config";

task("bench", "Benchmarks Flavum's circuits against a circomlib-ml-style baseline, plus the peer ONNX corpus")
  .addFlag("json", "print one JSON object on stdout (progress stays on stderr)")
  .addOptionalParam("only", "comma-separated models to run (mlp_digits, mlp_digits_priv, cnn_digits, cnn_pad_avg_digits, logreg_cancer) and/or corpus, rollup, state, repos, federated, publish, rollup-training, mina-anchor, multichain, ceremony, witness, provers, node")
  .addFlag("noCorpus", "skip the peer corpus")
  .addFlag("noBaseline", "skip the baseline circuits")
  .addFlag("noRollup", "skip the rollup figures (batch circuits, batch proving, submitBatch gas)")
  .addFlag("noState", "skip the rollup state figures (state circuits at depth 16 with 8/16/32 operations, state batches, FlavumState gas)")
  .addFlag("noRepos", "skip the model-repository figures (training commits, merges, federated vs central accuracy, poisoned contributors)")
  .addFlag("noCeremony", "skip the ceremony figures (2 contributions, beacon, verification on logreg_cancer's B = 16 batch circuit)")
  .addOptionalParam("batches", "rollup batch sizes, comma-separated (default 1,8,16,32)")
  .addOptionalParam("proofs", "proofs per circuit (times are medians)", undefined, types.int)
  .setAction(async (args: { json: boolean; only?: string; noCorpus: boolean; noBaseline: boolean; noRollup: boolean; noState: boolean; noRepos: boolean; noCeremony: boolean; batches?: string; proofs?: number }, hre) => {
    // The benchmark deploys contracts: a fresh clone has no artifacts until they are compiled.
    const only = args.only?.split(",").map((s) => s.trim()).filter(Boolean);
    if (!only?.every((o) => o === "ceremony")) await hre.run("compile", { quiet: true });
    const { runBench } = await import("../bench/main");
    await runBench(hre, {
      json: args.json || process.env.BENCH_JSON === "1",
      only,
      corpus: args.noCorpus ? false : undefined,
      baseline: args.noBaseline ? false : undefined,
      rollup: args.noRollup ? false : undefined,
      state: args.noState ? false : undefined,
      repos: args.noRepos ? false : undefined,
      ceremony: args.noCeremony ? false : undefined,
      rollupBatches: args.batches?.split(",").map(Number).filter((n) => n > 0),
      proofs: args.proofs,
    });
  });
