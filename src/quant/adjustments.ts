/**
 * Input values Flavum had to change before it could use them: a fractional value given to a model
 * that takes integers is rounded, a training feature outside the fixed-point range is clamped. The
 * proof then speaks about the changed value, so the user must hear about each one (on stderr, the
 * progress channel, so stdout stays machine-readable) — or, with --strict, nothing runs at all.
 */
import { InputError } from "../errors";

export interface ValueAdjustment {
  /** Index of the sample (or data row) in the file. */
  sample: number;
  /** Index of the value within the sample. */
  feature: number;
  given: number;
  /** The value that is used instead (the given value when it is only reported, as in evaluation). */
  became: number;
  kind: "rounded" | "clamped" | "outside";
  /** What the model or circuit accepts, in words: "integers in [-64, 64)", "[-8, 7.9375] at scale 2^-4". */
  allowed: string;
  /** "sample" for inference inputs, "row" for training data. */
  unit: "sample" | "row";
}

export interface AdjustmentPolicy {
  /** Refuse instead of warning. */
  strict?: boolean;
  /** Where warnings go (stderr in tasks). */
  progress?: (msg: string) => void;
}

/** Warnings printed in full before the rest are summed up: enough to spot a pattern, not a flood. */
export const LISTED_ADJUSTMENTS = 10;
/** A --strict refusal stays one line, so it names only the first few. */
const LISTED_IN_ERROR = 3;

export function describeAdjustment(a: ValueAdjustment): string {
  const change =
    a.kind === "outside" ? `${a.given} is outside the range (${a.allowed}; used as given)` : `${a.given} was ${a.kind} to ${a.became} (${a.allowed})`;
  return `${a.unit} ${a.sample}, feature ${a.feature}: ${change}`;
}

/**
 * Reports the adjustments of one command: each of the first LISTED_ADJUSTMENTS as a warning line,
 * then one line for the rest; with `strict`, throws an InputError naming the first few instead.
 * `what` says where the values came from ("input file x.json").
 */
export function applyAdjustmentPolicy(list: readonly ValueAdjustment[], what: string, policy: AdjustmentPolicy = {}): void {
  if (list.length === 0) return;
  const n = list.length;
  if (policy.strict) {
    const shown = list.slice(0, LISTED_IN_ERROR).map(describeAdjustment).join("; ");
    const more = n > LISTED_IN_ERROR ? `; and ${n - LISTED_IN_ERROR} more` : "";
    throw new InputError(`--strict: ${what} has ${n} value(s) the model cannot take as given: ${shown}${more}`);
  }
  const say = policy.progress;
  if (!say) return;
  for (const a of list.slice(0, LISTED_ADJUSTMENTS)) say(`warning: ${describeAdjustment(a)}`);
  if (n > LISTED_ADJUSTMENTS) say(`warning: … and ${n - LISTED_ADJUSTMENTS} more`);
  say(`warning: ${what}: ${n} value(s) not taken as given (${summary(list)}); --strict refuses such input`);
}

function summary(list: readonly ValueAdjustment[]): string {
  const counts = new Map<string, number>();
  for (const a of list) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
  const verb = { rounded: "rounded", clamped: "clamped into range", outside: "outside the range" } as const;
  return [...counts].map(([k, c]) => `${c} ${verb[k as ValueAdjustment["kind"]]}`).join(", ");
}
