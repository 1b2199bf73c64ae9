/**
 * The demo's data-point step: an image deposited as an owned data point with an ETH balance, the model
 * asked about it on chain, the state batch that proves the owner asked, the inference batch that answers,
 * and the withdrawal: the exit proven, the data-point token claimed with its balance and its result.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { deployState } from "../chain/deployState";
import { EvmStateLedger } from "../chain/evmState";
import type { RollupDeployment } from "../chain/deployRollup";
import type { Progress } from "../zk";
import { loadModel } from "../model/artifacts";
import { quantizeInput } from "../quant/intExec";
import { runStateBatch } from "./stateSequencer";
import { rebuildState } from "./stateSync";
import type { Sequencer } from "./sequencer";

/** A small state tree keeps the demo's state circuit quick to set up (255 data points, 4 operations a batch). */
export const DEMO_STATE = { depth: 8, opsPerBatch: 4, deadline: 256 };

export async function demoDataPoint(
  hre: HardhatRuntimeEnvironment,
  d: RollupDeployment,
  seq: Sequencer,
  a: { model: string; modelId: bigint; sample: number[]; step: number },
  say: (s: string) => void,
  progress: Progress,
): Promise<void> {
  const { ethers } = hre;
  const [, , , owner] = await ethers.getSigners();
  say(`${a.step}. the rollup's state: data points (depth ${DEMO_STATE.depth}, ${DEMO_STATE.opsPerBatch} operations per state batch)`);
  const s = await deployState(hre, d, DEMO_STATE);
  const ledger = await EvmStateLedger.connect(hre, s.addresses.state, 0, progress);
  const q = loadModel(a.model).q;
  const state = s.state.connect(owner) as typeof s.state;
  await (await state.deposit(quantizeInput(q, a.sample), q.input.bits, false, { value: ethers.parseEther("0.01") })).wait();
  const fee = await d.rollup.estimateFee(a.modelId);
  const requestId = await state.requestInference.staticCall(a.modelId, 1n, ethers.ZeroAddress, { value: fee });
  await (await state.requestInference(a.modelId, 1n, ethers.ZeroAddress, { value: fee })).wait();
  say(`   a user deposits an image as data point 1 with 0.01 ETH and asks model ${a.modelId} about it (request ${requestId})`);
  const sb = (await runStateBatch(ledger, { progress }))!;
  say(`   state batch ${sb.stateBatch}: ${sb.count} operations proven (the deposit, and that its owner asked), ${sb.gasUsed} gas`);
  await seq.syncOnchainRequests();
  const b = (await seq.proveNext())!;
  await seq.submit();
  await seq.deliver();
  const [found, word] = await d.rollup.dataPointResult(1n, a.modelId);
  say(`   inference batch ${b.batchNumber} answers it: label ${Number(word & 0xffn)} recorded on the data point (proven: ${found})`);
  await (await state.requestExit(1n)).wait();
  await runStateBatch(ledger, { progress });
  const exit = (await rebuildState(await ledger.history(), DEMO_STATE.depth, DEMO_STATE.opsPerBatch)).exits.get(1n)!;
  await (await state.claim(exit.stateBatch, exit.slot, 1n, exit.leaf.contentHash, ethers.ZeroAddress, exit.leaf.balance, exit.path)).wait();
  const token = await ethers.getContractAt("DataPointToken", s.addresses.token);
  const [, tokenWord] = await token.resultOf(1n, a.modelId);
  say(`   withdrawn: exit proven, data-point token 1 claimed by ${await token.ownerOf(1n)} with its 0.01 ETH; the token carries the result (${tokenWord === word})`);
  if (!found || tokenWord !== word) throw new Error("demo failed: the data point's proven result is not on its token");
}
