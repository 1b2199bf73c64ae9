/**
 * A local content-addressed object store: sha256(content) → file, written atomically, plus an index
 * from on-chain commitments (Poseidon hashes of weights) to the objects that open them. Only the
 * commitment goes on-chain; the content stays here (or, later, in a distributed store keyed the
 * same way).
 */
import crypto from "crypto";
import fs from "fs";
import path from "path";
import { cacheRoot } from "../zk/paths";
import { FlavumError } from "../errors";
import { writeFileAtomically } from "../atomicFile";

export function objectsRoot(): string {
  return process.env.FLAVUM_OBJECTS_DIR ? path.resolve(process.env.FLAVUM_OBJECTS_DIR) : path.join(cacheRoot(), "objects");
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

export class ObjectStore {
  constructor(readonly root = objectsRoot()) {}

  private file(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new FlavumError(`"${hash}" is not an object id (64 hex digits)`, "BAD_INPUT");
    return path.join(this.root, hash.slice(0, 2), hash.slice(2));
  }

  put(data: Buffer | string): string {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    const hash = crypto.createHash("sha256").update(buf).digest("hex");
    const f = this.file(hash);
    if (!fs.existsSync(f)) writeFileAtomically(f, buf);
    return hash;
  }

  putJson(value: unknown): string {
    return this.put(json(value));
  }

  has(hash: string): boolean {
    return fs.existsSync(this.file(hash));
  }

  get(hash: string): Buffer {
    const f = this.file(hash);
    if (!fs.existsSync(f)) throw new FlavumError(`object ${hash} is not in the local store ${this.root}`, "UNKNOWN_OBJECT");
    const buf = fs.readFileSync(f);
    if (crypto.createHash("sha256").update(buf).digest("hex") !== hash)
      throw new FlavumError(`object ${hash} in ${this.root} is corrupt (its content hashes differently)`, "CORRUPT_OBJECT");
    return buf;
  }

  /** The file holding object `hash`, after checking its content (for readers that take a path, as the ONNX loader). */
  verifiedPath(hash: string): string {
    this.get(hash);
    return this.file(hash);
  }

  getJson<T>(hash: string): T {
    return JSON.parse(this.get(hash).toString("utf8")) as T;
  }

  /** Records that `object` opens the on-chain `commitment` (a field element). */
  bind(commitment: bigint, object: string): void {
    writeFileAtomically(path.join(this.root, "by-commitment", commitment.toString(16).padStart(64, "0")), object);
  }

  /** Whether a local object opens `commitment`. */
  opens(commitment: bigint): boolean {
    return fs.existsSync(path.join(this.root, "by-commitment", commitment.toString(16).padStart(64, "0")));
  }

  resolve(commitment: bigint): string {
    const f = path.join(this.root, "by-commitment", commitment.toString(16).padStart(64, "0"));
    if (!fs.existsSync(f))
      throw new FlavumError(`no local object opens commitment 0x${commitment.toString(16)}: pull it from its author first`, "UNKNOWN_OBJECT");
    return fs.readFileSync(f, "utf8").trim();
  }
}
