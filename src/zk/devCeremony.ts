import crypto from "crypto";
import fs from "fs";
import path from "path";
import { Progress, silent, snarkjsLogger, timed } from "./log";
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
 * Runs a one-contributor powers-of-tau ceremony of 2^power and prepares it for phase 2, writing
 * `dev_potNN_final.ptau` into `dir`. It is the last resort when no file is given, cached or
 * downloadable: it keeps tests and demos working offline, at the cost of soundness against whoever
 * ran it. Time grows ~4x per power (≈1.5 min at 12, ≈9 min at 14 on 2 cores), so progress is shown.
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
  const logger = snarkjsLogger(progress, "ptau");
  try {
    await timed(progress, `dev ceremony 2^${power}: new accumulator`, async () => {
      const curve = await snarkjs.curves.getCurveFromName("bn128");
      await snarkjs.powersOfTau.newAccumulator(curve, power, p0, logger);
    });
    await timed(progress, `dev ceremony 2^${power}: contribution`, () =>
      snarkjs.powersOfTau.contribute(p0, p1, "Flavum dev contribution", crypto.randomBytes(64).toString("hex"), logger),
    );
    await timed(progress, `dev ceremony 2^${power}: prepare phase 2`, () =>
      snarkjs.powersOfTau.preparePhase2(p1, pf, logger),
    );
    fs.renameSync(pf, final);
  } finally {
    for (const f of [p0, p1, pf]) fs.rmSync(f, { force: true });
  }
  log(`dev ceremony written to ${final} (DEVELOPMENT ONLY)`);
  return final;
}
