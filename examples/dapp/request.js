#!/usr/bin/env node
/**
 * A dApp's backend in a few lines of @flavum/sdk: sign an inference request for a sample, send it to
 * a Flavum node, wait for the proof and ask the rollup contract on chain whether it holds. The node
 * is trusted for nothing: the chain and rollup are pinned (from the RPC and --rollup) before
 * anything is signed, and the result counts only because FlavumRollup.verifyInference says true.
 *
 *   node request.js --node http://127.0.0.1:8480 --rpc http://127.0.0.1:8545 \
 *     --sample-file ../../fixtures/data/logreg_cancer.sample.json [--index 0] [--model <id>] \
 *     [--rollup 0x…] [--account 0 | FLAVUM_PRIVATE_KEY=0x…] [--timeout 300] [--json]
 */
"use strict";
const fs = require("fs");
const { FlavumNodeClient, FlavumError } = require("@flavum/sdk");
const { JsonRpcProvider, Wallet } = require("ethers");

class UsageError extends Error {}

const USAGE = "usage: node request.js --node <url> --rpc <url> (--sample-file <json> [--index i] | --sample '[…]') [--model id] [--rollup 0x…] [--account i] [--timeout s] [--json]";

function parseArgs(argv) {
  const a = { index: "0", account: "0", timeout: "300" };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--json") a.json = true;
    else if (k.startsWith("--") && i + 1 < argv.length) a[k.slice(2).replace(/-(.)/g, (_m, c) => c.toUpperCase())] = argv[++i];
    else throw new UsageError(`unexpected argument "${k}"\n${USAGE}`);
  }
  for (const k of ["node", "rpc"]) if (!a[k]) throw new UsageError(`--${k} is required\n${USAGE}`);
  if ((a.sample === undefined) === (a.sampleFile === undefined)) throw new UsageError(`give --sample-file or --sample\n${USAGE}`);
  return a;
}

/** One flat array of numbers: from --sample, or sample --index of a file of samples (or one sample). */
function readSample(a) {
  const data = JSON.parse(a.sample ?? fs.readFileSync(a.sampleFile, "utf8"));
  const sample = Array.isArray(data[0]) ? data[Number(a.index)] : data;
  if (!Array.isArray(sample) || !sample.every((x) => typeof x === "number")) throw new UsageError(`the sample must be a flat array of numbers (a file may hold several: pick one with --index)`);
  return sample;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const sample = readSample(a);
  const provider = new JsonRpcProvider(a.rpc, undefined, { staticNetwork: true });
  const { chainId } = await provider.getNetwork().catch((e) => {
    throw new UsageError(`cannot reach the chain at ${a.rpc} (${e.shortMessage ?? e.message}): start one with npx hardhat node`);
  });
  // A key of your own, or an account the RPC node unlocks (npx hardhat node has twenty).
  const signer = process.env.FLAVUM_PRIVATE_KEY ? new Wallet(process.env.FLAVUM_PRIVATE_KEY, provider) : await provider.getSigner(Number(a.account));

  // Pinning the rollup makes verifyOnChain trust only the chain; without --rollup it is the node's word.
  const client = new FlavumNodeClient(a.node, { expect: { chainId, rollup: a.rollup } });
  const rollup = a.rollup ?? (await client.status()).rollup;
  const modelId = a.model ?? (await client.models())[0]?.modelId;
  if (modelId === undefined) throw new UsageError(`the node at ${a.node} serves no model yet (model:register one)`);

  const log = (msg) => a.json || console.log(msg);
  const sent = await client.submit({ modelId, sample, signer });
  log(`request ${sent.requestId} for model ${modelId} signed by ${sent.signer}${sent.duplicate ? " (already queued)" : ""}`);
  let seen = "";
  const settled = await client.waitForProof(sent.requestId, {
    timeoutMs: Number(a.timeout) * 1000,
    onStatus: (r) => r.status !== seen && log(`  ${(seen = r.status)}`),
  });
  const verified = await client.verifyOnChain(settled.proof, provider);
  const result = {
    requestId: settled.requestId, modelId: settled.modelId, output: settled.output, label: settled.label,
    batchId: settled.proof.batchId, txHash: settled.txHash, rollup, rollupPinned: Boolean(a.rollup), verified,
  };
  if (a.json) console.log(JSON.stringify(result));
  else {
    console.log(`  output ${settled.output.map((v) => +v.toFixed(4)).join(", ")} (label ${settled.label}), batch ${result.batchId}, tx ${result.txHash}`);
    console.log(`  verifyInference on ${rollup}${a.rollup ? "" : " (the node's address: pass --rollup to pin it)"}: ${verified}`);
  }
  if (!verified) process.exitCode = 1;
}

main().catch((e) => {
  // The SDK's errors say what was wrong; anything else is a bug and keeps its stack.
  process.stderr.write(`Error: ${e instanceof FlavumError || e instanceof UsageError || !e.stack ? e.message : e.stack}\n`);
  process.exitCode = 1;
});
