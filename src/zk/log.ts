/**
 * Progress reporting for the long proving steps (compile, setup, prove, ceremony): a user staring at
 * a silent terminal for minutes cannot tell a slow step from a hung one.
 */
export type Progress = (msg: string) => void;

/** Prints nothing; the default when a caller did not ask for progress. */
export const silent: Progress = () => {};

/** Writes to stderr so progress never mixes with machine-readable output on stdout (e.g. --json). */
export const toStderr: Progress = (msg) => process.stderr.write(`${msg}\n`);

export function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/**
 * Runs one step, announcing it and how long it took ("compile Foo … done in 3.2 s"), and returns its
 * result with the elapsed milliseconds so callers can report timings without a second clock.
 */
export async function timed<T>(
  progress: Progress | undefined,
  label: string,
  step: () => Promise<T>,
): Promise<{ value: T; ms: number }> {
  const log = progress ?? silent;
  log(`${label} …`);
  const start = performance.now();
  try {
    const value = await step();
    const ms = performance.now() - start;
    log(`${label} … done in ${formatSeconds(ms)}`);
    return { value, ms };
  } catch (err) {
    log(`${label} … failed after ${formatSeconds(performance.now() - start)}`);
    throw err;
  }
}

/**
 * The logger object snarkjs functions accept as their optional last argument. snarkjs calls
 * whichever console-like method it likes: `log` only appears in powersoftau newAccumulator, every
 * 100,000 points, so a logger without it works for every power below 16 and crashes at 2^16 and
 * above (`logger.log is not a function`). Every method is therefore required here.
 */
export interface SnarkjsLogger {
  log(msg: string): void;
  trace(msg: string): void;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** Every method name a SnarkjsLogger has; tests compare it with the calls in snarkjs's build. */
export const SNARKJS_LOGGER_METHODS = ["log", "trace", "debug", "info", "warn", "error"] as const;

/**
 * snarkjs logs hundreds of per-chunk lines ("Multiexp start: ... 3/16") at debug/info level. Only
 * warnings, errors and the coarse phase lines are worth a user's screen, and errors are also
 * collected because some snarkjs functions (newZKey) report failure by logging and returning -1.
 * `onMessage` sees every line, the quiet ones included, so a heartbeat can tell which phase a long
 * step has reached without printing them.
 */
export function snarkjsLogger(
  progress?: Progress,
  prefix = "snarkjs",
  onMessage?: (msg: string) => void,
): SnarkjsLogger & { errors: string[] } {
  const log = progress ?? silent;
  const errors: string[] = [];
  const noisy = /(\d+\/\d+|chunk|Multiexp|FFT|mix|section|Reading|Writing|Applying|Calculating|Done|start|:\s*\d+$)/i;
  const seen = (msg: unknown) => {
    if (onMessage) onMessage(String(msg));
  };
  const quiet = (msg: unknown) => seen(msg);
  return {
    errors,
    log: quiet,
    trace: quiet,
    debug: quiet,
    info: (msg) => {
      seen(msg);
      // Hashes arrive as multi-line hex blocks; one line each keeps them readable in a log.
      if (!noisy.test(msg)) log(`${prefix}: ${String(msg).replace(/\s+/g, " ").trim()}`);
    },
    warn: (msg) => {
      seen(msg);
      log(`${prefix} warning: ${msg}`);
    },
    error: (msg) => {
      seen(msg);
      errors.push(String(msg));
      log(`${prefix} error: ${msg}`);
    },
  };
}

/** "45 s", "3 min", "1 h 10 min": an estimate is rough, so it is printed rounded. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 90) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** A named part of a long step, recognised by the snarkjs lines it logs. */
export interface Stage {
  name: string;
  match: RegExp;
  /** How far into the stage a line says it is; default: an "i/n" point counter, if meaningful. */
  detail?: (msg: string) => string | undefined;
}

/**
 * "1200/2000" from a snarkjs counter line. Counters of a few chunks ("1/2") or at 0 ("0/5996": the
 * start line of each thread chunk) say nothing useful, so they are not shown.
 */
export function pointCounter(msg: string): string | undefined {
  const m = /(\d+)\s*\/\s*(\d+)\s*$/.exec(msg);
  if (!m || Number(m[1]) === 0 || Number(m[2]) < 100) return undefined;
  return `${m[1]}/${m[2]}`;
}

export interface HeartbeatOptions {
  /** Expected duration; announced up front and compared with the elapsed time in each beat. */
  estimateMs?: number;
  /** What the estimate rests on, e.g. "2 cores, measured"; printed with it. */
  basis?: string;
  /** Between beats; default 15 s, or FLAVUM_HEARTBEAT_MS (tests shorten it). */
  intervalMs?: number;
  /** Shorter estimates are not announced (default 10 s); beats still quote them. */
  announceAboveMs?: number;
  /** The step's parts in order; a beat names the furthest one reached. */
  stages?: Stage[];
}

export interface Heartbeat {
  /** Feeds one snarkjs line (or a stage name) to the phase tracker. */
  note(msg: string): void;
  stop(): void;
}

function defaultInterval(): number {
  const env = Number(process.env.FLAVUM_HEARTBEAT_MS);
  return Number.isFinite(env) && env > 0 ? env : 15_000;
}

/**
 * Periodic "still working" lines for a step that takes minutes: "groth16 setup: 45 s elapsed of
 * ~3 min (step 6/10: C points, 1200/2000)". Without them a setup that prints only start and done
 * looks hung for minutes. The timer is unref'd so a forgotten stop() cannot keep the process alive.
 */
export function heartbeat(progress: Progress | undefined, label: string, opts: HeartbeatOptions = {}): Heartbeat {
  const log = progress ?? silent;
  const stages = opts.stages ?? [];
  const start = performance.now();
  let stage = -1;
  let last = "";
  // A few seconds need no forecast; the line is for steps long enough to make a user wonder.
  if (opts.estimateMs !== undefined && opts.estimateMs >= (opts.announceAboveMs ?? 10_000)) {
    log(`${label}: expected to take ~${formatDuration(opts.estimateMs)}${opts.basis ? ` (${opts.basis})` : ""}`);
  }
  let detail: string | undefined;
  const phase = (): string => {
    if (stage >= 0) {
      return ` (step ${stage + 1}/${stages.length}: ${stages[stage].name}${detail ? `, ${detail}` : ""})`;
    }
    const short = last.replace(/\s+/g, " ").trim().slice(0, 60);
    return short ? ` (${short})` : "";
  };
  const beat = () => {
    const elapsed = performance.now() - start;
    const of =
      opts.estimateMs === undefined
        ? ""
        : elapsed <= opts.estimateMs
          ? ` of ~${formatDuration(opts.estimateMs)}`
          : `, past the ~${formatDuration(opts.estimateMs)} estimate`;
    log(`${label}: ${formatDuration(elapsed)} elapsed${of}${phase()}`);
  };
  const timer = setInterval(beat, opts.intervalMs ?? defaultInterval());
  timer.unref();
  return {
    note(msg: string) {
      last = msg;
      // Stages only move forward: a late line of an earlier stage must not rewind the display.
      for (let i = stages.length - 1; i > stage; i--) {
        if (stages[i].match.test(msg)) {
          stage = i;
          detail = undefined;
          break;
        }
      }
      // A stale detail is better than none: snarkjs logs the start of a chunk, not its progress.
      if (stage >= 0) detail = (stages[stage].detail ?? pointCounter)(msg) ?? detail;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
