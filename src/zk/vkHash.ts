/**
 * The one identity of a Groth16 key pair: sha256 of the verifying key as canonical JSON (object keys
 * sorted, no whitespace). Two setups of the same circuit give different keys, so anything that must
 * match a proving key — proof files, deployed verifiers, registry commitments, the sequencer's record
 * of what it registered — is keyed by this hash, never by the circuit's source hash. Canonical JSON
 * rather than file bytes, so re-serialising the same key (indentation, key order) keeps its hash.
 */
import crypto from "crypto";
import fs from "fs";

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

/** Hex sha256 (no 0x) of a verifying key given as an object or as the path of its JSON file. */
export function vkHash(vkey: object | string): string {
  const key = typeof vkey === "string" ? JSON.parse(fs.readFileSync(vkey, "utf8")) : vkey;
  return crypto.createHash("sha256").update(canonical(key)).digest("hex");
}

/** A short form for messages. */
export const shortHash = (h: string | undefined | null) => (h ? `${h.replace(/^0x/, "").slice(0, 12)}…` : "(none)");
