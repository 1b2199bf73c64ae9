/**
 * Training inside the rollup (issue 13): gas per training commit on L1 against the same commits
 * settled through RepositoryRollup, for N = 4 and N = 16 contributors. One fresh deployment per N
 * (ModelRepository + RepositoryRollup, the breast-cancer logistic repository, batches of 16, one
 * step per proof): the owner opens the rollup first (its head is main's initial weights), then
 * - L1: every contributor trains 16 private rows (one proof) and pushes it (ModelRepository.pushCommit,
 *   one transaction each, on a branch of its own, created by the push), and the owner merges the
 *   first k = min(N, 4) with the repository's proven FedAvg (ModelRepository.merge);
 * - rollup: the same contributors train the same rows from the rollup head with proofs bound to the
 *   rollup, send them to the sequencer's inbox, and the owner settles them in one
 *   RepositoryRollup.settleRound merging the same k; then N more commits from the new head in a
 *   proposals-only round (merge none).
 * Everything through the real workflow (src/repos/workflow.ts, src/repos/rollupTraining.ts), with
 * real proofs on the in-process Hardhat network; gas is each transaction's gasUsed.
 */
import fs from "fs";
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { deployRepositories } from "../src/chain/deployRepos";
import { EvmRepoLedger } from "../src/chain/evmRepos";
import { EvmRepoRollupLedger } from "../src/chain/evmRepoRollup";
import { ObjectStore } from "../src/repos/objectStore";
import { LocalIndex } from "../src/repos/localIndex";
import * as repos from "../src/repos/workflow";
import { openRollup, pushToRollup, settleRollupRound, trainForRollup, type RollupRepoContext } from "../src/repos/rollupTraining";
import { repoRoot } from "../src/zk/paths";
import { benchDir, progress, scoped } from "./common";

/** Rows per contributor: one proof of the repository's n·K = 16. */
const ROWS = 16;
/** The repository's largest merge verifier (mergeSizes 2, 3, 4). */
const MERGE_K = 4;
const SCENARIOS = [4, 16];

export interface RepoRollupRow {
  contributors: number;
  /** Commits merged (FedAvg proof) by the L1 merge and by the round; 0 = proposals only. */
  merged: number;
  /** "L1 + rollup" for the paired scenarios; "rollup only" for a proposals-only round. */
  path: string;
  /** Training proofs per path (one per commit). */
  proofs: number;
  /** Σ pushCommit gasUsed. */
  l1PushGas?: number;
  /** gasUsed of ModelRepository.merge. */
  l1MergeGas?: number;
  /** pushCommit + merge. */
  l1Gas?: number;
  l1GasPerCommit?: number;
  /** The contributors' createBranch transactions repo:push sends before pushCommit (one per contributor and parent). */
  l1BranchGas?: number;
  /** calldata bytes of the pushCommit and merge transactions. */
  l1CalldataBytes?: number;
  /** train + push + merge wall time. */
  l1Ms?: number;
  /** gasUsed of the one settleRound. */
  rollupGas: number;
  rollupGasPerCommit: number;
  rollupCalldataBytes: number;
  /** train + push to the inbox + settle wall time. */
  rollupMs: number;
  /** L1 gas per commit / rollup gas per commit. */
  ratio?: number;
}

export interface RepoRollupSummary {
  rows: RepoRollupRow[];
  /** RepositoryRollup.open (once per repository: fixes its training key). */
  openGas: number;
  totalMs: number;
}

interface Cancer {
  features: number[][];
  labels: number[];
  split: { train: number[] };
}

const ms = (t0: number) => Math.round(performance.now() - t0);

export async function benchRepoRollup(hre: HardhatRuntimeEnvironment): Promise<RepoRollupSummary> {
  const t0 = performance.now();
  const log = scoped("rollup-training");
  const quiet = () => {};
  const root = benchDir("rollup-training", String(Date.now()));
  const onnx = path.join(repoRoot(), "fixtures/models/logreg_cancer.onnx");
  const cancer = JSON.parse(fs.readFileSync(path.join(repoRoot(), "fixtures/data/breast_cancer.json"), "utf8")) as Cancer;
  const signers = await hre.ethers.getSigners();
  const need = Math.max(...SCENARIOS) + 1;
  if (signers.length < need) throw new Error(`rollup-training needs ${need} accounts (owner + ${need - 1} contributors), the network has ${signers.length}`);
  const rowsNeeded = Math.max(...SCENARIOS) * ROWS;
  if (cancer.split.train.length < rowsNeeded) throw new Error(`rollup-training needs ${rowsNeeded} training rows, breast_cancer.json's train split has ${cancer.split.train.length}`);

  const provider = hre.ethers.provider;
  const calldataBytes = async (hash: string) => ((await provider.getTransaction(hash))!.data.length - 2) / 2;
  /** Gas of every transaction mined in blocks (from, to]: the in-process network mines one a block. */
  const gasBetween = async (from: number, to: number) => {
    let sum = 0n;
    for (let b = from + 1; b <= to; b++) {
      const block = await provider.getBlock(b);
      for (const h of block?.transactions ?? []) sum += (await provider.getTransactionReceipt(h))!.gasUsed;
    }
    return sum;
  };

  const rows: RepoRollupRow[] = [];
  let openGas = 0;
  const indexes: LocalIndex[] = [];
  try {
    for (const n of SCENARIOS) {
      const dir = path.join(root, `n${n}`);
      fs.mkdirSync(dir, { recursive: true });
      const objects = new ObjectStore(path.join(dir, "objects"));
      const inboxRoot = path.join(dir, "inbox");
      const { address, rollupAddress } = await deployRepositories(hre);
      const ctxOf = async (i: number): Promise<RollupRepoContext> => {
        const index = new LocalIndex(path.join(dir, `index-${i}.db`));
        indexes.push(index);
        return {
          hre, ledger: await EvmRepoLedger.connect(hre, address, i), objects, index, signerIndex: i, progress: i === 0 ? log : quiet,
          rollup: await EvmRepoRollupLedger.connect(hre, rollupAddress, i), inboxRoot,
        };
      };
      const owner = await ctxOf(0);
      progress(`rollup-training: N = ${n}: fresh ModelRepository + RepositoryRollup, creating the cancer repository`);
      await repos.createRepo(owner, "cancer", onnx, { batch: ROWS, steps: 1, lr: 0.5, mergeSizes: [2, 3, MERGE_K] });
      const cs: RollupRepoContext[] = [];
      for (let i = 1; i <= n; i++) {
        await repos.invite(owner, "cancer", signers[i].address, "contributor");
        cs.push(await ctxOf(i));
      }
      const opened = await openRollup(owner, "cancer");
      openGas = Number(opened.gasUsed);
      // Contributor i's private rows: the same 16 on both paths, distinct between contributors.
      const files = cs.map((_, i) => {
        const idx = cancer.split.train.slice(i * ROWS, (i + 1) * ROWS);
        const f = path.join(dir, `data-${i + 1}.json`);
        fs.writeFileSync(f, JSON.stringify({ features: idx.map((j) => cancer.features[j]), labels: idx.map((j) => cancer.labels[j]) }));
        return f;
      });
      const k = Math.min(n, MERGE_K);

      // ---------------------------------------------------------------- L1: N pushCommits + a merge of k
      let t = performance.now();
      progress(`rollup-training: N = ${n}, L1: ${n} contributors train 16 rows each (one proof) and push (pushCommit each)`);
      const ids: string[] = [];
      let pushGas = 0n;
      let branchGas = 0n;
      let l1Bytes = 0;
      for (const [i, ctx] of cs.entries()) {
        const tr = await repos.train(ctx, "cancer", files[i]);
        const before = await provider.getBlockNumber();
        const p = await repos.push(ctx, "cancer", tr.id);
        if (!("gasUsed" in p) || p.gasUsed === undefined || !p.txHash) throw new Error(`L1 push of contributor ${i + 1}: nothing was sent`);
        const window = await gasBetween(before, await provider.getBlockNumber());
        pushGas += p.gasUsed;
        branchGas += window - p.gasUsed;
        l1Bytes += await calldataBytes(p.txHash);
        ids.push(tr.id);
      }
      progress(`rollup-training: N = ${n}, L1: merging ${k} of the ${n} commits (FedAvg proof, ModelRepository.merge)`);
      const m = await repos.merge(owner, "cancer", ids.slice(0, k));
      l1Bytes += await calldataBytes(m.txHash);
      const l1Ms = ms(t);
      const l1Gas = pushGas + m.gasUsed;

      // ------------------------------------------------------------ rollup: one settleRound, merging k
      t = performance.now();
      progress(`rollup-training: N = ${n}, rollup: ${n} contributors train the same rows from the rollup head and send them to the inbox`);
      for (const [i, ctx] of cs.entries()) {
        const tr = await trainForRollup(ctx, "cancer", files[i]);
        await pushToRollup(ctx, "cancer", tr.id);
      }
      progress(`rollup-training: N = ${n}, rollup: settling one round of ${n} commits, merging ${k}`);
      const s = await settleRollupRound(owner, "cancer", { merge: k });
      if (!("txHash" in s) || s.settled !== n || !s.txHash || s.gasUsed === undefined) throw new Error(`settleRound settled ${s.settled} of ${n} commits (rejected: ${JSON.stringify(s.rejected)})`);
      const rollupMs = ms(t);
      const rollupGas = Number(s.gasUsed);
      const l1PerCommit = Math.round(Number(l1Gas) / n);
      const rollupPerCommit = Math.round(rollupGas / n);
      rows.push({
        contributors: n, merged: k, path: "L1 + rollup", proofs: n,
        l1PushGas: Number(pushGas), l1MergeGas: Number(m.gasUsed), l1Gas: Number(l1Gas), l1GasPerCommit: l1PerCommit, l1BranchGas: Number(branchGas),
        l1CalldataBytes: l1Bytes, l1Ms,
        rollupGas, rollupGasPerCommit: rollupPerCommit, rollupCalldataBytes: await calldataBytes(s.txHash), rollupMs,
        ratio: l1PerCommit / rollupPerCommit,
      });
      progress(`rollup-training: N = ${n}: L1 ${l1PerCommit.toLocaleString("en")} gas a commit, rollup ${rollupPerCommit.toLocaleString("en")} (${(l1PerCommit / rollupPerCommit).toFixed(2)}×)`);

      // ------------------------------------ a proposals-only round (merge none) of N more commits
      t = performance.now();
      progress(`rollup-training: N = ${n}, rollup: a proposals-only round (merge none) of ${n} more commits from the new head`);
      for (const [i, ctx] of cs.entries()) {
        const tr = await trainForRollup(ctx, "cancer", files[i]);
        await pushToRollup(ctx, "cancer", tr.id);
      }
      const p = await settleRollupRound(owner, "cancer", { merge: "none" });
      if (!("txHash" in p) || p.settled !== n || !p.txHash || p.gasUsed === undefined) throw new Error(`proposals-only round settled ${p.settled} of ${n} commits (rejected: ${JSON.stringify(p.rejected)})`);
      rows.push({
        contributors: n, merged: 0, path: "rollup only", proofs: n,
        rollupGas: Number(p.gasUsed), rollupGasPerCommit: Math.round(Number(p.gasUsed) / n), rollupCalldataBytes: await calldataBytes(p.txHash), rollupMs: ms(t),
      });
    }
    return { rows, openGas, totalMs: ms(t0) };
  } finally {
    for (const i of indexes) i.close();
    fs.rmSync(root, { recursive: true, force: true });
    const parent = path.dirname(root);
    if (fs.existsSync(parent) && !fs.readdirSync(parent).length) fs.rmdirSync(parent);
  }
}

export function formatRepoRollup(s: RepoRollupSummary): string {
  const g = (v?: number) => (v === undefined ? "—" : v.toLocaleString("en"));
  const sec = (v?: number) => (v === undefined ? "—" : (v / 1000).toFixed(1));
  const lines = [
    "Training commits on L1 vs through RepositoryRollup (cancer logistic repository, 16 rows = 1 real proof a commit; L1 = pushCommit each + merge of k; rollup = one settleRound merging k)",
    "| N | merged k | path | L1 gas (push + merge) | of which merge | L1 gas / commit | rollup gas (settleRound) | rollup gas / commit | L1 / rollup | L1 calldata bytes | rollup calldata bytes | L1 createBranch gas | proofs / path | L1 s | rollup s |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...s.rows.map((r) =>
      `| ${r.contributors} | ${r.merged || "none"} | ${r.path} | ${g(r.l1Gas)} | ${g(r.l1MergeGas)} | ${g(r.l1GasPerCommit)} | ${g(r.rollupGas)} | ${g(r.rollupGasPerCommit)} | ${r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}×`} | ` +
      `${g(r.l1CalldataBytes)} | ${g(r.rollupCalldataBytes)} | ${g(r.l1BranchGas)} | ${r.proofs}${r.merged >= 2 ? ` + merge` : ""} | ${sec(r.l1Ms)} | ${sec(r.rollupMs)} |`),
    `L1 gas (push + merge) = Σ pushCommit + ModelRepository.merge; L1 createBranch gas = the contributors' branches repo:push creates first (not in the L1 columns); ` +
      `RepositoryRollup.open (once per repository): ${g(s.openGas)} gas; section wall time ${sec(s.totalMs)} s`,
  ];
  return lines.join("\n");
}
