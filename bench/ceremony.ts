/**
 * Ceremony figures for the batch circuit of logreg_cancer at B = 16: a real 2-contributor phase 2
 * (src/zk/ceremony.ts) on a copy of the batch build folder under build/bench/ceremony/, so the
 * benchmark never replaces the keys (or the verifier contract) of the real build. Reported: seconds
 * per contribution, per contribution's verification (verifyFromR1cs: a fresh initial key plus the
 * check), for the beacon, for re-verifying the whole transcript, and the bytes a verifier downloads.
 */
import crypto from "crypto";
import fs from "fs";
import path from "path";
import { loadModel, modelDir } from "../src/model/artifacts";
import { buildBatchCircuit } from "../src/rollup/batchBuild";
import {
  beaconFromValue, ceremonyDir, contribute, finalizeCeremony, importContribution, initCeremony, latestZkey,
  readTranscript, TRANSCRIPT_FILE, verifyCeremony,
} from "../src/zk/ceremony";
import { benchDir, BenchOptions, errorMessage, progress, scoped } from "./common";
import { ptauFile } from "./rollup";

export const CEREMONY_MODEL = "logreg_cancer";
export const CEREMONY_BATCH = 16;
const CONTRIBUTORS = 2;

export interface CeremonySummary {
  model: string;
  batchSize: number;
  /** "batch": the B = 16 batch circuit; "model": its single-inference circuit (fallback). */
  circuit: "batch" | "model";
  constraints?: number;
  power?: number;
  ptau?: string;
  contributors: number;
  initSeconds?: number;
  contributionSeconds: number[];
  verificationSeconds: number[];
  beaconSeconds?: number;
  /** verifyFromR1cs of the final key, inside finalize. */
  finalVerifySeconds?: number;
  /** ceremony:verify: every key of the chain, from one regenerated initial key. */
  transcriptVerifySeconds?: number;
  /** All zkeys of the chain plus transcript.json: what anyone re-checking the ceremony fetches. */
  transcriptBytes?: number;
  finalZkeyBytes?: number;
  verified?: boolean;
  error?: string;
  notes: string[];
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

function copyBuild(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  for (const f of ["circuit", "circuit.zkey", "verification_key.json", "keys.json"]) fs.cpSync(path.join(from, f), path.join(to, f), { recursive: true });
}

export async function benchCeremony(opts: BenchOptions): Promise<CeremonySummary> {
  const log = scoped("ceremony");
  const s: CeremonySummary = { model: CEREMONY_MODEL, batchSize: CEREMONY_BATCH, circuit: "batch", contributors: CONTRIBUTORS, contributionSeconds: [], verificationSeconds: [], notes: [] };
  const ptau = ptauFile(opts.maxPower);
  if (!ptau) {
    s.error = "no prepared powers of tau found (FLAVUM_PTAU / FLAVUM_PTAU_DIR)";
    return s;
  }
  s.ptau = ptau.file;
  let source: string;
  try {
    const build = await buildBatchCircuit(loadModel(CEREMONY_MODEL), CEREMONY_BATCH, log, ptau.file);
    source = build.dir;
  } catch (e) {
    // The batch generator changes under development; the model circuit still gives the figures' shape.
    s.circuit = "model";
    s.notes.push(`batch circuit not built (${errorMessage(e)}); measured on the single-inference circuit instead`);
    source = modelDir(CEREMONY_MODEL);
  }
  const dir = path.join(benchDir("ceremony"), path.basename(source));
  copyBuild(source, dir);
  try {
    let t0 = performance.now();
    const init = await initCeremony(dir, { ptau: ptau.file, progress: log });
    s.initSeconds = secs(performance.now() - t0);
    s.constraints = init.transcript.circuit.constraints;
    s.power = init.transcript.ptau.power;
    const exchange = benchDir("ceremony", "exchange");
    for (let i = 1; i <= CONTRIBUTORS; i++) {
      const out = path.join(exchange, `contribution${i}.zkey`);
      const c = await contribute(latestZkey(dir), out, `bench contributor ${i}`, { progress: log });
      s.contributionSeconds.push(secs(c.ms));
      const imported = await importContribution(dir, out, { ptau: ptau.file, progress: log });
      s.verificationSeconds.push(secs(imported.verifyMs));
      fs.rmSync(out, { force: true });
      log(`contribution ${i}: ${secs(c.ms)} s, verification ${secs(imported.verifyMs)} s`);
    }
    // A bench has no future block to wait for; a fixed value exercises the same snarkjs beacon.
    const beacon = beaconFromValue(readTranscript(dir), crypto.createHash("sha256").update("flavum bench beacon").digest("hex"));
    const f = await finalizeCeremony(dir, beacon, {
      ptau: ptau.file, progress: log,
      verifier: { contract: "BenchCeremonyVerifier", file: path.join(benchDir("ceremony"), "BenchCeremonyVerifier.sol"), source: "bench", regenerate: "npm run bench" },
    });
    s.beaconSeconds = secs(f.beaconMs);
    s.finalVerifySeconds = secs(f.verifyMs);
    t0 = performance.now();
    const r = await verifyCeremony(dir, { ptau: ptau.file, progress: log });
    s.transcriptVerifySeconds = secs(performance.now() - t0);
    s.verified = r.ok;
    if (!r.ok) s.error = `ceremony:verify failed: ${r.problems.join("; ")}`;
    const t = readTranscript(dir);
    s.transcriptBytes = t.chain.reduce((n, e) => n + e.bytes, 0) + fs.statSync(path.join(ceremonyDir(dir), TRANSCRIPT_FILE)).size;
    s.finalZkeyBytes = t.chain[t.chain.length - 1].bytes;
    s.notes.push(
      `${CONTRIBUTORS} contributors on one machine (2 shared cores); verification = verifyFromR1cs per imported key (it regenerates the initial key, ` +
        `then checks the chain and every section); transcript = the ${t.chain.length} zkeys of the chain + transcript.json`,
    );
  } catch (e) {
    s.error = errorMessage(e);
  }
  progress(`ceremony: ${s.error ? `failed: ${s.error}` : "done"}`);
  return s;
}

const mb = (b?: number) => (b === undefined ? "—" : `${(b / 2 ** 20).toFixed(1)} MB`);
const list = (xs: number[]) => (xs.length ? xs.map((x) => x.toFixed(1)).join(" / ") : "—");
const mean = (xs: number[]) => (xs.length ? (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1) : "—");

export function formatCeremony(c: CeremonySummary, out: string[]): void {
  out.push(
    "",
    `Ceremony: ${c.model} ${c.circuit === "batch" ? `batch circuit B = ${c.batchSize}` : "single-inference circuit"}` +
      (c.constraints !== undefined ? `, ${c.constraints.toLocaleString("en-US")} constraints, ptau 2^${c.power}` : "") +
      `, ${c.contributors} contributors + beacon`,
  );
  if (c.error && c.initSeconds === undefined) {
    out.push(`  not measured: ${c.error}`);
    return;
  }
  out.push(
    `  seconds per contribution  ${mean(c.contributionSeconds)} (${list(c.contributionSeconds)})`,
    `  seconds per verification  ${mean(c.verificationSeconds)} (${list(c.verificationSeconds)}; final key ${c.finalVerifySeconds ?? "—"})`,
    `  init ${c.initSeconds ?? "—"} s, beacon ${c.beaconSeconds ?? "—"} s, whole transcript re-verified in ${c.transcriptVerifySeconds ?? "—"} s (${c.verified ? "OK" : "NOT OK"})`,
    `  transcript size           ${mb(c.transcriptBytes)} (final zkey ${mb(c.finalZkeyBytes)})`,
  );
  if (c.error) out.push(`  error: ${c.error}`);
  out.push(...c.notes.map((n) => `  note: ${n}`));
}
