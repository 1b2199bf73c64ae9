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
import { pidAlive } from "./pid";
import { vkHash } from "./vkHash";
import type { SetupRecord } from "./setupPolicy";
import { repoRoot } from "./paths";

const COMPILER_FLAGS = "circom2 --O2";

export const KEY_FILES = { circuitDir: "circuit", zkey: "circuit.zkey", vkey: VKEY_FILE, info: "keys.json" } as const;

export interface CircuitKeys {
  /** sourceHash of the circuit: what was compiled. */
  hash: string;
  /** templatesHash when it was built: the included templates it was compiled with. */
  templates?: string;
  /** vkHash of the verifying key: which key pair (a new setup of the same source gives another). */
  vkHash: string;
  constraints: number;
  wires: number;
  /** `file` and its `blake2b` (hashed lazily by setupPolicy) say which phase 1 the keys rest on. */
  ptau: { power: number; source: string; file?: string; blake2b?: string };
  /** How phase 2 was made; absent in keys.json written before ceremonies existed (single-party). */
  setup?: SetupRecord;
  circuitMs: number;
  setupMs: number;
  reused: boolean;
}

/** Identifies a build: the circuit source and how it is compiled (the optimisation level changes the r1cs). */
export function sourceHash(source: string, compiler = COMPILER_FLAGS): string {
  return crypto.createHash("sha256").update(`${compiler}\n${source}`).digest("hex");
}

let templatesMemo: string | undefined;
/**
 * The templates every Flavum circuit may include (circuits/lib and the circomlib version): a generated
 * source names them but not their contents, so an edited template must not reuse keys built before it.
 */
export function templatesHash(): string {
  if (templatesMemo) return templatesMemo;
  const lib = path.join(repoRoot(), "circuits", "lib");
  const h = crypto.createHash("sha256");
  for (const f of fs.existsSync(lib) ? fs.readdirSync(lib).filter((n) => n.endsWith(".circom")).sort() : [])
    h.update(`${f}\n`).update(fs.readFileSync(path.join(lib, f)));
  h.update(`circomlib@${(JSON.parse(fs.readFileSync(require.resolve("circomlib/package.json"), "utf8")) as { version: string }).version}`);
  return (templatesMemo = h.digest("hex"));
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
  const templates = templatesHash();
  const circuitDir = path.join(opts.dir, KEY_FILES.circuitDir);
  const mainFile = path.join(circuitDir, `${opts.base}.circom`);
  fs.mkdirSync(circuitDir, { recursive: true });

  const prev = readInfo(opts.previousDir);
  if (opts.previousDir && prev?.hash === hash && prev.templates === templates && fs.existsSync(path.join(opts.previousDir, KEY_FILES.zkey))) {
    log(`circuit unchanged since the last build: reusing its constraint system and keys`);
    fs.cpSync(path.join(opts.previousDir, KEY_FILES.circuitDir), circuitDir, { recursive: true });
    for (const f of [KEY_FILES.zkey, KEY_FILES.vkey]) fs.copyFileSync(path.join(opts.previousDir, f), path.join(opts.dir, f));
    // A finished or running ceremony, and the native witness generator (nativeWitness.ts checks its
    // own source hash), belong to this exact circuit: they must survive the rebuild.
    for (const kept of ["ceremony", "native"]) {
      const from = path.join(opts.previousDir, kept);
      if (fs.existsSync(from)) fs.cpSync(from, path.join(opts.dir, kept), { recursive: true });
    }
    // Older keys.json files predate vkHash; the copied key file is the truth either way.
    const keys = { ...prev, vkHash: vkHash(path.join(opts.dir, KEY_FILES.vkey)), circuitMs: 0, setupMs: 0, reused: true };
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
    hash, templates, vkHash: vkHash(s.vkeyFile), constraints: compiled.constraints, wires: compiled.wires,
    ptau: { power: resolved.power, source: resolved.source, file: resolved.file }, setup: { kind: "single-party" },
    circuitMs: compiled.ms, setupMs: s.ms, reused: false,
  };
  fs.writeFileSync(path.join(opts.dir, KEY_FILES.info), JSON.stringify(keys, null, 2));
  return keys;
}

export { pidAlive };

/**
 * Removes `<final>.tmp-<pid>` and `<final>.old-<pid>` folders left by builds whose process is gone
 * (killed, crashed, or interrupted before this cleanup existed), so they do not pile up at 12 MB
 * each. A folder whose pid is alive belongs to a build running right now and is left alone. An
 * `.old-<pid>` with no `<final>` beside it is the previous build caught between the two renames of
 * a swap (only SIGKILL or a power cut can land there): it is put back rather than deleted.
 */
export function removeStaleBuilds(final: string, progress?: Progress): string[] {
  const log = progress ?? silent;
  const parent = path.dirname(final);
  const base = path.basename(final);
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^${escaped}\\.(tmp|old)-(\\d+)$`);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names.sort()) {
    const m = pattern.exec(n);
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const dir = path.join(parent, n);
    if (m[1] === "old" && !fs.existsSync(final)) {
      fs.renameSync(dir, final);
      log(`restored the previous build of ${base} from ${dir} (process ${pid} stopped mid-swap)`);
      continue;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
    log(`removed ${dir}: a ${m[1] === "tmp" ? "partial build" : "superseded build"} left by process ${pid}, which is no longer running`);
  }
  return removed;
}

/**
 * Builds into `<final>.tmp-<pid>` and swaps it in only when `fill` succeeds. Ctrl-C or SIGTERM
 * during `fill` removes the partial folder, says what was kept, and exits 130 / 143 (128 + signal):
 * without a handler Node dies at once and leaves the folder forever. The swap itself is synchronous,
 * so no signal handler can run between its renames.
 */
export async function replaceDirAtomically<T>(
  final: string,
  fill: (tmp: string) => Promise<T>,
  opts: { progress?: Progress } = {},
): Promise<T> {
  removeStaleBuilds(final, opts.progress);
  const tmp = `${final}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const name = path.basename(final);
  const onSignal = (signal: NodeJS.Signals) => {
    fs.rmSync(tmp, { recursive: true, force: true });
    const kept = fs.existsSync(final) ? `the previous build of ${name} is kept (${final})` : `there was no previous build of ${name}`;
    // Written straight to stderr, not through progress: the process exits on the next line.
    process.stderr.write(`\ninterrupted (${signal}): removed the partial build ${tmp}; ${kept}\n`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
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
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
