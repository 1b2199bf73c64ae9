/**
 * Requests a user signs for a node (EIP-712 typed data), so a node accepts only what its signer
 * asked for and a client can prove what it asked. What is signed is what gets proven: the model id
 * and the Poseidon commitment of the quantized input, the very `inputHash` the batch trace holds. The
 * nonce makes a resent request idempotent (one request per signer and nonce), the deadline bounds
 * how long a signature can be used. The domain names the chain and the rollup contract, so a
 * signature for one deployment means nothing to another.
 *
 * The node checks signatures; it does not have to be trusted for results, which are proven.
 */
import { TypedDataDomain, TypedDataField, verifyTypedData } from "ethers";
import { InputError } from "../errors";

export const EIP712_NAME = "Flavum";
export const EIP712_VERSION = "1";

export const INFERENCE_REQUEST_TYPES: Record<string, TypedDataField[]> = {
  InferenceRequest: [
    { name: "modelId", type: "uint256" },
    { name: "inputHash", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

export interface InferenceRequestMessage {
  modelId: bigint;
  inputHash: bigint;
  nonce: bigint;
  /** Unix time in seconds after which the node refuses the signature. */
  deadline: bigint;
}

export function requestDomain(chainId: bigint, rollup: string): TypedDataDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId, verifyingContract: rollup };
}

/** The address that signed the request; a malformed signature is the caller's error. */
export function requestSigner(domain: TypedDataDomain, msg: InferenceRequestMessage, signature: string): string {
  try {
    return verifyTypedData(domain, INFERENCE_REQUEST_TYPES, msg, signature);
  } catch (e) {
    throw new InputError(`the signature cannot be read as an EIP-712 signature (${(e as Error).message.split(" (")[0]}); expected 65 bytes of hex`);
  }
}
