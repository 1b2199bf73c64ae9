import fs from "fs";
import { InputError } from "./errors";

/** A user's JSON file (`what` names it in errors: "input file", "proof file", "data file"). */
export function readJsonFile(file: string, what: string): unknown {
  if (!fs.existsSync(file)) throw new InputError(`${what} ${file} does not exist`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new InputError(`${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}
