/**
 * The "Check on chain" button of an inference and its answer. The answer outlives a re-render (a
 * live refresh rebuilds the view while a check may be running), so it is kept here by request and
 * painted into whichever panel for that request is on the page when the check ends.
 *
 * Before asking the chain, the panel makes sure the node's `proof` is about what the page shows
 * (same request, model, input commitment, output word and batch): a proof of some other entry
 * being true on chain would say nothing about this one.
 */
import { verifyOnChain, type ChainTarget } from "../chain";
import { h } from "../dom";
import type { InferenceRequest } from "../types";

type State =
  | { kind: "idle" }
  | { kind: "running"; target: ChainTarget }
  | { kind: "confirmed" | "not-confirmed"; text: string; detail: string }
  | { kind: "error"; detail: string };

const states = new Map<string, State>();

function mismatch(r: InferenceRequest): string | undefined {
  const p = r.proof!;
  const pairs: [string, string | undefined, string][] = [
    ["request id", r.requestId, p.entry.requestId], ["model id", r.modelId, p.entry.modelId],
    ["input commitment", r.inputHash, p.entry.inputHash], ["output word", r.outputWord, p.entry.outputWord], ["batch", r.batch, p.batchId],
  ];
  const bad = pairs.filter(([, shown, proven]) => shown !== undefined && shown !== proven).map(([what]) => what);
  return bad.length ? `the node's proof is about another entry than the one shown (${bad.join(", ")} differ)` : undefined;
}

function answer(state: State): HTMLElement {
  const out = h("output", { id: "check-result", "data-testid": "check-result", "data-state": state.kind, role: "status", "aria-live": "polite", class: `check check-${state.kind}` });
  switch (state.kind) {
    case "idle":
      out.append("Not checked yet.");
      break;
    case "running":
      out.append(`Asking ${state.target.rollup} on ${state.target.rpcUrl} …`);
      break;
    case "confirmed":
    case "not-confirmed":
      out.append(h("strong", {}, h("span", { "aria-hidden": "true" }, state.kind === "confirmed" ? "✓ " : "✗ "), state.text), h("span", { class: "check-detail" }, state.detail));
      break;
    case "error":
      out.append(h("strong", {}, "Could not check"), h("span", { class: "check-detail" }, state.detail));
  }
  return out;
}

function paint(requestId: string): void {
  const panel = document.querySelector<HTMLElement>(`[data-check-request="${CSS.escape(requestId)}"]`);
  const state = states.get(requestId) ?? { kind: "idle" };
  panel?.querySelector("output")?.replaceWith(answer(state));
  const button = panel?.querySelector<HTMLButtonElement>("button");
  if (button) button.disabled = state.kind === "running";
}

async function run(r: InferenceRequest, target: () => ChainTarget): Promise<void> {
  const t = target();
  const set = (s: State) => {
    states.set(r.requestId, s);
    paint(r.requestId);
  };
  if (!t.rpcUrl) return set({ kind: "error", detail: "no JSON-RPC URL: the node does not say where its chain is; enter one under Chain above" });
  const wrong = mismatch(r);
  if (wrong) return set({ kind: "not-confirmed", text: "NOT confirmed", detail: wrong });
  set({ kind: "running", target: t });
  try {
    const res = await verifyOnChain(t, r.proof!);
    const said = `FlavumRollup ${t.rollup}.verifyInference returned ${res.confirmed} at block ${res.block} of chain ${res.chainId} (asked ${t.rpcUrl} from this page)`;
    set(res.confirmed
      ? { kind: "confirmed", text: "confirmed on chain", detail: said }
      : { kind: "not-confirmed", text: "NOT confirmed", detail: `${said}: this entry is not in that settled batch` });
  } catch (e) {
    const m = (e as { shortMessage?: string; message?: string }).shortMessage ?? (e as Error).message;
    // A browser reports a refused cross-origin request as a bare network failure.
    const hint = /fetch|network/i.test(m) ? ` — is ${t.rpcUrl} reachable from this browser, and does it allow requests from ${location.origin} (CORS)?` : "";
    set({ kind: "error", detail: `${m}${hint}` });
  }
}

export function checkPanel(r: InferenceRequest, target: () => ChainTarget): HTMLElement {
  const ready = Boolean(r.proof);
  const state = states.get(r.requestId) ?? { kind: "idle" };
  return h("section", { class: "check-panel", "data-check-request": r.requestId, "aria-labelledby": "check-heading" },
    h("h2", { id: "check-heading" }, "Check on chain"),
    h("p", {}, ready
      ? "Calls FlavumRollup.verifyInference(batchId, entry, index, path) with the values above, from this browser straight to the chain's JSON-RPC: the node is not asked."
      : `Possible once the request's batch is settled (it is ${r.status}).`),
    h("button", { type: "button", id: "check-on-chain", "data-testid": "check-on-chain", disabled: !ready || state.kind === "running", onclick: () => void run(r, target) }, "Check on chain"),
    answer(state),
  );
}
