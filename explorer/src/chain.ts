/**
 * "Check on chain": the page itself asks the rollup contract, over the chain's JSON-RPC and not
 * through the node, whether an entry is in a settled batch (FlavumRollup.verifyInference). The node
 * only supplies the arguments; what decides is the contract's answer at a block the page names.
 * The RPC must be on the chain the node says it serves, and the rollup address must hold code, or
 * the answer would mean nothing: both are checked first.
 */
import { Contract, FetchRequest, JsonRpcProvider, Network } from "ethers";
import { VERIFY_INFERENCE_ABI } from "./abi";
import type { InclusionProof } from "./types";

export interface ChainTarget {
  rpcUrl: string;
  rollup: string;
  /** The chain the node says it serves (/api/status). */
  chainId: string;
}

export interface CheckOutcome {
  confirmed: boolean;
  block: number;
  chainId: string;
}

const TIMEOUT_MS = 15_000;

export async function verifyOnChain(target: ChainTarget, proof: InclusionProof): Promise<CheckOutcome> {
  const req = new FetchRequest(target.rpcUrl);
  req.timeout = TIMEOUT_MS;
  const network = Network.from(BigInt(target.chainId));
  const provider = new JsonRpcProvider(req, network, { staticNetwork: network, batchMaxCount: 1 });
  try {
    // staticNetwork skips ethers' own detection, so the chain is checked here, with a clear message.
    const actual = BigInt(await provider.send("eth_chainId", []));
    if (actual.toString() !== target.chainId)
      throw new Error(`the RPC at ${target.rpcUrl} is chain ${actual}, but the node's rollup is on chain ${target.chainId}`);
    const block = await provider.getBlockNumber();
    if ((await provider.getCode(target.rollup, block)) === "0x") throw new Error(`there is no contract at ${target.rollup} on chain ${actual} (block ${block})`);
    const rollup = new Contract(target.rollup, VERIFY_INFERENCE_ABI, provider);
    const confirmed: boolean = await rollup.verifyInference(
      BigInt(proof.batchId),
      [BigInt(proof.entry.modelId), BigInt(proof.entry.requestId), BigInt(proof.entry.inputHash), BigInt(proof.entry.outputWord)],
      BigInt(proof.index),
      proof.path.map((p) => BigInt(p)),
      { blockTag: block },
    );
    return { confirmed, block, chainId: actual.toString() };
  } finally {
    provider.destroy();
  }
}
