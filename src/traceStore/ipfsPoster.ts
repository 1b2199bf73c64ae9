/**
 * The IPFS side of a sequencer: publish each batch's trace from its own Helia node and gather the
 * committee's attestations (each member fetches it by CID, checks and pins it, then signs). What
 * FlavumRollup.submitBatchIpfs takes besides the proof.
 */
import type { IpfsPoster } from "../chain/evmRollup";
import { FlavumError } from "../errors";
import { collectSignatures, DacMember } from "./dac";
import { cidDigest, publishTrace, TraceNode } from "./ipfs";

export class HeliaIpfsPoster implements IpfsPoster {
  /**
   * @param publisher the sequencer's trace node
   * @param members the committee members reachable from here (each with its own node and key)
   * @param committee every member's address, as the deployment records it
   * @param threshold how many attestations the deployment needs
   */
  constructor(
    readonly publisher: TraceNode,
    readonly members: DacMember[],
    readonly committee: string[],
    readonly threshold: number,
    readonly timeoutMs = 30_000,
  ) {
    if (!(threshold >= 1 && threshold <= committee.length))
      throw new FlavumError(`a committee of ${committee.length} cannot meet a threshold of ${threshold}`, "BAD_INPUT");
  }

  async post(a: { batchId: bigint; trace: Uint8Array; rollup: string; chainId: bigint }) {
    const cid = await publishTrace(this.publisher, a.trace);
    const res = await collectSignatures(this.members, {
      rollup: a.rollup, chainId: a.chainId, batchId: a.batchId, cid, publisher: this.publisher, threshold: this.threshold, timeoutMs: this.timeoutMs,
    });
    const committee = [...this.committee].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    return { cidDigest: cidDigest(cid), committee, signatures: res.encoded };
  }
}
