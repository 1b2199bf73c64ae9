/**
 * A multi-party Groth16 phase 2 for one circuit build folder (circuit/<base>.r1cs + keys.json), kept
 * in <dir>/ceremony/: every zkey of the chain, and transcript.json recording what each one is.
 *
 *   init       newZKey from the r1cs and the phase-1 file: contribution 0, no secret in it.
 *   contribute one participant's δ, from fresh random entropy that is never written anywhere;
 *              needs only the previous zkey, so it runs on the participant's own machine.
 *   import     takes a returned zkey into the chain once it extends the previous one and verifies
 *              against the r1cs and the ptau.
 *   finalize   a beacon contribution from a value fixed before it was known (a future block hash),
 *              verified, then installed as the circuit's key, verifying key and Solidity verifier.
 *   verify     anyone re-checks the whole chain from the r1cs, the ptau and the zkeys.
 *
 * The resulting key is sound if one contributor destroyed their entropy and the phase-1 file's τ is
 * unknown (the Hermez ceremony's assumption); the beacon only stops the last contributor from
 * choosing the final δ after seeing the others.
 */
import crypto from "crypto";
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import { withBinFile } from "./binfile";
import { blake2b512 } from "./hermez";
import { heartbeat, Progress, silent, snarkjsLogger, SnarkjsLogger } from "./log";
import { powerFor, ptauCacheDir, resolvePtau } from "./ptau";
import { readR1csInfo } from "./r1csHeader";
import { pinnedPower, SetupRecord } from "./setupPolicy";
import { snarkjs } from "./snarkjs";
import { exportVerifier } from "./verifierContract";
import { vkHash } from "./vkHash";
import { VKEY_FILE } from "./groth16";
import type { CircuitKeys } from "./keys";

export const CEREMONY_DIR = "ceremony";
export const TRANSCRIPT_FILE = "transcript.json";
export const TRANSCRIPT_FORMAT = "flavum-ceremony/1";
/** snarkjs's lower bound; the beacon's hashing only needs to outlast the time to the block. */
export const DEFAULT_ITERATIONS_EXP = 10;

export interface ChainEntry {
  /** Contributions the zkey holds: 0 for the initial key. */
  index: number;
  kind: "initial" | "contribution" | "beacon";
  name: string;
  /** blake2b-512 of the contribution's public key, as snarkjs prints it (the participant keeps it). */
  contributionHash?: string;
  /** Relative to the ceremony folder. */
  file: string;
  /** Also the zkey's object id in the object store. */
  sha256: string;
  bytes: number;
  at: string;
}

export interface PlannedBeacon {
  kind: "block";
  network: string;
  chainId: string;
  block: number;
  /** The chain's head when the beacon was announced: the block was then in the future. */
  headAtAnnouncement: number;
  announcedAt: string;
}

export interface BeaconRecord {
  kind: "block" | "value";
  /** Hex, no 0x: what snarkjs's beacon hashes 2^iterationsExp times. */
  value: string;
  iterationsExp: number;
  network?: string;
  chainId?: string;
  block?: number;
  blockTime?: string;
  /** Fixed at ceremony:init, before any contribution. */
  announced: boolean;
}

export interface Transcript {
  format: typeof TRANSCRIPT_FORMAT;
  createdAt: string;
  circuit: { base: string; sourceHash: string; r1cs: string; r1csSha256: string; constraints: number };
  ptau: { file: string; power: number; bytes: number; blake2b: string; hermezPower: number | null };
  plannedBeacon?: PlannedBeacon;
  chain: ChainEntry[];
  beacon?: BeaconRecord;
  final?: { zkeySha256: string; vkHash: string; at: string; replaced?: string };
}

export interface VerifierTarget {
  contract: string;
  file: string;
  source: string;
  regenerate: string;
}

// ------------------------------------------------------------------------------------ files

export function ceremonyDir(dir: string): string {
  return path.join(dir, CEREMONY_DIR);
}

export function sha256File(file: string): string {
  const h = crypto.createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function circuitFiles(dir: string): { base: string; r1cs: string; keys: CircuitKeys } {
  const keysFile = path.join(dir, "keys.json");
  const circuit = path.join(dir, "circuit");
  const r1cs = fs.existsSync(circuit) ? fs.readdirSync(circuit).filter((f) => f.endsWith(".r1cs")) : [];
  if (!fs.existsSync(keysFile) || r1cs.length !== 1)
    throw new FlavumError(
      `${dir} is not a circuit build folder (expected keys.json and exactly one circuit/<base>.r1cs); ` +
        `give a folder such as build/models/<name>.batch-<B>, or --model <name> --batch <B>`,
      "BAD_INPUT",
    );
  const keys = JSON.parse(fs.readFileSync(keysFile, "utf8")) as CircuitKeys;
  return { base: r1cs[0].replace(/\.r1cs$/, ""), r1cs: path.join(circuit, r1cs[0]), keys };
}

export function readTranscript(dir: string): Transcript {
  const file = path.join(ceremonyDir(dir), TRANSCRIPT_FILE);
  if (!fs.existsSync(file))
    throw new FlavumError(`there is no ceremony in ${dir}: start one with \`npx hardhat ceremony:init --circuit ${dir}\``, "NO_CEREMONY");
  const t = JSON.parse(fs.readFileSync(file, "utf8")) as Transcript;
  if (t.format !== TRANSCRIPT_FORMAT) throw new FlavumError(`${file} is not a Flavum ceremony transcript (format ${t.format})`, "BAD_TRANSCRIPT");
  return t;
}

function writeTranscript(dir: string, t: Transcript): void {
  writeAtomically(path.join(ceremonyDir(dir), TRANSCRIPT_FILE), JSON.stringify(t, null, 2));
}

/** The zkey the next participant extends. */
export function latestZkey(dir: string): string {
  const t = readTranscript(dir);
  return path.join(ceremonyDir(dir), t.chain[t.chain.length - 1].file);
}

// ------------------------------------------------------------------------ zkey MPC section

export interface ZkeyContribution {
  type: number;
  name?: string;
  iterationsExp?: number;
  beaconHash?: string;
  /** The contribution's bytes as stored: equal records mean the same contribution. */
  record: Buffer;
}

/**
 * The contributions a zkey carries (section 10: csHash, count, then per contribution the points,
 * the transcript hash, the type and a parameter block), read without snarkjs's curve workers, so a
 * participant sees at once what they are about to extend and an import can compare two chains.
 */
export function zkeyContributions(file: string): { csHash: string; contributions: ZkeyContribution[] } {
  try {
    return withBinFile(file, "zkey", (bf) => {
      const s = bf.section(10);
      const csHash = s.subarray(0, 64).toString("hex");
      const n = s.readUInt32LE(64);
      let p = 68;
      const contributions: ZkeyContribution[] = [];
      // deltaAfter, g1_s, g1_sx (G1, 64 bytes each), g2_spx (G2, 128), transcript (64).
      const POINTS = 64 * 3 + 128 + 64;
      for (let i = 0; i < n; i++) {
        const start = p;
        p += POINTS;
        const type = s.readUInt32LE(p);
        const paramLength = s.readUInt32LE(p + 4);
        p += 8;
        const c: ZkeyContribution = { type, record: Buffer.alloc(0) };
        const end = p + paramLength;
        while (p < end) {
          const kind = s[p++];
          if (kind === 1) {
            const len = s[p++];
            c.name = s.subarray(p, p + len).toString("utf8");
            p += len;
          } else if (kind === 2) c.iterationsExp = s[p++];
          else if (kind === 3) {
            const len = s[p++];
            c.beaconHash = s.subarray(p, p + len).toString("hex");
            p += len;
          } else throw new Error(`unknown contribution parameter ${kind}`);
        }
        c.record = s.subarray(start, end);
        contributions.push(c);
      }
      return { csHash, contributions };
    });
  } catch (e) {
    throw new FlavumError(`${file} is not a readable Groth16 zkey: ${(e as Error).message}`, "BAD_ZKEY");
  }
}

/** Why `next` is not `prev` plus exactly one contribution, or undefined when it is. */
export function extensionProblem(prev: ReturnType<typeof zkeyContributions>, next: ReturnType<typeof zkeyContributions>): string | undefined {
  if (prev.csHash !== next.csHash) return "it is a key for another circuit or phase-1 file (its circuit hash differs)";
  const k = prev.contributions.length;
  if (next.contributions.length !== k + 1)
    return `it holds ${next.contributions.length} contribution(s), but extending the previous key (${k}) gives ${k + 1}`;
  for (let i = 0; i < k; i++)
    if (!prev.contributions[i].record.equals(next.contributions[i].record))
      return `its contribution #${i + 1} is not the previous key's: it was made from another key, not the latest one of this ceremony`;
  return undefined;
}

// ---------------------------------------------------------------------------- snarkjs calls

interface Verification {
  ok: boolean;
  /** snarkjs's own reasons (it prints some with console.log, which would land on stdout). */
  reasons: string[];
  /** Contribution hashes snarkjs computed, by contribution number (1-based). */
  hashes: Map<number, string>;
  ms: number;
}

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex");

async function verifyZkey(label: string, run: (logger: SnarkjsLogger) => Promise<boolean>, progress: Progress): Promise<Verification> {
  const reasons: string[] = [];
  const hashes = new Map<number, string>();
  const hb = heartbeat(progress, label);
  const logger = snarkjsLogger(silent, "verify", (msg) => {
    hb.note(msg);
    const m = /^contribution #(\d+)[^\n]*:\n([\s0-9a-f]+)$/.exec(msg);
    if (m) hashes.set(Number(m[1]), m[2].replace(/\s+/g, ""));
  });
  const saved = console.log;
  console.log = (...a: unknown[]) => reasons.push(a.join(" ").trim());
  const start = performance.now();
  try {
    const ok = await run(logger);
    return { ok: ok === true && !logger.errors.length, reasons: [...reasons, ...logger.errors], hashes, ms: performance.now() - start };
  } finally {
    console.log = saved;
    hb.stop();
  }
}

const r1csOf = (dir: string, t: Transcript) => path.join(dir, t.circuit.r1cs);

/**
 * The phase-1 file the transcript names, found by content: the recorded path, --ptau, FLAVUM_PTAU,
 * FLAVUM_PTAU_DIR or the ptau cache. A verifier on another machine has it elsewhere, and a file of
 * the same name with other bytes must not pass.
 */
export async function locatePtau(t: Transcript, given?: string): Promise<string> {
  const candidates = [given, t.ptau.file, process.env.FLAVUM_PTAU];
  for (const d of [process.env.FLAVUM_PTAU_DIR, ptauCacheDir()])
    if (d && fs.existsSync(d)) for (const n of fs.readdirSync(d)) if (n.endsWith(".ptau")) candidates.push(path.join(d, n));
  for (const c of candidates) {
    if (!c || !fs.existsSync(c) || fs.statSync(c).size !== t.ptau.bytes) continue;
    if ((await blake2b512(c)) === t.ptau.blake2b) return path.resolve(c);
    if (c === given) break;
  }
  throw new FlavumError(
    `${given ? `${given} is not` : "cannot find"} the powers of tau this ceremony uses (${path.basename(t.ptau.file)}, 2^${t.ptau.power}, ` +
      `blake2b ${t.ptau.blake2b.slice(0, 16)}…)` +
      (t.ptau.hermezPower !== null ? `, the Hermez file for power ${t.ptau.hermezPower} (npx hardhat ptau:fetch --power ${t.ptau.hermezPower})` : "") +
      `; give it with --ptau <file>`,
    "PTAU_NOT_FOUND",
  );
}

// ------------------------------------------------------------------------------- the steps

export interface InitOptions {
  /** Phase-1 file; default: resolvePtau's order (FLAVUM_PTAU, FLAVUM_PTAU_DIR, cache, Hermez, dev). */
  ptau?: string;
  beacon?: PlannedBeacon;
  progress?: Progress;
}

export async function initCeremony(dir: string, opts: InitOptions = {}): Promise<{ transcript: Transcript; zkey: string; entry: ChainEntry }> {
  const log = opts.progress ?? silent;
  const { base, r1cs, keys } = circuitFiles(dir);
  const cdir = ceremonyDir(dir);
  if (fs.existsSync(path.join(cdir, TRANSCRIPT_FILE)))
    throw new FlavumError(
      `a ceremony is already under way in ${cdir}: continue it (ceremony:contribute / ceremony:import / ceremony:finalize) ` +
        `or delete that folder to start again`,
      "CEREMONY_EXISTS",
    );
  const info = readR1csInfo(r1cs);
  const power = powerFor(info.constraints, info.publicInputs + info.outputs);
  const ptau = await resolvePtau(power, { path: opts.ptau, progress: log });
  const blake2b = await blake2b512(ptau.file);
  const hermezPower = pinnedPower(blake2b);
  if (hermezPower === null)
    log(`warning: ${ptau.file} is not a pinned Hermez file: keys from this ceremony are refused on networks other than hardhat/localhost`);

  fs.mkdirSync(cdir, { recursive: true });
  const file = "0000_initial.zkey";
  const out = path.join(cdir, file);
  const tmp = `${out}.tmp-${process.pid}`;
  const hb = heartbeat(log, `ceremony: initial key of ${base}`);
  const logger = snarkjsLogger(log, "ceremony", hb.note);
  try {
    const r = await snarkjs.zKey.newZKey(r1cs, ptau.file, tmp, logger);
    if (r === -1 || logger.errors.length)
      throw new FlavumError(`newZKey(${r1cs}, ${ptau.file}) failed: ${logger.errors.join("; ") || "no reason given"}`, "SETUP_FAILED");
    fs.renameSync(tmp, out);
  } finally {
    hb.stop();
    fs.rmSync(tmp, { force: true });
  }
  const entry: ChainEntry = {
    index: 0, kind: "initial", name: "initial key (newZKey: no secret)", file,
    sha256: sha256File(out), bytes: fs.statSync(out).size, at: new Date().toISOString(),
  };
  const transcript: Transcript = {
    format: TRANSCRIPT_FORMAT,
    createdAt: entry.at,
    circuit: { base, sourceHash: keys.hash, r1cs: path.relative(dir, r1cs), r1csSha256: sha256File(r1cs), constraints: info.constraints },
    ptau: { file: ptau.file, power: ptau.power, bytes: fs.statSync(ptau.file).size, blake2b, hermezPower },
    plannedBeacon: opts.beacon,
    chain: [entry],
  };
  writeTranscript(dir, transcript);
  return { transcript, zkey: out, entry };
}

export interface Contribution {
  contributionHash: string;
  sha256: string;
  bytes: number;
  ms: number;
  /** Contributions in the new key. */
  index: number;
  /** Names of the contributions it extends, oldest first. */
  previous: string[];
}

/**
 * One participant's contribution: `inFile` → `outFile`. The entropy is fresh randomness that lives
 * only in this process (snarkjs mixes in its own too); nothing secret is written or printed.
 */
export async function contribute(inFile: string, outFile: string, name: string, opts: { progress?: Progress } = {}): Promise<Contribution> {
  const log = opts.progress ?? silent;
  if (!/^[\x20-\x7e]{1,64}$/.test(name))
    throw new FlavumError(`--name must be 1..64 printable ASCII characters (it is stored in the key), got "${name}"`, "BAD_INPUT");
  if (!fs.existsSync(inFile)) throw new FlavumError(`zkey ${inFile} does not exist`, "BAD_INPUT");
  const before = zkeyContributions(inFile);
  if (before.contributions.some((c) => c.type === 1))
    throw new FlavumError(`${inFile} already has its beacon: the ceremony is finalized and takes no more contributions`, "CEREMONY_FINALIZED");
  const out = path.resolve(outFile);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const hb = heartbeat(log, `ceremony: contribution of ${name}`);
  const logger = snarkjsLogger(silent, "ceremony", hb.note);
  const start = performance.now();
  try {
    const hash = await snarkjs.zKey.contribute(path.resolve(inFile), tmp, name, crypto.randomBytes(64).toString("hex"), logger);
    if (logger.errors.length) throw new FlavumError(`the contribution failed: ${logger.errors.join("; ")}`, "CONTRIBUTION_FAILED");
    fs.renameSync(tmp, out);
    return {
      contributionHash: hexOf(hash), sha256: sha256File(out), bytes: fs.statSync(out).size, ms: performance.now() - start,
      index: before.contributions.length + 1, previous: before.contributions.map((c) => c.name ?? "(unnamed)"),
    };
  } finally {
    hb.stop();
    fs.rmSync(tmp, { force: true });
  }
}

const slug = (name: string) => name.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 32) || "contribution";

/** Takes a participant's zkey into the chain after checking it extends the latest key and verifies. */
export async function importContribution(
  dir: string,
  zkeyFile: string,
  opts: { ptau?: string; progress?: Progress } = {},
): Promise<{ entry: ChainEntry; verifyMs: number }> {
  const log = opts.progress ?? silent;
  const t = readTranscript(dir);
  if (t.final) throw new FlavumError(`the ceremony in ${ceremonyDir(dir)} is finalized and takes no more contributions`, "CEREMONY_FINALIZED");
  if (!fs.existsSync(zkeyFile)) throw new FlavumError(`zkey ${zkeyFile} does not exist`, "BAD_INPUT");
  const sha256 = sha256File(zkeyFile);
  if (t.chain.some((e) => e.sha256 === sha256)) throw new FlavumError(`${zkeyFile} is already in the transcript`, "DUPLICATE_CONTRIBUTION");
  const last = t.chain[t.chain.length - 1];
  const next = zkeyContributions(zkeyFile);
  const problem = extensionProblem(zkeyContributions(path.join(ceremonyDir(dir), last.file)), next);
  if (problem)
    throw new FlavumError(`${zkeyFile} does not extend the ceremony's latest key (${last.file}, "${last.name}"): ${problem}`, "NOT_AN_EXTENSION");
  const mine = next.contributions[next.contributions.length - 1];
  if (mine.type !== 0) throw new FlavumError(`${zkeyFile} ends with a beacon; the beacon is applied by ceremony:finalize`, "NOT_AN_EXTENSION");

  const ptau = await locatePtau(t, opts.ptau);
  const v = await verifyZkey(`ceremony: verifying ${path.basename(zkeyFile)}`, (l) => snarkjs.zKey.verifyFromR1cs(r1csOf(dir, t), ptau, zkeyFile, l), log);
  if (!v.ok)
    throw new FlavumError(`${zkeyFile} does not verify against ${t.circuit.r1cs} and the ptau: ${v.reasons.join("; ") || "snarkjs gave no reason"}`, "BAD_CONTRIBUTION");
  const index = next.contributions.length;
  const file = `${String(index).padStart(4, "0")}_${slug(mine.name ?? "contribution")}.zkey`;
  fs.copyFileSync(zkeyFile, path.join(ceremonyDir(dir), file));
  const entry: ChainEntry = {
    index, kind: "contribution", name: mine.name ?? "", contributionHash: v.hashes.get(index), file, sha256,
    bytes: fs.statSync(zkeyFile).size, at: new Date().toISOString(),
  };
  t.chain.push(entry);
  writeTranscript(dir, t);
  return { entry, verifyMs: v.ms };
}

/** contribute + import in the ceremony folder itself, for a participant who has the build folder. */
export async function contributeInFolder(dir: string, name: string, opts: { ptau?: string; progress?: Progress } = {}) {
  const tmp = path.join(ceremonyDir(dir), `incoming-${process.pid}.zkey`);
  try {
    const c = await contribute(latestZkey(dir), tmp, name, opts);
    const imported = await importContribution(dir, tmp, opts);
    return { ...c, entry: imported.entry, verifyMs: imported.verifyMs };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The beacon value a block gives: its hash, usable once the block exists. */
export interface BlockSource {
  network: string;
  chainId: string;
  head(): Promise<number>;
  block(n: number): Promise<{ hash: string; timestamp: number } | undefined>;
}

/**
 * The beacon from block `n`. A block that does not exist yet is refused with how long to wait; an
 * unannounced block must have been mined after the last contribution, or the last contributor could
 * have known (and aimed at) its hash.
 */
export function checkAnnouncedBlock(t: Transcript, chainId: string, n: number): void {
  const planned = t.plannedBeacon;
  if (planned && (planned.block !== n || planned.chainId !== chainId))
    throw new FlavumError(
      `this ceremony announced block ${planned.block} of ${planned.network} (chain id ${planned.chainId}) as its beacon; ` +
        `finalize with --beacon-block ${planned.block} --network ${planned.network}`,
      "WRONG_BEACON",
    );
}

export async function beaconFromBlock(t: Transcript, chain: BlockSource, n: number, iterationsExp = DEFAULT_ITERATIONS_EXP): Promise<BeaconRecord> {
  const planned = t.plannedBeacon;
  checkAnnouncedBlock(t, chain.chainId, n);
  const head = await chain.head();
  const b = n <= head ? await chain.block(n) : undefined;
  if (!b)
    throw new FlavumError(
      `block ${n} of ${chain.network} does not exist yet (the chain is at block ${head}): wait for ${n - head} more block(s) and finalize again`,
      "BEACON_NOT_YET",
    );
  const lastAt = Date.parse(t.chain[t.chain.length - 1].at) / 1000;
  if (!planned && b.timestamp <= lastAt)
    throw new FlavumError(
      `block ${n} was mined before the last contribution was recorded, so its hash was known to the participants; ` +
        `use a block mined after ${t.chain[t.chain.length - 1].at} (the chain is at ${head}), or announce the beacon at ceremony:init`,
      "BEACON_TOO_EARLY",
    );
  return {
    kind: "block", value: b.hash.replace(/^0x/, "").toLowerCase(), iterationsExp, network: chain.network, chainId: chain.chainId,
    block: n, blockTime: new Date(b.timestamp * 1000).toISOString(), announced: !!planned,
  };
}

export function beaconFromValue(t: Transcript, hex: string, iterationsExp = DEFAULT_ITERATIONS_EXP): BeaconRecord {
  if (t.plannedBeacon)
    throw new FlavumError(`this ceremony announced block ${t.plannedBeacon.block} of ${t.plannedBeacon.network} as its beacon; use --beacon-block ${t.plannedBeacon.block}`, "WRONG_BEACON");
  const value = hex.replace(/^0x/, "").toLowerCase();
  if (!/^([0-9a-f]{2}){1,255}$/.test(value)) throw new FlavumError(`--beacon must be 1..255 bytes of hex, got "${hex}"`, "BAD_INPUT");
  return { kind: "value", value, iterationsExp, announced: false };
}

export interface FinalizeOptions {
  ptau?: string;
  /** The Solidity verifier to regenerate; null: none (a circuit with no contract). */
  verifier?: VerifierTarget | null;
  progress?: Progress;
}

export interface Finalized {
  contributors: number;
  zkey: string;
  vkHash: string;
  beaconMs: number;
  verifyMs: number;
  replaced?: string;
  verifierWritten: boolean;
}

export async function finalizeCeremony(dir: string, beacon: BeaconRecord, opts: FinalizeOptions = {}): Promise<Finalized> {
  const log = opts.progress ?? silent;
  const t = readTranscript(dir);
  if (t.final) throw new FlavumError(`the ceremony in ${ceremonyDir(dir)} is already finalized`, "CEREMONY_FINALIZED");
  const contributors = t.chain.filter((e) => e.kind === "contribution").length;
  if (!contributors)
    throw new FlavumError(`the ceremony in ${ceremonyDir(dir)} has no contribution yet: a beacon alone is public, so the key would have no secret`, "NO_CONTRIBUTIONS");
  if (!(Number.isInteger(beacon.iterationsExp) && beacon.iterationsExp >= 10 && beacon.iterationsExp <= 63))
    throw new FlavumError(`--iterations-exp must be 10..63, got ${beacon.iterationsExp}`, "BAD_INPUT");
  const ptau = await locatePtau(t, opts.ptau);
  const cdir = ceremonyDir(dir);
  const index = t.chain.length;
  const file = `${String(index).padStart(4, "0")}_beacon.zkey`;
  const out = path.join(cdir, file);
  const tmp = `${out}.tmp-${process.pid}`;
  const hb = heartbeat(log, "ceremony: beacon");
  const logger = snarkjsLogger(silent, "ceremony", hb.note);
  let beaconMs: number;
  try {
    const start = performance.now();
    const hash = await snarkjs.zKey.beacon(latestZkey(dir), tmp, "beacon", beacon.value, beacon.iterationsExp, logger);
    beaconMs = performance.now() - start;
    if (hash === false || logger.errors.length) throw new FlavumError(`the beacon failed: ${logger.errors.join("; ")}`, "BAD_INPUT");
    hb.stop();
    const v = await verifyZkey("ceremony: verifying the final key", (l) => snarkjs.zKey.verifyFromR1cs(r1csOf(dir, t), ptau, tmp, l), log);
    if (!v.ok) throw new FlavumError(`the final key does not verify: ${v.reasons.join("; ") || "snarkjs gave no reason"}`, "BAD_CONTRIBUTION");
    for (const e of t.chain)
      if (e.kind === "contribution" && v.hashes.get(e.index) !== e.contributionHash)
        throw new FlavumError(`the final key's contribution #${e.index} is not the one the transcript records for "${e.name}"`, "BAD_TRANSCRIPT");
    fs.renameSync(tmp, out);
    const entry: ChainEntry = {
      index, kind: "beacon", name: "beacon", contributionHash: v.hashes.get(index), file,
      sha256: sha256File(out), bytes: fs.statSync(out).size, at: new Date().toISOString(),
    };

    // The single-party key is kept, not deleted: proofs already made with it still need it.
    const zkey = path.join(dir, "circuit.zkey");
    const vkeyFile = path.join(dir, VKEY_FILE);
    let replaced: string | undefined;
    if (fs.existsSync(zkey)) {
      const aside = path.join(cdir, "replaced");
      fs.mkdirSync(aside, { recursive: true });
      fs.copyFileSync(zkey, path.join(aside, "circuit.zkey"));
      if (fs.existsSync(vkeyFile)) fs.copyFileSync(vkeyFile, path.join(aside, VKEY_FILE));
      replaced = path.relative(cdir, aside);
    }
    const zkeyTmp = `${zkey}.tmp-${process.pid}`;
    fs.copyFileSync(out, zkeyTmp);
    fs.renameSync(zkeyTmp, zkey);
    const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
    writeAtomically(vkeyFile, JSON.stringify(vkey, null, 1));
    const vk = vkHash(vkey);

    t.chain.push(entry);
    t.beacon = beacon;
    t.final = { zkeySha256: entry.sha256, vkHash: vk, at: entry.at, replaced };
    writeTranscript(dir, t);

    const keysFile = path.join(dir, "keys.json");
    const keys = JSON.parse(fs.readFileSync(keysFile, "utf8")) as CircuitKeys;
    const setup: SetupRecord = {
      kind: "ceremony", contributors,
      beacon: { kind: beacon.kind, value: beacon.value, block: beacon.block, network: beacon.network, iterationsExp: beacon.iterationsExp },
      transcript: { file: path.join(CEREMONY_DIR, TRANSCRIPT_FILE), sha256: sha256File(path.join(cdir, TRANSCRIPT_FILE)) },
      vkHash: vk, finalZkeySha256: entry.sha256,
    };
    const updated: CircuitKeys = {
      ...keys, vkHash: vk, setup,
      ptau: { power: t.ptau.power, source: "ceremony", file: t.ptau.file, blake2b: t.ptau.blake2b },
    };
    writeAtomically(keysFile, JSON.stringify(updated, null, 2));

    let verifierWritten = false;
    if (opts.verifier)
      verifierWritten = await exportVerifier(zkey, opts.verifier.contract, opts.verifier.file, opts.verifier.source, opts.verifier.regenerate);
    if (contributors < 2) log(`warning: only ${contributors} contributor: this key is refused on networks other than hardhat/localhost`);
    return { contributors, zkey, vkHash: vk, beaconMs, verifyMs: v.ms, replaced, verifierWritten };
  } finally {
    hb.stop();
    fs.rmSync(tmp, { force: true });
  }
}

export interface CeremonyReport {
  ok: boolean;
  problems: string[];
  contributors: number;
  finalized: boolean;
  chain: { index: number; kind: string; name: string; contributionHash?: string; ok: boolean }[];
  ms: number;
}

/**
 * Re-checks a transcript from scratch: the r1cs and ptau are the ones recorded, every zkey has its
 * recorded hash, extends the one before, and verifies against the r1cs and the ptau (snarkjs's
 * verifyFromInit against an initial key regenerated here, which is what verifyFromR1cs does, once
 * instead of per key), its contribution hash is the recorded one, and a finalized ceremony's key
 * is the one installed. Collects every problem rather than stopping at the first.
 */
export async function verifyCeremony(
  dir: string,
  opts: { ptau?: string; progress?: Progress; chain?: BlockSource } = {},
): Promise<CeremonyReport> {
  const log = opts.progress ?? silent;
  const start = performance.now();
  const t = readTranscript(dir);
  const cdir = ceremonyDir(dir);
  const problems: string[] = [];
  const rows = t.chain.map((e) => ({ index: e.index, kind: e.kind, name: e.name, contributionHash: e.contributionHash, ok: true }));
  const fail = (i: number | undefined, msg: string) => {
    problems.push(msg);
    if (i !== undefined && rows[i]) rows[i].ok = false;
  };
  const report = (): CeremonyReport => ({
    ok: !problems.length, problems, contributors: t.chain.filter((e) => e.kind === "contribution").length,
    finalized: !!t.final, chain: rows, ms: performance.now() - start,
  });

  const r1cs = r1csOf(dir, t);
  if (!fs.existsSync(r1cs)) fail(undefined, `${t.circuit.r1cs} is missing`);
  else if (sha256File(r1cs) !== t.circuit.r1csSha256) fail(undefined, `${t.circuit.r1cs} is not the constraint system the ceremony was run for (its sha256 differs)`);
  if (t.ptau.hermezPower !== pinnedPower(t.ptau.blake2b))
    fail(undefined, `the transcript says its ptau is ${t.ptau.hermezPower === null ? "not " : ""}a pinned Hermez file, but its blake2b says otherwise`);
  let ptau: string | undefined;
  try {
    ptau = await locatePtau(t, opts.ptau);
  } catch (e) {
    fail(undefined, (e as Error).message);
  }
  if (problems.length) return report();

  const init = path.join(cdir, `.verify-init-${process.pid}.zkey`);
  try {
    const logger = snarkjsLogger(silent);
    await snarkjs.zKey.newZKey(r1cs, ptau!, init, logger);
    let prev: ReturnType<typeof zkeyContributions> | undefined;
    for (const [i, e] of t.chain.entries()) {
      const label = `#${e.index} ${e.kind === "initial" ? "initial key" : `"${e.name}"`} (${e.file})`;
      const file = path.join(cdir, e.file);
      if (!fs.existsSync(file)) {
        fail(i, `${label}: the zkey is missing`);
        prev = undefined;
        continue;
      }
      if (sha256File(file) !== e.sha256) fail(i, `${label}: the zkey's sha256 is not the recorded one (the file was replaced or damaged)`);
      let mpc: ReturnType<typeof zkeyContributions>;
      try {
        mpc = zkeyContributions(file);
      } catch (err) {
        fail(i, `${label}: ${(err as Error).message}`);
        prev = undefined;
        continue;
      }
      if (i === 0) {
        if (mpc.contributions.length) fail(i, `${label}: the initial key already holds contributions`);
        else if (sha256File(init) !== e.sha256) fail(i, `${label}: it is not the key newZKey gives for this r1cs and ptau`);
      } else {
        const why = prev ? extensionProblem(prev, mpc) : undefined;
        if (why) fail(i, `${label} does not extend #${t.chain[i - 1].index}: ${why}`);
        const last = mpc.contributions[mpc.contributions.length - 1];
        if (last && (last.name ?? "") !== e.name) fail(i, `${label}: the key names its contributor "${last.name ?? ""}"`);
        if (last && (last.type === 1) !== (e.kind === "beacon")) fail(i, `${label}: recorded as a ${e.kind}, but the key holds a ${last.type === 1 ? "beacon" : "contribution"}`);
        const v = await verifyZkey(`ceremony: verifying ${e.file}`, (l) => snarkjs.zKey.verifyFromInit(init, ptau!, file, l), log);
        if (!v.ok) fail(i, `${label} does not verify against the r1cs and the ptau: ${v.reasons.join("; ") || "snarkjs gave no reason"}`);
        else if (v.hashes.get(e.index) !== e.contributionHash)
          fail(i, `${label}: its contribution hash is ${v.hashes.get(e.index)?.slice(0, 16)}…, the transcript records ${e.contributionHash?.slice(0, 16)}…`);
        if (e.kind === "beacon" && last && t.beacon && (last.beaconHash !== t.beacon.value || last.iterationsExp !== t.beacon.iterationsExp))
          fail(i, `${label}: the key's beacon is not the recorded one (${t.beacon.value.slice(0, 16)}…, 2^${t.beacon.iterationsExp} iterations)`);
      }
      prev = mpc;
    }
  } finally {
    fs.rmSync(init, { force: true });
  }

  if (t.final) {
    const last = t.chain[t.chain.length - 1];
    if (last.kind !== "beacon" || !t.beacon) fail(undefined, "the transcript is marked final but does not end with a beacon");
    const zkey = path.join(dir, "circuit.zkey");
    if (!fs.existsSync(zkey) || sha256File(zkey) !== t.final.zkeySha256) fail(undefined, "circuit.zkey is not the ceremony's final key");
    const vkeyFile = path.join(dir, VKEY_FILE);
    if (!fs.existsSync(vkeyFile) || vkHash(vkeyFile) !== t.final.vkHash) fail(undefined, `${VKEY_FILE} is not the final key's verifying key`);
    try {
      const setup = (JSON.parse(fs.readFileSync(path.join(dir, "keys.json"), "utf8")) as CircuitKeys).setup;
      if (setup?.kind !== "ceremony" || setup.transcript.sha256 !== sha256File(path.join(cdir, TRANSCRIPT_FILE)) || setup.vkHash !== t.final.vkHash)
        fail(undefined, "keys.json does not record this transcript as the key's setup (the transcript was edited after finalize, or keys.json was)");
    } catch {
      fail(undefined, "keys.json is missing or unreadable");
    }
    if (t.beacon?.kind === "block" && opts.chain && opts.chain.chainId === t.beacon.chainId) {
      const b = await opts.chain.block(t.beacon.block!);
      if (!b || b.hash.replace(/^0x/, "").toLowerCase() !== t.beacon.value) fail(undefined, `the beacon is not the hash of block ${t.beacon.block} of ${t.beacon.network}`);
    }
  } else log(`the ceremony is not finalized yet (${rows.length - 1} contribution(s) so far)`);
  return report();
}
