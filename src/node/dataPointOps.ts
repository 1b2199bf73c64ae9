/**
 * Data-point operations an owner signed, relayed by the node: checked here first (signature, owner,
 * where the data point is) so a bad one is a 4xx and costs no gas, then sent to FlavumState, which
 * checks the signature again and spends the nonce. The node adds no trust: the contract refuses a
 * forged or replayed signature, and the state circuit refuses an operation by a non-owner.
 */
import { getAddress, isAddress, toBeHex } from "ethers";
import { FlavumError, InputError } from "../errors";
import type { EvmStateLedger } from "../chain/evmState";
import { rebuilt } from "../rollup/dataPoints";
import { DataPointOpKind, DATA_POINT_OP_TYPES, dataPointOpSigner, stateDomain } from "../protocol/signedRequest";

export interface SignedDataPointOp {
  op: DataPointOpKind;
  owner: string;
  dpId: bigint;
  to?: string;
  nonce: bigint;
  deadline: bigint;
  signature: string;
}

const int = (what: string, v: unknown): bigint => {
  if (typeof v !== "string" || !/^[0-9]+$/.test(v)) throw new InputError(`${what} must be a non-negative integer as a decimal string, got ${JSON.stringify(v)}`);
  return BigInt(v);
};

/** The request body as an operation, or a 4xx naming the field that is wrong. */
export function parseDataPointOp(body: unknown): SignedDataPointOp {
  const b = body as Record<string, unknown> | undefined;
  if (!b || typeof b !== "object") throw new InputError(`send {"op":"transfer"|"exit","owner","dpId","to"?,"nonce","deadline","signature"} as JSON`);
  if (typeof b.op !== "string" || !(b.op in DATA_POINT_OP_TYPES)) throw new InputError(`op must be one of ${Object.keys(DATA_POINT_OP_TYPES).join(", ")}, got ${JSON.stringify(b.op)}`);
  if (typeof b.owner !== "string" || !isAddress(b.owner)) throw new InputError(`owner must be the signer's address, got ${JSON.stringify(b.owner)}`);
  if (b.op === "transfer" && (typeof b.to !== "string" || !isAddress(b.to) || BigInt(b.to) === 0n)) throw new InputError(`to must be the recipient's (non-zero) address, got ${JSON.stringify(b.to)}`);
  if (typeof b.signature !== "string") throw new InputError(`signature must be the owner's EIP-712 signature (hex); GET /api/eip712 gives the domain and types`);
  return {
    op: b.op as DataPointOpKind, owner: getAddress(b.owner), dpId: int("dpId", b.dpId), to: b.op === "transfer" ? getAddress(b.to as string) : undefined,
    nonce: int("nonce", b.nonce), deadline: int("deadline", b.deadline), signature: b.signature,
  };
}

export async function relayDataPointOp(state: EvmStateLedger, op: SignedDataPointOp): Promise<{ txHash: string; opIndex: string }> {
  const chainId = (await state.hre.ethers.provider.getNetwork()).chainId;
  const signer = dataPointOpSigner(stateDomain(chainId, state.address), op.op, op, op.signature);
  if (signer !== op.owner) throw new FlavumError(`the signature is by ${signer}, not by the owner ${op.owner} it names: it was signed over other values or another domain`, "BAD_SIGNATURE");
  if (op.deadline < BigInt(Math.floor(Date.now() / 1000))) throw new FlavumError(`the operation's deadline ${op.deadline} has passed; sign it again with a later deadline`, "BAD_SIGNATURE");
  if (await state.state.nonceUsed(op.owner, op.nonce)) throw new FlavumError(`${op.owner} already used nonce ${op.nonce}: a signed operation is queued once`, "NONCE_USED");
  const d = await state.dataPoint(op.dpId);
  if (d.location !== "rollup") throw new FlavumError(`data point ${op.dpId} is ${d.location === "none" ? "unknown" : `${d.location}, not in the rollup`}: only a data point in the rollup state moves by a signed operation`, "NOT_FOUND");
  if (op.op === "exit" && d.kind === 1) throw new InputError(`data point ${op.dpId} is common: nobody can withdraw it`);
  const leaf = (await rebuilt(state)).tree.dataPoint(op.dpId);
  if (!leaf || toBeHex(leaf.owner, 20).toLowerCase() !== op.owner.toLowerCase())
    throw new FlavumError(`${op.owner} does not own data point ${op.dpId}${leaf ? ` (${toBeHex(leaf.owner, 20)} does)` : ""}; the state batch would refuse the operation`, "BAD_SIGNATURE");
  const call = op.op === "transfer"
    ? state.state.requestTransferBySig(op.owner, op.dpId, op.to, op.nonce, op.deadline, op.signature)
    : state.state.requestExitBySig(op.owner, op.dpId, op.nonce, op.deadline, op.signature);
  const { tx, receipt } = await state.send(`relaying ${op.owner}'s signed ${op.op} of data point ${op.dpId}`, call);
  const queued = receipt.logs.map((l) => state.state.interface.parseLog(l)).find((l: { name: string } | null) => l?.name === "PriorityOpQueued");
  return { txHash: tx.hash as string, opIndex: String(queued?.args.opIndex) };
}
