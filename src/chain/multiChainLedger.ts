/**
 * One rollup ledger over several chains of one domain, for the sequencer: it settles on the primary
 * chain (the first of `--chains`), and hears and answers every chain's on-chain requests, routed by
 * the chain tag their ids carry. The sequencer does not know there is more than one chain; the other
 * chains get each settled batch from src/rollup/chainMirror.ts, in the primary's order.
 */
import { FlavumError } from "../errors";
import { OFFCHAIN_REQUEST_BASE } from "../protocol/batch";
import type { ChainMember } from "./chainSet";
import type {
  BatchSubmission, InferenceProof, ModelRegistration, ModelTraceState, OnchainRequest, OnchainRequestStatus, RollupLedger, RollupState,
  SentTx, SettledBatchEvent, TxOutcome, WaitTxOptions,
} from "./ledger";

const TAG_SHIFT = 47n;

export class MultiChainLedger implements RollupLedger {
  /** Per secondary chain, the last block whose requests were read (block numbers are each chain's own). */
  private readonly scanned = new Map<string, number>();

  constructor(readonly members: ChainMember[]) {
    if (!members.length) throw new FlavumError("a multi-chain ledger needs at least one chain", "BAD_INPUT");
  }

  get primary(): ChainMember {
    return this.members[0];
  }

  get network(): string {
    return this.primary.network;
  }

  /** The chain whose contract opened an on-chain request (by the tag in its id). */
  chainOf(requestId: bigint): ChainMember {
    if (requestId >= OFFCHAIN_REQUEST_BASE) throw new FlavumError(`request ${requestId} is an off-chain request: it belongs to no chain`, "BAD_INPUT");
    const tag = Number(requestId >> TAG_SHIFT);
    const m = this.members.find((x) => x.tag === tag);
    if (!m) throw new FlavumError(`request ${requestId} carries chain tag ${tag}, and none of ${this.members.map((x) => `${x.network} (tag ${x.tag})`).join(", ")} has it`, "UNKNOWN_REQUEST");
    return m;
  }

  state(): Promise<RollupState> {
    return this.primary.ledger.state();
  }
  modelTrace(modelId: bigint): Promise<ModelTraceState> {
    return this.primary.ledger.modelTrace(modelId);
  }
  registerModel(_m: ModelRegistration): Promise<{ modelId: bigint; txHash: string }> {
    throw new FlavumError("models of a multi-chain rollup are registered on every chain by src/rollup/multiChainModels.ts, not through the sequencer's ledger", "BAD_INPUT");
  }
  deployVerifier(contract: string, key: string, buildId: string): Promise<string> {
    return this.primary.ledger.deployVerifier(contract, key, buildId);
  }
  verifierOf(modelId: bigint, batchSize: number): Promise<string | undefined> {
    return this.primary.ledger.verifierOf(modelId, batchSize);
  }
  sendBatch(b: BatchSubmission, replacing?: SentTx): Promise<SentTx> {
    return this.primary.ledger.sendBatch(b, replacing);
  }
  waitTx(tx: string | SentTx, opts?: WaitTxOptions): Promise<TxOutcome> {
    return this.primary.ledger.waitTx(tx, opts);
  }
  settledBatches(modelId?: bigint): Promise<SettledBatchEvent[]> {
    return this.primary.ledger.settledBatches(modelId);
  }
  verifyInference(batchId: bigint, p: InferenceProof): Promise<boolean> {
    return this.primary.ledger.verifyInference(batchId, p);
  }
  history(): Promise<{ root: bigint; batches: number }> {
    return this.primary.ledger.history();
  }
  settlements(): Promise<{ chainId: bigint; rollup: string; tag: number }[]> {
    return this.primary.ledger.settlements();
  }
  blockNumber(): Promise<number> {
    return this.primary.ledger.blockNumber();
  }

  /**
   * The primary's requests in the range asked for, and every other chain's since the last read (all
   * of them when the range starts at block 0, the sequencer's full scan).
   */
  async onchainRequests(range?: { fromBlock: number; toBlock: number }): Promise<OnchainRequest[]> {
    const out = await this.primary.ledger.onchainRequests(range);
    const full = !range || range.fromBlock === 0;
    for (const m of this.members.slice(1)) {
      const head = await m.ledger.blockNumber();
      const from = full ? 0 : (this.scanned.get(m.network) ?? -1) + 1;
      if (from <= head) out.push(...(await m.ledger.onchainRequests({ fromBlock: from, toBlock: head })));
      this.scanned.set(m.network, head);
    }
    return out;
  }
  requestStatus(requestId: bigint): Promise<OnchainRequestStatus> {
    return this.chainOf(requestId).ledger.requestStatus(requestId);
  }
  rejectRequest(requestId: bigint, reason: string): Promise<string> {
    return this.chainOf(requestId).ledger.rejectRequest(requestId, reason);
  }
  fulfill(requestId: bigint, p: InferenceProof): Promise<string> {
    return this.chainOf(requestId).ledger.fulfill(requestId, p);
  }
}
