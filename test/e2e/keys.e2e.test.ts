/**
 * Keys and claims end to end, with real compiles of the logistic regression and real proofs:
 * - an edited claim (argmax, label, output, input or weights commitment) makes a proof file invalid,
 *   naming the field, and a valid one prints the proven statement;
 * - recompiling gives new keys: an old proof is refused as made before the recompile, and on-chain
 *   verification deploys a fresh verifier instead of reusing one built from the old verifying key;
 * - recompiling a registered model with other options is refused with the way out, `force`
 *   overrides, and the sequencer then refuses to prove it (no raw circom assert, requests kept).
 * Builds go to a scratch FLAVUM_CACHE_DIR and deployment records to a scratch FLAVUM_DEPLOYMENTS_DIR.
 */
import { expect } from "chai";
import Database from "better-sqlite3";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { compileModel } from "../../src/model/compile";
import { loadModel, modelDir } from "../../src/model/artifacts";
import { proveInference, verifyProofFile, ProofFile } from "../../src/model/prove";
import { readRegistrations } from "../../src/model/registrations";
import { verifyOnChain } from "../../src/chain/verifier";
import { EvmLedger } from "../../src/chain/evm";
import { readDeployments } from "../../src/chain/deployments";
import { deployRollup } from "../../src/chain/deployRollup";
import { openSequencer, registerModel } from "../../src/rollup/service";
import { SequencerStore } from "../../src/rollup/store";
import { vkHash } from "../../src/zk";
import { dataPath, heldout, onnxPath, sampleSet, usePtauDir } from "../helpers/fixtures";

const NET = "keys_e2e"; // a network name that is not the in-process one, so records are written

/** The in-process chain under a persistent network's name: deployments are recorded like on a node. */
class RecordedLedger extends EvmLedger {
  override get network(): string {
    return NET;
  }
}

const logreg = (name: string, bits?: number, force?: boolean) =>
  compileModel({
    onnx: onnxPath("logreg_cancer"), name, calibration: dataPath("logreg_cancer", "calibration"),
    quant: bits ? { bits } : {}, force,
  });

const clone = (p: ProofFile): ProofFile => JSON.parse(JSON.stringify(p));

/** Runs a task in this process and captures what it prints, leaving the exit code as it was. */
async function runTask(name: string, args: Record<string, unknown>): Promise<{ out: string; exitCode: number | undefined }> {
  const log = console.log;
  const before = process.exitCode;
  let out = "";
  console.log = (...a: unknown[]) => void (out += a.join(" ") + "\n");
  try {
    await hre.run(name, args);
    return { out, exitCode: process.exitCode as number | undefined };
  } finally {
    console.log = log;
    process.exitCode = before;
  }
}

describe("keys and claims end to end", function () {
  const saved = { cache: process.env.FLAVUM_CACHE_DIR, deployments: process.env.FLAVUM_DEPLOYMENTS_DIR };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-keys-"));
  const sample = sampleSet("logreg_cancer")[0];

  before(() => {
    usePtauDir();
    process.env.FLAVUM_CACHE_DIR = path.join(tmp, "build");
    process.env.FLAVUM_DEPLOYMENTS_DIR = path.join(tmp, "deployments");
  });
  after(() => {
    for (const [k, v] of [["FLAVUM_CACHE_DIR", saved.cache], ["FLAVUM_DEPLOYMENTS_DIR", saved.deployments]] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  it("hashes the verifying key as canonical JSON, and the sequencer store gains its columns in place", () => {
    const vk = { protocol: "groth16", nPublic: 2, IC: [["1", "2"]], vk_alpha_1: ["3", "4"] };
    const a = path.join(tmp, "a.json");
    const b = path.join(tmp, "b.json");
    fs.writeFileSync(a, JSON.stringify(vk, null, 1));
    fs.writeFileSync(b, JSON.stringify({ vk_alpha_1: ["3", "4"], IC: [["1", "2"]], nPublic: 2, protocol: "groth16" }));
    expect(vkHash(a)).to.equal(vkHash(b)).and.to.equal(vkHash(vk)).and.to.match(/^[0-9a-f]{64}$/);
    expect(vkHash({ ...vk, nPublic: 3 })).to.not.equal(vkHash(vk));

    // A store written before vk hashes were recorded.
    const file = path.join(tmp, "old.db");
    const db = new Database(file);
    db.exec("CREATE TABLE models (model_id TEXT PRIMARY KEY, name TEXT NOT NULL, batch_size INTEGER NOT NULL, verifier TEXT NOT NULL)");
    db.prepare("INSERT INTO models VALUES ('1', 'old', 4, '0xabc')").run();
    db.close();
    for (let i = 0; i < 2; i++) {
      const s = new SequencerStore(file);
      expect(s.model("old")).to.include({ name: "old", vkHash: null, circuitHash: null });
      s.close();
    }
  });

  describe("an edited claim", () => {
    let proof: ProofFile;
    const write = (p: ProofFile, f: string) => {
      const file = path.join(tmp, f);
      fs.writeFileSync(file, JSON.stringify(p));
      return file;
    };

    before(async () => {
      await logreg("keys_claim");
      proof = (await proveInference("keys_claim", sample)).file;
    });

    it("is valid untouched and gives the proven statement", async () => {
      const model = loadModel("keys_claim");
      expect(proof.vkHash).to.equal(model.manifest.circuit.vkHash).and.to.equal(vkHash(model.file("vkey")));
      const r = await verifyProofFile(model, proof);
      expect(r.valid, r.reason).to.equal(true);
      const st = r.statement!;
      expect(st).to.include({ model: "keys_claim", vkHash: proof.vkHash, inputHash: proof.claim.inputHash, head: "none" });
      expect(st.output).to.deep.equal(proof.claim.output);
      expect(st.label).to.equal(st.output[0] >= 0.5 ? 1 : 0).and.to.equal(proof.claim.label);
      expect(st.argmax).to.equal(undefined); // one output: the class is the proven output's threshold
      // Another float formatting of the same quantized output is the same claim.
      const reformatted = clone(proof);
      reformatted.claim.output = [proof.claim.output[0] + 0.2 / 2 ** model.manifest.outputScale];
      expect((await verifyProofFile(model, reformatted)).valid).to.equal(true);

      const { out, exitCode } = await runTask("model:verify", { name: "keys_claim", proof: write(proof, "good.json"), json: true });
      expect(exitCode).to.not.equal(1);
      const j = JSON.parse(out);
      expect(j.valid).to.equal(true);
      expect(j.statement).to.deep.equal(JSON.parse(JSON.stringify(st)));
      const text = await runTask("model:verify", { name: "keys_claim", proof: write(proof, "good.json") });
      expect(text.out).to.match(/^valid off-chain\nproven: model "keys_claim" \(vk [0-9a-f]{12}…\) on input commitment \d+ gives output \[[\d.]+\], label [01]/);
    });

    it("fails naming the field for an edited argmax, label, output, input or weights hash", async () => {
      const model = loadModel("keys_claim");
      const edits: [string, (c: ProofFile["claim"]) => void, RegExp][] = [
        ["argmax", (c) => (c.argmax = 1), /the claim says argmax 1 but the proof proves no argmax/],
        ["label", (c) => (c.label = 1 - c.label!), /the claim says label [01] but the proof proves [01]/],
        ["output[0]", (c) => (c.output = [c.output[0] + 0.01]), /the claim says output\[0\] [\d.]+ but the proof proves [\d.]+/],
        ["output", (c) => (c.output = [...c.output, 0.5]), /the claim says 2 output\(s\) but the proof proves 1/],
        ["inputHash", (c) => (c.inputHash = (BigInt(c.inputHash) + 1n).toString()), /the claim says inputHash \d+… but the proof proves \d+…/],
        ["weightsHash", (c) => (c.weightsHash = model.manifest.weightsCommitment), /the claim says weightsHash \d+… but the proof proves no weightsHash/],
      ];
      for (const [field, edit, message] of edits) {
        const forged = clone(proof);
        edit(forged.claim);
        const r = await verifyProofFile(model, forged);
        expect(r.valid, field).to.equal(false);
        expect(r.field).to.equal(field);
        expect(r.reason).to.match(message);
        expect(r.statement).to.equal(undefined);
      }
      const forged = clone(proof);
      forged.claim.label = 1 - forged.claim.label!;
      const { out, exitCode } = await runTask("model:verify", { name: "keys_claim", proof: write(forged, "forged.json") });
      expect(exitCode).to.equal(1);
      expect(out).to.match(/^INVALID: the claim says label/);
    });
  });

  describe("recompiling with other options", () => {
    it("refuses an old proof as made before the recompile and deploys a verifier for the new key", async () => {
      const first = (await logreg("keys_re")).manifest;
      await hre.run("compile", { quiet: true });
      const ledger = new RecordedLedger(hre);
      const p1 = (await proveInference("keys_re", sample)).file;
      const on1 = await verifyOnChain(hre, loadModel("keys_re"), p1, ledger);
      expect(on1).to.include({ valid: true, deployed: true, replaced: false });
      expect(readDeployments(NET)["verifier:keys_re"].buildId).to.equal(first.circuit.vkHash);

      const narrow = (await logreg("keys_re", 14)).manifest;
      expect(narrow.circuit.hash).to.not.equal(first.circuit.hash);
      const stale = await verifyProofFile(loadModel("keys_re"), p1);
      expect(stale.valid).to.equal(false);
      expect(stale.reason).to.match(/the model was recompiled after this proof was made; re-prove it with `npx hardhat model:prove --name keys_re/);

      // Back to the first options: the same circuit, but a new setup (the previous build was the 14-bit one).
      const again = await logreg("keys_re");
      expect(again.reusedKeys).to.equal(false);
      expect(again.manifest.circuit.hash).to.equal(first.circuit.hash);
      expect(again.manifest.circuit.vkHash).to.not.equal(first.circuit.vkHash);
      await hre.run("compile", { quiet: true });
      const model = loadModel("keys_re");
      expect((await verifyProofFile(model, p1)).reason).to.match(/recompiled after this proof was made/);
      const legacy = clone(p1); // a proof file from before vk hashes: same circuit hash, other key
      delete legacy.vkHash;
      expect((await verifyProofFile(model, legacy)).reason).to.match(/pairing check failed.*recompiled after this proof was made/);

      const p2 = (await proveInference(model, sample)).file;
      expect((await verifyProofFile(model, p2)).valid).to.equal(true);
      const on2 = await verifyOnChain(hre, model, p2, ledger);
      expect(on2).to.include({ valid: true, deployed: true, replaced: true });
      expect(on2.address).to.not.equal(on1.address);
      expect(readDeployments(NET)["verifier:keys_re"].buildId).to.equal(again.manifest.circuit.vkHash);
      const on3 = await verifyOnChain(hre, model, p2, ledger);
      expect(on3).to.include({ valid: true, deployed: false, address: on2.address });
    });
  });

  describe("recompiling a registered model", () => {
    it("is refused with the way out, --force overrides, and the sequencer refuses to prove it", async () => {
      const B = 2;
      const name = "keys_reg";
      const registered = (await logreg(name)).manifest;
      const d = await deployRollup(hre);
      const store = path.join(tmp, "seq", "sequencer.db");
      const open = async () => {
        const seq = await openSequencer(hre, { store, addresses: d.addresses });
        Object.defineProperty(seq.ledger, "network", { value: NET }); // as on a persistent node
        return seq;
      };
      let seq = await open();
      const reg = await registerModel(seq, hre, name, B);
      const marks = readRegistrations(modelDir(name));
      expect(marks).to.have.length(1);
      expect(marks[0]).to.include({ network: NET, modelId: reg.modelId.toString(), batchSize: B, circuitHash: registered.circuit.hash, vkHash: registered.circuit.vkHash });
      const served = seq.store.model(name)!;
      expect(served.vkHash).to.equal(marks[0].batchVkHash).and.to.match(/^[0-9a-f]{64}$/);
      expect(served.circuitHash).to.equal(registered.circuit.hash);
      // The registry commits to the same vk hash the verifier record is keyed by.
      expect((await d.registry.commitmentOf(reg.modelId)).vkHash).to.equal("0x" + served.vkHash);
      const [queued] = seq.request(name, heldout("logreg_cancer").inputs.slice(0, 1));

      await expect(logreg(name, 14)).to.be.rejectedWith(
        new RegExp(`model "${name}" is registered as model id ${reg.modelId} on ${NET} .*batches of ${B}.*` +
          `Compile the new version under a new name \\(e\\.g\\. --name ${name}_v2\\) and register that, or pass --force`),
      );
      expect(loadModel(name).manifest.circuit.vkHash).to.equal(registered.circuit.vkHash); // the build is untouched
      const again = await registerModel(seq, hre, name, B);
      expect(again).to.include({ reused: true, modelId: reg.modelId, verifier: reg.verifier });

      const forced = (await logreg(name, 14, true)).manifest;
      expect(forced.circuit.hash).to.not.equal(registered.circuit.hash);
      expect(readRegistrations(modelDir(name))).to.have.length(1); // the registration outlives the build
      await expect(seq.proveNext()).to.be.rejectedWith(/model "keys_reg" \(id \d+, batches of 2\) cannot be proven: it was registered from circuit .*recompiled with other options after registration.*new --name/);
      expect(seq.store.getRequest(queued)!.status).to.equal("pending");
      expect(() => seq.request(name, heldout("logreg_cancer").inputs.slice(1, 2))).to.throw(/cannot be proven/);
      await expect(registerModel(seq, hre, name, B)).to.be.rejectedWith(/is registered with this rollup as model id \d+ .*recompiled with other options after registration/);
      seq.store.close();

      // The way out the message gives: the registered options bring the model back.
      await logreg(name);
      seq = await open();
      const b = (await seq.proveNext())!;
      expect(b.count).to.equal(1);
      expect((await seq.submit())!.inferences).to.equal(1);
      expect((await seq.trace(queued)).verified).to.equal(true);
      seq.store.close();
    });
  });
});
