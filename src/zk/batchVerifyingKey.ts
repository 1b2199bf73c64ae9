/**
 * snarkjs verifying keys as the `Groth16Batch.VerifyingKey` struct (contracts/libraries/Groth16Batch.sol).
 */
import { AbiCoder, keccak256 } from "ethers";
import { InputError } from "../errors";
import type { VerificationKey } from "./snarkjs";

type G1 = [bigint, bigint];
type G2 = [[bigint, bigint], [bigint, bigint]];

/** The struct's values, ready for an ethers v6 call or constructor. */
export interface BatchVerifyingKey {
  alpha: G1;
  beta: G2;
  gamma: G2;
  delta: G2;
  /** IC_0 … IC_m for m public inputs. */
  ic: G1[];
}

/** The struct's ABI type, for encoding it off chain exactly as `abi.encode(vk)` does. */
export const BATCH_VERIFYING_KEY_ABI = "tuple(uint256[2] alpha, uint256[2][2] beta, uint256[2][2] gamma, uint256[2][2] delta, uint256[2][] ic)";

const bad = (what: string) => new InputError(`not a snarkjs Groth16 BN254 verification key: ${what}`);

function field(v: unknown, what: string): bigint {
  if (typeof v !== "string" || !/^[0-9]+$/.test(v)) throw bad(`${what} is ${JSON.stringify(v)}, expected a decimal string`);
  return BigInt(v);
}

// snarkjs writes points in Jacobian form with Z normalised to 1; any other Z would be a different point.
function g1(v: unknown, what: string): G1 {
  if (!Array.isArray(v) || v.length !== 3) throw bad(`${what} is not a G1 point [x, y, z]`);
  if (field(v[2], `${what}.z`) !== 1n) throw bad(`${what} is not affine (z ≠ 1)`);
  return [field(v[0], `${what}.x`), field(v[1], `${what}.y`)];
}

function g2(v: unknown, what: string): G2 {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((c) => Array.isArray(c) && c.length === 2)) {
    throw bad(`${what} is not a G2 point [[x_re, x_im], [y_re, y_im], [z_re, z_im]]`);
  }
  const [x, y, z] = v as unknown[][];
  if (field(z[0], `${what}.z`) !== 1n || field(z[1], `${what}.z`) !== 0n) throw bad(`${what} is not affine (z ≠ 1)`);
  // EIP-197 reads an Fp2 element as (imaginary, real); snarkjs stores (real, imaginary).
  return [
    [field(x[1], `${what}.x_im`), field(x[0], `${what}.x_re`)],
    [field(y[1], `${what}.y_im`), field(y[0], `${what}.y_re`)],
  ];
}

/**
 * The `Groth16Batch.VerifyingKey` values of a snarkjs `verification_key.json` (the parsed object).
 * G2 points (β, γ, δ) come out in the pairing precompile's order, each Fp2 coordinate as
 * (imaginary, real), which is the reverse of snarkjs's JSON; G1 points (α, IC_j) are (x, y).
 * Proofs need no such step here: `solidityCalldata` already swaps B.
 * @throws InputError when the key is not Groth16 on BN254, its points are not affine, or it has
 * other than nPublic + 1 IC points.
 */
export function verifyingKeyCalldata(vkeyJson: VerificationKey): BatchVerifyingKey {
  if (vkeyJson.protocol !== "groth16") throw bad(`protocol is ${JSON.stringify(vkeyJson.protocol)}`);
  if (vkeyJson.curve !== "bn128") throw bad(`curve is ${JSON.stringify(vkeyJson.curve)}`);
  const ic = vkeyJson.IC;
  if (!Array.isArray(ic) || ic.length !== vkeyJson.nPublic + 1) {
    throw bad(`IC has ${Array.isArray(ic) ? ic.length : "no"} points for nPublic = ${vkeyJson.nPublic} (expected nPublic + 1)`);
  }
  return {
    alpha: g1(vkeyJson.vk_alpha_1, "vk_alpha_1"),
    beta: g2(vkeyJson.vk_beta_2, "vk_beta_2"),
    gamma: g2(vkeyJson.vk_gamma_2, "vk_gamma_2"),
    delta: g2(vkeyJson.vk_delta_2, "vk_delta_2"),
    ic: ic.map((p, j) => g1(p, `IC[${j}]`)),
  };
}

/** `Groth16Batch.hashKey` off chain: keccak256 of the key's ABI encoding, as a 0x-prefixed hex string. */
export function verifyingKeyHash(vk: BatchVerifyingKey): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode([BATCH_VERIFYING_KEY_ABI], [[vk.alpha, vk.beta, vk.gamma, vk.delta, vk.ic]]));
}
