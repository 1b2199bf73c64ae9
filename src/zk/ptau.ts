import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import { devCeremony } from "./devCeremony";
import { downloadHermez, HERMEZ_MAX_POWER, HERMEZ_MIN_POWER, hermezFileName } from "./hermez";
import { Progress, silent } from "./log";
import { cacheRoot } from "./paths";
import { PtauInfo, readPtauInfo } from "./ptauHeader";

/** The largest ceremony that exists (Hermez, 2^28); snarkjs cannot use anything bigger either. */
export const MAX_POWER = 28;

export type PtauSource = "option" | "env-dir" | "cache" | "hermez" | "dev-ceremony";

export interface ResolvePtauOptions {
  /** One ptau file to use (else env FLAVUM_PTAU); an error if it is too small. */
  path?: string;
  /** A folder of ptau files to choose from (else env FLAVUM_PTAU_DIR). */
  dir?: string;
  /** Where downloads and dev ceremonies are kept (else $FLAVUM_CACHE_DIR/ptau, else <repo>/build/ptau). */
  cacheDir?: string;
  /** May the Hermez file be downloaded? Default: yes unless FLAVUM_OFFLINE=1. */
  network?: boolean;
  progress?: Progress;
}

export interface ResolvedPtau {
  file: string;
  source: PtauSource;
  /** The power of the file found, which may exceed the one asked for. */
  power: number;
}

/**
 * The smallest ptau power snarkjs's Groth16 setup accepts for a circuit: newZKey uses a domain of
 * 2^(floor(log2(constraints + public signals)) + 1), i.e. strictly more than constraints + public
 * signals, because it appends one constraint per public signal (and the constant one) to make the
 * public inputs non-malleable. `publicInputs` counts public inputs plus outputs, as in the r1cs.
 */
export function powerFor(constraints: number, publicInputs = 0): number {
  if (!Number.isInteger(constraints) || constraints < 0 || !Number.isInteger(publicInputs) || publicInputs < 0) {
    throw new FlavumError(`powerFor needs non-negative integers, got constraints=${constraints}, publicInputs=${publicInputs}`);
  }
  const n = constraints + publicInputs;
  let power = 1;
  while (2 ** power <= n) power++;
  if (power > MAX_POWER) {
    throw new FlavumError(
      `circuit too large for Groth16 on BN254: ${constraints} constraints + ${publicInputs} public signals ` +
        `need 2^${power} > 2^${MAX_POWER}, the largest powers of tau that exist; split the circuit (smaller batches)`,
      "PTAU_TOO_SMALL",
    );
  }
  return power;
}

function checkPower(power: number): void {
  if (!Number.isInteger(power) || power < 1 || power > MAX_POWER) {
    throw new FlavumError(`ptau power must be an integer in 1..${MAX_POWER}, got ${power}`, "BAD_PTAU_POWER");
  }
}

/** Where downloads, `ptau:fetch` and dev ceremonies keep ptau files: <FLAVUM_CACHE_DIR or build>/ptau. */
export function ptauCacheDir(): string {
  return path.join(cacheRoot(), "ptau");
}

/** A usable file for `power` among the *.ptau in `dir`: the smallest sufficient one, judged by header. */
function pickFromDir(dir: string, power: number, log: Progress): PtauInfo | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith(".ptau") && !n.startsWith("."));
  } catch (err) {
    log(`ptau: cannot read folder ${dir} (${(err as NodeJS.ErrnoException).code ?? err}); skipping it`);
    return undefined;
  }
  const usable: PtauInfo[] = [];
  const rejected: string[] = [];
  for (const name of names) {
    let info: PtauInfo;
    try {
      info = readPtauInfo(path.join(dir, name));
    } catch (err) {
      rejected.push(`${name}: ${(err as Error).message}`);
      continue;
    }
    if (!info.preparedForPhase2) rejected.push(`${name}: not prepared for phase 2`);
    else if (info.power < power) rejected.push(`${name}: power ${info.power} < ${power}`);
    else usable.push(info);
  }
  usable.sort((a, b) => a.power - b.power || fs.statSync(a.file).size - fs.statSync(b.file).size);
  if (!usable.length && rejected.length) log(`ptau: nothing usable in ${dir} (${rejected.join("; ")})`);
  return usable[0];
}

function checkExplicit(file: string, power: number, from: string): PtauInfo {
  if (!fs.existsSync(file)) {
    throw new FlavumError(`ptau file ${file} (${from}) does not exist; fix the path or unset it`, "PTAU_NOT_FOUND");
  }
  const info = readPtauInfo(file);
  if (info.power < power) {
    throw new FlavumError(
      `ptau file ${file} (${from}) has power ${info.power}, but this circuit needs 2^${power}; ` +
        `give a file of power ≥ ${power} (e.g. ${hermezFileName(Math.max(power, HERMEZ_MIN_POWER))}) or unset it`,
      "PTAU_TOO_SMALL",
    );
  }
  if (!info.preparedForPhase2) {
    throw new FlavumError(
      `ptau file ${file} (${from}) is not prepared for phase 2; run \`snarkjs powersoftau prepare phase2\` on it`,
      "PTAU_NOT_PREPARED",
    );
  }
  return info;
}

/**
 * Finds powers of tau of at least 2^power, in the order DESIGN.md fixes: an explicit file, a folder,
 * the local cache, the public Hermez file (verified by hash), and last a development ceremony.
 */
export async function resolvePtau(power: number, opts: ResolvePtauOptions = {}): Promise<ResolvedPtau> {
  checkPower(power);
  const log = opts.progress ?? silent;

  const explicit = opts.path ?? process.env.FLAVUM_PTAU;
  if (explicit) {
    const from = opts.path ? "given by option" : "from FLAVUM_PTAU";
    const info = checkExplicit(path.resolve(explicit), power, from);
    return { file: info.file, source: "option", power: info.power };
  }

  const dir = opts.dir ?? process.env.FLAVUM_PTAU_DIR;
  if (dir) {
    const info = pickFromDir(path.resolve(dir), power, log);
    if (info) return { file: info.file, source: "env-dir", power: info.power };
  }

  const cacheDir = path.resolve(opts.cacheDir ?? ptauCacheDir());
  const cached = fs.existsSync(cacheDir) ? pickFromDir(cacheDir, power, log) : undefined;
  if (cached) return { file: cached.file, source: "cache", power: cached.power };

  const network = opts.network ?? process.env.FLAVUM_OFFLINE !== "1";
  const hermezPower = Math.max(power, HERMEZ_MIN_POWER);
  if (network && hermezPower <= HERMEZ_MAX_POWER) {
    try {
      const file = await downloadHermez(hermezPower, cacheDir, { progress: log });
      return { file, source: "hermez", power: hermezPower };
    } catch (err) {
      log(`ptau: ${(err as Error).message}; falling back to a local development ceremony`);
    }
  } else if (!network) {
    log("ptau: network disabled (FLAVUM_OFFLINE=1 or network: false); not downloading the Hermez file");
  } else {
    log(`ptau: no hash-pinned Hermez file above 2^${HERMEZ_MAX_POWER}; give one with FLAVUM_PTAU`);
  }

  const file = await devCeremony(power, cacheDir, log);
  return { file, source: "dev-ceremony", power };
}
