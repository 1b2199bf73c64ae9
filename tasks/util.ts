/**
 * Task plumbing: user errors (FlavumError) become a one-line Hardhat error and a non-zero exit
 * instead of a stack trace, and snarkjs's worker threads are stopped so the process can exit.
 */
import { HardhatPluginError } from "hardhat/plugins";
import path from "path";
import { FlavumError } from "../src/errors";
import { shutdown } from "../src/zk";

export function flavumAction<A, R>(fn: (args: A, hre: any) => Promise<R>) {
  return async (args: A, hre: any): Promise<R> => {
    try {
      return await fn(args, hre);
    } catch (e) {
      if (e instanceof FlavumError) throw new HardhatPluginError("flavum", e.message);
      throw e;
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
