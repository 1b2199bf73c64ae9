/**
 * The EVM side of the rollup state (FlavumState through ethers v6): L1 operations, state batches, claims
 * and exodus, and the event history from which anyone rebuilds the state (src/rollup/stateSync.ts).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Contract } from "ethers";
import { EvmLedger } from "./evm";
import { readDeployments } from "./deployments";
import { FlavumError } from "../errors";
import { decodeOp, StateOp } from "../protocol/stateBatch";
import type { SolidityCalldata } from "../zk";
import type { Progress } from "../zk/log";

export const LOCATIONS = ["none", "queued", "rollup", "exiting", "l1-token"] as const;
export type Location = (typeof LOCATIONS)[number];

export interface DepositRecord {
  dpId: bigint;
  owner: string;
  kind: number;
  contentHash: bigint;
  bits: number;
  values: bigint[];
  asset: string;
  amount: bigint;
}

export interface StateBatchRecord {
  stateBatch: bigint;
  firstOp: bigint;
  count: number;
  status: bigint;
  oldRoot: bigint;
  newRoot: bigint;
  exitRoot: bigint;
  txHash: string;
}

/** Everything L1 says about the state, in order. */
export interface StateHistory {
  ops: StateOp[];
  deposits: Map<bigint, DepositRecord>;
  batches: StateBatchRecord[];
  exodus?: { overdueOp: bigint; root: bigint };
}

export function recordedState(network: string): string {
  const a = readDeployments(network).FlavumState?.address;
  if (!a)
    throw new FlavumError(`no rollup state is recorded for network "${network}" in deployments/${network}.json; run \`npx hardhat rollup:deploy --network ${network}\``, "NO_DEPLOYMENT");
  return a;
}

export class EvmStateLedger {
  private constructor(readonly hre: HardhatRuntimeEnvironment, readonly evm: EvmLedger, readonly state: Contract, readonly fromBlock: number) {}

  static async connect(hre: HardhatRuntimeEnvironment, address: string, signerIndex = 0, progress?: Progress): Promise<EvmStateLedger> {
    const evm = new EvmLedger(hre, signerIndex, progress);
    if ((await hre.ethers.provider.getCode(address)) === "0x")
      throw new FlavumError(`no FlavumState contract at ${address} on network ${hre.network.name} (a restarted node forgets deployments: run rollup:deploy again)`, "NO_DEPLOYMENT");
    const state = (await hre.ethers.getContractAt("FlavumState", address, await evm.signer())) as unknown as Contract;
    const rec = readDeployments(hre.network.name).FlavumState;
    const fromBlock = rec && rec.address.toLowerCase() === address.toLowerCase() ? rec.block : 0;
    return new EvmStateLedger(hre, evm, state, fromBlock);
  }

  get address(): string {
    return this.state.target as string;
  }

  async parameters(): Promise<{ depth: number; opsPerBatch: number; deadline: number }> {
    const [d, n, dl] = (await this.state.parameters()) as bigint[];
    return { depth: Number(d), opsPerBatch: Number(n), deadline: Number(dl) };
  }

  async info(): Promise<{ root: bigint; stateBatches: bigint; opHead: bigint; opTail: bigint; exodus: boolean }> {
    const [root, stateBatches, opHead, opTail, exodus] = await this.state.stateInfo();
    return { root, stateBatches, opHead, opTail, exodus };
  }

  async dataPoint(dpId: bigint) {
    const d = await this.state.dataPoint(dpId);
    return {
      contentHash: d.contentHash as bigint, size: Number(d.size), bits: Number(d.bits), kind: Number(d.kind),
      location: LOCATIONS[Number(d.location)] as Location, exitBatch: d.exitBatch as bigint, exitSlot: Number(d.exitSlot),
    };
  }

  async history(): Promise<StateHistory> {
    const s = this.state;
    const [queued, deposited, batches, exodus] = await Promise.all([
      s.queryFilter(s.filters.PriorityOpQueued(), this.fromBlock),
      s.queryFilter(s.filters.DataPointDeposited(), this.fromBlock),
      s.queryFilter(s.filters.StateBatchSubmitted(), this.fromBlock),
      s.queryFilter(s.filters.ExodusActivated(), this.fromBlock),
    ]);
    const args = (e: unknown) => (e as { args: Record<string, any> }).args;
    const ops: StateOp[] = [];
    for (const e of queued) {
      const a = args(e);
      if (Number(a.opIndex) !== ops.length) throw new FlavumError(`the state contract's events skip operation ${ops.length} (got ${a.opIndex}): the node's history is incomplete`);
      ops.push(decodeOp((a.elements as bigint[]).map(BigInt)));
    }
    const deposits = new Map<bigint, DepositRecord>();
    for (const e of deposited) {
      const a = args(e);
      deposits.set(a.dpId, {
        dpId: a.dpId, owner: a.owner, kind: Number(a.kind), contentHash: a.contentHash, bits: Number(a.bits),
        // `values` is also a method of ethers' Result: read the argument by position.
        values: (a[5] as bigint[]).map(BigInt), asset: a.asset, amount: a.amount,
      });
    }
    const ex = exodus[0] && args(exodus[0]);
    return {
      ops, deposits,
      batches: batches.map((e) => {
        const a = args(e);
        return {
          stateBatch: a.stateBatch, firstOp: a.firstOp, count: Number(a.count), status: a.status, oldRoot: a.oldRoot, newRoot: a.newRoot,
          exitRoot: a.exitRoot, txHash: e.transactionHash,
        };
      }),
      exodus: ex && { overdueOp: ex.overdueOp, root: ex.root },
    };
  }

  /** Sends one state call and returns its receipt; names the call in errors. */
  async send(what: string, call: Promise<unknown>) {
    return this.evm.send(what, call as Promise<any>);
  }

  async submitStateBatch(p: { count: number; newRoot: bigint; exitRoot: bigint; status: bigint; opsCommit: bigint; proof: Omit<SolidityCalldata, "pub">; posted: Uint8Array }) {
    return this.send(`submitting a state batch of ${p.count} operation(s)`, this.state.submitStateBatch(stateBatchArg(p), p.posted));
  }
}

/** FlavumState's StateBatch struct. */
export function stateBatchArg(p: { count: number; newRoot: bigint; exitRoot: bigint; status: bigint; opsCommit: bigint; proof: Omit<SolidityCalldata, "pub"> }) {
  return { count: p.count, newRoot: p.newRoot, exitRoot: p.exitRoot, status: p.status, opsCommit: p.opsCommit, a: p.proof.a, b: p.proof.b, c: p.proof.c };
}
