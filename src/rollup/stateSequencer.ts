/**
 * The sequencer's state side: take the oldest queued operations (up to a batch), rebuild the state from
 * L1, prove the state batch with the state circuit's keys, and settle it. Stateless between runs: what
 * is on chain is the whole truth, so a crash at any point loses nothing.
 */
import fs from "fs";
import { FlavumError } from "../errors";
import { prove, solidityCalldata, Progress } from "../zk";
import type { EvmStateLedger } from "../chain/evmState";
import { rebuildState } from "./stateSync";
import { planStateBatch } from "./stateWitness";
import { statePaths } from "./stateBuild";
import { readDeployments } from "../chain/deployments";
import { vkHash } from "../zk/vkHash";

export interface SettledStateBatch {
  stateBatch: bigint;
  count: number;
  status: bigint;
  txHash: string;
  gasUsed: bigint;
  proveMs: number;
}

export async function runStateBatch(ledger: EvmStateLedger, opts: { progress?: Progress } = {}): Promise<SettledStateBatch | undefined> {
  const params = await ledger.parameters();
  const info = await ledger.info();
  if (info.exodus) throw new FlavumError(`the rollup is in exodus mode: no more batches; owners withdraw with dp:exodus`, "EXODUS");
  if (info.opHead === info.opTail) return undefined;
  const paths = statePaths(params);
  if (!fs.existsSync(paths.zkey))
    throw new FlavumError(`no proving key for the state circuit (depth ${params.depth}, ${params.opsPerBatch} ops) at ${paths.zkey}: run \`npx hardhat rollup:deploy\` on this machine, or copy build/state/ from the machine that deployed`, "NO_KEYS");
  const recorded = readDeployments(ledger.hre.network.name).StateVerifier?.buildId;
  if (recorded && recorded !== vkHash(paths.vkey))
    throw new FlavumError(`the local state proving key (${paths.zkey}) is not the one the deployed verifier checks: its proofs would be rejected`, "KEY_MISMATCH");

  const history = await ledger.history();
  const rebuilt = await rebuildState(history, params.depth, params.opsPerBatch);
  if (rebuilt.nextOp !== info.opHead) throw new FlavumError(`the rebuilt state reached operation ${rebuilt.nextOp}, the contract is at ${info.opHead}: the node's event history is incomplete`);
  const head = Number(info.opHead);
  const ops = history.ops.slice(head, head + Math.min(Number(info.opTail - info.opHead), params.opsPerBatch));
  const chainId = (await ledger.hre.ethers.provider.getNetwork()).chainId;
  const plan = planStateBatch({ tree: rebuilt.tree, ops, opsPerBatch: params.opsPerBatch, firstOp: info.opHead, stateBatch: info.stateBatches, chainId, stateContract: ledger.address });
  opts.progress?.(`proving state batch ${info.stateBatches}: ${ops.length} operation(s)`);
  const res = await prove(paths.wasm, paths.zkey, plan.circuitInput, { progress: opts.progress });
  const cd = solidityCalldata(res.proof, res.publicSignals);
  const { tx, receipt } = await ledger.submitStateBatch({
    count: ops.length, newRoot: plan.newRoot, exitRoot: plan.exitRoot, status: plan.status, opsCommit: plan.opsCommit, proof: cd, posted: plan.posted,
  });
  return { stateBatch: info.stateBatches, count: ops.length, status: plan.status, txHash: tx.hash as string, gasUsed: receipt.gasUsed, proveMs: res.proveMs };
}
