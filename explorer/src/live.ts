/**
 * The node's event stream (/api/events, server-sent events). The node names every event by its type,
 * and EventSource has no wildcard listener, so the documented types are listened to one by one.
 * EventSource's own "error" is the connection's (the node's failures are "node.error").
 */
import type { NodeEvent } from "./types";

/** The event types docs/openapi.json lists for /api/events. */
export const EVENT_TYPES = [
  "request.accepted", "requests.onchain", "batch.planned", "batch.proving", "batch.proven", "batch.proveFailed",
  "batch.settled", "batch.reverted", "requests.delivered", "state.settled", "datapoint.op", "node.error",
] as const;

export type LiveState = "connecting" | "open" | "reconnecting" | "off";

export interface LiveOptions {
  onEvent(e: NodeEvent): void;
  onState(s: LiveState, detail?: string): void;
}

export function connectLive(opts: LiveOptions): () => void {
  const source = new EventSource("/api/events");
  opts.onState("connecting");
  source.addEventListener("open", () => opts.onState("open"));
  const deliver = (type: string) => (ev: Event) => {
    if (!(ev instanceof MessageEvent) || typeof ev.data !== "string") {
      // EventSource reconnects by itself unless the node refused the stream (a read-only node has none).
      opts.onState(source.readyState === EventSource.CLOSED ? "off" : "reconnecting", source.readyState === EventSource.CLOSED ? "this node sends no events" : undefined);
      return;
    }
    try {
      const e = JSON.parse(ev.data) as NodeEvent;
      opts.onEvent({ ...e, type: e.type ?? type, at: e.at ?? new Date().toISOString() });
    } catch {
      opts.onEvent({ type, at: new Date().toISOString(), message: ev.data });
    }
  };
  for (const t of EVENT_TYPES) source.addEventListener(t, deliver(t));
  source.addEventListener("error", deliver("error"));
  return () => source.close();
}
