/**
 * Proving keys held in memory between proofs. Reading a zkey is a large part of a small proof's
 * cost, so each is read once; the bytes are checked against the hash the job names before they are
 * used, because a worker must refuse a key other than the one the node set up, never prove with it.
 */
import crypto from "crypto";
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import type { VerificationKey } from "../zk/snarkjs";
import type { CircuitRef } from "./types";

/** This machine does not have the proving key a job names (missing, or other bytes). */
export class ProvingKeyError extends FlavumError {
  constructor(message: string, code: "NO_ZKEY" | "ZKEY_MISMATCH" | "NO_VKEY") {
    super(message, code);
  }
}

export interface LoadedKey {
  zkeyFile: string;
  zkeyHash: string;
  /** The whole zkey, handed to snarkjs as a read-only in-memory file. */
  zkey: Uint8Array;
  vkey: VerificationKey;
  /** prove() calls that have used this key (0 right after loading: that proof is cold). */
  uses: number;
  loadMs: number;
}

export class KeyCache {
  private readonly keys = new Map<string, LoadedKey>();
  private readonly loading = new Map<string, Promise<LoadedKey>>();

  /** `maxKeys`: keys of other circuits beyond this are dropped, oldest use first, to bound memory. */
  constructor(private readonly maxKeys = 4) {}

  get size(): number {
    return this.keys.size;
  }

  async get(c: CircuitRef): Promise<LoadedKey> {
    const file = path.resolve(c.zkey);
    const id = `${file}\0${c.zkeyHash}`;
    const have = this.keys.get(id);
    if (have) {
      this.keys.delete(id);
      this.keys.set(id, have);
      return have;
    }
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(file, c).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    const key = await pending;
    if (!this.keys.has(id)) {
      // A new key for the same file (a re-setup) replaces the old one rather than sitting beside it.
      for (const [k, v] of this.keys) if (v.zkeyFile === file) this.keys.delete(k);
      this.keys.set(id, key);
      while (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value as string);
    }
    return key;
  }

  clear(): void {
    this.keys.clear();
  }

  private async load(file: string, c: CircuitRef): Promise<LoadedKey> {
    const start = performance.now();
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(file);
    } catch (e) {
      throw new ProvingKeyError(
        `this prover has no proving key ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the job needs the key with sha256 ${c.zkeyHash}. ` +
          `Copy that key here (same path in the checkout) or send the job to a queue whose workers have it`,
        "NO_ZKEY",
      );
    }
    const hash = crypto.createHash("sha256").update(bytes).digest("hex");
    if (hash !== c.zkeyHash)
      throw new ProvingKeyError(
        `this prover's proving key ${file} has sha256 ${hash}, but the job needs the key with sha256 ${c.zkeyHash}: ` +
          `they are different setups, and a proof with this key would not verify for the node. Copy the node's key here`,
        "ZKEY_MISMATCH",
      );
    let vkey: VerificationKey;
    try {
      vkey = JSON.parse(await fs.promises.readFile(path.resolve(c.vkey), "utf8")) as VerificationKey;
    } catch (e) {
      throw new ProvingKeyError(`cannot read the verifying key ${path.resolve(c.vkey)}: ${(e as Error).message}`, "NO_VKEY");
    }
    const zkey = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { zkeyFile: file, zkeyHash: hash, zkey, vkey, uses: 0, loadMs: performance.now() - start };
  }
}
