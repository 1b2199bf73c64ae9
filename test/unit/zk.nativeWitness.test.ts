/**
 * The native (circom --c) witness generator against the wasm one: the same .wtns bytes for random
 * inputs on the Multiplier fixture and on a real batch circuit, a Groth16 proof from the native
 * witness that verifies, clear errors for inputs the circuit rejects, build reuse, and the
 * FLAVUM_WITNESS choice. Skipped, saying why, on a machine without g++/make/nasm/GMP.
 */
import { expect } from "chai";
import fc from "fast-check";
import fs from "fs";
import os from "os";
import path from "path";
import { generateBatchCircuit } from "../../src/codegen/batch";
import { planBatch } from "../../src/rollup/batchWitness";
import { Hash2, hasher, TraceTree, zeroRoots } from "../../src/rollup/merkle";
import { traceElements, traceRlc } from "../../src/protocol/traceBinding";
import {
  buildNativeWitness, compileCircuit, CompiledCircuit, computeWitness, nativeExecutable, nativeToolchain, nativeWitness,
  powerFor, prove, resolvePtau, setup, shutdown, sourceHash, verify, wasmPath, witness, witnessMode,
} from "../../src/zk";
import { templatesHash } from "../../src/zk/keys";
import { BN254_R as P } from "../../src/zk/binfile";
import { REPO } from "../helpers/circuit";
import { heldout, quantizedFixture, usePtauDir } from "../helpers/fixtures";
import { rejection } from "../helpers/rejection";
import { circuitOfWasm, witnessChooser } from "../../src/prover/witnessChoice";

const FIXTURES = path.join(REPO, "test", "fixtures-zk");

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe("native witness generator (circom --c)", function () {
  this.timeout(120_000);
  let tmp: string;

  /** A fixture copied into its own folder, compiled to wasm and built natively beside it. */
  async function fixture(name: string): Promise<{ circuit: CompiledCircuit; main: string; exe: string; reused: boolean }> {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    const main = path.join(dir, `${name}.circom`);
    fs.copyFileSync(path.join(FIXTURES, `${name}.circom`), main);
    const circuit = await compileCircuit(main, dir);
    const build = await buildNativeWitness(main);
    return { circuit, main, exe: build.exe, reused: build.reused };
  }

  before(function () {
    const tools = nativeToolchain();
    if (!tools.ok) {
      console.log(`    skipped: the native toolchain is missing ${tools.missing.join(", ")} (apt-get install -y g++ make nasm libgmp-dev)`);
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-native-"));
    usePtauDir();
  });

  after(async () => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    await shutdown();
  });

  describe("Multiplier fixture", () => {
    let m: Awaited<ReturnType<typeof fixture>>;
    before(async () => {
      m = await fixture("Multiplier");
    });

    it("gives the wasm generator's witness byte for byte, for random inputs", async () => {
      expect(m.reused).to.equal(false);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), async (a, b) => {
          const w = await witness(m.circuit.wasm, { a, b });
          const n = await nativeWitness(m.exe, { a, b });
          expect(n.wtns.length).to.equal(w.wtns.length);
          expect(same(n.wtns, w.wtns), `a=${a} b=${b}`).to.equal(true);
        }),
        { numRuns: 12, seed: 42 },
      );
    });

    it("proves: a Groth16 proof from the native witness verifies", async () => {
      const ptau = await resolvePtau(powerFor(m.circuit.constraints, m.circuit.publicInputs + m.circuit.outputs));
      const { zkey, vkey } = await setup(m.circuit.r1cs, ptau.file, path.join(tmp, "Multiplier", "m.zkey"));
      const { wtns } = await nativeWitness(m.exe, { a: 6, b: 7 });
      const { proof, publicSignals } = await prove(wtns, zkey);
      expect(publicSignals).to.deep.equal(["42"]);
      expect(await verify(vkey, publicSignals, proof)).to.equal(true);
    });

    it("rejects an input violating a constraint, naming the failed assert", async () => {
      // 2^16 does not fit Num2Bits(16): no witness exists.
      const e = await rejection(nativeWitness(m.exe, { a: 1 << 16, b: 3 }));
      expect(e).to.have.property("code", "WITNESS");
      expect(e.message).to.match(/native witness generator failed \(signal SIGABRT\)/);
      expect(e.message).to.match(/Failed assert in template\/function Num2Bits line \d+\. Followed trace of components: main\.ra/);
      // The wasm generator agrees there is none.
      expect((await rejection(witness(m.circuit.wasm, { a: 1 << 16, b: 3 }))).message).to.match(/Assert Failed/);
    });

    it("rejects a missing input, too many values and a value that is no integer", async () => {
      expect((await rejection(nativeWitness(m.exe, { a: 1 }))).message).to.match(/Not all inputs have been set\. Only 1 out of 2/);
      expect((await rejection(nativeWitness(m.exe, { a: 1, b: [2, 3] }))).message).to.match(/Error loading signal b: Too many values/);
      const e = await rejection(nativeWitness(m.exe, { a: 1, b: 2.5 }));
      expect(e).to.have.property("code", "BAD_INPUT");
      expect(e.message).to.contain("input.b = 2.5 is not an integer");
    });

    it("reuses an up-to-date build and sees a changed source as stale", async () => {
      const again = await buildNativeWitness(m.main);
      expect(again).to.include({ exe: m.exe, reused: true, compileMs: 0, makeMs: 0 });
      expect(nativeExecutable(m.main)).to.equal(m.exe);
      const source = fs.readFileSync(m.main, "utf8");
      fs.writeFileSync(m.main, `${source}\n// edited\n`);
      try {
        expect(nativeExecutable(m.main)).to.equal(undefined);
      } finally {
        fs.writeFileSync(m.main, source);
      }
      expect(nativeExecutable(m.main)).to.equal(m.exe);
    });

    it("FLAVUM_WITNESS picks the generator: auto takes native once built, wasm forces wasm, native insists", async () => {
      const saved = process.env.FLAVUM_WITNESS;
      try {
        delete process.env.FLAVUM_WITNESS;
        expect(witnessMode(m.exe)).to.equal("native");
        expect(witnessMode(undefined)).to.equal("wasm");
        expect(witnessMode(path.join(tmp, "not-built"))).to.equal("wasm");
        const auto = await computeWitness(m.circuit.wasm, m.exe, { a: 3, b: 5 });
        expect(auto.mode).to.equal("native");
        process.env.FLAVUM_WITNESS = "wasm";
        const forced = await computeWitness(m.circuit.wasm, m.exe, { a: 3, b: 5 });
        expect(forced.mode).to.equal("wasm");
        expect(same(forced.wtns, auto.wtns)).to.equal(true);
        process.env.FLAVUM_WITNESS = "native";
        expect(witnessMode(m.exe)).to.equal("native");
        expect(() => witnessMode(undefined)).to.throw(/FLAVUM_WITNESS=native, but the circuit's native witness generator is not built/);
        process.env.FLAVUM_WITNESS = "fast";
        expect(() => witnessMode(m.exe)).to.throw(/FLAVUM_WITNESS must be native, wasm or auto, got "fast"/);
      } finally {
        if (saved === undefined) delete process.env.FLAVUM_WITNESS;
        else process.env.FLAVUM_WITNESS = saved;
      }
    });
  });

  describe("a real batch circuit (logreg_cancer, B = 2)", function () {
    // A cold build (wasm compile, circom --c, make) is ~1 min on 2 busy cores; a warm one is none.
    this.timeout(300_000);
    const q = quantizedFixture("logreg_cancer");
    const samples = heldout("logreg_cancer").inputs;
    const base = "logreg_native_batch2";
    // Kept between runs (build/ is not committed): any circuit with Poseidon has megabytes of
    // generated C++ (Poseidon(2) alone is 4.8 MB, this batch circuit 12 MB), so its build is the
    // one slow step here, and an unchanged circuit reuses it. Laid out as buildCircuitKeys does, so
    // the native build lands in <dir>/native. Not in build/test-zk, which zk.toolchain.test.ts empties.
    const dir = path.join(REPO, "build", "test-native", "logreg_native.batch-2");
    const wasm = wasmPath(dir, base);
    let h: Hash2;
    let exe: string;
    const plan = (count: number, batchNumber = 0n) =>
      planBatch({
        q, h, tree: new TraceTree(h), modelId: 3n, batchSize: 2, batchNumber, firstLeaf: 0n,
        domain: 31337n,
        requests: samples.slice(count, 2 * count).map((s, i) => ({ requestId: BigInt(10 + i), sample: s })),
      });

    before(async () => {
      h = await hasher();
      const gen = generateBatchCircuit(q, "logreg_native", 2, zeroRoots(h)[1]);
      const circuitDir = path.join(dir, "circuit");
      const main = path.join(circuitDir, `${base}.circom`);
      const stamp = path.join(circuitDir, "source.sha256");
      const hash = `${sourceHash(gen.source)} ${templatesHash()}`;
      if (!(fs.existsSync(wasm) && fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === hash)) {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(circuitDir, { recursive: true });
        fs.writeFileSync(main, gen.source);
        await compileCircuit(main, circuitDir);
        fs.writeFileSync(stamp, hash);
      }
      ({ exe } = await buildNativeWitness({ dir, base }));
      expect(exe).to.equal(path.join(dir, "native", base));
    });

    it("gives identical witnesses for a full batch and for one with a padding slot", async () => {
      for (const count of [2, 1]) {
        const { circuitInput } = await plan(count);
        const w = await witness(wasm, circuitInput);
        const n = await nativeWitness(exe, circuitInput);
        expect(n.wtns.length).to.equal(w.wtns.length);
        expect(same(n.wtns, w.wtns), `${count} request(s)`).to.equal(true);
      }
    });

    it("reduces any integer into the field as the wasm generator does: negative, above p, as bigint or string", async () => {
      // The trace challenge r is any field element, so the circuit takes every value of it; both
      // generators must read -1 as p - 1 and p + 5 as 5.
      const p1 = await plan(2);
      const entries = p1.entries;
      const value = fc.oneof(
        fc.bigInt({ min: 0n, max: P - 1n }),
        fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }),
        fc.constantFrom(0n, 1n, P - 1n, P, P + 5n, -1n, -P),
      );
      await fc.assert(
        fc.asyncProperty(value, fc.boolean(), async (r, asString) => {
          const rlc = traceRlc(traceElements(entries), ((r % P) + P) % P);
          const input = { ...p1.circuitInput, r: asString ? r.toString() : r, h: rlc.toString() };
          const w = await witness(wasm, input);
          const n = await nativeWitness(exe, input);
          expect(same(n.wtns, w.wtns), `r=${r}`).to.equal(true);
        }),
        { numRuns: 8, seed: 7 },
      );
    });

    it("a prover's witness chooser takes the built native generator for the circuit of a wasm path, and wasm when told to", async () => {
      const { circuitInput } = await plan(2);
      expect(circuitOfWasm(wasm)).to.deep.equal({ dir: path.resolve(dir), base });
      const choose = witnessChooser();
      const ref = { wasm, zkey: "", vkey: "", zkeyHash: "" };
      const n = (await choose(wasm, circuitInput, ref)) as { wtns: Uint8Array; mode?: string };
      expect(n.mode).to.equal("native");
      const saved = process.env.FLAVUM_WITNESS;
      process.env.FLAVUM_WITNESS = "wasm";
      try {
        const w = (await choose(wasm, circuitInput, ref)) as { wtns: Uint8Array; mode?: string };
        expect(w.mode).to.equal("wasm");
        expect(same(n.wtns, w.wtns)).to.equal(true);
      } finally {
        if (saved === undefined) delete process.env.FLAVUM_WITNESS;
        else process.env.FLAVUM_WITNESS = saved;
      }
    });

    it("rejects a batch whose trace RLC is not the posted trace's, naming the failed assert", async () => {
      const { circuitInput } = await plan(1);
      const h1 = ((BigInt(circuitInput.h as string) + 1n) % P).toString();
      const e = await rejection(nativeWitness(exe, { ...circuitInput, h: h1 }));
      expect(e).to.have.property("code", "WITNESS");
      expect(e.message).to.match(/Failed assert in template\/function FlavumBatch_logreg_native_2 line \d+/);
      expect((await rejection(witness(wasm, { ...circuitInput, h: h1 }))).message).to.match(/Assert Failed/);
    });
  });
});
