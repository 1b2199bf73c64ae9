/**
 * Which witness generator a prover uses for a job: the circuit's native C++ one when it is built
 * (src/zk/nativeWitness.ts: the same bytes, ~10× faster) and FLAVUM_WITNESS allows it, else the
 * WebAssembly one. With `build`, a prover builds a missing native generator the first time it meets a
 * circuit (once, in the background of that proof's wasm witness), so every later proof is native.
 * A failed build is reported and the prover stays on wasm: a slower proof beats none.
 */
import path from "path";
import { computeWitness, nativeExecutable, nativeToolchain, witnessSetting, buildNativeWitness } from "../zk/nativeWitness";
import { KEY_FILES } from "../zk/keys";
import { silent, type Progress } from "../zk/log";
import type { WitnessFn } from "./warmProver";

/** A circuit's build folder and base name, from its wasm path (<dir>/circuit/<base>_js/<base>.wasm). */
export function circuitOfWasm(wasm: string): { dir: string; base: string } | undefined {
  const jsDir = path.dirname(path.resolve(wasm));
  const circuitDir = path.dirname(jsDir);
  const base = path.basename(wasm, ".wasm");
  if (path.basename(jsDir) !== `${base}_js` || path.basename(circuitDir) !== KEY_FILES.circuitDir) return undefined;
  return { dir: path.dirname(circuitDir), base };
}

export function witnessChooser(opts: { build?: boolean; progress?: Progress } = {}): WitnessFn {
  const log = opts.progress ?? silent;
  const builds = new Map<string, "building" | "done" | "failed">();
  return async (wasm, input) => {
    const ref = circuitOfWasm(wasm);
    const native = ref !== undefined && witnessSetting() !== "wasm";
    let exe = native ? nativeExecutable(ref!) : undefined;
    if (native && !exe && opts.build && nativeToolchain().ok && !builds.has(wasm)) {
      builds.set(wasm, "building");
      log(`building the native witness generator of ${ref!.base} (once per circuit; wasm witnesses meanwhile)`);
      buildNativeWitness(ref!, { progress: log }).then(
        (b) => {
          builds.set(wasm, "done");
          log(`native witness generator of ${ref!.base} ready: ${b.exe}`);
        },
        (e) => {
          builds.set(wasm, "failed");
          log(`native witness generator of ${ref!.base} could not be built, staying on wasm: ${(e as Error).message.split("\n")[0]}`);
        },
      );
    }
    // While it is being built, its half-written folder is not to be run.
    if (builds.get(wasm) === "building") exe = undefined;
    return computeWitness(wasm, exe, input);
  };
}
