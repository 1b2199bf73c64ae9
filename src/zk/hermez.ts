import fs from "fs";
import path from "path";
import { createHash } from "crypto";
import { FlavumError } from "../errors";
import { formatSeconds, Progress, silent } from "./log";

/**
 * blake2b-512 of the public Hermez (Polygon zkEVM) ceremony files powersOfTau28_hez_final_NN.ptau,
 * as published in the table of snarkjs's README (snarkjs 0.7.6, node_modules/snarkjs/README.md).
 * Powers above 20 are left out on purpose: those files are gigabytes, and a circuit that large should
 * be given its ptau explicitly (FLAVUM_PTAU) rather than downloaded behind the user's back.
 */
export const HERMEZ_BLAKE2B: Readonly<Record<number, string>> = {
  8: "d6a8fb3a04feb600096c3b791f936a578c4e664d262e4aa24beed1b7a9a96aa5eb72864d628db247e9293384b74b36ffb52ca8d148d6e1b8b51e279fdf57b583",
  9: "94f108a80e81b5d932d8e8c9e8fd7f46cf32457e31462deeeef37af1b71c2c1b3c71fb0d9b59c654ec266b042735f50311f9fd1d4cadce47ab234ad163157cb5",
  10: "6cfeb8cda92453099d20120bdd0e8a5c4e7706c2da9a8f09ccc157ed2464d921fd0437fb70db42104769efd7d6f3c1f964bcf448c455eab6f6c7d863e88a5849",
  11: "47c282116b892e5ac92ca238578006e31a47e7c7e70f0baa8b687f0a5203e28ea07bbbec765a98dcd654bad618475d4661bfaec3bd9ad2ed12e7abc251d94d33",
  12: "ded2694169b7b08e898f736d5de95af87c3f1a64594013351b1a796dbee393bd825f88f9468c84505ddd11eb0b1465ac9b43b9064aa8ec97f2b73e04758b8a4a",
  13: "58efc8bf2834d04768a3d7ffcd8e1e23d461561729beaac4e3e7a47829a1c9066d5320241e124a1a8e8aa6c75be0ba66f65bc8239a0542ed38e11276f6fdb4d9",
  14: "eeefbcf7c3803b523c94112023c7ff89558f9b8e0cf5d6cdcba3ade60f168af4a181c9c21774b94fbae6c90411995f7d854d02ebd93fb66043dbb06f17a831c1",
  15: "982372c867d229c236091f767e703253249a9b432c1710b4f326306bfa2428a17b06240359606cfe4d580b10a5a1f63fbed499527069c18ae17060472969ae6e",
  16: "6a6277a2f74e1073601b4f9fed6e1e55226917efb0f0db8a07d98ab01df1ccf43eb0e8c3159432acd4960e2f29fe84a4198501fa54c8dad9e43297453efec125",
  17: "6247a3433948b35fbfae414fa5a9355bfb45f56efa7ab4929e669264a0258976741dfbe3288bfb49828e5df02c2e633df38d2245e30162ae7e3bcca5b8b49345",
  18: "7e6a9c2e5f05179ddfc923f38f917c9e6831d16922a902b0b4758b8e79c2ab8a81bb5f29952e16ee6c5067ed044d7857b5de120a90704c1d3b637fd94b95b13e",
  19: "bca9d8b04242f175189872c42ceaa21e2951e0f0f272a0cc54fc37193ff6648600eaf1c555c70cdedfaf9fb74927de7aa1d33dc1e2a7f1a50619484989da0887",
  20: "89a66eb5590a1c94e3f1ee0e72acf49b1669e050bb5f93c73b066b564dca4e0c7556a52b323178269d64af325d8fdddb33da3a27c34409b821de82aa2bf1a27b",
};

export const HERMEZ_MIN_POWER = 8;
export const HERMEZ_MAX_POWER = 20;

export function hermezFileName(power: number): string {
  return `powersOfTau28_hez_final_${String(power).padStart(2, "0")}.ptau`;
}

export function hermezUrl(power: number): string {
  return `https://storage.googleapis.com/zkevm/ptau/${hermezFileName(power)}`;
}

/** Hashes a file the way the published table does, streaming so a 1 GB file costs no memory. */
export async function blake2b512(file: string): Promise<string> {
  const h = createHash("blake2b512");
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

export interface DownloadOptions {
  progress?: Progress;
  /** Until the server answers; kept short so an offline machine falls through in seconds. */
  connectTimeoutMs?: number;
  /** Longest silence mid-transfer before giving up on a stalled connection. */
  idleTimeoutMs?: number;
  /** Another mirror of the same file (the hash check still applies); tests point it at a local server. */
  url?: string;
  /**
   * Replaces the pinned hash. Only for tests, which cannot hold the real Hermez bytes offline; the
   * command line does not offer it, since a user-given hash would defeat the pinning.
   */
  expectedBlake2b?: string;
}

/**
 * Downloads the Hermez file for `power` into `dir`, checking its blake2b-512 before it gets its final
 * name, so a cache never holds a partial or forged file. One attempt, no retries: the caller falls
 * through to the next source, and a retry loop would only make an offline run hang.
 */
export async function downloadHermez(power: number, dir: string, opts: DownloadOptions = {}): Promise<string> {
  const expected = opts.expectedBlake2b ?? HERMEZ_BLAKE2B[power];
  if (!expected) {
    throw new Error(`no published hash for Hermez power ${power} (known: ${HERMEZ_MIN_POWER}..${HERMEZ_MAX_POWER})`);
  }
  const log = opts.progress ?? silent;
  const url = opts.url ?? hermezUrl(power);
  const final = path.join(dir, hermezFileName(power));
  const part = `${final}.part-${process.pid}`;
  fs.mkdirSync(dir, { recursive: true });

  const controller = new AbortController();
  const arm = (ms: number, why: string) => setTimeout(() => controller.abort(new Error(why)), ms);
  const connectMs = opts.connectTimeoutMs ?? 5000;
  let timer = arm(connectMs, `no answer from ${new URL(url).host} within ${connectMs / 1000} s`);
  const start = performance.now();
  log(`downloading ${url}`);
  try {
    const res = await fetch(url, { signal: controller.signal });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText} for ${url}`);
    const total = Number(res.headers.get("content-length") ?? 0);
    const idleMs = opts.idleTimeoutMs ?? 30_000;
    const out = fs.createWriteStream(part);
    let got = 0;
    let nextReport = 0.1;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        clearTimeout(timer);
        timer = arm(idleMs, `download of ${url} stalled for ${idleMs / 1000} s`);
        got += chunk.length;
        if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
        if (total && got / total >= nextReport) {
          log(`  ${Math.floor((got / total) * 100)}% of ${(total / 2 ** 20).toFixed(0)} MiB`);
          nextReport += 0.1;
        }
      }
    } finally {
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
    clearTimeout(timer);
    const actual = await blake2b512(part);
    if (actual !== expected) {
      throw new Error(
        `${url} does not match the ${opts.expectedBlake2b ? "expected blake2b-512" : "blake2b-512 published in snarkjs's README"} (got ${actual.slice(0, 16)}…, ` +
          `expected ${expected.slice(0, 16)}…); the file was discarded`,
      );
    }
    fs.renameSync(part, final);
    log(`downloaded and verified ${hermezFileName(power)} in ${formatSeconds(performance.now() - start)}`);
    return final;
  } catch (err) {
    // fetch hides the useful part ("getaddrinfo ENOTFOUND …") in err.cause.
    const reason = controller.signal.aborted ? controller.signal.reason : err;
    const cause = (reason as { cause?: Error })?.cause;
    const why = [(reason as Error)?.message ?? String(reason), cause?.message].filter(Boolean).join(": ");
    throw new Error(`cannot download ${url}: ${why}`);
  } finally {
    clearTimeout(timer);
    fs.rmSync(part, { force: true });
  }
}

export interface FetchResult {
  file: string;
  /** false when a verified copy was already there. */
  downloaded: boolean;
}

/**
 * `ptau:fetch`: the Hermez file for `power` in `dir`, verified. A file already there is hashed
 * first and kept if it matches, so re-running costs a hash, not a download. Failures become a
 * FlavumError (one line, exit 1): offline is an expected condition here, not a bug.
 */
export async function fetchHermez(power: number, dir: string, opts: DownloadOptions = {}): Promise<FetchResult> {
  if (!Number.isInteger(power) || (!opts.expectedBlake2b && !HERMEZ_BLAKE2B[power])) {
    throw new FlavumError(
      `--power must be an integer in ${HERMEZ_MIN_POWER}..${HERMEZ_MAX_POWER}, the Hermez files with a pinned hash ` +
        `(got ${power}); a file of power ${HERMEZ_MIN_POWER} also serves every smaller circuit, and larger ones ` +
        `are given explicitly with FLAVUM_PTAU`,
      "BAD_PTAU_POWER",
    );
  }
  const log = opts.progress ?? silent;
  const expected = opts.expectedBlake2b ?? HERMEZ_BLAKE2B[power];
  const file = path.join(dir, hermezFileName(power));
  if (fs.existsSync(file)) {
    const actual = await blake2b512(file);
    if (actual === expected) {
      log(`${file} is already there and matches the pinned blake2b-512; not downloading it again`);
      return { file, downloaded: false };
    }
    log(`${file} does not match the pinned blake2b-512 (got ${actual.slice(0, 16)}…); downloading it again`);
  }
  try {
    return { file: await downloadHermez(power, dir, opts), downloaded: true };
  } catch (err) {
    throw new FlavumError(
      `${(err as Error).message}. Where the network is closed, give a file with FLAVUM_PTAU or FLAVUM_PTAU_DIR ` +
        `(or let model:compile run a development-only ceremony)`,
      "PTAU_DOWNLOAD",
    );
  }
}
