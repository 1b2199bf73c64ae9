/**
 * The Redis behind the job queue, from a URL. BullMQ is given connection options rather than a
 * client so it owns (and closes) its connections; and a reachability check runs first, because
 * ioredis retries an unreachable server forever and a worker pointed at the wrong port would
 * otherwise sit silent instead of saying so.
 */
import { Redis, type RedisOptions } from "ioredis";
import { FlavumError } from "../errors";

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
export const DEFAULT_QUEUE = "flavum-proofs";

/** BullMQ builds its Redis keys as <prefix>:<queue>:…, so a queue name may not contain ':'. */
export function queueName(name: string | undefined): string {
  const n = name ?? DEFAULT_QUEUE;
  if (!n || n.includes(":")) throw new FlavumError(`queue name "${n}" cannot be used: it must be non-empty and contain no ':'`, "BAD_INPUT");
  return n;
}

export class QueueUrlError extends FlavumError {
  constructor(url: string, why: string) {
    super(`queue URL "${url}" ${why}; expected redis://[user:password@]host[:port][/db] (or rediss:// for TLS)`, "BAD_QUEUE_URL");
  }
}

export function redisOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueUrlError(url, "is not a URL");
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new QueueUrlError(url, `has scheme ${u.protocol.replace(/:$/, "")}`);
  if (!u.hostname) throw new QueueUrlError(url, "names no host");
  const port = u.port ? Number(u.port) : 6379;
  const dbPart = u.pathname.replace(/^\//, "");
  if (dbPart && !/^\d+$/.test(dbPart)) throw new QueueUrlError(url, `has database "${dbPart}", not a number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: dbPart ? Number(dbPart) : 0,
    tls: u.protocol === "rediss:" ? {} : undefined,
    // BullMQ's workers block on Redis commands and require this (they retry on their own).
    maxRetriesPerRequest: null,
  };
}

/** Connects once, without retries, and returns the server's version; a clear error otherwise. */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<string> {
  const client = new Redis({
    ...redisOptions(url), lazyConnect: true, connectTimeout: timeoutMs, retryStrategy: () => null,
    maxRetriesPerRequest: 0, enableOfflineQueue: false,
  });
  // ioredis rejects connect() with a bare "Connection is closed"; the cause (ECONNREFUSED, …) comes as an event.
  let cause: Error | undefined;
  client.on("error", (e: Error) => (cause ??= e));
  try {
    await client.connect();
    const info = await client.info("server");
    return /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
  } catch (e) {
    const why = (cause ?? (e as Error)).message || String(e);
    throw new FlavumError(`cannot reach Redis at ${url}: ${why.replace(/\.$/, "")}. Start redis-server there or give another URL`, "NO_QUEUE");
  } finally {
    client.disconnect();
  }
}
