/** Shared bits of the benchmark: options, progress on stderr, medians, where scratch files go. */
import fs from "fs";
import path from "path";
import type { Progress } from "../src/zk";
import { cacheRoot, repoRoot } from "../src/zk/paths";

export interface BenchOptions {
  /** Print one JSON object on stdout instead of the tables. */
  json: boolean;
  /** Only these fixture models (names as in the table, e.g. mlp_digits, mlp_digits_priv), or "corpus", "rollup", "repos". */
  only?: string[];
  corpus: boolean;
  baseline: boolean;
  /** Rollup figures (batch circuits, batch proving, submitBatch gas). */
  rollup: boolean;
  /** Model-repository figures (training commits, FedAvg merge, federated vs central accuracy). */
  repos: boolean;
  /** Ceremony figures (2 contributions + beacon on logreg_cancer's B = 16 batch circuit). */
  ceremony: boolean;
  /** Batch sizes for the rollup figures (powers of two); those that do not fit 2^maxPower are reported, not built. */
  rollupBatches: number[];
  /** Proofs per circuit; the reported prove and witness times are their medians. */
  proofs: number;
  /** Largest powers-of-tau exponent the benchmark may use; bigger circuits are measured but not proven. */
  maxPower: number;
  /** Wall-clock budget for the corpus compile+prove pass, and per model. */
  corpusBudgetMs: number;
  corpusModelMs: number;
  corpusDir: string;
}

export function defaultOptions(over: Partial<BenchOptions> = {}): BenchOptions {
  const env = process.env;
  const only = over.only ?? (env.BENCH_ONLY ? env.BENCH_ONLY.split(",").map((s) => s.trim()).filter(Boolean) : undefined);
  return {
    json: over.json ?? env.BENCH_JSON === "1",
    only,
    corpus: over.corpus ?? env.BENCH_NO_CORPUS !== "1",
    baseline: over.baseline ?? env.BENCH_NO_BASELINE !== "1",
    rollup: over.rollup ?? env.BENCH_NO_ROLLUP !== "1",
    repos: over.repos ?? env.BENCH_NO_REPOS !== "1",
    ceremony: over.ceremony ?? env.BENCH_NO_CEREMONY !== "1",
    rollupBatches: over.rollupBatches ?? (env.BENCH_ROLLUP_BATCHES ?? "1,8,16,32").split(",").map(Number).filter((n) => n > 0),
    proofs: over.proofs ?? Number(env.BENCH_PROOFS ?? 3),
    maxPower: over.maxPower ?? Number(env.BENCH_MAX_POWER ?? 16),
    corpusBudgetMs: over.corpusBudgetMs ?? Number(env.BENCH_CORPUS_BUDGET_S ?? 600) * 1000,
    corpusModelMs: over.corpusModelMs ?? Number(env.BENCH_CORPUS_MODEL_S ?? 90) * 1000,
    corpusDir: over.corpusDir ?? env.BENCH_CORPUS_DIR ?? path.resolve(repoRoot(), "..", "shared", "peer-onnx", "ezkl-examples"),
  };
}

export function wants(opts: BenchOptions, name: string): boolean {
  return !opts.only || opts.only.includes(name);
}

// snarkjs's multi-line circuit/contribution hashes say nothing to a benchmark reader.
const NOISE = /(circuit|contribution) hash:/i;

export const progress: Progress = (msg) => {
  if (!NOISE.test(msg)) process.stderr.write(`[bench] ${msg}\n`);
};

export function scoped(prefix: string): Progress {
  return (msg) => progress(`${prefix}: ${msg}`);
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Scratch folder under build/ (never outside it). */
export function benchDir(...parts: string[]): string {
  const dir = path.join(cacheRoot(), "bench", ...parts);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** One line for a table: the message's first line, plus the first line of detail naming an error. */
export function errorMessage(e: unknown): string {
  const lines = (e instanceof Error ? e.message : String(e)).split("\n").map((l) => l.trim()).filter(Boolean);
  const detail = lines.slice(1).find((l) => /error/i.test(l));
  return [lines[0] ?? "", detail].filter(Boolean).join(" ").slice(0, 300);
}
