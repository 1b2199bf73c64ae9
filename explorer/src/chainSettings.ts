/**
 * Where "Check on chain" asks: the header's Chain form, filled with what the node says (/api/status)
 * and left for the reader to change — the check is worth as much as the RPC it asks, so a reader who
 * runs their own node points it there.
 */
import type { ChainTarget } from "./chain";
import type { Status } from "./types";

export function bindChainSettings(status: Status): () => ChainTarget {
  const rpc = document.getElementById("rpc-url") as HTMLInputElement;
  const rollup = document.getElementById("rollup-address") as HTMLInputElement;
  const summary = document.getElementById("chain-summary")!;
  rpc.value = status.rpcUrl ?? "";
  rollup.value = status.rollup;
  const show = () => {
    summary.textContent = `${status.network} · chain ${status.chainId}${rpc.value ? ` · ${rpc.value}` : " · no RPC URL"}`;
  };
  rpc.addEventListener("input", show);
  document.getElementById("chain-form")!.addEventListener("submit", (e) => e.preventDefault());
  show();
  return () => ({ rpcUrl: rpc.value.trim(), rollup: rollup.value.trim(), chainId: status.chainId });
}
