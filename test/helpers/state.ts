/**
 * The rollup with its state as the state tests start it: the real deploy code (deployRollup +
 * deployState, small state circuit: depth 8, 4 operations per batch), the bundled logistic regression
 * registered for batches of 4, and helpers that drive the real sequencer paths.
 */
import hre from "hardhat";
import { deployState } from "../../src/chain/deployState";
import { EvmStateLedger } from "../../src/chain/evmState";
import { runStateBatch } from "../../src/rollup/stateSequencer";
import { rebuildState } from "../../src/rollup/stateSync";
import { loadModel } from "../../src/model/artifacts";
import { quantizeInput } from "../../src/quant/intExec";
import { ROLLUP_MODEL, registeredRollup } from "./rollup";
import { heldout } from "./fixtures";

export const STATE_TEST = { depth: 8, opsPerBatch: 4, deadline: 20 };

export async function stateRollup() {
  const base = await registeredRollup(4);
  const s = await deployState(hre, base.d, STATE_TEST);
  const ledger = await EvmStateLedger.connect(hre, s.addresses.state);
  return { ...base, s, ledger };
}

/** A held-out sample of the registered model, quantized as a data point holds it. */
export function quantizedSample(i: number): { values: bigint[]; bits: number } {
  const m = loadModel(ROLLUP_MODEL);
  return { values: quantizeInput(m.q, heldout("logreg_cancer").inputs[i]), bits: m.q.input.bits };
}

export async function stateBatch(ledger: EvmStateLedger) {
  return runStateBatch(ledger, { progress: () => undefined });
}

export async function rebuilt(ledger: EvmStateLedger) {
  return rebuildState(await ledger.history(), STATE_TEST.depth, STATE_TEST.opsPerBatch);
}

/** Proves a plan with the deployed state circuit's keys, as the sequencer does (for attacks that post something else). */
export async function proveStatePlan(plan: import("../../src/rollup/stateWitness").StateBatchPlan) {
  const { prove, solidityCalldata } = await import("../../src/zk");
  const { statePaths } = await import("../../src/rollup/stateBuild");
  const p = statePaths({ depth: STATE_TEST.depth, opsPerBatch: STATE_TEST.opsPerBatch });
  const res = await prove(p.wasm, p.zkey, plan.circuitInput);
  return solidityCalldata(res.proof, res.publicSignals);
}
