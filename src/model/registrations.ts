/**
 * Where a compiled model is registered with a rollup from this machine, kept in the model's build
 * folder (registrations.json). A registered model is served from its build folder: the sequencer
 * proves its batches with the model's quantized graph and the batch keys registered on chain, so
 * recompiling it in place with other options would leave queued requests that can never be proven.
 * Compile reads this file to refuse that; recompiles carry it into the new build folder.
 */
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import { shortHash } from "../zk/vkHash";
import { modelDir } from "./artifacts";

export const REGISTRATIONS_FILE = "registrations.json";

export interface Registration {
  network: string;
  chainId: string;
  rollup: string;
  registry: string;
  modelId: string;
  batchSize: number;
  /** The model circuit (source hash) whose quantized graph the batch circuit was built from. */
  circuitHash: string;
  /** The model's own verifying key at registration (single-inference proofs). */
  vkHash: string;
  /** The batch circuit's verifying key: the registry commitment's vkHash and the verifier's buildId. */
  batchVkHash: string;
  /** The sequencer store serving it; a store removed by rollup:deploy means the registration is gone. */
  store: string;
  registeredAt: string;
}

export function registrationsFile(dir: string): string {
  return path.join(dir, REGISTRATIONS_FILE);
}

export function readRegistrations(dir: string): Registration[] {
  try {
    const all = JSON.parse(fs.readFileSync(registrationsFile(dir), "utf8"));
    return Array.isArray(all) ? (all as Registration[]) : [];
  } catch {
    return [];
  }
}

/** Registrations whose sequencer store still exists (rollup:deploy resets the store of a network). */
export function liveRegistrations(dir: string): Registration[] {
  return readRegistrations(dir).filter((r) => fs.existsSync(r.store));
}

export function recordRegistration(name: string, reg: Registration): void {
  const dir = modelDir(name);
  const same = (r: Registration) =>
    r.network === reg.network && r.rollup.toLowerCase() === reg.rollup.toLowerCase() && r.modelId === reg.modelId && r.batchSize === reg.batchSize;
  const all = [...readRegistrations(dir).filter((r) => !same(r)), reg];
  const f = registrationsFile(dir);
  const tmp = `${f}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(all, null, 2) + "\n");
  fs.renameSync(tmp, f);
}

const describe = (r: Registration) => `model id ${r.modelId} on ${r.network} (rollup ${r.rollup}, batches of ${r.batchSize})`;

/**
 * Refuses a compile that would change the circuit of a registered model in place. The same circuit
 * is fine even with fresh keys: batches only need the same quantized graph, and the batch keys live
 * in their own folder. `force` overwrites anyway, and says what that costs.
 */
export function checkRecompile(name: string, newCircuitHash: string, opts: { force?: boolean; progress?: (m: string) => void } = {}): void {
  const changed = liveRegistrations(modelDir(name)).filter((r) => r.circuitHash !== newCircuitHash);
  if (!changed.length) return;
  const which = changed.map(describe).join("; ");
  if (opts.force) {
    opts.progress?.(
      `warning: --force: "${name}" is registered as ${which} with circuit ${shortHash(changed[0].circuitHash)}; ` +
        `the new build (circuit ${shortHash(newCircuitHash)}) replaces it, so this machine can no longer prove batches for that registration`,
    );
    return;
  }
  throw new FlavumError(
    `model "${name}" is registered as ${which} with circuit ${shortHash(changed[0].circuitHash)}, and this compile would change its ` +
      `circuit to ${shortHash(newCircuitHash)} (other options, calibration or ONNX file): the sequencer could then no longer prove its batches ` +
      `and its requests would stay pending. Compile the new version under a new name (e.g. --name ${name}_v2) and register that, ` +
      `or pass --force to overwrite the local build knowing that the registered model can no longer be served by this machine`,
    "REGISTERED_MODEL",
  );
}
