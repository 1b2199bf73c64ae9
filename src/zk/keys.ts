/**
 * One circom source → its constraint system, witness generator and Groth16 keys, in a folder:
 *   <dir>/circuit/<base>.circom, .r1cs, <base>_js/<base>.wasm, <dir>/circuit.zkey,
 *   <dir>/verification_key.json, <dir>/keys.json (what was built, from which source hash).
 * Setup is the slow step, so an unchanged source reuses the keys of a previous build folder.
 */
import crypto from "crypto";
import fs from "fs";
import path from "path";
import { compileCircuit } from "./circom";
import { powerFor, resolvePtau } from "./ptau";
import { setup, VKEY_FILE } from "./groth16";
import { Progress, silent } from "./log";

const COMPILER_FLAGS = "circom2 --O2";

export const KEY_FILES = { circuitDir: "circuit", zkey: "circuit.zkey", vkey: VKEY_FILE, info: "keys.json" } as const;

export interface CircuitKeys {
  hash: string;
  constraints: number;
  wires: number;
  ptau: { power: number; source: string };
  circuitMs: number;
  setupMs: number;
  reused: boolean;
}

/** Identifies a build: the circuit source and how it is compiled (the optimisation level changes the r1cs). */
export function sourceHash(source: string, compiler = COMPILER_FLAGS): string {
  return crypto.createHash("sha256").update(`${compiler}\n${source}`).digest("hex");
}

export function wasmPath(dir: string, base: string): string {
  return path.join(dir, KEY_FILES.circuitDir, `${base}_js`, `${base}.wasm`);
}

function readInfo(dir: string | undefined): CircuitKeys | undefined {
  if (!dir) return undefined;
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, KEY_FILES.info), "utf8")) as CircuitKeys;
  } catch {
    return undefined;
  }
}

export async function buildCircuitKeys(opts: {
  source: string;
  base: string;
  dir: string;
  previousDir?: string;
  publicSignals: number;
  ptau?: string;
  progress?: Progress;
}): Promise<CircuitKeys> {
  const log = opts.progress ?? silent;
  const hash = sourceHash(opts.source);
  const circuitDir = path.join(opts.dir, KEY_FILES.circuitDir);
  const mainFile = path.join(circuitDir, `${opts.base}.circom`);
  fs.mkdirSync(circuitDir, { recursive: true });

  const prev = readInfo(opts.previousDir);
  if (opts.previousDir && prev?.hash === hash && fs.existsSync(path.join(opts.previousDir, KEY_FILES.zkey))) {
    log(`circuit unchanged since the last build: reusing its constraint system and keys`);
    fs.cpSync(path.join(opts.previousDir, KEY_FILES.circuitDir), circuitDir, { recursive: true });
    for (const f of [KEY_FILES.zkey, KEY_FILES.vkey]) fs.copyFileSync(path.join(opts.previousDir, f), path.join(opts.dir, f));
    const keys = { ...prev, circuitMs: 0, setupMs: 0, reused: true };
    fs.writeFileSync(path.join(opts.dir, KEY_FILES.info), JSON.stringify(keys, null, 2));
    return keys;
  }

  fs.writeFileSync(mainFile, opts.source);
  const compiled = await compileCircuit(mainFile, circuitDir, { progress: log });
  const power = powerFor(compiled.constraints, opts.publicSignals);
  const resolved = await resolvePtau(power, { path: opts.ptau, progress: log });
  log(`${compiled.constraints} constraints → powers of tau 2^${power} (${resolved.source}: ${resolved.file})`);
  const s = await setup(compiled.r1cs, resolved.file, path.join(opts.dir, KEY_FILES.zkey), { progress: log, name: opts.base });
  const keys: CircuitKeys = {
    hash, constraints: compiled.constraints, wires: compiled.wires,
    ptau: { power: resolved.power, source: resolved.source },
    circuitMs: compiled.ms, setupMs: s.ms, reused: false,
  };
  fs.writeFileSync(path.join(opts.dir, KEY_FILES.info), JSON.stringify(keys, null, 2));
  return keys;
}

/** Builds into `<final>.tmp-<pid>` and swaps it in only when `fill` succeeds. */
export async function replaceDirAtomically<T>(final: string, fill: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = `${final}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const result = await fill(tmp);
    const old = `${final}.old-${process.pid}`;
    if (fs.existsSync(final)) fs.renameSync(final, old);
    fs.renameSync(tmp, final);
    fs.rmSync(old, { recursive: true, force: true });
    return result;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
