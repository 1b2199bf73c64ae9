/**
 * Where a rollup stands on each of its chains, and whether they agree: each chain's settlement
 * history (root and count, one call: FlavumRollup.history()), and, when the rollup is anchored in a
 * non-EVM ledger, the anchor's own root and count. Chains agree when every one of them answers with
 * the same root after the same number of batches; a chain that lags or does not answer is named.
 */
import type { ChainMember } from "../chain/chainSet";
import type { AnchorLedger } from "../chain/anchor";

export interface ChainStatus {
  network: string;
  chainId: string;
  root: string;
  batches: number;
  error?: string;
}

export interface RollupStatus {
  domain: string;
  chains: ChainStatus[];
  agree: boolean;
  anchor?: { kind: string; root: string; batches: number };
}

const hex = (v: bigint) => "0x" + v.toString(16);

export async function rollupStatus(members: ChainMember[], anchor?: AnchorLedger): Promise<RollupStatus> {
  const chains: ChainStatus[] = [];
  for (const m of members) {
    try {
      const h = await m.ledger.history();
      chains.push({ network: m.network, chainId: m.chainId.toString(), root: hex(h.root), batches: h.batches });
    } catch (e) {
      chains.push({ network: m.network, chainId: m.chainId.toString(), root: "", batches: -1, error: (e as Error).message.split("\n")[0] });
    }
  }
  const agree = chains.every((c) => !c.error && c.root === chains[0].root && c.batches === chains[0].batches);
  const out: RollupStatus = { domain: hex(members[0].domain), chains, agree };
  if (anchor) {
    const s = await anchor.state();
    out.anchor = { kind: anchor.kind, root: hex(s.root), batches: s.batches };
  }
  return out;
}
