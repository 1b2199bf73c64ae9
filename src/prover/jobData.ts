/**
 * What a proof job carries through Redis. Job data is JSON, and circuit inputs hold bigints (field
 * elements), so they travel as decimal strings, which snarkjs's witness calculator reads as is. The
 * digest lets a second submission under the same job id be checked against the first: the same id
 * with another input is a caller's bug that must not silently return the other proof.
 */
import crypto from "crypto";
import { FlavumError } from "../errors";
import { localRef, portableRef } from "./circuitRef";
import type { CircuitRef, ProofJob } from "./types";

export const JOB_DATA_VERSION = 1;

export interface ProofJobData {
  v: number;
  /** Paths as portablePath gives them; zkeyHash is what the worker checks its key against. */
  circuit: CircuitRef;
  input: Record<string, unknown>;
  /** sha256 over the zkey hash, the wasm path and the canonical input. */
  digest: string;
}

export function encodeInput(value: unknown, where = "input"): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new FlavumError(`${where} is ${value}, not a circuit value`, "BAD_INPUT");
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => encodeInput(v, `${where}[${i}]`));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeInput(v, `${where}.${k}`)]));
  throw new FlavumError(`${where} is ${value === null ? "null" : typeof value}, not a circuit value (number, bigint, decimal string or arrays of them)`, "BAD_INPUT");
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(value);
}

export function toJobData(job: ProofJob): ProofJobData {
  const circuit = portableRef(job.circuit);
  const input = encodeInput(job.input) as Record<string, unknown>;
  const digest = crypto.createHash("sha256").update(`${circuit.zkeyHash}\n${circuit.wasm}\n${canonical(input)}`).digest("hex");
  return { v: JOB_DATA_VERSION, circuit, input, digest };
}

/** The job as the receiving machine proves it: paths resolved in its own checkout. */
export function fromJobData(id: string, data: ProofJobData): ProofJob {
  if (data?.v !== JOB_DATA_VERSION || !data.circuit?.zkeyHash || !data.input)
    throw new FlavumError(`proof job ${id} has data this worker cannot read (version ${data?.v ?? "none"}, expected ${JOB_DATA_VERSION})`, "BAD_JOB");
  return { id, circuit: localRef(data.circuit), input: data.input };
}
