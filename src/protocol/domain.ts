/**
 * A rollup's domain id: its identity on every chain it settles on, and what its batch proofs bind
 * (r starts with it) instead of one chain id and contract. It is fixed by the genesis deployment —
 * the primary chain, the deployer and the deployer's nonce then — so every chain deployed together
 * shares it, and a later redeployment (another nonce) gets a new one and never accepts the old
 * deployment's proofs.
 *
 *   domain = keccak256(abi.encode(string "flavum-domain", uint256 chainId, address deployer, uint256 nonce)) mod p
 *
 * (p the BN254 scalar field; 0 is refused by the contract, and keccak giving a multiple of p is negligible.)
 */
import { AbiCoder, keccak256 } from "ethers";
import { FIELD_P } from "../quant/fixed";

export function newDomainId(chainId: bigint, deployer: string, nonce: bigint): bigint {
  const enc = AbiCoder.defaultAbiCoder().encode(["string", "uint256", "address", "uint256"], ["flavum-domain", chainId, deployer, nonce]);
  return BigInt(keccak256(enc)) % FIELD_P;
}
