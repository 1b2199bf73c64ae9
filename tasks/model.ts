import fs from "fs";
import { task, types } from "hardhat/config";
import { compileContracts, flavumAction, progress, userPath } from "./util";
import { intArg, requiredArg } from "./args";
import { compileModel } from "../src/model/compile";
import { loadModel } from "../src/model/artifacts";
import { readSamples } from "../src/model/samples";
import { predictSamples } from "../src/model/predict";
import { describeStatement, proveInference, readProofFile, verifyProofFile } from "../src/model/prove";
import { formatCompileSummary } from "../src/model/summary";
import { InputError } from "../src/errors";

task("model:compile", "Compile an ONNX model into a quantized circuit, Groth16 keys and a Solidity verifier")
  .addParam("onnx", "ONNX model file")
  .addParam("name", "Model name (letters, digits, _)")
  .addOptionalParam("calibration", "JSON samples to calibrate the fixed-point scales on")
  .addOptionalParam("weights", "public (constants in the circuit) or private (committed inputs)", "public")
  .addOptionalParam("bits", "Signed bits per activation", undefined, types.int)
  .addOptionalParam("weightBits", "Signed bits of the largest weight per layer", undefined, types.int)
  .addOptionalParam("ptau", "Powers-of-tau file (default: FLAVUM_PTAU / FLAVUM_PTAU_DIR / cache / Hermez / dev ceremony)")
  .addFlag("json", "Print the manifest as JSON")
  .addFlag("force", "Overwrite the build of a model registered with another circuit (this machine can then no longer serve that registration)")
  .setAction(
    flavumAction(async (a: { onnx: string; name: string; calibration?: string; weights: string; bits?: number; weightBits?: number; ptau?: string; json: boolean; force: boolean }, hre) => {
      const { manifest, reusedKeys } = await compileModel({
        onnx: userPath(a.onnx),
        name: a.name,
        calibration: a.calibration && userPath(a.calibration),
        weights: a.weights as "public" | "private",
        quant: { ...(a.bits ? { bits: a.bits } : {}), ...(a.weightBits ? { weightBits: a.weightBits } : {}) },
        ptau: a.ptau && userPath(a.ptau),
        force: a.force,
        progress,
      });
      await compileContracts(hre);
      console.log(a.json ? JSON.stringify(manifest, null, 2) : formatCompileSummary(manifest, reusedKeys));
    }),
  );

task("model:predict", "Run a compiled model on samples: quantized output, argmax and the float (onnxruntime) output")
  .addParam("name", "Model name")
  .addParam("input", "JSON file: an array of samples (flat arrays; for several model inputs, an array of flat arrays each) or one sample")
  .addOptionalParam("out", "Write the JSON here instead of printing it")
  .addFlag("strict", "Refuse input the model would round (a fraction for an integer input) instead of warning on stderr")
  .setAction(
    flavumAction(async (a: { name: string; input: string; out?: string; strict: boolean }) => {
      const model = loadModel(a.name);
      const result = await predictSamples(model, readSamples(userPath(a.input), model.q.inputs), { strict: a.strict, progress, what: `input file ${a.input}` });
      const text = JSON.stringify(result, null, 2);
      if (a.out) fs.writeFileSync(userPath(a.out), text + "\n");
      else console.log(text);
    }),
  );

task("model:prove", "Prove one inference of a compiled model")
  .addParam("name", "Model name")
  .addParam("input", "JSON file: an array of samples (flat arrays; for several model inputs, an array of flat arrays each) or one sample")
  .addOptionalParam("index", "Which sample of the file to prove (0-based)", "0")
  .addOptionalParam("out", "Where to write the proof JSON (required)")
  .addFlag("strict", "Refuse input the model would round (a fraction for an integer input) instead of warning on stderr")
  .setAction(
    flavumAction(async (a: { name: string; input: string; index: string; out?: string; strict: boolean }) => {
      const out = requiredArg("out", a.out, "the file to write the proof JSON to (e.g. --out proof.json)");
      const index = intArg("index", a.index);
      const samples = readSamples(userPath(a.input), loadModel(a.name).q.inputs);
      if (!(index >= 0 && index < samples.length))
        throw new InputError(`--index ${index} is out of range: ${a.input} holds ${samples.length} sample(s) (0..${samples.length - 1})`);
      const { file } = await proveInference(a.name, samples[index], progress, { strict: a.strict, sampleIndex: index, what: `input file ${a.input}` });
      fs.writeFileSync(userPath(out), JSON.stringify(file, null, 2) + "\n");
      console.log(
        `proof written to ${out}: output [${file.claim.output.map((v) => +v.toFixed(4)).join(", ")}]` +
          (file.claim.argmax !== undefined ? `, argmax ${file.claim.argmax}` : "") +
          ` (witness ${file.timings.witnessMs.toFixed(0)} ms, prove ${file.timings.proveMs.toFixed(0)} ms)`,
      );
    }),
  );

task("model:verify", "Verify an inference proof and its claim off-chain, or on-chain with the generated verifier; prints what was proven")
  .addParam("name", "Model name")
  .addParam("proof", "Proof JSON written by model:prove")
  .addFlag("onchain", "Deploy (or reuse) the model's verifier on --network and call it")
  .addFlag("json", "Print {valid, reason?, field?, statement?, onchain?} as JSON")
  .setAction(
    flavumAction(async (a: { name: string; proof: string; onchain: boolean; json: boolean }, hre) => {
      const model = loadModel(a.name);
      const proof = readProofFile(userPath(a.proof));
      const off = await verifyProofFile(model, proof);
      let valid = off.valid;
      let line = off.valid ? "valid off-chain" : `INVALID: ${off.reason}`;
      let onchain: Record<string, unknown> | undefined;
      if (a.onchain && off.valid) {
        const { verifyOnChain } = await import("../src/chain/verifier");
        await compileContracts(hre);
        const r = await verifyOnChain(hre, model, proof);
        valid = r.valid;
        onchain = { valid: r.valid, network: hre.network.name, address: r.address, deployed: r.deployed, replaced: r.replaced, gas: r.gas.toString() };
        line = r.valid
          ? `valid on-chain: ${model.manifest.verifier.contract} at ${r.address} on ${hre.network.name}` +
            `${r.deployed ? (r.replaced ? " (deployed now: the recorded one was built from another verifying key)" : " (deployed now)") : ""}, ` +
            `verifyProof costs ${r.gas} gas`
          : `INVALID on-chain: ${model.manifest.verifier.contract} at ${r.address} rejected the proof`;
      }
      const statement = valid ? off.statement : undefined;
      if (a.json)
        console.log(JSON.stringify({
          valid, ...(off.reason ? { reason: off.reason } : {}), ...(off.field ? { field: off.field } : {}),
          ...(statement ? { statement } : {}), ...(onchain ? { onchain } : {}),
        }, null, 2));
      else console.log(statement ? `${line}\nproven: ${describeStatement(statement)}` : line);
      if (!valid) process.exitCode = 1;
    }),
  );
