import { spawn } from "child_process";
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import { Progress, timed } from "./log";
import { repoRoot } from "./paths";
import { R1csInfo, readR1csInfo } from "./r1csHeader";

export interface CompileOptions {
  /** Include folders for `include "…"`; default [<repo>/circuits/lib, <repo>/node_modules]. */
  include?: string[];
  progress?: Progress;
  /** circom's constraint simplification level (--O0/--O1/--O2); --O2 if unset. */
  O?: 0 | 1 | 2;
}

export interface CompiledCircuit extends R1csInfo {
  r1cs: string;
  wasm: string;
  sym: string;
  /** Compile wall time in milliseconds. */
  ms: number;
}

export class CircomCompileError extends FlavumError {
  constructor(readonly mainFile: string, readonly compilerOutput: string) {
    super(`circom failed to compile ${mainFile}:\n${compilerOutput}`, "CIRCOM_COMPILE");
  }
}

// circom colours its diagnostics; escape codes make error messages unreadable in logs and tests.
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

/** The circom2 (WebAssembly circom) CLI entry point; its package has no exports map, so this resolves. */
export function circom2Cli(): string {
  return require.resolve("circom2/cli.js", { paths: [repoRoot()] });
}

function runCircom(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Running node directly (not bin/circom) keeps this portable to systems without bash.
    const child = spawn(process.execPath, [circom2Cli(), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: stripAnsi(stdout), stderr: stripAnsi(stderr) }));
  });
}

/** Include folders and optimisation level: every output of one circuit must be compiled with the same. */
function sharedArgs(opts: CompileOptions): string[] {
  const include = opts.include ?? [path.join(repoRoot(), "circuits", "lib"), path.join(repoRoot(), "node_modules")];
  const args: string[] = [];
  for (const dir of include) args.push("-l", path.resolve(dir));
  // circom's default (--O1) keeps every linear constraint; --O2 substitutes them away, which halves
  // Poseidon (517 → 240) and makes public-weights linear layers free as intended.
  args.push(`--O${opts.O ?? 2}`);
  return args;
}

/**
 * Compiles a circom main file to r1cs, witness-generator wasm and symbols in `outDir`, and reads the
 * circuit's size from the r1cs so callers can pick a ptau power without another pass.
 */
export async function compileCircuit(mainFile: string, outDir: string, opts: CompileOptions = {}): Promise<CompiledCircuit> {
  const main = path.resolve(mainFile);
  if (!fs.existsSync(main)) throw new FlavumError(`circuit ${main} does not exist`, "CIRCOM_COMPILE");
  const out = path.resolve(outDir);
  fs.mkdirSync(out, { recursive: true });
  const args = [main, "--r1cs", "--wasm", "--sym", "-o", out, ...sharedArgs(opts)];

  const base = path.basename(main, ".circom");
  const r1cs = path.join(out, `${base}.r1cs`);
  const wasm = path.join(out, `${base}_js`, `${base}.wasm`);
  const sym = path.join(out, `${base}.sym`);
  // Outputs of an earlier compile must not pass for this one's if it fails half-way.
  for (const f of [r1cs, wasm, sym]) fs.rmSync(f, { force: true });
  const { value: result, ms } = await timed(opts.progress, `compile ${path.basename(main)}`, () => runCircom(args));
  const failed = result.code !== 0 || ![r1cs, wasm, sym].every((f) => fs.existsSync(f));
  if (failed) {
    throw new CircomCompileError(main, (result.stderr || result.stdout || `exit code ${result.code}`).trim());
  }
  return { r1cs, wasm, sym, ms, ...readR1csInfo(r1cs) };
}

/**
 * Emits circom's C++ witness generator for `mainFile` into `<outDir>/<base>_cpp/` (sources, the
 * circuit's .dat and a Makefile; building it is nativeWitness.ts's business). The witness layout
 * depends on the simplification level, so `opts` must match the compile the keys were made from.
 * `asm: false` (circom's --no_asm) avoids x86-64 assembly, hence nasm, at some speed.
 */
export async function compileCpp(
  mainFile: string,
  outDir: string,
  opts: CompileOptions & { asm?: boolean } = {},
): Promise<{ cppDir: string; ms: number }> {
  const main = path.resolve(mainFile);
  if (!fs.existsSync(main)) throw new FlavumError(`circuit ${main} does not exist`, "CIRCOM_COMPILE");
  const out = path.resolve(outDir);
  fs.mkdirSync(out, { recursive: true });
  const args = [main, "--c", "-o", out, ...sharedArgs(opts)];
  if (opts.asm === false) args.push("--no_asm");
  const base = path.basename(main, ".circom");
  const cppDir = path.join(out, `${base}_cpp`);
  fs.rmSync(cppDir, { recursive: true, force: true });
  const { value: result, ms } = await timed(opts.progress, `compile ${path.basename(main)} to C++`, () => runCircom(args));
  const failed = result.code !== 0 || !["main.cpp", `${base}.cpp`, `${base}.dat`, "Makefile"].every((f) => fs.existsSync(path.join(cppDir, f)));
  if (failed) throw new CircomCompileError(main, (result.stderr || result.stdout || `exit code ${result.code}`).trim());
  return { cppDir, ms };
}
