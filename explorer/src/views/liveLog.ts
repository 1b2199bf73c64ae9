/**
 * The live panel: the connection's state and the latest node events, newest first, each in words
 * with a link to what it is about. It is a polite live region, so a screen reader mentions new
 * events without interrupting.
 */
import { h, link, type Child } from "../dom";
import { gas, short, when } from "../format";
import type { LiveState } from "../live";
import type { NodeEvent } from "../types";

const KEEP = 30;

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));

function describe(e: NodeEvent): Child {
  const batch = `model ${str(e.modelId)} batch ${str(e.batch)}`;
  switch (e.type) {
    case "request.accepted":
      return ["request ", link(`#/requests/${str(e.requestId)}`, short(str(e.requestId), 6)), ` accepted for model ${str(e.modelId)}`];
    case "requests.onchain":
      return `${str(e.count)} on-chain request(s) picked up`;
    case "batch.planned":
      return `${batch} planned with ${str(e.count)} request(s)`;
    case "batch.proving":
      return `${batch} proving`;
    case "batch.proven":
      return `${batch} proven${typeof e.proveMs === "number" ? ` in ${(e.proveMs / 1000).toFixed(1)} s` : ""}`;
    case "batch.proveFailed":
      return `${batch} failed to prove: ${str(e.reason)}`;
    case "batch.settled":
      return [link(`#/batches/${str(e.batchId)}`, batch), ` settled (${str(e.count)} inference(s), ${gas(str(e.gasUsed) || null)})`];
    case "batch.reverted":
      return `${batch} refused by the rollup, ${str(e.requeued)} request(s) planned again: ${str(e.reason)}`;
    case "requests.delivered":
      return `${str(e.count)} result(s) delivered on chain`;
    case "state.settled":
      return `state batch ${str(e.stateBatch)} settled (${str(e.operations)} operation(s))`;
    case "node.error":
      return `node error: ${str(e.message)}`;
    case "datapoint.op":
      return `signed ${str(e.op)} of data point ${str(e.dataPoint)} relayed (operation ${str(e.opIndex)})`;
    default:
      return e.type;
  }
}

const STATE_TEXT: Record<LiveState, string> = { connecting: "connecting…", open: "live", reconnecting: "reconnecting…", off: "off" };

export class LiveLog {
  constructor(private readonly list: HTMLElement, private readonly indicator: HTMLElement) {}

  add(e: NodeEvent): void {
    this.list.querySelector(".empty")?.remove();
    this.list.prepend(h("li", { "data-event-type": e.type, class: e.type === "node.error" || e.type.endsWith("Failed") || e.type.endsWith("reverted") ? "event-bad" : null },
      when(e.at), " ", h("span", { class: "event-type" }, e.type), " ", h("span", {}, describe(e))));
    while (this.list.children.length > KEEP) this.list.lastElementChild!.remove();
  }

  state(s: LiveState, detail?: string): void {
    this.indicator.dataset.state = s;
    this.indicator.textContent = detail ? `${STATE_TEXT[s]} (${detail})` : STATE_TEXT[s];
  }
}
