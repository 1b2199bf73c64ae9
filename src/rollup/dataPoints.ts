/**
 * What the dp:* commands do, on the real contracts: deposit a data point (its values quantized for a
 * model), show one (from L1 and the state rebuilt from L1), request transfers, exits and inferences,
 * claim an exit, and the exodus withdrawals. Every on-chain step names what failed.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { parseEther, toBeHex, type Contract } from "ethers";
import { FlavumError } from "../errors";
import { EvmStateLedger, Location, StateHistory } from "../chain/evmState";
import { rebuildState, RebuiltState } from "./stateSync";
import { quantizeInput } from "../quant/intExec";
import { loadModel } from "../model/artifacts";
import { reviewSamples } from "../model/samples";
import { opElements, OpType } from "../protocol/stateBatch";
import type { Sequencer } from "./sequencer";
import type { Progress } from "../zk/log";

export interface DataPointResult {
  modelId: string;
  label: number;
  output: string;
  batch: string;
  verified: boolean;
}

export interface DataPointView {
  dataPoint: string;
  owner: string | null;
  kind: "owned" | "common";
  contentHash: string;
  balance: string;
  asset: string;
  location: Exclude<Location, "none" | "queued"> | "queued";
  results: DataPointResult[];
}

/** A leaf's address field (an owner, an asset) as an address. */
const toAddress = (v: bigint): string => toBeHex(v, 20);

function ethAmount(value: string | undefined): bigint {
  if (value === undefined) return 0n;
  try {
    const v = parseEther(value);
    if (v < 0n) throw new Error("negative");
    return v;
  } catch {
    throw new FlavumError(`--value must be an amount of ETH such as 0.5, got "${value}"`, "BAD_INPUT");
  }
}

/** The one model the values are quantized for: given, or the only one this sequencer serves. */
function modelFor(seq: Sequencer, model?: string) {
  if (model) return seq.served(model);
  const all = seq.store.models();
  if (all.length !== 1)
    throw new FlavumError(`--model is needed to quantize the input (registered: ${all.map((m) => `${m.modelId} (${m.name})`).join(", ") || "none"})`, "BAD_INPUT");
  return all[0];
}

export async function depositDataPoint(
  seq: Sequencer,
  ledger: EvmStateLedger,
  a: { samples: number[][]; model?: string; common: boolean; value?: string; strict?: boolean; what: string; progress?: Progress },
): Promise<{ dataPoint: string; txHash: string }> {
  if (a.samples.length !== 1) throw new FlavumError(`${a.what} holds ${a.samples.length} samples; a data point is one sample`, "BAD_INPUT");
  const m = modelFor(seq, a.model);
  const q = loadModel(m.name).q;
  reviewSamples(q, a.samples, a.what, { strict: a.strict, progress: a.progress });
  const values = quantizeInput(q, a.samples[0]);
  const value = ethAmount(a.value);
  if (a.common && value !== 0n) throw new FlavumError(`a common data point carries no balance: drop --value or --common`, "BAD_INPUT");
  const state = ledger.state;
  const dpId = (await state.deposit.staticCall(values, q.input.bits, a.common, { value })) as bigint;
  const { tx } = await ledger.send(`depositing data point ${dpId}`, state.deposit(values, q.input.bits, a.common, { value }));
  return { dataPoint: dpId.toString(), txHash: tx.hash as string };
}

/** The state rebuilt from L1 (from `history` if the caller already read it). */
export async function rebuilt(ledger: EvmStateLedger, history?: StateHistory): Promise<RebuiltState> {
  const p = await ledger.parameters();
  return rebuildState(history ?? (await ledger.history()), p.depth, p.opsPerBatch);
}

export async function showDataPoint(hre: HardhatRuntimeEnvironment, ledger: EvmStateLedger, rollup: Contract, dpId: bigint): Promise<DataPointView> {
  const d = await ledger.dataPoint(dpId);
  if (d.location === "none") throw new FlavumError(`no data point ${dpId} on this rollup (${(await ledger.info()).opTail} operations queued so far)`, "NOT_FOUND");
  const state = await rebuilt(ledger);
  const leaf = state.tree.dataPoint(dpId);
  const history = await ledger.history();
  const dep = history.deposits.get(dpId)!;
  let owner: string | null = leaf ? toAddress(leaf.owner) : null;
  let balance = leaf?.balance ?? 0n;
  let asset = leaf ? toAddress(leaf.asset) : dep.asset;
  const exit = state.exits.get(dpId);
  if (!leaf && exit && d.location === "exiting") {
    owner = toAddress(exit.leaf.owner);
    balance = exit.leaf.balance;
    asset = toAddress(exit.leaf.asset);
  } else if (d.location === "l1-token") {
    const token = await hre.ethers.getContractAt("DataPointToken", await ledger.state.token());
    owner = await token.ownerOf(dpId);
    balance = 0n;
  } else if (d.location === "queued" && !leaf) {
    owner = dep.owner;
    balance = dep.amount;
  }
  // Results: every delivered request on this data point, checked again against its batch.
  const results: DataPointResult[] = [];
  const fulfilled = await rollup.queryFilter(rollup.filters.InferenceFulfilled());
  for (const e of fulfilled) {
    const a = (e as unknown as { args: Record<string, bigint> }).args;
    if ((await rollup.dataPointOfRequest(a.requestId)) !== dpId) continue;
    const [found, word, batchId] = await rollup.dataPointResult(dpId, a.modelId);
    results.push({
      modelId: a.modelId.toString(), label: Number(a.outputWord & 0xffn), output: a.outputWord.toString(), batch: a.batchId.toString(),
      verified: found && word === a.outputWord && batchId === a.batchId,
    });
  }
  return {
    dataPoint: dpId.toString(), owner, kind: d.kind === 1 ? "common" : "owned", contentHash: d.contentHash.toString(),
    balance: balance.toString(), asset: BigInt(asset) === 0n ? "ETH" : asset, location: d.location as DataPointView["location"], results,
  };
}

export async function claimDataPoint(ledger: EvmStateLedger, dpId: bigint): Promise<{ token: string; txHash: string }> {
  const d = await ledger.dataPoint(dpId);
  if (d.location !== "exiting")
    throw new FlavumError(`data point ${dpId} is ${d.location}, not exiting: request the exit with dp:withdraw and run batch:run first`, "BAD_STATE");
  const exit = (await rebuilt(ledger)).exits.get(dpId);
  if (!exit) throw new FlavumError(`no proven exit of data point ${dpId} in the state batches on chain`, "BAD_STATE");
  const asset = toAddress(exit.leaf.asset);
  const { tx } = await ledger.send(
    `claiming data point ${dpId}`,
    ledger.state.claim(exit.stateBatch, exit.slot, dpId, exit.leaf.contentHash, asset, exit.leaf.balance, exit.path),
  );
  return { token: dpId.toString(), txHash: tx.hash as string };
}

/** In exodus: withdraw a data point from the last proven state, or refund its deposit if it never entered. */
export async function exodusDataPoint(ledger: EvmStateLedger, dpId: bigint): Promise<{ dataPoint: string; action: "withdrawn" | "refunded"; txHash: string }> {
  const info = await ledger.info();
  if (!info.exodus) throw new FlavumError(`the rollup is not in exodus mode; rollup:exodus switches it once an operation is overdue`, "NOT_EXODUS");
  const history = await ledger.history();
  const state = await rebuilt(ledger, history);
  const leaf = state.tree.dataPoint(dpId);
  if (leaf) {
    const asset = toAddress(leaf.asset);
    const { tx } = await ledger.send(`withdrawing data point ${dpId} in exodus`, ledger.state.exodusWithdraw(dpId, leaf.contentHash, asset, leaf.balance, state.tree.siblings(dpId)));
    return { dataPoint: dpId.toString(), action: "withdrawn", txHash: tx.hash as string };
  }
  for (let i = Number(info.opHead); i < history.ops.length; i++) {
    const op = history.ops[i];
    if (op.type === OpType.Deposit && op.dpId === dpId) {
      const { tx } = await ledger.send(`refunding the deposit of data point ${dpId} (operation ${i})`, ledger.state.exodusRefund(i, opElements(op)));
      return { dataPoint: dpId.toString(), action: "refunded", txHash: tx.hash as string };
    }
  }
  throw new FlavumError(`data point ${dpId} is neither in the last proven state nor an unprocessed deposit: nothing to withdraw`, "NOT_FOUND");
}


