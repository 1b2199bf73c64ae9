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

/**
 * Data-point operations an owner signs for anyone (a node) to relay to FlavumState
 * (requestTransferBySig / requestExitBySig). The contract checks the signature and spends the nonce;
 * the state circuit still proves the signer owns the data point when the operation is applied.
 */
export const STATE_EIP712_NAME = "FlavumState";

export const DATA_POINT_OP_TYPES = {
  transfer: { Transfer: [{ name: "dpId", type: "uint256" }, { name: "to", type: "address" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }] },
  exit: { Exit: [{ name: "dpId", type: "uint256" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }] },
} as const satisfies Record<string, Record<string, TypedDataField[]>>;

export type DataPointOpKind = keyof typeof DATA_POINT_OP_TYPES;

export interface DataPointOpMessage {
  dpId: bigint;
  to?: string;
  nonce: bigint;
  deadline: bigint;
}

export function stateDomain(chainId: bigint, state: string): TypedDataDomain {
  return { name: STATE_EIP712_NAME, version: EIP712_VERSION, chainId, verifyingContract: state };
}

/** The typed-data types and message of one operation (what the owner signs). */
export function dataPointOpTypedData(op: DataPointOpKind, m: DataPointOpMessage): { types: Record<string, TypedDataField[]>; message: Record<string, unknown> } {
  const types = DATA_POINT_OP_TYPES[op] as unknown as Record<string, TypedDataField[]>;
  if (op === "transfer") {
    if (!m.to) throw new InputError(`a transfer names its recipient: "to" is missing`);
    return { types, message: { dpId: m.dpId, to: m.to, nonce: m.nonce, deadline: m.deadline } };
  }
  return { types, message: { dpId: m.dpId, nonce: m.nonce, deadline: m.deadline } };
}

export function dataPointOpSigner(domain: TypedDataDomain, op: DataPointOpKind, m: DataPointOpMessage, signature: string): string {
  const { types, message } = dataPointOpTypedData(op, m);
  try {
    return verifyTypedData(domain, types, message, signature);
  } catch (e) {
    throw new InputError(`the signature cannot be read as an EIP-712 signature (${(e as Error).message.split(" (")[0]}); expected 65 bytes of hex`);
  }
}
