import crypto from "crypto";
import fs from "fs";
import path from "path";
import { ceremonyEstimate } from "./estimate";
import { heartbeat, Progress, silent, snarkjsLogger, Stage, timed } from "./log";
import { pidAlive } from "./pid";
import { snarkjs } from "./snarkjs";

export function devPtauName(power: number): string {
  return `dev_pot${String(power).padStart(2, "0")}_final.ptau`;
}

const WARNING = [
  "************************************************************************",
  "*  DEVELOPMENT-ONLY powers of tau: a one-contributor local ceremony.   *",
  "*  Whoever can read this machine's memory could forge proofs for any   *",
  "*  circuit set up with it. Never deploy a verifier built on it; use    *",
  "*  the public Hermez file (FLAVUM_PTAU) or a real multi-party ceremony.*",
  "************************************************************************",
];

/**
 * The ceremony's parts, in order, by the lines snarkjs logs in each. Preparing phase 2 is ~95% of
 * the time, so its four sections are told apart, and within one the size of the Lagrange transform
 * it runs (2^0 … 2^power, each twice the cost of the last) tells how far it is.
 */
export function ceremonyStages(power: number): Stage[] {
  // tauG1 holds 2^(power+1) points, the other sections 2^power.
  const prepare = (section: string, last = power, first = false): Stage => ({
    name: `prepare phase 2, ${section}`,
    match: new RegExp(`${first ? "^prepare phase 2$|" : ""}Starting section: ${section}$`),
    detail: (msg) => {
      const bits = /: fft\s+(\d+)/.exec(msg)?.[1];
      return bits === undefined ? undefined : `transform 2^${bits} of 2^${last}`;
    },
  });
  return [
    { name: "new accumulator", match: /^new accumulator$|^(tauG1|tauG2|alphaTauG1|betaTauG1): \d+$|First Challenge Hash/ },
    { name: "contribution", match: /^contribution$|^processing: |^Hashing / },
    prepare("tauG1", power + 1, true),
    prepare("tauG2"),
    prepare("alphaTauG1"),
    prepare("betaTauG1"),
  ];
}

/**
 * Deletes working files of ceremonies whose process died (killed, or interrupted by a plain Ctrl-C
 * that ran no handler): nothing else would ever remove them, and at 2^16 they are hundreds of MB.
 */
function removeStaleWorkFiles(dir: string, log: Progress): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(/^\.dev_pot\d+_(?:0|1|final)-(\d+)-[0-9a-f]+\.ptau$/.exec(n)?.[1]);
    if (!pid || pid === process.pid || pidAlive(pid)) continue;
    fs.rmSync(path.join(dir, n), { force: true });
    log(`ptau: removed ${path.join(dir, n)}, left by ceremony process ${pid}, which is no longer running`);
  }
}

/**
 * Runs a one-contributor powers-of-tau ceremony of 2^power and prepares it for phase 2, writing
 * `dev_potNN_final.ptau` into `dir`. It is the last resort when no file is given, cached or
 * downloadable: it keeps tests and demos working offline, at the cost of soundness against whoever
 * ran it. Time grows 2-2.5x per power (src/zk/estimate.ts), so the expected duration is announced and
 * a heartbeat line names the stage reached.
 */
export async function devCeremony(power: number, dir: string, progress?: Progress): Promise<string> {
  const log = progress ?? silent;
  for (const line of WARNING) log(line);
  fs.mkdirSync(dir, { recursive: true });
  const final = path.join(dir, devPtauName(power));
  // Working files carry the pid so two processes racing on an empty cache never share a half-written
  // file; only the finished file is renamed into place, atomically.
  const tag = `${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
  const p0 = path.join(dir, `.dev_pot${power}_0-${tag}.ptau`);
  const p1 = path.join(dir, `.dev_pot${power}_1-${tag}.ptau`);
  const pf = path.join(dir, `.dev_pot${power}_final-${tag}.ptau`);
  removeStaleWorkFiles(dir, log);
  // A Ctrl-C handler elsewhere (replaceDirAtomically) ends the process with process.exit, which
  // skips the finally below; 'exit' listeners still run, and these files reach gigabytes.
  const removeWork = () => {
    for (const f of [p0, p1, pf]) fs.rmSync(f, { force: true });
  };
  process.on("exit", removeWork);
  const estimate = ceremonyEstimate(power);
  const hb = heartbeat(progress, `dev ceremony 2^${power}`, { estimateMs: estimate.ms, basis: estimate.basis, stages: ceremonyStages(power) });
  const logger = snarkjsLogger(progress, "ptau", hb.note);
  try {
    hb.note("new accumulator");
    await timed(progress, `dev ceremony 2^${power}: new accumulator`, async () => {
      const curve = await snarkjs.curves.getCurveFromName("bn128");
      await snarkjs.powersOfTau.newAccumulator(curve, power, p0, logger);
    });
    hb.note("contribution");
    await timed(progress, `dev ceremony 2^${power}: contribution`, () =>
      snarkjs.powersOfTau.contribute(p0, p1, "Flavum dev contribution", crypto.randomBytes(64).toString("hex"), logger),
    );
    hb.note("prepare phase 2");
    await timed(progress, `dev ceremony 2^${power}: prepare phase 2`, () =>
      snarkjs.powersOfTau.preparePhase2(p1, pf, logger),
    );
    fs.renameSync(pf, final);
  } finally {
    hb.stop();
    process.off("exit", removeWork);
    removeWork();
  }
  log(`dev ceremony written to ${final} (DEVELOPMENT ONLY)`);
  return final;
}
