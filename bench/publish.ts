/**
 * Publishing a repository commit (issue 13): what binding the served weights to the commit costs.
 * The breast-cancer logistic repository's initial commit is published for batches of B through the
 * real path (repo:publish's publishCommit: committed-weights batch circuit, ModelRegistry.publish),
 * and the same ONNX model compiled with public weights is registered beside it (model:compile +
 * model:register). Each serves one full batch of real proofs on the in-process Hardhat network:
 * constraints, witness + prove time and the gasUsed of submitBatch, per batch and per inference.
 */
import fs from "fs";
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { deployRollup } from "../src/chain/deployRollup";
import { deployRepositories } from "../src/chain/deployRepos";
import { EvmRepoLedger } from "../src/chain/evmRepos";
import { ObjectStore } from "../src/repos/objectStore";
import { LocalIndex } from "../src/repos/localIndex";
import * as repos from "../src/repos/workflow";
import { publishCommit } from "../src/repos/publish";
import { compileModel } from "../src/model/compile";
import { openSequencer, registerModel } from "../src/rollup/service";
import { repoRoot } from "../src/zk/paths";
import { benchDir, scoped } from "./common";

export interface PublishRow {
  model: string;
  weights: "constants (public)" | "committed (published commit)";
  params: number;
  batchSize: number;
  constraints: number;
  proveMs: number;
  gasPerBatch: number;
  gasPerInference: number;
}

export interface PublishSummary {
  rows: PublishRow[];
  /** Published / public, per inference. */
  gasRatio: number;
  constraintRatio: number;
}

const B = 8;

export async function benchPublish(hre: HardhatRuntimeEnvironment): Promise<PublishSummary> {
  const log = scoped("publish");
  const dir = benchDir("publish", String(Date.now()));
  fs.mkdirSync(dir, { recursive: true });
  const onnx = path.join(repoRoot(), "fixtures/models/logreg_cancer.onnx");
  const cancer = JSON.parse(fs.readFileSync(path.join(repoRoot(), "fixtures/data/breast_cancer.json"), "utf8")) as { features: number[][]; split: { test: number[] } };
  const samples = cancer.split.test.slice(0, B).map((i) => cancer.features[i]);

  const d = await deployRollup(hre);
  const { address } = await deployRepositories(hre);
  const ctx: repos.RepoContext = {
    hre, ledger: await EvmRepoLedger.connect(hre, address, 0), objects: new ObjectStore(path.join(dir, "objects")),
    index: new LocalIndex(path.join(dir, "index.db")), signerIndex: 0, progress: log,
  };
  const seq = await openSequencer(hre, { store: path.join(dir, "sequencer.db"), addresses: d.addresses, progress: log });
  try {
    const created = await repos.createRepo(ctx, "bench_cancer", onnx, { batch: 16, steps: 1, lr: 0.5, mergeSizes: [] });
    const published = await publishCommit(ctx, seq, "bench_cancer", created.commit, { batch: B, contributorBps: 5000, name: "bench_published" });
    await compileModel({ onnx, name: "bench_public", calibration: path.join(repoRoot(), "fixtures/data/logreg_cancer.calibration.json") });
    const pub = await registerModel(seq, hre, "bench_public", B, log);

    const serve = async (modelId: bigint) => {
      seq.request(modelId.toString(), samples);
      await seq.proveNext();
      const s = (await seq.submit())!;
      return { proveMs: s.proveMs, gas: Number(s.gasUsed) };
    };
    const params = created.spec.d + 1;
    const a = await serve(pub.modelId);
    const b = await serve(published.modelId);
    const rows: PublishRow[] = [
      { model: "logreg_cancer", weights: "constants (public)", params, batchSize: B, constraints: pub.constraints, proveMs: a.proveMs, gasPerBatch: a.gas, gasPerInference: Math.round(a.gas / B) },
      { model: "cancer repository, initial commit", weights: "committed (published commit)", params, batchSize: B, constraints: published.constraints, proveMs: b.proveMs, gasPerBatch: b.gas, gasPerInference: Math.round(b.gas / B) },
    ];
    return { rows, gasRatio: b.gas / a.gas, constraintRatio: published.constraints / pub.constraints };
  } finally {
    seq.store.close();
    ctx.index.close();
  }
}

export function formatPublish(s: PublishSummary): string {
  const lines = [
    "Publishing a repository commit: served weights bound to the commit (batches of 8, real proofs, submitBatch gas)",
    "| model | weights | params | constraints | prove ms | gas / batch | gas / inference |",
    "|---|---|---|---|---|---|---|",
    ...s.rows.map((r) => `| ${r.model} | ${r.weights} | ${r.params} | ${r.constraints.toLocaleString("en")} | ${Math.round(r.proveMs)} | ${r.gasPerBatch.toLocaleString("en")} | ${r.gasPerInference.toLocaleString("en")} |`),
    `published / public: ${s.constraintRatio.toFixed(2)}× constraints, ${s.gasRatio.toFixed(3)}× gas`,
  ];
  return lines.join("\n");
}
