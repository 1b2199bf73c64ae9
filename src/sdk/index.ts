/**
 * @flavum/sdk: what a dApp needs of Flavum without the project itself — input encoding from the
 * registry's layout, EIP-712 request signing, a client of a node's API that waits for proofs and
 * checks them on chain, and typed contracts. packages/sdk/ builds it (npm run build:sdk).
 */
export * from "./client";
export * from "./encodeInput";
export * from "./contracts";
export { EIP712_NAME, EIP712_VERSION, INFERENCE_REQUEST_TYPES, requestDomain, requestSigner, type InferenceRequestMessage } from "../protocol/signedRequest";
export { FlavumError, InputError } from "../errors";
