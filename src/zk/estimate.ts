/**
 * Rough durations of the two slow proving steps, so a user is told up front whether to wait a
 * minute or go for lunch. Calibrated on the 2-core build machine with snarkjs 0.7.6; a busy machine
 * is slower (a setup measured at 9 s idle took 31 s with two other jobs running), so every estimate
 * says what it rests on and the heartbeat says when it is exceeded.
 */
import fs from "fs";
import type { R1csInfo } from "./r1csHeader";

export interface Estimate {
  ms: number;
  basis: string;
}

/**
 * Seconds for a whole dev ceremony (new accumulator + contribution + prepare phase 2) by power.
 * 8–12 measured here (prepare phase 2 is ~95% of it); 14, 16, 17 from ../shared/ptau/README.md.
 */
const CEREMONY_SECONDS: Readonly<Record<number, number>> = { 8: 2.5, 10: 11, 11: 23, 12: 60, 14: 540, 16: 2400, 17: 4200 };

/** Per-power growth outside the table: ~2x per power in both directions, as between its rows. */
const BELOW_FACTOR = 2;
const ABOVE_FACTOR = 1.9;

export function ceremonyEstimate(power: number): Estimate {
  const known = Object.keys(CEREMONY_SECONDS).map(Number).sort((a, b) => a - b);
  const lo = known[0];
  const hi = known[known.length - 1];
  let s: number;
  if (CEREMONY_SECONDS[power] !== undefined) s = CEREMONY_SECONDS[power];
  else if (power <= lo) s = CEREMONY_SECONDS[lo] / BELOW_FACTOR ** (lo - power);
  else if (power >= hi) s = CEREMONY_SECONDS[hi] * ABOVE_FACTOR ** (power - hi);
  else {
    // Time grows geometrically with the power, so interpolate the logarithm.
    const a = known.filter((p) => p <= power).pop()!;
    const b = known.find((p) => p >= power)!;
    const t = a === b ? 0 : (power - a) / (b - a);
    s = Math.exp(Math.log(CEREMONY_SECONDS[a]) * (1 - t) + Math.log(CEREMONY_SECONDS[b]) * t);
  }
  return { ms: s * 1000, basis: "2 idle cores; measured 2^8–2^12, 2^14–2^17 from the shared ptau README" };
}

/**
 * newZKey's cost follows the number of non-zero r1cs coefficients (one multi-scalar product per
 * wire over them), for which the r1cs file size is a free proxy (36 bytes per coefficient); the
 * contribution rescales every point, i.e. wires + domain. Fitted on Flavum's model circuits:
 * logreg_cancer 0.56 MB → 3.5 s, mlp_digits 1.2 MB → 9.1 s, cnn_digits 1.6 MB, 2^13 → 12.3 s.
 */
const NEWZKEY_MS_PER_MB = 7000;
const CONTRIBUTE_MS_PER_POINT = 0.1;

export function setupEstimate(info: R1csInfo & { file?: string; bytes?: number }): Estimate {
  const bytes = info.bytes ?? (info.file ? fs.statSync(info.file).size : 0);
  const n = info.constraints + info.publicInputs + info.outputs;
  const domain = 2 ** Math.ceil(Math.log2(n + 1));
  const ms = 300 + NEWZKEY_MS_PER_MB * (bytes / 2 ** 20) + CONTRIBUTE_MS_PER_POINT * (info.wires + domain);
  return { ms, basis: `${info.constraints} constraints, ${(bytes / 2 ** 20).toFixed(1)} MB r1cs, 2 idle cores` };
}
