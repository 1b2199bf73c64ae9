/**
 * The command line as users run it (separate `npx hardhat` processes): the documented commands and
 * output shapes, and bad input giving a clear message, a non-zero exit and no half-written build.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { REPO } from "../helpers/circuit";
import { usePtauDir } from "../helpers/fixtures";
import { modelDir, verifierFile } from "../../src/model/artifacts";
import { buildModel } from "../unit/onnxBuilder";

function hardhat(...args: string[]) {
  const r = spawnSync("npx", ["hardhat", ...args], { cwd: REPO, encoding: "utf8", env: process.env, timeout: 10 * 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("command line", function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-cli-"));
  const proofFile = path.join(tmp, "proof.json");
  before(usePtauDir);

  it("model:compile prints the summary with constraints and agreement with the float model", () => {
    const r = hardhat("model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", "cli_logreg",
      "--calibration", "fixtures/data/logreg_cancer.calibration.json");
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/\d+ constraints/);
    expect(r.out).to.match(/% class agreement with onnxruntime on 128 calibration samples, max \|error\|/);
    expect(r.out).to.contain("CliLogregVerifier");
  });

  it("model:predict writes quantized output, argmax and the onnxruntime output", () => {
    const out = path.join(tmp, "pred.json");
    const r = hardhat("model:predict", "--name", "cli_logreg", "--input", "fixtures/data/logreg_cancer.sample.json", "--out", out);
    expect(r.code, r.err).to.equal(0);
    const { predictions } = JSON.parse(fs.readFileSync(out, "utf8"));
    expect(predictions).to.have.length(4);
    for (const p of predictions) {
      expect(p.output).to.have.length(1);
      expect(p.float).to.have.length(1);
      expect(Math.abs(p.output[0] - p.float[0])).to.be.below(0.02);
      expect(p.argmax).to.equal(0);
      expect(p.label).to.equal(p.float[0] >= 0.5 ? 1 : 0);
    }
  });

  it("model:prove then model:verify --onchain accepts the proof", () => {
    const p = hardhat("model:prove", "--name", "cli_logreg", "--input", "fixtures/data/logreg_cancer.sample.json", "--index", "2", "--out", proofFile);
    expect(p.code, p.err).to.equal(0);
    expect(p.err).to.match(/groth16 prove .* done in/); // progress with elapsed time
    const v = hardhat("model:verify", "--name", "cli_logreg", "--proof", proofFile, "--onchain");
    expect(v.code, v.err).to.equal(0);
    expect(v.out).to.match(/valid on-chain: CliLogregVerifier at 0x[0-9a-fA-F]{40} on hardhat/);
  });

  it("model:verify exits non-zero for a tampered proof and says which check failed", () => {
    const proof = JSON.parse(fs.readFileSync(proofFile, "utf8"));
    proof.publicSignals[1] = String(BigInt(proof.publicSignals[1]) + 1n);
    const bad = path.join(tmp, "bad.json");
    fs.writeFileSync(bad, JSON.stringify(proof));
    const v = hardhat("model:verify", "--name", "cli_logreg", "--proof", bad);
    expect(v.code).to.not.equal(0);
    expect(v.out).to.match(/INVALID: the Groth16 pairing check failed/);
  });

  it("refuses an unsupported op naming it, its node and the supported ops, and writes nothing", () => {
    // NonZero's output shape depends on the data: no fixed circuit can compute it.
    const onnxFile = path.join(tmp, "nonzero.onnx");
    fs.writeFileSync(onnxFile, buildModel({
      inputs: [{ name: "x", shape: [1, 4] }], outputs: [{ name: "y" }],
      nodes: [{ op: "Relu", inputs: ["x"], outputs: ["r"] }, { op: "NonZero", name: "/NonZero", inputs: ["r"], outputs: ["y"] }],
    }));
    const r = hardhat("model:compile", "--onnx", onnxFile, "--name", "cli_nonzero");
    expect(r.code).to.not.equal(0);
    expect(r.err).to.match(/unsupported ONNX op NonZero \(node "\/NonZero"\)/);
    expect(r.err).to.match(/Supported ops: .*Gemm.*Tanh/);
    expect(r.err).to.not.match(/at .*\.ts:\d+/); // a message, not a stack trace
    expect(fs.existsSync(modelDir("cli_nonzero"))).to.equal(false);
    expect(fs.existsSync(verifierFile("cli_nonzero"))).to.equal(false);
  });

  describe("a model with several inputs and outputs (the peer's PyTorch tutorial: 3 inputs, 2 outputs)", () => {
    const dir = path.join(REPO, "..", "shared", "peer-onnx", "ezkl-examples", "tutorial");
    const samples = path.join(tmp, "tutorial.samples.json");
    const proof = path.join(tmp, "tutorial.proof.json");
    before(function () {
      if (!fs.existsSync(path.join(dir, "network.onnx"))) this.skip();
      // Samples as the README documents them: one flat array per model input, in the model's input order.
      const base: number[][] = JSON.parse(fs.readFileSync(path.join(dir, "input.json"), "utf8")).input_data;
      const list = Array.from({ length: 12 }, (_, k) => base.map((part) => part.map((v, i) => Math.fround(v * (1 - 0.15 * Math.sin(k * 7 + i))))));
      fs.writeFileSync(samples, JSON.stringify(list));
    });

    it("compiles, calibrated on a file of per-input samples", () => {
      const r = hardhat("model:compile", "--onnx", path.join(dir, "network.onnx"), "--name", "cli_tutorial", "--calibration", samples, "--json");
      expect(r.code, r.err).to.equal(0);
      const m = JSON.parse(r.out);
      expect(m.inputShape).to.deep.equal([36]);
      expect(m.outputShape).to.deep.equal([87]);
    });

    it("model:predict gives both outputs concatenated, close to onnxruntime's", () => {
      const out = path.join(tmp, "tutorial.pred.json");
      const r = hardhat("model:predict", "--name", "cli_tutorial", "--input", samples, "--out", out);
      expect(r.code, r.err).to.equal(0);
      const { predictions } = JSON.parse(fs.readFileSync(out, "utf8"));
      expect(predictions).to.have.length(12);
      for (const p of predictions) {
        expect(p.output).to.have.length(75 + 12);
        expect(p.float).to.have.length(75 + 12);
        const mag = Math.max(1, ...p.float.map(Math.abs));
        p.output.forEach((v: number, i: number) => expect(Math.abs(v - p.float[i]), `output ${i}`).to.be.below(0.05 * mag));
      }
    });

    it("model:prove and model:verify: every output of both is public and proven", () => {
      const p = hardhat("model:prove", "--name", "cli_tutorial", "--input", samples, "--index", "3", "--out", proof);
      expect(p.code, p.err).to.equal(0);
      const file = JSON.parse(fs.readFileSync(proof, "utf8"));
      expect(file.claim.output).to.have.length(87);
      const v = hardhat("model:verify", "--name", "cli_tutorial", "--proof", proof);
      expect(v.code, v.out + v.err).to.equal(0);
      const bad = hardhat("model:predict", "--name", "cli_tutorial", "--input", path.join(dir, "..", "1l_relu", "input.json"));
      expect(bad.code).to.not.equal(0);
      expect(bad.err).to.match(/one flat array per model input \("input" \[1, 3, 2, 2\] = 12 values/);
    });
  });

  it("names expected and given input length for a wrong shape", () => {
    const bad = path.join(tmp, "short.json");
    fs.writeFileSync(bad, JSON.stringify([[1, 2, 3]]));
    const r = hardhat("model:predict", "--name", "cli_logreg", "--input", bad);
    expect(r.code).to.not.equal(0);
    expect(r.err).to.match(/input has 3 values, expected 30 \(shape \[1, 30\]/);
  });

  it("explains unknown models, bad weight modes and out-of-range sample indices", () => {
    const a = hardhat("model:predict", "--name", "no_such_model", "--input", "fixtures/data/logreg_cancer.sample.json");
    expect(a.code).to.not.equal(0);
    expect(a.err).to.match(/no compiled model named "no_such_model"/);
    const b = hardhat("model:compile", "--onnx", "fixtures/models/logreg_cancer.onnx", "--name", "x", "--weights", "secret");
    expect(b.code).to.not.equal(0);
    expect(b.err).to.match(/--weights must be "public" or "private", got "secret"/);
    const c = hardhat("model:prove", "--name", "cli_logreg", "--input", "fixtures/data/logreg_cancer.sample.json", "--index", "9", "--out", proofFile);
    expect(c.code).to.not.equal(0);
    expect(c.err).to.match(/--index 9 is out of range: .* holds 4 sample\(s\)/);
  });

  // Hardhat's own parsing would answer these with a stack trace; each gets one line naming the flag.
  it("answers bad flags and missing networks with one line, not a stack trace", () => {
    const oneLine = (r: { code: number | null; err: string }, re: RegExp) => {
      expect(r.code, r.err).to.not.equal(0);
      expect(r.err).to.match(re);
      expect(r.err).to.not.match(/^\s+at /m);
    };
    const sample = "fixtures/data/logreg_cancer.sample.json";
    oneLine(hardhat("model:prove", "--name", "cli_logreg", "--input", sample, "--index", "-1", "--out", proofFile), /--index -1 is out of range/);
    oneLine(hardhat("model:prove", "--name", "cli_logreg", "--input", sample, "--index", "two", "--out", proofFile), /--index must be an integer, got "two"/);
    oneLine(hardhat("model:prove", "--name", "cli_logreg", "--input", sample), /--out is required: the file to write the proof JSON to/);
    oneLine(hardhat("trace:show", "--request", "abc", "--network", "localhost"), /--request must be a request id \(a non-negative integer\), got "abc"/);
    oneLine(hardhat("batch:run"), /batch:run needs a persistent chain.*--network localhost/);
    oneLine(hardhat("repo:log", "--repo", "x"), /repo:log needs a persistent chain/);
    const noRemote = spawnSync("npx", ["hardhat", "rollup:deploy", "--network", "remote"], {
      cwd: REPO, encoding: "utf8", env: { ...process.env, FLAVUM_RPC_URL: "", FLAVUM_PRIVATE_KEY: "" },
    });
    oneLine({ code: noRemote.status, err: noRemote.stderr }, /--network remote needs FLAVUM_RPC_URL .* and FLAVUM_PRIVATE_KEY/);
    // A port nothing listens on: the node was never started.
    const noNode = spawnSync("npx", ["hardhat", "rollup:deploy", "--network", "localhost"], {
      cwd: REPO, encoding: "utf8", env: { ...process.env, FLAVUM_RPC_URL: "http://127.0.0.1:9" },
    });
    oneLine({ code: noNode.status, err: noNode.stderr }, /cannot reach the localhost node at http:\/\/127\.0\.0\.1:9: start one with `npx hardhat node`/);
  });
});
