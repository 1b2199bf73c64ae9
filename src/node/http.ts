/**
 * The node's HTTP plumbing on Node's own http module: routes matched by method and path pattern,
 * JSON in and out (bigints as decimal strings), a size limit on bodies, server-sent events, and static
 * files for the explorer. A user's mistake is a 4xx naming what was wrong; a bug is a 500 that never
 * takes the server down, and no request waits on another's.
 */
import fs from "fs";
import http from "http";
import path from "path";
import type { AddressInfo } from "net";
import { FlavumError } from "../errors";

export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  raw: http.IncomingMessage;
}

export type Handler = (req: ApiRequest, res: http.ServerResponse) => Promise<unknown>;

export interface Route {
  method: "GET" | "POST";
  /** A path like /api/requests/:id. */
  path: string;
  handler: Handler;
}

/** A response already written by the handler (an event stream). */
export const STREAMED = Symbol("streamed");

/** An error with the HTTP status it should be answered with. */
export class HttpError extends FlavumError {
  constructor(readonly status: number, message: string, code = status === 404 ? "NOT_FOUND" : "BAD_REQUEST") {
    super(message, code);
  }
}

const MAX_BODY = 1 << 20;

/** FlavumError codes that mean "no such thing" rather than "bad request". */
const NOT_FOUND = new Set(["NOT_FOUND", "UNKNOWN_REQUEST", "UNKNOWN_MODEL"]);

export const toJson = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

function compile(route: Route): { re: RegExp; names: string[] } {
  const names: string[] = [];
  const re = route.path.replace(/:([a-zA-Z]+)/g, (_m, n: string) => {
    names.push(n);
    return "([^/]+)";
  });
  return { re: new RegExp(`^${re}/?$`), names };
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `the request body is larger than ${MAX_BODY} bytes`, "TOO_LARGE");
    chunks.push(c as Buffer);
  }
  if (!size) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the request body is not JSON (${(e as Error).message}); send application/json`, "BAD_JSON");
  }
}

const MIME: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".map": "application/json" };

function serveStatic(dir: string, urlPath: string, res: http.ServerResponse): boolean {
  const rel = urlPath === "/" ? "index.html" : decodeURIComponent(urlPath).replace(/^\/+/, "");
  const file = path.resolve(dir, rel);
  // Nothing outside the explorer's folder is served, whatever the path says.
  if (!file.startsWith(path.resolve(dir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return false;
  res.writeHead(200, { "content-type": MIME[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
  fs.createReadStream(file).pipe(res);
  return true;
}

export interface ServerOptions {
  host: string;
  port: number;
  routes: Route[];
  /** The explorer's built files, served at / (anything that is not /api). */
  staticDir?: string;
  log?: (line: string) => void;
}

export async function startServer(opts: ServerOptions): Promise<{ server: http.Server; url: string; close: () => Promise<void> }> {
  const routes = opts.routes.map((r) => ({ ...r, ...compile(r) }));
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://node");
    const send = (status: number, body: unknown) => {
      if (res.headersSent) return res.end();
      res.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" });
      res.end(toJson(body));
    };
    try {
      if (req.method === "OPTIONS") {
        res.writeHead(204, { "access-control-allow-origin": "*", "access-control-allow-methods": "GET, POST", "access-control-allow-headers": "content-type" });
        return res.end();
      }
      const candidates = routes.filter((r) => r.re.test(url.pathname));
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        if (candidates.length) throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}; use ${candidates.map((r) => r.method).join(" or ")}`, "METHOD_NOT_ALLOWED");
        if (req.method === "GET" && !url.pathname.startsWith("/api") && opts.staticDir && serveStatic(opts.staticDir, url.pathname, res)) return;
        throw new HttpError(404, `no such endpoint ${req.method} ${url.pathname}; the API is described at /openapi.json`);
      }
      const m = route.re.exec(url.pathname)!;
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      const body = req.method === "POST" ? await readBody(req) : undefined;
      const out = await route.handler({ method: req.method!, path: url.pathname, params, query: url.searchParams, body, raw: req }, res);
      if (out !== STREAMED) send(200, out);
    } catch (e) {
      if (e instanceof HttpError) return send(e.status, { error: { code: e.code, message: e.message } });
      if (e instanceof FlavumError) return send(NOT_FOUND.has(e.code) ? 404 : e.code === "BAD_INPUT" || e.code === "BAD_SIGNATURE" ? 422 : 409, { error: { code: e.code, message: e.message } });
      opts.log?.(`internal error on ${req.method} ${url.pathname}: ${(e as Error).stack ?? e}`);
      send(500, { error: { code: "INTERNAL", message: `internal error: ${(e as Error).message}` } });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}`;
  return {
    server, url,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Event streams never end by themselves.
      server.closeAllConnections();
    }),
  };
}

/** Opens a server-sent-events stream; returns a writer and registers cleanup on disconnect. */
export function eventStream(res: http.ServerResponse, onClose: () => void): (event: string, data: unknown) => void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "access-control-allow-origin": "*" });
  res.write(": flavum node events\n\n");
  const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
  res.on("close", () => {
    clearInterval(ping);
    onClose();
  });
  return (event, data) => res.write(`event: ${event}\ndata: ${toJson(data)}\n\n`);
}
