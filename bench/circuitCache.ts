/**
 * Compile + setup of a benchmark-only circuit (baselines, corpus models) under build/bench/, reusing
 * the previous run's r1cs, wasm and keys while the circuit source is unchanged.
 */
import fs from "fs";
import path from "path";
import { compileCircuit, Progress, R1csInfo, readR1csInfo, resolvePtau, setup, sourceHash } from "../src/zk";

export interface CachedCircuit {
  dir: string;
  r1cs: string;
  wasm: string;
  zkey: string;
  vkeyFile: string;
  info: R1csInfo;
  reused: boolean;
}

export async function compileCached(source: string, dir: string, base: string, log: Progress): Promise<CachedCircuit> {
  fs.mkdirSync(dir, { recursive: true });
  const main = path.join(dir, `${base}.circom`);
  const r1cs = path.join(dir, `${base}.r1cs`);
  const wasm = path.join(dir, `${base}_js`, `${base}.wasm`);
  const zkey = path.join(dir, `${base}.zkey`);
  const vkeyFile = path.join(dir, "verification_key.json");
  const stamp = path.join(dir, "source.sha256");
  // The same build id as src/zk/keys: the source and the compiler flags.
  const hash = sourceHash(source);
  const reused = fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === hash && fs.existsSync(r1cs) && fs.existsSync(wasm);
  if (!reused) {
    for (const f of [stamp, zkey, vkeyFile]) fs.rmSync(f, { force: true });
    fs.writeFileSync(main, source);
    await compileCircuit(main, dir, { progress: log });
    fs.writeFileSync(stamp, hash);
  } else {
    log("circuit unchanged since the last run: reusing it");
  }
  return { dir, r1cs, wasm, zkey, vkeyFile, info: readR1csInfo(r1cs), reused };
}

/** Groth16 keys for the circuit (kept beside it), made only when missing. */
export async function setupCached(c: CachedCircuit, power: number, name: string, log: Progress): Promise<void> {
  if (fs.existsSync(c.zkey) && fs.existsSync(c.vkeyFile)) return;
  const ptau = await resolvePtau(power, { progress: log });
  await setup(c.r1cs, ptau.file, c.zkey, { progress: log, name });
}
