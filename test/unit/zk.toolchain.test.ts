import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import {
  CircomCompileError,
  compileCircuit,
  CompiledCircuit,
  devPtauName,
  exportVerifier,
  powerFor,
  prove,
  readPtauInfo,
  resolvePtau,
  setup,
  shutdown,
  solidityCalldata,
  verify,
  VerificationKey,
  witness,
  WitnessError,
} from "../../src/zk";
import { devCeremony } from "../../src/zk/devCeremony";
import { rejection } from "../helpers/rejection";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures-zk");
const OUT = path.join(ROOT, "build", "test-zk");
const quiet = process.env.FLAVUM_VERBOSE ? (m: string) => console.log(`      ${m}`) : undefined;

// The shared development ptau files (power 12/14/16) make setup instant; a fresh machine without
// them would fall back to a ceremony, which is too slow for a unit test.
if (!process.env.FLAVUM_PTAU_DIR) process.env.FLAVUM_PTAU_DIR = path.resolve(ROOT, "..", "shared", "ptau");
// circom_tester shells out to `circom`; hardhat.config.ts puts bin/ on PATH, plain mocha may not.
if (!process.env.PATH?.split(path.delimiter).includes(path.join(ROOT, "bin"))) {
  process.env.PATH = `${path.join(ROOT, "bin")}${path.delimiter}${process.env.PATH ?? ""}`;
}

describe("zk toolchain", function () {
  this.timeout(120_000);

  const savedPtau = process.env.FLAVUM_PTAU;
  before(() => {
    // An explicit FLAVUM_PTAU would win over every folder these tests set up.
    delete process.env.FLAVUM_PTAU;
    fs.rmSync(OUT, { recursive: true, force: true });
  });
  after(async () => {
    if (savedPtau !== undefined) process.env.FLAVUM_PTAU = savedPtau;
    await shutdown();
    await shutdown(); // must be harmless the second time
  });

  describe("powerFor", () => {
    it("matches snarkjs's domain rule: 2^power > constraints + public signals", () => {
      expect(powerFor(0)).to.equal(1);
      expect(powerFor(1)).to.equal(1);
      expect(powerFor(2)).to.equal(2);
      expect(powerFor(35, 1)).to.equal(6);
      expect(powerFor(4095, 0)).to.equal(12);
      expect(powerFor(4095, 1)).to.equal(13); // exactly 2^12 does not fit
      expect(powerFor(4096)).to.equal(13);
      expect(powerFor(4000, 95)).to.equal(12);
      expect(powerFor(2 ** 28 - 2, 1)).to.equal(28);
    });

    it("refuses circuits beyond 2^28 and nonsense counts", () => {
      expect(() => powerFor(2 ** 28)).to.throw(/2\^29 > 2\^28/);
      expect(() => powerFor(-1)).to.throw(/non-negative integers/);
    });
  });

  describe("Multiplier: compile → setup → prove → verify", () => {
    let circuit: CompiledCircuit;
    let zkey: string;
    let vkey: VerificationKey;

    it("compiles with circomlib includes and reads the counts from the r1cs", async () => {
      circuit = await compileCircuit(path.join(FIXTURES, "Multiplier.circom"), path.join(OUT, "multiplier"), {
        progress: quiet,
      });
      expect(fs.existsSync(circuit.wasm)).to.equal(true);
      expect(circuit).to.include({ publicInputs: 0, privateInputs: 2, outputs: 1 });
      // Two 16-bit decompositions (16 bit constraints + 1 sum each) and the product.
      expect(circuit.constraints).to.be.within(33, 35);
      expect(circuit.wires).to.be.greaterThan(circuit.constraints);
    });

    it("reports the compiler's own message for a broken circuit", async () => {
      const err = await rejection(compileCircuit(path.join(FIXTURES, "Broken.circom"), path.join(OUT, "broken")));
      expect(err).to.be.instanceOf(CircomCompileError);
      expect(err.message).to.match(/Undeclared symbol/).and.to.match(/missing/);
      expect(err.message).not.to.match(/\x1b\[/);
    });

    it("sets up with the smallest sufficient ptau from FLAVUM_PTAU_DIR, proves and verifies", async () => {
      const ptau = await resolvePtau(powerFor(circuit.constraints, circuit.publicInputs + circuit.outputs), {
        progress: quiet,
      });
      expect(ptau.source).to.equal("env-dir");
      expect(ptau.power).to.equal(12); // the smallest of the shared 12/14/16
      const t0 = Date.now();
      ({ zkey, vkey } = await setup(circuit.r1cs, ptau.file, path.join(OUT, "multiplier", "multiplier.zkey"), {
        progress: quiet,
      }));
      const setupMs = Date.now() - t0;
      expect(fs.existsSync(path.join(OUT, "multiplier", "verification_key.json"))).to.equal(true);
      expect(vkey.nPublic).to.equal(1);

      const { proof, publicSignals, witnessMs, proveMs } = await prove(circuit.wasm, zkey, { a: 3, b: 11 });
      expect(publicSignals).to.deep.equal(["33"]);
      expect(await verify(vkey, publicSignals, proof)).to.equal(true);
      if (quiet) quiet(`setup ${setupMs} ms, witness ${witnessMs.toFixed(0)} ms, prove ${proveMs.toFixed(0)} ms`);

      const tampered = ["34"];
      expect(await verify(vkey, tampered, proof)).to.equal(false);
      expect(await verify(path.join(OUT, "multiplier", "verification_key.json"), publicSignals, proof)).to.equal(true);
    });

    it("proves from a precomputed in-memory witness", async () => {
      const w = await witness(circuit.wasm, { a: 5, b: 7 });
      expect(w.wtns).to.be.instanceOf(Uint8Array);
      const r = await prove(w.wtns, zkey);
      expect(r.publicSignals).to.deep.equal(["35"]);
      expect(r.witnessMs).to.equal(0);
      expect(await verify(vkey, r.publicSignals, r.proof)).to.equal(true);

      const cd = solidityCalldata(r.proof, r.publicSignals);
      expect(cd.pub).to.deep.equal([35n]);
      expect(cd.a[0]).to.equal(BigInt(r.proof.pi_a[0]));
      // G2 limbs are swapped for the EVM pairing precompile.
      expect(cd.b[0]).to.deep.equal([BigInt(r.proof.pi_b[0][1]), BigInt(r.proof.pi_b[0][0])]);
    });

    it("explains a witness the circuit rejects", async () => {
      const err = await rejection(witness(circuit.wasm, { a: 70_000, b: 1 })); // a needs 17 bits
      expect(err).to.be.instanceOf(WitnessError);
      expect(err.message).to.match(/Num2Bits/);
    });

    it("exports a renamed verifier with the header, writing only when it changed", async () => {
      const out = path.join(OUT, "multiplier", "MultiplierVerifier.sol");
      expect(await exportVerifier(zkey, "MultiplierVerifier", out, "test/fixtures-zk/Multiplier.circom")).to.equal(true);
      const sol = fs.readFileSync(out, "utf8").split("\n");
      expect(sol[0]).to.equal("// SPDX-License-Identifier: GPL-3.0");
      expect(sol[1]).to.match(/^\/\/ Generated by Flavum from test\/fixtures-zk\/Multiplier\.circom — DO NOT EDIT\./);
      expect(sol.join("\n")).to.match(/contract MultiplierVerifier \{/).and.not.to.match(/Groth16Verifier/);
      expect(sol.join("\n")).to.match(/uint\[1\] calldata _pubSignals/);
      expect(await exportVerifier(zkey, "MultiplierVerifier", out, "test/fixtures-zk/Multiplier.circom")).to.equal(false);
    });
  });

  describe("resolvePtau fallbacks", () => {
    let tmp: string;
    let smallDir: string;
    let small: string;
    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-ptau-"));
      smallDir = path.join(tmp, "small");
      small = await devCeremony(4, smallDir); // power 4: under a second
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("reads the power from the header, not the file name", () => {
      const renamed = path.join(smallDir, "powersOfTau28_hez_final_20.ptau");
      fs.renameSync(small, renamed);
      small = renamed;
      expect(readPtauInfo(small)).to.include({ power: 4, preparedForPhase2: true });
    });

    it("rejects an explicit file whose power is too small, saying what is needed", async () => {
      const err = await rejection(resolvePtau(8, { path: small }));
      expect(err.message).to.match(/has power 4, but this circuit needs 2\^8/);
      const missing = await rejection(resolvePtau(8, { path: path.join(tmp, "nope.ptau") }));
      expect(missing.message).to.match(/does not exist/);
    });

    it("skips a folder of too-small files, runs a dev ceremony offline, then serves it from the cache", async () => {
      const cacheDir = path.join(tmp, "cache");
      const lines: string[] = [];
      const first = await resolvePtau(8, { dir: smallDir, cacheDir, network: false, progress: (m) => lines.push(m) });
      expect(first.source).to.equal("dev-ceremony");
      expect(first.power).to.equal(8);
      expect(first.file).to.equal(path.join(cacheDir, devPtauName(8)));
      expect(lines.join("\n")).to.match(/power 4 < 8/).and.to.match(/DEVELOPMENT-ONLY/).and.to.match(/done in/);

      const second = await resolvePtau(6, { dir: smallDir, cacheDir, network: false });
      expect(second).to.deep.equal({ file: first.file, source: "cache", power: 8 });
      const fromSmall = await resolvePtau(3, { dir: smallDir, cacheDir, network: false });
      expect(fromSmall.source).to.equal("env-dir");
    });
  });

  describe("circom_tester through bin/circom", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { wasm: wasmTester } = require("circom_tester");

    it("computes a Poseidon witness that matches circomlibjs and satisfies the constraints", async () => {
      const circuit = await wasmTester(path.join(FIXTURES, "PoseidonHash.circom"), {
        include: [path.join(ROOT, "node_modules")],
        output: path.join(OUT, "poseidon-tester"),
      });
      const w: bigint[] = await circuit.calculateWitness({ in: [1, 2] }, true);
      await circuit.checkConstraints(w);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const poseidon = await require("circomlibjs").buildPoseidon();
      const expected = poseidon.F.toObject(poseidon([1, 2]));
      await circuit.assertOut(w, { out: expected });

      const tampered = [...w];
      tampered[1] = tampered[1] + 1n; // the output signal
      const err = await rejection(circuit.checkConstraints(tampered));
      expect(err.message).to.match(/Constraint doesn't match/);
    });
  });
});

describe("zk Hermez download", function () {
  this.timeout(20_000);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http = require("http") as typeof import("http");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { downloadHermez } = require("../../src/zk/hermez") as typeof import("../../src/zk/hermez");
  let server: import("http").Server;
  let base: string;
  let tmp: string;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-hermez-"));
    server = http.createServer((req, res) => {
      if (req.url === "/hang") return; // never answers
      res.end(Buffer.alloc(1000, 7));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(server.address() as import("net").AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("discards a file whose blake2b-512 differs from the published one", async () => {
    const err = await rejection(downloadHermez(8, tmp, { url: `${base}/x.ptau` }));
    expect(err.message).to.match(/does not match the blake2b-512 published in snarkjs's README/);
    expect(fs.readdirSync(tmp)).to.deep.equal([]);
  });

  it("gives up on a silent server after the connect timeout, without retrying", async () => {
    const t0 = Date.now();
    const err = await rejection(downloadHermez(8, tmp, { url: `${base}/hang`, connectTimeoutMs: 300 }));
    expect(err.message).to.match(/no answer .* within 0.3 s/);
    expect(Date.now() - t0).to.be.lessThan(2000);
    expect(fs.readdirSync(tmp)).to.deep.equal([]);
  });
});
