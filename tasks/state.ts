/**
 * The rollup state's commands: data points in and out of the rollup, and the exodus. Logic lives in
 * src/rollup/dataPoints.ts; these only parse arguments and print.
 */
import { task, types } from "hardhat/config";
import { flavumAction, progress, userPath } from "./util";
import { idArg } from "./args";
import { EvmStateLedger, recordedState } from "../src/chain/evmState";
import { recordedRollup } from "../src/chain/evmRollup";
import { claimDataPoint, depositDataPoint, exodusDataPoint, showDataPoint } from "../src/rollup/dataPoints";
import { openSequencer } from "../src/rollup/service";
import { readSamples } from "../src/model/samples";
import { FlavumError } from "../src/errors";

const stateAction = <A>(fn: (a: A, hre: any) => Promise<unknown>) => flavumAction(fn, { persistent: true });
const ledgerFor = (hre: any, from = 0) => EvmStateLedger.connect(hre, recordedState(hre.network.name), from, progress);
const print = (json: boolean, obj: object, text: string) => console.log(json ? JSON.stringify(obj) : text);

task("dp:deposit", "Deposit a data point (a feature vector, quantized for a registered model) with an optional ETH balance")
  .addParam("input", "JSON file holding one sample (a flat array of numbers)")
  .addOptionalParam("model", "Model id or name whose input the values are quantized for (default: the only registered one)")
  .addFlag("common", "A common data point: anyone may run inference on it, nobody withdraws it (no balance)")
  .addOptionalParam("value", "ETH to deposit as its balance")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .addFlag("strict", "Refuse input the model would round instead of warning")
  .addFlag("json", "Print JSON")
  .setAction(
    stateAction(async (a: { input: string; model?: string; common: boolean; value?: string; from: number; strict: boolean; json: boolean }, hre) => {
      const seq = await openSequencer(hre, { signerIndex: 0, progress });
      try {
        const ledger = await ledgerFor(hre, a.from);
        const r = await depositDataPoint(seq, ledger, { samples: readSamples(userPath(a.input)), model: a.model, common: a.common, value: a.value, strict: a.strict, what: `input file ${a.input}`, progress });
        print(a.json, r, `data point ${r.dataPoint} deposited in ${r.txHash}; it enters the rollup with the next state batch (batch:run)`);
      } finally {
        seq.store.close();
      }
    }),
  );

task("dp:show", "Show a data point: owner, kind, content hash, balance, where it is, and its proven results")
  .addParam("id", "Data point id")
  .addFlag("json", "Print JSON")
  .setAction(
    stateAction(async (a: { id: string; json: boolean }, hre) => {
      const dpId = idArg("id", a.id, "data point");
      const ledger = await ledgerFor(hre);
      const rollup = await hre.ethers.getContractAt("FlavumRollup", recordedRollup(hre.network.name).rollup);
      const v = await showDataPoint(hre, ledger, rollup, dpId);
      print(a.json, v, [
        `data point ${v.dataPoint} (${v.kind}), ${v.location}`,
        `  owner ${v.owner ?? "-"}, balance ${v.balance} ${v.asset === "ETH" ? "wei" : v.asset}`,
        `  content ${v.contentHash}`,
        ...v.results.map((r) => `  model ${r.modelId}: label ${r.label}, output word ${r.output}, batch ${r.batch}${r.verified ? " (verified)" : " (NOT verified)"}`),
      ].join("\n"));
    }),
  );

task("dp:transfer", "Ask the rollup to transfer an owned data point (valid only if you own it when the state batch runs)")
  .addParam("id", "Data point id")
  .addParam("to", "New owner's address")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .addFlag("json", "Print JSON")
  .setAction(
    stateAction(async (a: { id: string; to: string; from: number; json: boolean }, hre) => {
      const dpId = idArg("id", a.id, "data point");
      if (!hre.ethers.isAddress(a.to)) throw new FlavumError(`--to must be an address, got "${a.to}"`, "BAD_INPUT");
      const ledger = await ledgerFor(hre, a.from);
      const { tx } = await ledger.send(`requesting the transfer of data point ${dpId}`, ledger.state.requestTransfer(dpId, a.to));
      print(a.json, { dataPoint: dpId.toString(), txHash: tx.hash }, `transfer of data point ${dpId} to ${a.to} queued in ${tx.hash}`);
    }),
  );

task("dp:withdraw", "Ask the rollup to move an owned data point to an exit tree (then dp:claim after the next batch)")
  .addParam("id", "Data point id")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .addFlag("json", "Print JSON")
  .setAction(
    stateAction(async (a: { id: string; from: number; json: boolean }, hre) => {
      const dpId = idArg("id", a.id, "data point");
      const ledger = await ledgerFor(hre, a.from);
      const { tx } = await ledger.send(`requesting the exit of data point ${dpId}`, ledger.state.requestExit(dpId));
      print(a.json, { dataPoint: dpId.toString(), txHash: tx.hash }, `exit of data point ${dpId} queued in ${tx.hash}; claim it with dp:claim after the next batch:run`);
    }),
  );

task("dp:claim", "Claim an exited data point as an L1 token, with its balance")
  .addParam("id", "Data point id")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .addFlag("json", "Print JSON")
  .setAction(
    stateAction(async (a: { id: string; from: number; json: boolean }, hre) => {
      const r = await claimDataPoint(await ledgerFor(hre, a.from), idArg("id", a.id, "data point"));
      print(a.json, r, `data point ${r.token} claimed as token ${r.token} in ${r.txHash}`);
    }),
  );

task("rollup:exodus", "Switch the rollup to exodus mode (only once a queued operation is overdue)")
  .addFlag("json", "Print JSON")
  .setAction(
    stateAction(async (a: { json: boolean }, hre) => {
      const ledger = await ledgerFor(hre);
      const info = await ledger.info();
      if (info.exodus) throw new FlavumError(`the rollup is already in exodus mode`, "EXODUS");
      const { deadline } = await ledger.parameters();
      const block = await hre.ethers.provider.getBlockNumber();
      if (info.opHead === info.opTail) throw new FlavumError(`nothing is overdue: no operation is waiting (exodus opens when one waits more than ${deadline} blocks)`, "NOT_OVERDUE");
      const h = await ledger.history();
      const due = Number(h.ops[Number(info.opHead)].createdBlock) + deadline;
      if (block + 1 < due) throw new FlavumError(`nothing is overdue: the oldest waiting operation (${info.opHead}) is due at block ${due}, this is block ${block}`, "NOT_OVERDUE");
      const { tx } = await ledger.send(`activating exodus`, ledger.state.activateExodus());
      print(a.json, { exodus: true, txHash: tx.hash, root: info.root.toString() }, `exodus mode from ${tx.hash}: owners withdraw from state root ${info.root} with dp:exodus`);
    }),
  );

task("dp:exodus", "In exodus mode: withdraw a data point from the last proven state, or refund its unprocessed deposit")
  .addParam("id", "Data point id")
  .addOptionalParam("from", "Signer index", 0, types.int)
  .addFlag("json", "Print JSON")
  .setAction(
    stateAction(async (a: { id: string; from: number; json: boolean }, hre) => {
      const r = await exodusDataPoint(await ledgerFor(hre, a.from), idArg("id", a.id, "data point"));
      print(a.json, r, `data point ${r.dataPoint} ${r.action} in ${r.txHash}`);
    }),
  );
