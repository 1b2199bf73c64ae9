/**
 * Groth16Batch against real snarkjs proofs of a small circuit (5 public signals, ~300 constraints):
 * honest batches of 1, 4 and 16 statements pass; a batch with one wrong member fails whichever way it
 * is wrong (another statement's proof, a changed input, swapped proofs, inputs shifted so that an
 * unweighted sum would cancel, a proof under another key of the same circuit); malformed batches
 * revert with the library's errors. The gas of a settled batch is printed next to snarkjs's own
 * verifier for the same key (compiled here with solc-js, as Hardhat only builds contracts/).
 */
import { expect } from "chai";
import hre from "hardhat";
import fs from "fs";
import os from "os";
import path from "path";
import { buildCircuitKeys, prove, setup, shutdown, solidityCalldata, verify, wasmPath, KEY_FILES } from "../../src/zk";
import type { SolidityCalldata } from "../../src/zk";
import { renderVerifier } from "../../src/zk/verifierContract";
import { BatchVerifyingKey, verifyingKeyCalldata, verifyingKeyHash } from "../../src/zk/batchVerifyingKey";
import { usePtauDir } from "../helpers/fixtures";
import type { Groth16BatchHarness } from "../../typechain-types";

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const M = 5; // public signals: out[0..3] then seed

// Iterated x⁵ + i (3 multiplications a round), tapped at four points: a statement is the seed and
// what four stretches of the chain give for a private secret, so every statement needs its own proof.
const BASE = "batchchain";
const SOURCE = `pragma circom 2.1.6;
template Chain(rounds) {
    signal input seed;
    signal input secret;
    signal output out[4];
    signal s[rounds + 1];
    signal sq[rounds];
    signal qu[rounds];
    s[0] <== secret + seed;
    for (var i = 0; i < rounds; i++) {
        sq[i] <== s[i] * s[i];
        qu[i] <== sq[i] * sq[i];
        s[i + 1] <== qu[i] * s[i] + i + 1;
    }
    for (var k = 0; k < 4; k++) {
        out[k] <== s[(k + 1) * rounds \\ 4];
    }
}
component main {public [seed]} = Chain(100);
`;

type Proof = { a: SolidityCalldata["a"]; b: SolidityCalldata["b"]; c: SolidityCalldata["c"] };
interface Statement {
  proof: Proof;
  inputs: bigint[];
}

const batch = (ss: Statement[]) => ({ proofs: ss.map((s) => s.proof), inputs: ss.flatMap((s) => s.inputs) });

describe("Groth16Batch (N Groth16 proofs of one key in N + 3 pairings)", function () {
  this.timeout(15 * 60 * 1000);
  let tmp: string;
  let vk: BatchVerifyingKey;
  let zkey: string;
  let statements: Statement[]; // 17 statements, proved with the key under test
  let foreign: Statement[]; // statements 0 and 1 proved with a second setup of the same circuit
  let harness: Groth16BatchHarness;

  const check = (ss: Statement[]) => {
    const { proofs, inputs } = batch(ss);
    return harness.verifyBatch(proofs, inputs);
  };

  before(async () => {
    usePtauDir();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-groth16batch-"));
    const dir = path.join(tmp, "key");
    const keys = await buildCircuitKeys({ source: SOURCE, base: BASE, dir, publicSignals: M });
    expect(keys.constraints).to.be.within(200, 1000);
    zkey = path.join(dir, KEY_FILES.zkey);
    const vkeyJson = JSON.parse(fs.readFileSync(path.join(dir, KEY_FILES.vkey), "utf8"));
    expect(vkeyJson.nPublic).to.equal(M);
    vk = verifyingKeyCalldata(vkeyJson);
    const wasm = wasmPath(dir, BASE);
    const input = (k: number) => ({ seed: BigInt(k + 1), secret: 1000n + BigInt(k) * 7919n });

    const proveWith = async (key: string, k: number): Promise<Statement> => {
      const { proof, publicSignals } = await prove(wasm, key, input(k));
      const cd = solidityCalldata(proof, publicSignals);
      return { proof: { a: cd.a, b: cd.b, c: cd.c }, inputs: cd.pub };
    };
    statements = [];
    for (let k = 0; k < 17; k++) statements.push(await proveWith(zkey, k));
    expect(new Set(statements.map((s) => s.inputs.join())).size, "distinct statements").to.equal(17);

    // A second key pair for the same constraint system: the same statements, a different key.
    const other = await setup(path.join(dir, KEY_FILES.circuitDir, `${BASE}.r1cs`), keys.ptau.file!, path.join(tmp, "other", KEY_FILES.zkey));
    foreign = [await proveWith(other.zkey, 0), await proveWith(other.zkey, 1)];
    expect(foreign[0].inputs).to.deep.equal(statements[0].inputs);
    expect(await verify(other.vkey, foreign[0].inputs.map(String), (await prove(wasm, other.zkey, input(0))).proof)).to.equal(true);

    harness = (await hre.ethers.deployContract("Groth16BatchHarness", [vk])) as unknown as Groth16BatchHarness;
  });

  after(async () => {
    await shutdown();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("stores the key as given and hashes it as verifyingKeyHash does (G2 in precompile order)", async () => {
    const stored = await harness.verifyingKey();
    expect(stored.alpha.map(BigInt)).to.deep.equal(vk.alpha);
    expect(stored.beta.map((c) => c.map(BigInt))).to.deep.equal(vk.beta);
    expect(stored.ic.map((p) => p.map(BigInt))).to.deep.equal(vk.ic);
    expect(await harness.keyHash()).to.equal(verifyingKeyHash(vk));
  });

  it("needs G2 in the precompile's (imaginary, real) order: the key in snarkjs's JSON order is refused", async () => {
    const unswapped = (g: BatchVerifyingKey["beta"]): BatchVerifyingKey["beta"] => [[g[0][1], g[0][0]], [g[1][1], g[1][0]]];
    const raw = { ...vk, beta: unswapped(vk.beta), gamma: unswapped(vk.gamma), delta: unswapped(vk.delta) };
    const wrong = (await hre.ethers.deployContract("Groth16BatchHarness", [raw])) as unknown as Groth16BatchHarness;
    const { proofs, inputs } = batch(statements.slice(0, 4));
    await expect(wrong.verifyBatch(proofs, inputs)).to.be.revertedWithCustomError(wrong, "FlavumGroth16PrecompileFailed").withArgs("0x0000000000000000000000000000000000000008");
    expect(() => verifyingKeyCalldata({ protocol: "plonk", curve: "bn128", nPublic: 0 })).to.throw(/protocol is "plonk"/);
  });

  it("accepts honest batches of 1, 4 and 16 statements, and prints the gas per proof", async () => {
    const rows: string[] = [];
    let single = 0n;
    for (const n of [1, 4, 16]) {
      const ss = statements.slice(0, n);
      const { proofs, inputs } = batch(ss);
      expect(await harness.verifyBatch(proofs, inputs), `N = ${n}`).to.equal(true);
      const receipt = await (await harness.verifyBatchTx(proofs, inputs)).wait();
      await expect(harness.verifyBatchTx(proofs, inputs)).to.emit(harness, "FlavumBatchVerified").withArgs(n, true);
      const [libraryGas, valid] = await harness.verifyBatchGas(proofs, inputs);
      expect(valid).to.equal(true);
      const tx = receipt!.gasUsed;
      if (n === 1) single = tx;
      rows.push(
        `      N = ${String(n).padStart(2)}: transaction ${tx} gas = ${tx / BigInt(n)} per proof` +
          ` (library alone ${libraryGas} = ${libraryGas / BigInt(n)} per proof)`,
      );
    }

    // snarkjs's generated verifier for the same key, compiled with the project's solc-js and settings.
    const solc = require("solc");
    const source = await renderVerifier(zkey, "SnarkjsBaselineVerifier", "groth16Batch.test.ts", "(test only)");
    const out = JSON.parse(
      solc.compile(
        JSON.stringify({
          language: "Solidity",
          sources: { "SnarkjsBaselineVerifier.sol": { content: source } },
          settings: {
            optimizer: { enabled: true, runs: 200 },
            evmVersion: "cancun",
            outputSelection: { "*": { SnarkjsBaselineVerifier: ["abi", "evm.bytecode.object"] } },
          },
        }),
      ),
    );
    const errors = (out.errors ?? []).filter((e: { severity: string }) => e.severity === "error");
    expect(errors, JSON.stringify(errors)).to.deep.equal([]);
    const art = out.contracts["SnarkjsBaselineVerifier.sol"].SnarkjsBaselineVerifier;
    const [signer] = await hre.ethers.getSigners();
    const factory = new hre.ethers.ContractFactory(art.abi, `0x${art.evm.bytecode.object}`, signer);
    const baseline = await (await factory.deploy()).waitForDeployment();
    const s0 = statements[0];
    const verifyProof = baseline.getFunction("verifyProof");
    expect(await verifyProof(s0.proof.a, s0.proof.b, s0.proof.c, s0.inputs)).to.equal(true);
    expect(await verifyProof(s0.proof.a, s0.proof.b, s0.proof.c, statements[1].inputs)).to.equal(false);
    const snark = await verifyProof.estimateGas(s0.proof.a, s0.proof.b, s0.proof.c, s0.inputs);
    rows.push(`      snarkjs verifyProof, one proof: transaction ${snark} gas (batch N = 1: ${single})`);
    console.log(`      Groth16Batch gas, ${M} public inputs:\n${rows.join("\n")}`);
  });

  it("rejects a batch where one proof is replaced by a proof of another statement", async () => {
    const ss = statements.slice(0, 4);
    ss[2] = { proof: statements[16].proof, inputs: ss[2].inputs };
    expect(await check(ss)).to.equal(false);
    // A proof moved with its own statement is still valid: the failure above is the mismatch.
    ss[2] = statements[16];
    expect(await check(ss)).to.equal(true);
  });

  it("rejects a tampered public input, in any member of the batch", async () => {
    for (const [i, j] of [[0, 0], [3, 4], [15, 2]]) {
      const ss = statements.slice(0, 16).map((s) => ({ ...s, inputs: [...s.inputs] }));
      ss[i].inputs[j] = (ss[i].inputs[j] + 1n) % R;
      expect(await check(ss), `proof ${i}, input ${j}`).to.equal(false);
    }
  });

  it("rejects two proofs swapped against their inputs", async () => {
    const ss = statements.slice(0, 4);
    const { proofs, inputs } = batch(ss);
    [proofs[1], proofs[2]] = [proofs[2], proofs[1]];
    expect(await harness.verifyBatch(proofs, inputs)).to.equal(false);
    [proofs[0], proofs[1]] = [proofs[1], proofs[0]]; // r_0 = 1 is fixed: the first slot is covered too
    expect(await harness.verifyBatch(proofs, inputs)).to.equal(false);
  });

  it("rejects inputs shifted by +d in one proof and −d in another (they cancel in an unweighted sum)", async () => {
    // L is linear in the inputs, so with r_i = 1 for all i the shifted batch would pass: only the
    // random weights make the sum of the two wrong equations non-zero.
    const ss = statements.slice(0, 4).map((s) => ({ ...s, inputs: [...s.inputs] }));
    const d = 123456789n;
    ss[0].inputs[4] = (ss[0].inputs[4] + d) % R;
    ss[3].inputs[4] = (ss[3].inputs[4] - d + R) % R;
    expect(await check(ss)).to.equal(false);
  });

  it("rejects a proof made with another key for the same circuit", async () => {
    expect(await check([foreign[0]])).to.equal(false);
    const ss = statements.slice(0, 4);
    ss[1] = foreign[1];
    expect(await check(ss)).to.equal(false);
  });

  it("reverts on an input ≥ r, even one equal to a valid input mod r", async () => {
    const { proofs, inputs } = batch(statements.slice(0, 4));
    const index = 2 * M + 3;
    inputs[index] += R;
    await expect(harness.verifyBatch(proofs, inputs))
      .to.be.revertedWithCustomError(harness, "FlavumGroth16InputNotInField")
      .withArgs(index, inputs[index]);
  });

  it("reverts on a point coordinate ≥ q, in A, B or C", async () => {
    const cases: [string, (p: Proof) => bigint][] = [
      ["A.x", (p) => (p.a[0] += Q)],
      ["A.y", (p) => (p.a[1] += Q)],
      ["B.x_re", (p) => (p.b[0][1] += Q)],
      ["C.y", (p) => (p.c[1] += Q)],
    ];
    for (const [what, tamper] of cases) {
      const ss = statements.slice(0, 4).map((s) => ({ inputs: s.inputs, proof: structuredClone(s.proof) }));
      const value = tamper(ss[2].proof);
      const { proofs, inputs } = batch(ss);
      await expect(harness.verifyBatch(proofs, inputs), what)
        .to.be.revertedWithCustomError(harness, "FlavumGroth16CoordinateNotInField")
        .withArgs(2, value);
    }
  });

  it("reverts, rather than answering false, when a precompile refuses a point off the curve", async () => {
    const ss = statements.slice(0, 4).map((s) => ({ inputs: s.inputs, proof: structuredClone(s.proof) }));
    ss[1].proof.a = [1n, 3n]; // 3² ≠ 1³ + 3
    await expect(check(ss)).to.be.revertedWithCustomError(harness, "FlavumGroth16PrecompileFailed").withArgs("0x0000000000000000000000000000000000000007");
    // Proof 0 has r_0 = 1, so its A reaches only the pairing precompile.
    ss[1] = statements[1];
    ss[0] = { inputs: ss[0].inputs, proof: { ...ss[0].proof, a: [1n, 3n] } };
    await expect(check(ss)).to.be.revertedWithCustomError(harness, "FlavumGroth16PrecompileFailed").withArgs("0x0000000000000000000000000000000000000008");
  });

  it("reverts on an empty batch and on the wrong number of inputs", async () => {
    await expect(harness.verifyBatch([], [])).to.be.revertedWithCustomError(harness, "FlavumGroth16EmptyBatch");
    const { proofs, inputs } = batch(statements.slice(0, 4));
    await expect(harness.verifyBatch(proofs, inputs.slice(1)))
      .to.be.revertedWithCustomError(harness, "FlavumGroth16InputCount")
      .withArgs(4 * M, 4 * M - 1);
    await expect(harness.verifyBatch(proofs, [...inputs, 0n]))
      .to.be.revertedWithCustomError(harness, "FlavumGroth16InputCount")
      .withArgs(4 * M, 4 * M + 1);
    await expect(harness.verifyBatch(proofs.slice(0, 3), inputs))
      .to.be.revertedWithCustomError(harness, "FlavumGroth16InputCount")
      .withArgs(3 * M, 4 * M);
  });
});
