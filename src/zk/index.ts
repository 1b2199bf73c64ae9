/** Flavum's proving toolchain: circom compile, powers of tau, Groth16 setup/prove/verify, verifiers. */
export * from "./log";
export { resolvePtau, powerFor, MAX_POWER } from "./ptau";
export type { PtauSource, ResolvePtauOptions, ResolvedPtau } from "./ptau";
export { readPtauInfo } from "./ptauHeader";
export type { PtauInfo } from "./ptauHeader";
export { readR1csInfo } from "./r1csHeader";
export type { R1csInfo } from "./r1csHeader";
export { compileCircuit, compileCpp, circom2Cli, CircomCompileError } from "./circom";
export type { CompileOptions, CompiledCircuit } from "./circom";
export { setup, witness, prove, verify, solidityCalldata, shutdown, WitnessError, VKEY_FILE } from "./groth16";
export type { Groth16Proof, VerificationKey, ProveResult, SolidityCalldata, SetupOptions } from "./groth16";
export { exportVerifier, renderVerifier } from "./verifierContract";
export { HERMEZ_BLAKE2B, hermezFileName, hermezUrl } from "./hermez";
export { devPtauName } from "./devCeremony";
export { buildCircuitKeys, replaceDirAtomically, sourceHash, wasmPath, KEY_FILES } from "./keys";
export type { CircuitKeys } from "./keys";
export { vkHash, shortHash } from "./vkHash";
export {
  nativeToolchain, buildNativeWitness, nativeWitness, nativeExecutable, nativePaths, witnessMode, witnessSetting, computeWitness, NATIVE_INFO,
} from "./nativeWitness";
export type { NativeToolchain, NativeBuild, NativeOptions, NativePaths, CircuitRef, WitnessBackend, WitnessSetting } from "./nativeWitness";
