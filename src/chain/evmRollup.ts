/**
 * The rollup ledger on an EVM chain, through ethers v6 and Hardhat's runtime: FlavumRollup and
 * ModelRegistry at known addresses (deployments/<network>.json, or given by the caller).
 */
import fs from "fs";
import path from "path";
import { AbiCoder } from "ethers";
import { repoRoot } from "../zk/paths";
import { TRACE_STORES, TraceStoreMode } from "../traceStore/commitment";
import { sendBlobTx, traceSidecar } from "../traceStore/blob";
import { signerPrivateKey } from "./signerKey";

/** Gas ceiling of a blob batch (verification ~230k, bookkeeping): a blob transaction cannot be estimated. */
const BLOB_BATCH_GAS_LIMIT = 1_500_000n;
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Contract } from "ethers";
import { FlavumError } from "../errors";
import { EvmLedger } from "./evm";
import { readDeployments } from "./deployments";
import { waitForTx } from "./txWait";
import type { Progress } from "../zk/log";
import { REQUEST_STATUS } from "./ledger";
import type {
  BatchSubmission, InferenceProof, ModelRegistration, ModelTraceState, OnchainRequest, OnchainRequestStatus, RollupLedger, RollupState,
  SentTx, SettledBatchEvent, TxOutcome, WaitTxOptions,
} from "./ledger";

export const PROOF_SYSTEM_ID = "groth16-bn254";

export interface RollupAddresses {
  registry: string;
  rollup: string;
}

/** The addresses recorded for this network by rollup:deploy. */
export function recordedRollup(network: string): RollupAddresses {
  const d = readDeployments(network);
  const registry = d.ModelRegistry?.address;
  const rollup = d.FlavumRollup?.address;
  if (!registry || !rollup)
    throw new FlavumError(
      `no rollup is recorded for network "${network}" in deployments/${network}.json; run \`npx hardhat rollup:deploy --network ${network}\`` +
        (network === "hardhat" ? " (the in-process network forgets everything between commands: use `npx hardhat node` and --network localhost, or `npx hardhat demo`)" : ""),
      "NO_DEPLOYMENT",
    );
  return { registry, rollup };
}

/**
 * Publishes a trace to IPFS and gathers the committee's attestations of it for one batch: what an IPFS
 * deployment's sequencer needs besides its proof (src/traceStore/ipfsPoster.ts runs one on Helia nodes).
 */
export interface IpfsPoster {
  post(args: { batchId: bigint; trace: Uint8Array; rollup: string; chainId: bigint }): Promise<{ cidDigest: string; committee: string[]; signatures: string }>;
}

export class EvmRollupLedger implements RollupLedger {
  /** Needed by IPFS deployments to settle a batch. */
  ipfsPoster?: IpfsPoster;
  /** Where blob deployments keep each batch's sidecar (published for whoever rebuilds the trace). */
  blobArchive?: string;
  private store?: TraceStoreMode;
  private binding?: { domain: bigint; chainTag: number };

  private constructor(
    readonly hre: HardhatRuntimeEnvironment,
    readonly evm: EvmLedger,
    readonly registry: Contract,
    readonly rollup: Contract,
    readonly fromBlock: number,
  ) {}

  static async connect(hre: HardhatRuntimeEnvironment, addrs: RollupAddresses, signerIndex = 0, progress?: Progress): Promise<EvmRollupLedger> {
    const evm = new EvmLedger(hre, signerIndex, progress);
    const signer = await evm.signer();
    for (const [what, a] of Object.entries(addrs))
      if ((await hre.ethers.provider.getCode(a)) === "0x")
        throw new FlavumError(`no contract at the recorded ${what} address ${a} on network ${hre.network.name}: redeploy with rollup:deploy`, "NO_DEPLOYMENT");
    const registry = (await hre.ethers.getContractAt("ModelRegistry", addrs.registry, signer)) as unknown as Contract;
    const rollup = (await hre.ethers.getContractAt("FlavumRollup", addrs.rollup, signer)) as unknown as Contract;
    return new EvmRollupLedger(hre, evm, registry, rollup, Number(await rollup.deployBlock()));
  }

  get network(): string {
    return this.hre.network.name;
  }

  async state(): Promise<RollupState> {
    const net = await this.hre.ethers.provider.getNetwork();
    this.binding ??= { domain: (await this.rollup.domain()) as bigint, chainTag: Number(await this.rollup.chainTag()) };
    return { chainId: net.chainId, rollup: await this.rollup.getAddress(), ...this.binding, traceStore: await this.traceStore() };
  }

  async history(): Promise<{ root: bigint; batches: number }> {
    const [root, batches] = (await this.rollup.history()) as [bigint, bigint];
    return { root, batches: Number(batches) };
  }

  async settlements(): Promise<{ chainId: bigint; rollup: string; tag: number }[]> {
    return ((await this.rollup.settlements()) as { chainId: bigint; rollup: string; tag: bigint }[]).map((s) => ({ chainId: s.chainId, rollup: s.rollup, tag: Number(s.tag) }));
  }

  /** The IPFS committee and threshold, as the deployment announced them. */
  async dacCommittee(): Promise<{ committee: string[]; threshold: number }> {
    const [ev] = await this.rollup.queryFilter(this.rollup.filters.TraceStoreConfigured(), this.fromBlock);
    const a = (ev as unknown as { args?: { committee: string[]; threshold: bigint } } | undefined)?.args;
    return { committee: a ? [...a.committee] : [], threshold: Number(a?.threshold ?? 0) };
  }

  async traceStore(): Promise<TraceStoreMode> {
    this.store ??= TRACE_STORES[Number((await this.rollup.traceStore())[0])];
    return this.store;
  }

  async modelTrace(modelId: bigint): Promise<ModelTraceState> {
    const [root, nextLeaf, batches, epoch] = (await this.rollup.modelTrace(modelId)) as bigint[];
    return { root, nextLeaf, batches, epoch };
  }

  async registerModel(m: ModelRegistration): Promise<{ modelId: bigint; txHash: string }> {
    const { ethers } = this.hre;
    const commitment = {
      weightsHash: ethers.toBeHex(m.weightsHash, 32),
      architectureHash: m.architectureHash,
      circuitHash: m.circuitHash,
      vkHash: m.vkHash,
      proofSystem: ethers.keccak256(ethers.toUtf8Bytes(PROOF_SYSTEM_ID)),
    };
    const shape = {
      inputShape: m.inputShape, outputShape: m.outputShape, inputScale: m.inputScale, outputScale: m.outputScale,
      inputBits: m.inputBits, outputBits: m.outputBits, outputCount: m.outputCount, hasLabel: m.hasLabel,
    };
    const sizes = m.verifiers.map((v) => v.batchSize);
    const verifiers = m.verifiers.map((v) => v.address);
    const p = m.provenance;
    const { tx, receipt } = await this.evm.send(
      p ? `publishing ${m.uri} from repository commit ${p.commitId}` : `registering model ${m.uri}`,
      p
        ? this.registry.publish(commitment, shape, m.uri, sizes, verifiers, { repository: p.repository, repoId: p.repoId, commitId: p.commitId, contributorBps: p.contributorBps })
        : this.registry.register(commitment, shape, m.uri, sizes, verifiers),
    );
    for (const log of receipt.logs) {
      const parsed = this.registry.interface.parseLog(log);
      if (parsed?.name === "ModelRegistered") return { modelId: parsed.args.modelId as bigint, txHash: tx.hash };
    }
    throw new Error(`register transaction ${tx.hash} emitted no ModelRegistered event`);
  }

  async deployVerifier(contract: string, key: string, buildId: string): Promise<string> {
    const found = await this.evm.existing(key, buildId);
    if (found) return found.address;
    return (await this.evm.deploy(contract, [], key, buildId)).record.address;
  }

  async verifierOf(modelId: bigint, batchSize: number): Promise<string | undefined> {
    try {
      return (await this.registry.verifierOf(modelId, batchSize)) as string;
    } catch {
      return undefined;
    }
  }

  async sendBatch(b: BatchSubmission, replacing?: SentTx): Promise<SentTx> {
    const mode = await this.traceStore();
    if (mode === "calldata") {
      const overrides = replacing ? await this.replacementFees(replacing) : {};
      const tx = await this.rollup.submitBatch(
        b.modelId, b.batchSize, b.count, b.newRoot, b.batchRoot, b.proof.a, b.proof.b, b.proof.c, b.trace, overrides,
      );
      return { hash: tx.hash as string, nonce: Number(tx.nonce), from: tx.from as string };
    }
    if (b.h === undefined) throw new FlavumError(`a ${mode} batch needs its proven h`, "BAD_INPUT");
    const posted = { modelId: b.modelId, batchSize: b.batchSize, count: b.count, newRoot: b.newRoot, batchRoot: b.batchRoot, a: b.proof.a, b: b.proof.b, c: b.proof.c, h: b.h };
    if (mode === "ipfs") {
      if (!this.ipfsPoster) throw new FlavumError(`this rollup stores traces on IPFS: the sequencer needs a trace node and the committee's attestations (an IPFS poster)`, "NO_POSTER");
      const state = await this.state();
      const batchId = (b.modelId << 64n) | (await this.modelTrace(b.modelId)).batches;
      const att = await this.ipfsPoster.post({ batchId, trace: b.trace, rollup: state.rollup, chainId: state.chainId });
      const tx = await this.rollup.submitBatchIpfs(posted, att.cidDigest, att.committee, att.signatures);
      return { hash: tx.hash as string, nonce: Number(tx.nonce), from: tx.from as string };
    }
    const data = this.rollup.interface.encodeFunctionData("submitBatchBlob", [posted]);
    const sent = await sendBlobTx({
      privateKey: signerPrivateKey(this.hre, this.evm.signerIndex), provider: this.hre.ethers.provider as never,
      to: await this.rollup.getAddress(), data, blobs: await traceSidecar(b.trace, { maxBlobs: 1 }),
      // Nodes estimate gas without the blob (BLOBHASH reads 0 and the call reverts): a fixed ceiling instead.
      gasLimit: BLOB_BATCH_GAS_LIMIT,
    });
    // Nodes keep no blobs retrievable by RPC (and prune them after ~18 days): the sidecar is archived here.
    const archive = this.blobArchive ?? path.join(repoRoot(), "build", "rollup", this.network, "blobs");
    fs.mkdirSync(archive, { recursive: true });
    fs.writeFileSync(path.join(archive, `${sent.hash}.json`), JSON.stringify(sent.sidecar));
    return { hash: sent.hash, from: await (await this.evm.signer()).getAddress() };
  }

  /** The same nonce and fees high enough that nodes accept it as a replacement (geth wants ≥ 10% more on each). */
  private async replacementFees(old: SentTx): Promise<Record<string, bigint | number>> {
    const provider = this.hre.ethers.provider;
    const prev = await provider.getTransaction(old.hash);
    const nonce = prev?.nonce ?? old.nonce;
    if (nonce === undefined)
      throw new FlavumError(`cannot replace transaction ${old.hash}: the node does not know it and its nonce was not recorded`, "TX_UNKNOWN");
    const fee = await provider.getFeeData();
    const up = (x: bigint) => (x * 5n) / 4n + 1n;
    const atLeast = (a: bigint, b: bigint | null) => (b !== null && b > a ? b : a);
    if (prev?.maxFeePerGas != null && prev.maxPriorityFeePerGas != null)
      return { nonce, maxFeePerGas: atLeast(up(prev.maxFeePerGas), fee.maxFeePerGas), maxPriorityFeePerGas: atLeast(up(prev.maxPriorityFeePerGas), fee.maxPriorityFeePerGas) };
    if (prev?.gasPrice != null) return { nonce, gasPrice: atLeast(up(prev.gasPrice), fee.gasPrice) };
    if (fee.maxFeePerGas !== null) return { nonce, maxFeePerGas: up(fee.maxFeePerGas), maxPriorityFeePerGas: up(fee.maxPriorityFeePerGas ?? 0n) };
    return { nonce, gasPrice: up(fee.gasPrice ?? 0n) };
  }

  async waitTx(tx: string | SentTx, opts: WaitTxOptions = {}): Promise<TxOutcome> {
    const sent = typeof tx === "string" ? { hash: tx } : tx;
    const from = sent.from ?? (sent.nonce !== undefined ? await (await this.evm.signer()).getAddress() : undefined);
    const r = await waitForTx(this.hre.ethers.provider, { ...sent, from }, {
      ...this.evm.waitOptions,
      progress: opts.progress ?? this.evm.progress,
      what: opts.what,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
    switch (r.status) {
      case "mined":
        return { status: "ok", gasUsed: r.gasUsed, block: r.block };
      case "reverted":
        return { status: "failed", block: r.block };
      case "pending":
        return { status: "pending", waitedMs: r.waitedMs, nonce: r.nonce };
      case "dropped":
        return { status: "dropped", nonce: r.nonce };
    }
  }

  async settledBatches(modelId?: bigint): Promise<SettledBatchEvent[]> {
    const events = await this.rollup.queryFilter(this.rollup.filters.BatchSubmitted(null, modelId ?? null), this.fromBlock);
    return events.map((e) => {
      const a = (e as unknown as { args: Record<string, bigint> }).args;
      return {
        batchId: a.batchId, modelId: a.modelId, modelBatch: a.modelBatch, firstLeaf: a.firstLeaf, count: Number(a.count), batchSize: Number(a.batchSize),
        oldRoot: a.oldRoot, newRoot: a.newRoot, batchRoot: a.batchRoot, txHash: e.transactionHash,
      };
    });
  }

  async verifyInference(batchId: bigint, p: InferenceProof): Promise<boolean> {
    return this.rollup.verifyInference(batchId, entryOf(p), p.index, p.path) as Promise<boolean>;
  }

  async blockNumber(): Promise<number> {
    return this.hre.ethers.provider.getBlockNumber();
  }

  async onchainRequests(range?: { fromBlock: number; toBlock: number }): Promise<OnchainRequest[]> {
    const events = await this.rollup.queryFilter(this.rollup.filters.InferenceRequested(), Math.max(range?.fromBlock ?? 0, this.fromBlock), range?.toBlock);
    const requests = events.map((e) => {
      const a = (e as unknown as { args: Record<string, unknown> }).args;
      return {
        requestId: a.requestId as bigint, modelId: a.modelId as bigint, inputHash: a.inputHash as bigint,
        input: a.input as string, callback: a.callback as string,
      };
    });
    // A request on a data point carries no input: its values are the data point's, deposited on L1.
    const onDataPoints = requests.filter((r) => r.input === "0x");
    if (onDataPoints.length) {
      const state = await this.hre.ethers.getContractAt("FlavumState", await this.rollup.stateContract());
      for (const r of onDataPoints) {
        const dpId = (await this.rollup.dataPointOfRequest(r.requestId)) as bigint;
        const [dep] = await state.queryFilter(state.filters.DataPointDeposited(dpId), this.fromBlock);
        // `values` is also a method of ethers' Result: the argument is read by position.
        const values = dep ? [...(dep as unknown as { args: bigint[][] }).args[5]] : [];
        r.input = AbiCoder.defaultAbiCoder().encode(["int256[]"], [values]);
      }
    }
    return requests;
  }

  async requestStatus(requestId: bigint): Promise<OnchainRequestStatus> {
    const r = (await this.rollup.requestOf(requestId)) as { status: bigint };
    return REQUEST_STATUS[Number(r.status)] ?? "none";
  }

  async rejectRequest(requestId: bigint, reason: string): Promise<string> {
    const { tx } = await this.evm.send(`rejecting request ${requestId}`, this.rollup.rejectRequest(requestId, reason));
    return tx.hash as string;
  }

  async fulfill(requestId: bigint, p: InferenceProof): Promise<string> {
    // Blob and IPFS batches leave their on-chain requests pending: delivery proves their inclusion.
    const fromBatch = p.batchId !== undefined && (await this.requestStatus(requestId)) === "pending";
    const call = fromBatch ? this.rollup.fulfillFromBatch(p.batchId, entryOf(p), p.index, p.path) : this.rollup.fulfill(requestId, entryOf(p), p.index, p.path);
    const { tx } = await this.evm.send(`fulfilling request ${requestId}`, call);
    return tx.hash as string;
  }
}

function entryOf(p: InferenceProof) {
  return { modelId: p.modelId, requestId: p.requestId, inputHash: p.inputHash, outputWord: p.outputWord };
}
