/**
 * Task plumbing: user errors (FlavumError) become one line on stderr and exit code 1 instead of a
 * stack trace (Hardhat prints stacks for thrown errors whenever CI is set), and snarkjs's worker
 * threads are stopped so the process can exit. Bugs still throw, with their stack.
 */
import path from "path";
import { FlavumError } from "../src/errors";
import { shutdown } from "../src/zk";

export interface ActionOptions {
  /** The task deploys or calls contracts: compile them first, since a fresh clone has no artifacts. */
  artifacts?: boolean;
  /** The task reads what an earlier command left on chain, which the in-process network forgets. */
  persistent?: boolean;
}

/**
 * Compile the contracts with anything the compiler or its plugins print (TypeChain's "Generating
 * typings…") sent to stderr: stdout carries the command's result, which `--json` callers parse.
 */
export async function compileContracts(hre: any): Promise<void> {
  await withStdoutOnStderr(() => hre.run("compile", { quiet: true }));
}

/** Runs `fn` with console.log sent to stderr, keeping stdout for the command's result (`--json`). */
export async function withStdoutOnStderr<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = (...a: unknown[]) => console.error(...a);
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

export function flavumAction<A, R>(fn: (args: A, hre: any) => Promise<R>, opts: ActionOptions = {}) {
  return async (args: A, hre: any): Promise<R | undefined> => {
    try {
      checkNetwork(hre, opts, (args as { chains?: string } | undefined)?.chains !== undefined);
      if (opts.artifacts || opts.persistent) await compileContracts(hre);
      return await fn(args, hre);
    } catch (e) {
      const err = userError(e, hre);
      if (!err) throw e;
      process.stderr.write(`Error: ${err.message}\n`);
      process.exitCode = 1;
      return undefined;
    } finally {
      await shutdown();
    }
  };
}

function checkNetwork(hre: any, opts: ActionOptions, chains = false): void {
  const name: string = hre.network.name;
  if (name === "remote" && !(process.env.FLAVUM_RPC_URL && process.env.FLAVUM_PRIVATE_KEY))
    throw new FlavumError(
      `--network remote needs FLAVUM_RPC_URL (the chain's JSON-RPC URL) and FLAVUM_PRIVATE_KEY (the hex private key of the ` +
        `sending account); missing: ${["FLAVUM_RPC_URL", "FLAVUM_PRIVATE_KEY"].filter((v) => !process.env[v]).join(", ")}`,
      "NO_NETWORK",
    );
  // --chains names its networks itself (src/chain/networks.ts).
  if (opts.persistent && name === "hardhat" && !chains)
    throw new FlavumError(
      `${taskName(hre)} needs a persistent chain, but no --network was given and the in-process ` +
        `"hardhat" network forgets everything when a command ends. Start \`npx hardhat node\` in another terminal and add ` +
        `--network localhost (or use --network remote); \`npx hardhat demo\` runs the whole flow in one process`,
      "NEEDS_PERSISTENT_NETWORK",
    );
}

/** The task the user typed (Hardhat does not hand it to the action). */
function taskName(hre: any): string {
  return process.argv.slice(2).find((a) => hre.tasks?.[a] !== undefined) ?? "this command";
}

/** The user-facing form of an error, or undefined for a bug (which keeps its stack). */
function userError(e: unknown, hre: any): FlavumError | undefined {
  if (e instanceof FlavumError) return e;
  const hh = e as { _isHardhatError?: boolean; number?: number };
  if (hh?._isHardhatError && hh.number === 108) {
    const url = hre.network.config?.url ?? "its URL";
    return new FlavumError(
      `cannot reach the ${hre.network.name} node at ${url}: start one with \`npx hardhat node\` in another terminal` +
        (hre.network.name === "localhost" ? " (or point FLAVUM_RPC_URL at a running node)" : ""),
      "NO_NODE",
    );
  }
  return undefined;
}

/** Paths given on the command line are relative to where the user ran the command. */
export function userPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

export const progress = (msg: string) => process.stderr.write(`${msg}\n`);
