/**
 * `npx hardhat run bench/run.ts` (hardhat run takes no arguments: BENCH_JSON=1 for JSON,
 * BENCH_ONLY=mlp_digits,corpus,rollup to select,
 * BENCH_NO_ROLLUP=1, BENCH_ROLLUP_BATCHES=1,8). `npm run bench [-- --json] [--only <model>]` uses the
 * `bench` task instead.
 */
import hre from "hardhat";
import { runBench } from "./main";

runBench(hre).catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
