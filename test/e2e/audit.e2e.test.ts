/**
 * model:audit end to end: a model registered for real (batch circuit, keys, generated verifier, NFT)
 * audits clean from its public material; each way of lying about it is named by the check it breaks:
 * a commitment that borrows another model's verifying key but points at other code, a quantized
 * graph or manifest edited after registration, a registered output layout the circuit does not pack.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { deployRollup } from "../../src/chain/deployRollup";
import { compileModel } from "../../src/model/compile";
import { modelsRoot } from "../../src/model/artifacts";
import { openSequencer, registerModel } from "../../src/rollup/service";
import { auditModel, AuditReport, formatAudit, stripMetadata } from "../../src/audit/modelAudit";
import { dataPath, onnxPath, usePtauDir } from "../helpers/fixtures";

const NAME = "audit_logreg";
const B = 2;
const failed = (r: AuditReport) => r.checks.filter((c) => !c.ok).map((c) => c.name).sort();
/** The zkey check recompiles and re-verifies (the slow part); tampering cases skip it and expect it reported. */
const SKIPPED = `batch${B}.zkeyCircuit`;

describe("model:audit end to end", function () {
  let d: Awaited<ReturnType<typeof deployRollup>>;
  let registry: string;
  let modelId: bigint;
  let verifier: string;

  before(async () => {
    usePtauDir();
    await compileModel({ onnx: onnxPath("logreg_cancer"), name: NAME, calibration: dataPath("logreg_cancer", "calibration") });
    d = await deployRollup(hre);
    registry = d.addresses.registry;
    const store = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "flavum-audit-")), "sequencer.db");
    const seq = await openSequencer(hre, { store, addresses: d.addresses });
    try {
      const reg = await registerModel(seq, hre, NAME, B);
      modelId = reg.modelId;
      verifier = reg.verifier;
    } finally {
      seq.store.close();
    }
  });

  /** Registers another model with the honest one's commitment and shape, changed by `edit`. */
  async function registerLike(edit: { verifier?: string; shape?: Record<string, unknown>; uri?: string }): Promise<bigint> {
    const c = await d.registry.commitmentOf(modelId);
    const s = await d.registry.shapeOf(modelId);
    const commitment = { weightsHash: c.weightsHash, architectureHash: c.architectureHash, circuitHash: c.circuitHash, vkHash: c.vkHash, proofSystem: c.proofSystem };
    const shape = {
      inputShape: [...s.inputShape], outputShape: [...s.outputShape], inputScale: s.inputScale, outputScale: s.outputScale,
      inputBits: s.inputBits, outputBits: s.outputBits, outputCount: s.outputCount, hasLabel: s.hasLabel, ...edit.shape,
    };
    await (await d.registry.register(commitment, shape, edit.uri ?? `flavum://models/${NAME}`, [B], [edit.verifier ?? verifier])).wait();
    return d.registry.modelCount();
  }

  it("passes every check for an honestly registered model, the zkey verified against the rebuilt circuit", async () => {
    const r = await auditModel(hre, registry, modelId);
    expect(failed(r), formatAudit(r)).to.deep.equal([]);
    expect(r.ok).to.equal(true);
    expect(r.name).to.equal(NAME);
    expect(r.batchSizes).to.deep.equal([B]);
    const names = r.checks.map((c) => c.name);
    for (const n of ["commitment.circuitHash", "commitment.vkHash", "commitment.weightsHash", "commitment.architectureHash", "onnx.quantizedGraph",
      `batch${B}.zkeyCircuit`, `batch${B}.verifierCode`, `batch${B}.registeredCodeHash`, "layout.output", "layout.input", `batch${B}.layoutWord`])
      expect(names).to.include(n);
    // Compiled like the build (same source text, path and settings): identical to the byte, metadata included.
    const code = r.checks.find((c) => c.name === `batch${B}.verifierCode`)!;
    expect(code.note).to.match(/metadata included/);
    expect(code.actual).to.equal(await d.registry.verifierCodeHashOf(modelId, B));
    expect(formatAudit(r)).to.match(/^OK: model/);
  });

  it("names the verifier code check when a commitment claims the model's vk but its verifier is other code", async () => {
    const mock = await hre.ethers.deployContract("MockBatchVerifier");
    const forged = await registerLike({ verifier: await mock.getAddress() });
    const r = await auditModel(hre, registry, forged, { skipZkeyVerify: true });
    expect(r.ok).to.equal(false);
    expect(failed(r)).to.deep.equal([SKIPPED, `batch${B}.verifierCode`].sort());
    const check = r.checks.find((c) => c.name === `batch${B}.verifierCode`)!;
    expect(check.actual).to.equal(await d.registry.verifierCodeHashOf(forged, B));
    expect(check.note).to.match(/not the verifier generated from this zkey/);
    expect(formatAudit(r)).to.match(/MISMATCH[\s\S]*DIFF batch2\.verifierCode/);
  });

  it("names the circuit hash when the quantized graph was edited (a changed scale), and the manifest when it was", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-audit-material-"));
    for (const f of [NAME, `${NAME}.batch-${B}`]) fs.cpSync(path.join(modelsRoot(), f), path.join(tmp, f), { recursive: true });
    const qfile = path.join(tmp, NAME, "qgraph.json");
    const q = JSON.parse(fs.readFileSync(qfile, "utf8"));
    // One more bit of output precision: rescale by one bit less, and say so in the tensor's scale.
    const node = q.nodes.find((n: { kind: string }) => n.kind === "affine");
    node.shift -= 1;
    q.tensors[node.out].scale += 1;
    fs.writeFileSync(qfile, JSON.stringify(q));
    // Not skipped here: the registered zkey must also fail to verify against the edited graph's circuit.
    const r = await auditModel(hre, registry, modelId, { modelsDir: tmp });
    expect(failed(r)).to.include("commitment.circuitHash");
    expect(failed(r)).to.include(SKIPPED);
    expect(r.checks.find((c) => c.name === SKIPPED)!.actual).to.match(/does not match the regenerated circuit/);
    expect(failed(r)).to.include("commitment.architectureHash");
    expect(r.ok).to.equal(false);
    expect(formatAudit(r)).to.match(/DIFF commitment\.circuitHash/);

    // Restore the graph, edit only the manifest's record of the quantization.
    for (const f of [NAME]) fs.cpSync(path.join(modelsRoot(), f), path.join(tmp, f), { recursive: true });
    const mfile = path.join(tmp, NAME, "manifest.json");
    const m = JSON.parse(fs.readFileSync(mfile, "utf8"));
    m.inputScale += 1;
    fs.writeFileSync(mfile, JSON.stringify(m));
    const r2 = await auditModel(hre, registry, modelId, { modelsDir: tmp, skipZkeyVerify: true });
    expect(failed(r2)).to.deep.equal([SKIPPED, "manifest.quantizedGraph"].sort());
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("names the output layout when the registry records one the circuit does not pack", async () => {
    const wrong = await registerLike({ shape: { outputBits: 12 } });
    const r = await auditModel(hre, registry, wrong, { skipZkeyVerify: true });
    expect(failed(r)).to.deep.equal([SKIPPED, "layout.output", `batch${B}.layoutWord`].sort());
    const c = r.checks.find((x) => x.name === "layout.output")!;
    expect(JSON.parse(c.expected).outputBits).to.equal(16);
    expect(JSON.parse(c.actual).outputBits).to.equal(12);
  });

  it("needs a local name for a URI it cannot read, and says which material is missing", async () => {
    const other = await registerLike({ uri: "ipfs://bafy-something" });
    await expect(auditModel(hre, registry, other, { skipZkeyVerify: true })).to.be.rejectedWith(/--name/);
    const r = await auditModel(hre, registry, other, { name: NAME, skipZkeyVerify: true });
    expect(failed(r)).to.deep.equal([SKIPPED]);
    await expect(auditModel(hre, registry, other, { name: "no_such_model" })).to.be.rejectedWith(/incomplete: missing/);
    await expect(auditModel(hre, registry, 99n)).to.be.rejectedWith(/not registered/);
  });

  it("strips solc's metadata trailer and nothing else", async () => {
    const code = await hre.ethers.provider.getCode(verifier);
    const stripped = stripMetadata(code);
    const len = parseInt(code.slice(-4), 16);
    expect(stripped.length).to.equal(code.length - 2 - 2 * (len + 2));
    expect(code.slice(2).startsWith(stripped)).to.equal(true);
    expect(stripMetadata("0x6001")).to.equal("6001");
  });
});
