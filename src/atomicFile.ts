import fs from "fs";
import path from "path";

/**
 * Writes `file` through a temporary file beside it and a rename, creating its directory: a reader
 * (or a crash) never sees a half-written file under the name. `mode` (e.g. 0o600 for a file holding
 * keys) is the temporary file's from its creation, so the content is never readable more widely.
 */
export function writeFileAtomically(file: string, data: string | Uint8Array, opts: { mode?: number } = {}): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  if (opts.mode === undefined) {
    fs.writeFileSync(tmp, data);
  } else {
    // A stale temporary file of a crashed run would keep its own mode: remove it, then create anew.
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, data, { mode: opts.mode, flag: "wx" });
    fs.chmodSync(tmp, opts.mode); // the umask may have cleared bits the caller asked for
  }
  fs.renameSync(tmp, file);
}
