/**
 * circom_tester around small wrapper mains, plus witness tampering: a soundness test computes an
 * honest witness, changes the named signals, and expects the constraint check to fail.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { expect } from "chai";
import { toField } from "../../src/quant/fixed";
import { compileCircuit } from "../../src/zk/circom";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { wasm: wasmTester } = require("circom_tester");

export const REPO = path.resolve(__dirname, "../..");
export const INCLUDE = [path.join(REPO, "circuits/lib"), path.join(REPO, "node_modules")];

export interface Tester {
  calculateWitness(input: Record<string, unknown>, sanity?: boolean): Promise<bigint[]>;
  checkConstraints(w: bigint[]): Promise<void>;
  loadSymbols(): Promise<void>;
  symbols: Record<string, { varIdx: number }>;
}

/** Compiles `main` (a circom snippet instantiating `component main`) with the given includes. */
export async function compileMain(name: string, includes: string[], main: string): Promise<Tester> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `flavum-${name}-`));
  const file = path.join(dir, `${name}.circom`);
  fs.writeFileSync(file, [`pragma circom 2.1.6;`, ...includes.map((i) => `include "${i}";`), main, ""].join("\n"));
  const t: Tester = await wasmTester(file, { include: INCLUDE, output: dir });
  await t.loadSymbols();
  return t;
}

export function signalIndex(t: Tester, name: string): number {
  const s = t.symbols[`main.${name}`];
  if (!s || s.varIdx < 0) throw new Error(`signal main.${name} is not in the witness (optimized away?)`);
  return s.varIdx;
}

export function readSignal(t: Tester, w: bigint[], name: string): bigint {
  return w[signalIndex(t, name)];
}

/** Expects the witness with `changes` applied to violate at least one constraint. */
export async function expectTamperRejected(t: Tester, w: bigint[], changes: Record<string, bigint>): Promise<void> {
  const bad = [...w];
  for (const [name, v] of Object.entries(changes)) bad[signalIndex(t, name)] = toField(v);
  let failed = false;
  try {
    await t.checkConstraints(bad);
  } catch {
    failed = true;
  }
  expect(failed, `tampered witness ${JSON.stringify(changes, (_, v) => (typeof v === "bigint" ? v.toString() : v))} passed the constraints`).to.equal(true);
  // The honest witness must still pass, or the test proves nothing.
  await t.checkConstraints(w);
}


/** Compiles a whole generated circuit (its own `component main`); returns the tester and the file. */
export async function compileSource(name: string, source: string): Promise<{ t: Tester; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `flavum-${name}-`));
  const file = path.join(dir, `${name}.circom`);
  fs.writeFileSync(file, source);
  const t: Tester = await wasmTester(file, { include: INCLUDE, output: dir });
  await t.loadSymbols();
  return { t, file };
}

/** Constraints of a circuit file as repositories and models build it (circom --O2). */
export async function compiledConstraints(file: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-count-"));
  try {
    return (await compileCircuit(file, dir)).constraints;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether `input` has no witness: the generator's asserts or the constraint check refuse it. */
export async function witnessFails(t: Tester, input: object): Promise<boolean> {
  try {
    const w = await t.calculateWitness(input as Record<string, unknown>, true);
    await t.checkConstraints(w);
    return false;
  } catch {
    return true;
  }
}

/** Constraints of a generated circuit's source (circom --O2). */
export async function constraintsOf(source: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-source-"));
  try {
    const file = path.join(dir, "circuit.circom");
    fs.writeFileSync(file, source);
    return await compiledConstraints(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
