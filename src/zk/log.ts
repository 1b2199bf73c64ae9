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

/** The logger object snarkjs functions accept as their optional last argument. */
export interface SnarkjsLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/**
 * snarkjs logs hundreds of per-chunk lines ("Multiexp start: ... 3/16") at debug/info level. Only
 * warnings, errors and the coarse phase lines are worth a user's screen, and errors are also
 * collected because some snarkjs functions (newZKey) report failure by logging and returning -1.
 */
export function snarkjsLogger(progress?: Progress, prefix = "snarkjs"): SnarkjsLogger & { errors: string[] } {
  const log = progress ?? silent;
  const errors: string[] = [];
  const noisy = /(\d+\/\d+|chunk|Multiexp|FFT|mix|section|Reading|Writing|Applying|Calculating|Done|start|:\s*\d+$)/i;
  return {
    errors,
    debug: () => {},
    info: (msg) => {
      // Hashes arrive as multi-line hex blocks; one line each keeps them readable in a log.
      if (!noisy.test(msg)) log(`${prefix}: ${String(msg).replace(/\s+/g, " ").trim()}`);
    },
    warn: (msg) => log(`${prefix} warning: ${msg}`),
    error: (msg) => {
      errors.push(String(msg));
      log(`${prefix} error: ${msg}`);
    },
  };
}
