import fs from "fs";
import path from "path";

/**
 * Writes `file` through a temporary file beside it and a rename, creating its directory: a reader
 * (or a crash) never sees a half-written file under the name.
 */
export function writeFileAtomically(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}
