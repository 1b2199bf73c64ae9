/**
 * The main job on the in-process Hardhat network: deploy the rollup, compile the bundled digits
 * MLP, register it (batch circuit, generated verifier, model NFT), let a dApp (DigitBounty) and
 * users request inferences, prove them in one batch, settle it, pay the bounty through the
 * request/callback path, and read a verified result back.
 */
import path from "path";
import { AbiCoder } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { repoRoot } from "../zk/paths";
import type { Progress } from "../zk";
import { compileModel } from "../model/compile";
import { loadModel } from "../model/artifacts";
import { readSamples } from "../model/samples";
import { formatCompileSummary } from "../model/summary";
import { quantizeInput } from "../quant/intExec";
import { packedHash } from "../quant/commitment";
import { deployRollup } from "../chain/deployRollup";
import { defaultStorePath, openSequencer, registerModel } from "./service";

export const DEMO = { name: "mlp_digits", onnx: "fixtures/models/mlp_digits.onnx", data: "fixtures/data/mlp_digits", batch: 8 };

export async function runDemo(hre: HardhatRuntimeEnvironment, say: (s: string) => void, progress: Progress): Promise<void> {
  const file = (p: string) => path.join(repoRoot(), p);
  const { ethers } = hre;
  const [, funder, claimant] = await ethers.getSigners();

  say(`1. deploy the rollup on ${hre.network.name}`);
  const d = await deployRollup(hre);
  say(`   ModelRegistry ${d.addresses.registry}, FlavumRollup ${d.addresses.rollup}`);

  say(`2. compile ${DEMO.onnx} (calibrated on ${DEMO.data}.calibration.json)`);
  const { manifest, reusedKeys } = await compileModel({
    onnx: file(DEMO.onnx), name: DEMO.name, calibration: file(`${DEMO.data}.calibration.json`), progress,
  });
  say(formatCompileSummary(manifest, reusedKeys).replace(/^/gm, "   "));

  say(`3. register it for batches of ${DEMO.batch}: batch circuit, verifier, model NFT`);
  const seq = await openSequencer(hre, { addresses: d.addresses, store: defaultStorePath(hre.network.name), progress });
  try {
    const reg = await registerModel(seq, hre, DEMO.name, DEMO.batch, progress);
    say(`   model id ${reg.modelId}, owned by ${await d.registry.ownerOf(reg.modelId)}; ${reg.constraints} constraints; ${reg.contract} at ${reg.verifier}`);

    const held = readSamples(file(`${DEMO.data}.heldout.json`));
    const labels = (require(file(`${DEMO.data}.heldout.json`)) as { labels: number[] }).labels;
    const digit = labels[0];
    say(`4. a dApp offers a bounty for an image the model reads as a ${digit}; a user claims it on-chain`);
    const Bounty = await ethers.getContractFactory("DigitBounty", funder);
    const bounty = await Bounty.deploy(d.addresses.rollup, reg.modelId, digit, BigInt(Math.floor(Date.now() / 1000) + 86400), { value: ethers.parseEther("1") });
    const q = loadModel(DEMO.name).q;
    const xq = quantizeInput(q, held[0]);
    const fee = await d.rollup.estimateFee(reg.modelId);
    const input = AbiCoder.defaultAbiCoder().encode(["int256[]"], [xq]);
    await (await (bounty.connect(claimant) as typeof bounty).claim(await packedHash(xq, q.input.bits), input, { value: fee })).wait();
    const before = await ethers.provider.getBalance(claimant.address);

    say(`5. ${DEMO.batch - 1} users send off-chain requests to the sequencer`);
    const ids = seq.request(DEMO.name, held.slice(1, DEMO.batch));
    say(`   request ids ${ids[0]} … ${ids[ids.length - 1]}`);
    const onchain = await seq.syncOnchainRequests();
    say(`   the sequencer also picked up ${onchain} on-chain request(s)`);

    say(`6. prove one batch`);
    const b = (await seq.proveNext())!;
    say(`   batch ${b.batchNumber}: ${b.count} inferences proven in ${(b.proveMs / 1000).toFixed(1)} s (${(b.proveMs / b.count / 1000).toFixed(2)} s per inference)`);

    say(`7. settle it on the rollup`);
    const s = (await seq.submit())!;
    say(`   tx ${s.txHash}: ${s.gasUsed} gas, ${(Number(s.gasUsed) / s.inferences).toFixed(0)} gas per inference (one Groth16 proof per inference would cost ≥ 214,000 each)`);
    const fulfilled = await seq.fulfillOnchain(s);
    const after = await ethers.provider.getBalance(claimant.address);
    say(`   ${fulfilled} on-chain request fulfilled; the bounty ${after > before ? `paid ${ethers.formatEther(after - before)} ETH to the claimant` : "was not paid (the model read another digit)"}`);

    say(`8. any dApp can check a result: trace of request ${ids[0]}`);
    const t = await seq.trace(ids[0]);
    say(`   label ${t.label} (true label ${labels[1]}), batch ${t.batch}, leaf ${t.index}, ledger confirms: ${t.verified}`);
    const forged = { modelId: reg.modelId, requestId: ids[0], inputHash: BigInt(t.inputHash!), outputWord: BigInt(t.outputWord!) ^ 1n };
    const forgedOk = await d.rollup.verifyInference(BigInt(t.batch!), forged, t.index!, t.path!.map(BigInt));
    say(`   the same entry with another label: ledger confirms: ${forgedOk}`);
    if (!t.verified || forgedOk) throw new Error("demo failed: the ledger's answers are not the expected ones");
  } finally {
    seq.store.close();
  }
}
