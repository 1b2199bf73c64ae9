/**
 * Which Groth16 keys a network may rely on. snarkjs keys have γ = the G2 generator, so whoever knows
 * the phase-2 δ or the phase-1 τ/α/β can prove anything. On `hardhat` and `localhost` that is fine
 * (nothing of value is at stake and setups must be quick); anywhere else a key must come from the
 * public Hermez phase 1 and a multi-party phase 2 (`ceremony:*`), unless the user says, with
 * --insecure-dev-setup, that the network is a testnet and forged proofs are acceptable.
 */
import fs from "fs";
import path from "path";
import { FlavumError } from "../errors";
import { blake2b512, HERMEZ_BLAKE2B } from "./hermez";
import type { CircuitKeys } from "./keys";
import { Progress, silent } from "./log";

/** The flag's help, the same on every command that has it. */
export const INSECURE_DEV_SETUP_HELP =
  "Accept keys from development powers of tau and/or a one-party setup on a network other than hardhat/localhost/localhost2: " +
  "whoever ran those setups can forge proofs. For testnets only";

export const LOCAL_NETWORKS: readonly string[] = ["hardhat", "localhost", "localhost2"];

/**
 * A ceremony with one contributor trusts that one person, like a one-party setup: two are the least
 * that makes "one honest participant" a weaker assumption than "the operator is honest".
 */
export const MIN_CONTRIBUTORS = 2;

/** What keys.json says about phase 2. Absent in keys built before this field existed: single-party. */
export type SetupRecord =
  | { kind: "single-party" }
  | {
      kind: "ceremony";
      contributors: number;
      beacon: { kind: string; value: string; block?: number; network?: string; iterationsExp: number };
      transcript: { file: string; sha256: string };
      /** vkHash of the key the ceremony produced, so a key swapped in later is not taken for it. */
      vkHash: string;
      finalZkeySha256: string;
    };

/** keys.json as the policy reads it. */
export type KeysRecord = CircuitKeys;

/** The power of the pinned Hermez file with this blake2b-512, or null when it is not one of them. */
export function pinnedPower(blake2b: string | undefined, table: Readonly<Record<number, string>> = HERMEZ_BLAKE2B): number | null {
  if (!blake2b) return null;
  for (const [power, hash] of Object.entries(table)) if (hash === blake2b) return Number(power);
  return null;
}

/**
 * The blake2b-512 of the keys' ptau file, hashed once and then kept in keys.json: a 2^20 file is a
 * gigabyte, and this runs on every registration.
 */
export async function ptauBlake2b(keys: KeysRecord, dir?: string): Promise<string | undefined> {
  if (keys.ptau.blake2b) return keys.ptau.blake2b;
  const file = keys.ptau.file;
  if (!file || !fs.existsSync(file)) return undefined;
  const hash = await blake2b512(file);
  keys.ptau.blake2b = hash;
  if (dir) {
    const info = path.join(dir, "keys.json");
    try {
      const onDisk = JSON.parse(fs.readFileSync(info, "utf8")) as KeysRecord;
      if (onDisk.ptau?.file === file) {
        onDisk.ptau.blake2b = hash;
        const tmp = `${info}.tmp-${process.pid}`;
        fs.writeFileSync(tmp, JSON.stringify(onDisk, null, 2));
        fs.renameSync(tmp, info);
      }
    } catch {
      // A cache, not a record: failing to write it only costs a hash next time.
    }
  }
  return hash;
}

export interface SetupCheck {
  /** hre.network.name. */
  network: string;
  keys: KeysRecord;
  /** The circuit's build folder: named in the error, and where the ptau hash is cached. */
  dir?: string;
  insecureDevSetup?: boolean;
  /** What the keys are for, as the user knows it: `the batch-16 circuit of model "x"`. */
  what: string;
  /** The pinned Hermez hashes; only tests replace it, to declare a local file "pinned". */
  pinned?: Readonly<Record<number, string>>;
  progress?: Progress;
}

/** Everything wrong with these keys for a non-local network, each with its own way out; [] when fine. */
export async function setupProblems(c: Omit<SetupCheck, "network" | "insecureDevSetup">): Promise<string[]> {
  const keys = c.keys;
  const problems: string[] = [];
  const setup = keys.setup ?? { kind: "single-party" as const };
  if (setup.kind !== "ceremony") {
    problems.push(
      "its phase 2 is a one-party setup made on the machine that built it, so whoever ran it knows δ and can forge proofs; " +
        "run a ceremony (npx hardhat ceremony:init --circuit <dir>, see README \"Ceremony\")",
    );
  } else {
    if (setup.contributors < MIN_CONTRIBUTORS)
      problems.push(`its ceremony had ${setup.contributors} contributor(s); at least ${MIN_CONTRIBUTORS} are needed, so that no single person holds δ`);
    if (setup.vkHash !== keys.vkHash)
      problems.push(`its verifying key (${keys.vkHash.slice(0, 12)}…) is not the one its ceremony produced (${setup.vkHash.slice(0, 12)}…); run ceremony:verify`);
  }
  const blake = await ptauBlake2b(keys, c.dir);
  if (pinnedPower(blake, c.pinned) === null) {
    problems.push(
      (blake ? "its powers of tau are not a pinned Hermez file (blake2b " + blake.slice(0, 16) + "…)" : "its powers of tau file is not recorded or no longer exists") +
        ", e.g. a development ceremony whose τ is not secret; get the Hermez file with `npx hardhat ptau:fetch --power " +
        `${Math.max(keys.ptau.power, 8)}\` (or FLAVUM_PTAU=<file>) and rebuild, or run the ceremony with --ptau <Hermez file>`,
    );
  }
  return problems;
}

/**
 * Throws unless these keys may be used on `network`. Local networks and --insecure-dev-setup pass
 * without hashing anything (the latter with a warning), so development stays fast.
 */
export async function assertSetupAllowed(c: SetupCheck): Promise<void> {
  if (LOCAL_NETWORKS.includes(c.network)) return;
  const log = c.progress ?? silent;
  if (c.insecureDevSetup) {
    log(`warning: --insecure-dev-setup: ${c.what} is used on "${c.network}" without checking its setup; proofs may be forgeable`);
    return;
  }
  const problems = await setupProblems(c);
  if (!problems.length) return;
  throw new FlavumError(
    `${c.what}${c.dir ? ` (${c.dir})` : ""} cannot be used on network "${c.network}": ${problems.join("; ")}. ` +
      `On a testnet where forged proofs are acceptable, pass --insecure-dev-setup instead`,
    "INSECURE_SETUP",
  );
}
