/**
 * The main job on the in-process Hardhat network: deploy the rollup, compile the bundled digits
 * MLP, register it (batch circuit, generated verifier, model NFT), let a dApp (DigitBounty) and
 * users request inferences, prove them in one batch, settle it, pay the bounty through the
 * request/callback path, and read a verified result back; then a data point deposited, inferred on,
 * withdrawn and claimed as a token with its result.
 */
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { repoRoot } from "../zk/paths";
import type { Progress } from "../zk";
import { compileModel } from "../model/compile";
import { readSamples } from "../model/samples";
import { formatCompileSummary } from "../model/summary";
import { encodeInput, readInputLayout } from "../sdk/encodeInput";
import { deployRollup } from "../chain/deployRollup";
import { openSequencer, registerModel } from "./service";
import { demoDataPoint } from "./demoDataPoint";

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
  const seq = await openSequencer(hre, { addresses: d.addresses, progress });
  try {
    const reg = await registerModel(seq, hre, DEMO.name, DEMO.batch, progress);
    say(`   model id ${reg.modelId}, owned by ${await d.registry.ownerOf(reg.modelId)}; ${reg.constraints} constraints; ${reg.contract} at ${reg.verifier}`);

    const held = readSamples(file(`${DEMO.data}.heldout.json`));
    const labels = (require(file(`${DEMO.data}.heldout.json`)) as { labels: number[] }).labels;
    const digit = labels[0];
    say(`4. a dApp offers a bounty for an image the model reads as a ${digit}; a user commits to an image, then claims it on-chain`);
    const Bounty = await ethers.getContractFactory("DigitBounty", funder);
    const bounty = await Bounty.deploy(d.addresses.rollup, reg.modelId, digit, BigInt(Math.floor(Date.now() / 1000) + 86400), { value: ethers.parseEther("1") });
    // The claimant encodes the image from the registry's record of the model alone, as any dApp would.
    const enc = await encodeInput(await readInputLayout(d.registry, reg.modelId), held[0]);
    const fee = await d.rollup.estimateFee(reg.modelId);
    // Commit first, reveal a block later: the revealed input is public, and a copier's commitment made
    // on seeing it is later than this one, so it cannot win the bounty (see IDigitBounty).
    const mine = bounty.connect(claimant) as typeof bounty;
    const salt = ethers.hexlify(ethers.randomBytes(32));
    await (await mine.commit(await mine.commitmentFor(claimant.address, enc.inputHash, salt))).wait();
    await (await mine.claim(enc.inputHash, enc.input, salt, { value: fee })).wait();
    say(`   committed to the image, then revealed it in a later block (request ${await d.rollup.requestCount()})`);
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
    say(`   tx ${s.txHash}: ${s.gasUsed} gas, ${(Number(s.gasUsed) / s.inferences).toFixed(0)} gas per inference (one Groth16 proof per inference would cost ≥ 214,000 each; ` +
      `a model's first batch also creates its trace slots, later ones cost ~35k less)`);
    const fulfilled = await seq.deliver();
    const after = await ethers.provider.getBalance(claimant.address);
    say(`   ${fulfilled} on-chain request fulfilled; the bounty ${after > before ? `paid ${ethers.formatEther(after - before)} ETH to the claimant` : "was not paid (the model read another digit)"}`);

    say(`8. any dApp can check a result: trace of request ${ids[0]}`);
    const t = await seq.trace(ids[0]);
    say(`   label ${t.label} (true label ${labels[1]}), batch ${t.batch}, leaf ${t.index}, ledger confirms: ${t.verified}`);
    const forged = { modelId: reg.modelId, requestId: ids[0], inputHash: BigInt(t.inputHash!), outputWord: BigInt(t.outputWord!) ^ 1n };
    const forgedOk = await d.rollup.verifyInference(BigInt(t.batch!), forged, t.index!, t.path!.map(BigInt));
    say(`   the same entry with another label: ledger confirms: ${forgedOk}`);
    if (!t.verified || forgedOk) throw new Error("demo failed: the ledger's answers are not the expected ones");

    await demoDataPoint(hre, d, seq, { model: DEMO.name, modelId: reg.modelId, sample: held[DEMO.batch], step: 9 }, say, progress);
  } finally {
    seq.store.close();
  }
}
