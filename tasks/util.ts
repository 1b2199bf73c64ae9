/**
 * Task plumbing: user errors (FlavumError) become one line on stderr and exit code 1 instead of a
 * stack trace (Hardhat prints stacks for thrown errors whenever CI is set), and snarkjs's worker
 * threads are stopped so the process can exit. Bugs still throw, with their stack.
 */
import path from "path";
import { FlavumError } from "../src/errors";
import { shutdown } from "../src/zk";

export function flavumAction<A, R>(fn: (args: A, hre: any) => Promise<R>) {
  return async (args: A, hre: any): Promise<R | undefined> => {
    try {
      return await fn(args, hre);
    } catch (e) {
      if (!(e instanceof FlavumError)) throw e;
      process.stderr.write(`Error: ${e.message}\n`);
      process.exitCode = 1;
      return undefined;
    } finally {
      await shutdown();
    }
  };
}

/** Paths given on the command line are relative to where the user ran the command. */
export function userPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

export const progress = (msg: string) => process.stderr.write(`${msg}\n`);
