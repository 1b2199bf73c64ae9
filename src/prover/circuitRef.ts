/**
 * Naming a circuit so that another machine can find the same one: its files, and the sha256 of its
 * proving key. Paths inside the repository travel relative to it, because a worker runs in its own
 * checkout (same layout, different absolute root); the hash is what proves both mean the same key.
 */
import crypto from "crypto";
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import { repoRoot } from "../zk/paths";
import type { CircuitRef } from "./types";

const hashes = new Map<string, { size: number; mtimeMs: number; hash: string }>();

/** sha256 of a file, streamed (zkeys reach hundreds of MB), remembered while the file is unchanged. */
export async function fileSha256(file: string): Promise<string> {
  const abs = path.resolve(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new FlavumError(`cannot hash the proving key ${abs}: no such file`, "NO_ZKEY");
  }
  const known = hashes.get(abs);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.hash;
  const h = crypto.createHash("sha256");
  for await (const chunk of fs.createReadStream(abs)) h.update(chunk as Buffer);
  const hash = h.digest("hex");
  hashes.set(abs, { size: st.size, mtimeMs: st.mtimeMs, hash });
  return hash;
}

/** The CircuitRef of a circuit's files (e.g. batchPaths(model, B)). */
export async function circuitRef(paths: { wasm: string; zkey: string; vkey: string }): Promise<CircuitRef> {
  return {
    wasm: path.resolve(paths.wasm),
    zkey: path.resolve(paths.zkey),
    vkey: path.resolve(paths.vkey),
    zkeyHash: await fileSha256(paths.zkey),
  };
}

/** A path as it goes into job data: relative to the repository when inside it, absolute otherwise. */
export function portablePath(p: string): string {
  const abs = path.resolve(p);
  const rel = path.relative(repoRoot(), abs);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel.split(path.sep).join("/") : abs;
}

/** The inverse on the machine that reads the job: relative paths are under this checkout. */
export function localPath(p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(repoRoot(), p);
}

export function portableRef(c: CircuitRef): CircuitRef {
  return { wasm: portablePath(c.wasm), zkey: portablePath(c.zkey), vkey: portablePath(c.vkey), zkeyHash: c.zkeyHash };
}

export function localRef(c: CircuitRef): CircuitRef {
  return { wasm: localPath(c.wasm), zkey: localPath(c.zkey), vkey: localPath(c.vkey), zkeyHash: c.zkeyHash };
}
