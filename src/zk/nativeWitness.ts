/**
 * Native witness generation: circom's C++ witness generator (`circom --c`), built with g++, make,
 * nasm and GMP into `<build dir>/native/`, computes the same .wtns bytes as the WebAssembly one in
 * less time. It is optional: without the toolchain, or with FLAVUM_WITNESS=wasm, witnesses come
 * from the wasm as before. A build is reused while the circuit source, the included templates and
 * the compiler are unchanged (native.json beside the executable records what it was built from).
 */
import { spawn, spawnSync } from "child_process";
import crypto from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import { FlavumError, InputError } from "../errors";
import { BN254_R } from "./binfile";
import { compileCpp } from "./circom";
import { witness, WitnessError } from "./groth16";
import { KEY_FILES, replaceDirAtomically, templatesHash } from "./keys";
import { heartbeat, Progress, silent, timed } from "./log";
import { JSON_HPP, JSON_SHIM_VERSION } from "./nativeJson";
import { repoRoot } from "./paths";

// Tag of patchMakefile's edit, part of the build hash.
const MAKEFILE_PATCH = "noexecstack-1";

const DEFAULT_CXX_O = 1;

/** The record written beside the executable. */
export const NATIVE_INFO = "native.json";

// The generated Makefile assembles fr.asm (x86-64 only); elsewhere circom's --no_asm C++ is used.
const useAsm = () => process.arch === "x64";

export type NativeToolchain = { ok: true } | { ok: false; missing: string[] };

let toolchainMemo: NativeToolchain | undefined;

const runs = (cmd: string, args: string[], input?: string) => {
  const r = spawnSync(cmd, args, { input, stdio: [input === undefined ? "ignore" : "pipe", "ignore", "ignore"], timeout: 60_000 });
  return !r.error && r.status === 0;
};

/**
 * Whether this machine can build native witness generators. GMP is checked by compiling and linking
 * a two-line program, because its header lives in a multiarch folder on Debian (and elsewhere in
 * /usr/local or a prefix) and the library must link too, not just exist.
 */
export function nativeToolchain(opts: { refresh?: boolean } = {}): NativeToolchain {
  if (toolchainMemo && !opts.refresh) return toolchainMemo;
  const missing: string[] = [];
  const gxx = runs("g++", ["--version"]);
  if (!gxx) missing.push("g++");
  if (!runs("make", ["--version"])) missing.push("make");
  if (useAsm() && !runs("nasm", ["-v"])) missing.push("nasm");
  if (gxx) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flavum-gmp-"));
    try {
      const program = "#include <gmp.h>\nint main() { mpz_t x; mpz_init(x); mpz_clear(x); return 0; }\n";
      if (!runs("g++", ["-x", "c++", "-", "-o", path.join(dir, "gmp-check"), "-lgmp"], program)) missing.push("gmp (libgmp-dev: gmp.h and -lgmp)");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } else {
    missing.push("gmp (libgmp-dev: gmp.h and -lgmp)");
  }
  toolchainMemo = missing.length ? { ok: false, missing } : { ok: true };
  return toolchainMemo;
}

/** A circom main file, or a buildCircuitKeys folder (`<dir>/circuit/<base>.circom`), e.g. batchPaths(…). */
export type CircuitRef = string | { dir: string; base: string };

export interface NativeOptions {
  /** Where the executable goes; default `<dir>/native` for a build folder, `<main's folder>/native` for a file. */
  outDir?: string;
  /** Must match the compile the circuit's keys came from (compileCircuit's default, --O2). */
  O?: 0 | 1 | 2;
  /** Include folders; default circom.ts's (circuits/lib, node_modules), which templatesHash covers. */
  include?: string[];
  progress?: Progress;
  /** Rebuild even if an up-to-date build exists. */
  force?: boolean;
  /**
   * g++ -O level; default 1. A batch circuit's generated C++ is ~12 MB (mostly Poseidon), which
   * builds in a third of the time at -O1 as at circom's own -O3, and runs no slower (measured on
   * mlp_digits B = 8 and 16: the witness is dominated by field arithmetic in fr.asm).
   */
  cxxOptimize?: 0 | 1 | 2 | 3;
}

export interface NativePaths {
  main: string;
  base: string;
  dir: string;
  exe: string;
  info: string;
}

export function nativePaths(ref: CircuitRef, opts: Pick<NativeOptions, "outDir"> = {}): NativePaths {
  const main = typeof ref === "string" ? path.resolve(ref) : path.join(path.resolve(ref.dir), KEY_FILES.circuitDir, `${ref.base}.circom`);
  const base = path.basename(main, ".circom");
  const dir = path.resolve(opts.outDir ?? (typeof ref === "string" ? path.join(path.dirname(main), "native") : path.join(ref.dir, "native")));
  return { main, base, dir, exe: path.join(dir, base), info: path.join(dir, NATIVE_INFO) };
}

function circomVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(require.resolve("circom2/package.json", { paths: [repoRoot()] }), "utf8")) as { version: string };
  return `circom2@${pkg.version}`;
}

/** What a build is made from: any change to these can change the generated code or its witness layout. */
function buildHash(p: NativePaths, opts: NativeOptions): string {
  if (!fs.existsSync(p.main)) throw new FlavumError(`circuit ${p.main} does not exist`, "CIRCOM_COMPILE");
  return crypto
    .createHash("sha256")
    .update([circomVersion(), `--O${opts.O ?? 2}`, `g++ -O${opts.cxxOptimize ?? DEFAULT_CXX_O}`, useAsm() ? "asm" : "no_asm", JSON_SHIM_VERSION, MAKEFILE_PATCH, templatesHash(), ""].join("\n"))
    .update(fs.readFileSync(p.main))
    .digest("hex");
}

interface NativeInfo {
  hash: string;
  circom: string;
  base: string;
  cppBytes: number;
  compileMs: number;
  makeMs: number;
}

function readInfo(file: string): NativeInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as NativeInfo;
  } catch {
    return undefined;
  }
}

/** The executable if it was built from the circuit as it is now; undefined if absent or stale. */
export function nativeExecutable(ref: CircuitRef, opts: NativeOptions = {}): string | undefined {
  const p = nativePaths(ref, opts);
  if (!fs.existsSync(p.exe) || !fs.existsSync(`${p.exe}.dat`) || !fs.existsSync(p.main)) return undefined;
  return readInfo(p.info)?.hash === buildHash(p, opts) ? p.exe : undefined;
}

/**
 * fr.asm has no .note.GNU-stack section, so GNU ld warns and marks the whole executable as needing
 * an executable stack; the link flag says it does not. The compile flags (-O3 -I.) are circom's and
 * stay: -I. is what finds the nlohmann/json.hpp written beside the sources, and NDEBUG must never
 * be set, because the generated code checks the circuit's constraints with assert().
 */
function patchMakefile(text: string, cxxOptimize: number | undefined): string {
  let out = text;
  if (cxxOptimize !== undefined) {
    const cflags = /^CFLAGS=.*-O\d.*$/m;
    if (!cflags.test(out)) throw new FlavumError(`circom's generated Makefile has no CFLAGS line with -O<n> to set -O${cxxOptimize} in:\n${text}`, "NATIVE_BUILD");
    out = out.replace(cflags, (line) => line.replace(/-O\d/, `-O${cxxOptimize}`));
  }
  if (process.platform === "linux") out = out.replace(/^(\t\$\(CC\) -o \S+ \*\.o -lgmp)[ \t]*$/m, "$1 -Wl,-z,noexecstack");
  return out;
}

function runMake(cwd: string, jobs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("make", ["-j", String(jobs)], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

const tail = (s: string, lines: number) => s.trim().split("\n").slice(-lines).join("\n");

export interface NativeBuild {
  exe: string;
  dir: string;
  reused: boolean;
  /** circom --c and make wall times (0 when reused). */
  compileMs: number;
  makeMs: number;
}

/**
 * Builds (or reuses) the native witness generator of a circuit: circom --c into a temporary folder,
 * the JSON header circom's main.cpp expects, make, then only the executable and its .dat (which it
 * loads from `<argv[0]>.dat`) are swapped into place, so a failed or interrupted build leaves the
 * previous one.
 */
export async function buildNativeWitness(ref: CircuitRef, opts: NativeOptions = {}): Promise<NativeBuild> {
  const log = opts.progress ?? silent;
  const p = nativePaths(ref, opts);
  const tools = nativeToolchain();
  if (!tools.ok) {
    throw new FlavumError(
      `cannot build the native witness generator of ${p.base}: missing ${tools.missing.join(", ")}. ` +
        `On Debian/Ubuntu: apt-get install -y g++ make nasm libgmp-dev; or use the wasm witness (FLAVUM_WITNESS=wasm)`,
      "NATIVE_TOOLCHAIN",
    );
  }
  const hash = buildHash(p, opts);
  if (!opts.force && readInfo(p.info)?.hash === hash && fs.existsSync(p.exe) && fs.existsSync(`${p.exe}.dat`)) {
    log(`native witness generator of ${p.base} is up to date (${p.exe})`);
    return { exe: p.exe, dir: p.dir, reused: true, compileMs: 0, makeMs: 0 };
  }
  return replaceDirAtomically(
    p.dir,
    async (tmp) => {
      const { cppDir, ms: compileMs } = await compileCpp(p.main, path.join(tmp, "src"), {
        O: opts.O, include: opts.include, progress: log, asm: useAsm(),
      });
      fs.mkdirSync(path.join(cppDir, "nlohmann"));
      fs.writeFileSync(path.join(cppDir, "nlohmann", "json.hpp"), JSON_HPP);
      const makefile = path.join(cppDir, "Makefile");
      fs.writeFileSync(makefile, patchMakefile(fs.readFileSync(makefile, "utf8"), opts.cxxOptimize ?? DEFAULT_CXX_O));
      const cppBytes = fs.statSync(path.join(cppDir, `${p.base}.cpp`)).size;
      // Measured on 2 idle cores: a 12 MB generated .cpp (the digits MLP at B = 8) takes ~38 s and
      // ~0.9 GB at -O3; -O1 and -O0 roughly a third and a quarter of that.
      const level = opts.cxxOptimize ?? DEFAULT_CXX_O;
      const hb = heartbeat(log, `make ${p.base} (native witness generator)`, {
        estimateMs: 2000 + (cppBytes / 1e6) * [800, 1100, 2500, 3200][level],
        basis: `${(cppBytes / 1e6).toFixed(1)} MB of generated C++, g++ -O${level}`,
      });
      let made: { value: { code: number | null; output: string }; ms: number };
      try {
        made = await timed(log, `make ${p.base} (native witness generator)`, () => runMake(cppDir, Math.max(1, os.cpus().length)));
      } finally {
        hb.stop();
      }
      const built = path.join(cppDir, p.base);
      if (made.value.code !== 0 || !fs.existsSync(built)) {
        // The temporary folder goes with the failure, so the compiler's own words are the report.
        throw new FlavumError(`make failed for the native witness generator of ${p.base}:\n${tail(made.value.output, 40)}`, "NATIVE_BUILD");
      }
      fs.renameSync(built, path.join(tmp, p.base));
      fs.renameSync(path.join(cppDir, `${p.base}.dat`), path.join(tmp, `${p.base}.dat`));
      // The sources are tens of MB for a batch circuit and are regenerated by any rebuild.
      fs.rmSync(path.join(tmp, "src"), { recursive: true, force: true });
      const info: NativeInfo = { hash, circom: circomVersion(), base: p.base, cppBytes, compileMs, makeMs: made.ms };
      fs.writeFileSync(path.join(tmp, NATIVE_INFO), JSON.stringify(info, null, 2));
      return { exe: p.exe, dir: p.dir, reused: false, compileMs, makeMs: made.ms };
    },
    { progress: log },
  );
}

/**
 * Each value as a decimal field element in [0, p). snarkjs's calculator accepts numbers, bigints and
 * numeric strings and reduces them mod p; circom's main.cpp reads numbers as doubles (losing digits
 * above 2^53) and rejects negative strings, so the same reduction is done here first.
 */
function fieldInput(v: unknown, name: string): unknown {
  if (Array.isArray(v)) return v.map((x, i) => fieldInput(x, `${name}[${i}]`));
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fieldInput(x, `${name}.${k}`)]));
  let n: bigint;
  try {
    n = BigInt(v as string | number | bigint | boolean);
  } catch {
    throw new InputError(`input ${name} = ${JSON.stringify(v)} is not an integer`);
  }
  // BN254's scalar field, circom's default prime and the only one Flavum compiles for.
  return (((n % BN254_R) + BN254_R) % BN254_R).toString();
}

/**
 * Runs a native witness generator on `input` and returns the .wtns bytes (the same bytes as
 * groth16.witness gives). The time covers the whole round trip: writing the input, the process, and
 * reading the witness back.
 */
export async function nativeWitness(exe: string, input: object): Promise<{ wtns: Uint8Array; ms: number }> {
  const file = path.resolve(exe);
  if (!fs.existsSync(file) || !fs.existsSync(`${file}.dat`)) {
    throw new FlavumError(`native witness generator ${file} (or its .dat) does not exist: build it with buildNativeWitness`, "NATIVE_MISSING");
  }
  const start = performance.now();
  const json = JSON.stringify(fieldInput(input, "input"));
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "flavum-wtns-"));
  try {
    const inFile = path.join(dir, "input.json");
    const outFile = path.join(dir, "out.wtns");
    await fs.promises.writeFile(inFile, json);
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve, reject) => {
      const child = spawn(file, [inFile, outFile], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      // A failed constraint is reported on stdout ("Failed assert in template …"), the abort on stderr.
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      // Not executable, or built for another machine: no witness was attempted.
      child.on("error", (e) => reject(new FlavumError(`cannot run the native witness generator ${file}: ${e.message}`, "NATIVE_RUN")));
      child.on("close", (code, signal) => resolve({ code, signal, output }));
    });
    if (result.code !== 0 || !fs.existsSync(outFile)) {
      const how = result.signal ? `signal ${result.signal}` : `exit code ${result.code}`;
      // WitnessError appends its own sentence: a trailing period from the C++ message would double.
      const said = tail(result.output, 20).replace(/\.+$/, "") || "no output";
      throw new WitnessError(file, `the native witness generator failed (${how}): ${said}`);
    }
    const wtns = new Uint8Array(await fs.promises.readFile(outFile));
    return { wtns, ms: performance.now() - start };
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

export type WitnessSetting = "native" | "wasm" | "auto";
export type WitnessBackend = "native" | "wasm";

/** FLAVUM_WITNESS, validated; auto when unset. */
export function witnessSetting(): WitnessSetting {
  const v = (process.env.FLAVUM_WITNESS ?? "auto").trim().toLowerCase() || "auto";
  if (v !== "native" && v !== "wasm" && v !== "auto") {
    throw new FlavumError(`FLAVUM_WITNESS must be native, wasm or auto, got "${process.env.FLAVUM_WITNESS}"`, "BAD_INPUT");
  }
  return v;
}

/**
 * Which witness generator to use for a circuit whose native executable is `exe` (from
 * nativeExecutable; undefined if not built). auto takes native when the toolchain is present and the
 * executable is built, else wasm; native insists, so a misconfigured machine fails loudly instead of
 * quietly running slower.
 */
export function witnessMode(exe?: string): WitnessBackend {
  const setting = witnessSetting();
  if (setting === "wasm") return "wasm";
  const ready = exe !== undefined && fs.existsSync(exe) && fs.existsSync(`${exe}.dat`);
  if (setting === "auto") return ready && nativeToolchain().ok ? "native" : "wasm";
  const tools = nativeToolchain();
  if (!tools.ok) throw new FlavumError(`FLAVUM_WITNESS=native, but the native toolchain is missing ${tools.missing.join(", ")}`, "NATIVE_TOOLCHAIN");
  if (!ready) throw new FlavumError(`FLAVUM_WITNESS=native, but the circuit's native witness generator is not built${exe ? ` (${exe})` : ""}: build it with buildNativeWitness`, "NATIVE_MISSING");
  return "native";
}

/** The witness by whichever generator witnessMode picks; the result says which one ran. */
export async function computeWitness(wasm: string, exe: string | undefined, input: object): Promise<{ wtns: Uint8Array; ms: number; mode: WitnessBackend }> {
  const mode = witnessMode(exe);
  const r = mode === "native" ? await nativeWitness(exe!, input) : await witness(wasm, input);
  return { ...r, mode };
}
