/**
 * A development committee for an IPFS deployment run from the command line: the members whose keys are in
 * FLAVUM_DAC_KEYS (comma-separated private keys) run here, each with its own Helia node whose blocks persist
 * under build/rollup/<network>/ipfs/<member>/, beside the sequencer's publishing node. A production
 * committee runs its members elsewhere, each on its own machine; their attestations are the same.
 */
import path from "path";
import { Wallet } from "ethers";
import { FlavumError } from "../errors";
import { repoRoot } from "../zk/paths";
import { startTraceNode, stopTraceNode, TraceNode } from "./ipfs";
import { HeliaIpfsPoster } from "./ipfsPoster";
import type { EvmRollupLedger } from "../chain/evmRollup";

export const DAC_KEYS_ENV = "FLAVUM_DAC_KEYS";

/** Attaches a poster to an IPFS deployment's ledger; returns how to stop its nodes (a no-op otherwise). */
export async function attachLocalCommittee(ledger: EvmRollupLedger, committee: string[], threshold: number): Promise<() => Promise<void>> {
  if ((await ledger.traceStore()) !== "ipfs") return async () => undefined;
  const keys = (process.env[DAC_KEYS_ENV] ?? "").split(",").map((k) => k.trim()).filter(Boolean);
  if (keys.length < threshold)
    throw new FlavumError(
      `this rollup stores traces on IPFS and each batch needs ${threshold} committee attestations: set ${DAC_KEYS_ENV} to the private keys ` +
        `of at least ${threshold} members running here (comma-separated), or run the committee's members as services`,
      "NO_COMMITTEE",
    );
  const wallets = keys.map((k) => new Wallet(k));
  for (const w of wallets)
    if (!committee.some((c) => c.toLowerCase() === w.address.toLowerCase()))
      throw new FlavumError(`${DAC_KEYS_ENV} holds the key of ${w.address}, which is not in the deployment's committee (${committee.join(", ")})`, "BAD_INPUT");
  const base = path.join(repoRoot(), "build", "rollup", ledger.network, "ipfs");
  const nodes: TraceNode[] = [];
  try {
    const publisher = await startTraceNode({ dir: path.join(base, "sequencer") });
    nodes.push(publisher);
    const members = [];
    for (const w of wallets) {
      const node = await startTraceNode({ dir: path.join(base, w.address.toLowerCase()) });
      nodes.push(node);
      members.push({ wallet: w, node });
    }
    ledger.ipfsPoster = new HeliaIpfsPoster(publisher, members, committee, threshold);
  } catch (e) {
    for (const n of nodes) await stopTraceNode(n);
    throw e;
  }
  return async () => {
    for (const n of nodes) await stopTraceNode(n);
  };
}
