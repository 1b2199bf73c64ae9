/**
 * Command-line values Hardhat's own types would reject with a stack trace (a negative int, a
 * non-numeric id, a missing required file): taken as strings and checked here, so the user gets one
 * line that names the flag, what was given and what is expected.
 */
import { InputError } from "../src/errors";

export function intArg(flag: string, value: string | number | undefined, opts: { min?: number; fallback?: number } = {}): number {
  if (value === undefined || value === "") {
    if (opts.fallback !== undefined) return opts.fallback;
    throw new InputError(`--${flag} needs a value (an integer)`);
  }
  const s = String(value).trim();
  if (!/^-?\d+$/.test(s)) throw new InputError(`--${flag} must be an integer, got "${value}"`);
  const n = Number(s);
  if (opts.min !== undefined && n < opts.min) throw new InputError(`--${flag} must be at least ${opts.min}, got ${n}`);
  return n;
}

/** On-chain ids (requests, models, commits) are unsigned integers of any size. */
export function idArg(flag: string, value: string | undefined, what: string): bigint {
  const s = String(value ?? "").trim();
  if (!/^\d+$/.test(s)) throw new InputError(`--${flag} must be a ${what} id (a non-negative integer), got "${value ?? ""}"`);
  return BigInt(s);
}

export function requiredArg(flag: string, value: string | undefined, what: string): string {
  if (value === undefined || value === "") throw new InputError(`--${flag} is required: ${what}`);
  return value;
}
