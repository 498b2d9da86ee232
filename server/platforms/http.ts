// Every platform call goes through here: node:http(s) with keep-alive and a
// timeout, JSON or form bodies, and the three ways a call can end badly kept
// apart — an answer with an error status, no answer at all (outcome
// unknown), or never sent. node:http rather than the built-in fetch: fetch's
// web streams and abort signals cost about a third of the publishing
// runner's CPU per post (tests/bench, README "Benchmarks").
import { randomBytes } from "node:crypto";
import http, { type IncomingHttpHeaders } from "node:http";
import https from "node:https";
import type { Platform } from "../../shared/schema.ts";
import { OutcomeUnknownError, PlatformHttpError, PlatformUnreachableError } from "./errors.ts";

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  bearer?: string;
  basic?: { user: string; password: string };
  json?: unknown;
  form?: Record<string, string | undefined>;
  /** multipart/form-data: text fields and binary parts (X's media APPEND), in this order. */
  multipart?: MultipartField[];
  body?: Uint8Array;
  timeoutMs?: number;
}

export interface MultipartField {
  name: string;
  value: string | Uint8Array;
  /** Binary parts: sent as a file (application/octet-stream unless contentType says). */
  filename?: string;
  contentType?: string;
}

/** A multipart/form-data body (RFC 7578), its boundary random so no part can contain it by chance. */
export function multipartBody(fields: MultipartField[]): { body: Buffer; contentType: string } {
  const boundary = `----aiq${randomBytes(16).toString("hex")}`;
  const chunks: Buffer[] = [];
  for (const f of fields) {
    const file = typeof f.value !== "string";
    const disposition = `form-data; name="${f.name}"${file ? `; filename="${f.filename ?? "blob"}"` : ""}`;
    const type = file ? `\r\nContent-Type: ${f.contentType ?? "application/octet-stream"}` : "";
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`), Buffer.from(f.value), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** What adapters read of an answer's headers (case-insensitive, like fetch's Headers). */
export interface ReplyHeaders {
  get(name: string): string | null;
}

export interface HttpReply {
  status: number;
  headers: ReplyHeaders;
  body: any;
}

class NodeReplyHeaders implements ReplyHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
  }
}

interface RawReply {
  status: number;
  headers: ReplyHeaders;
  bytes: Buffer;
}

class RequestTimeout extends Error {
  override readonly name = "TimeoutError";
}

// Keep-alive, so a burst of publishes reuses connections instead of a TCP (and TLS) handshake each.
// But Node 20's agent keeps an idle socket open forever and ignores the server's `Keep-Alive: timeout=N`
// (measured on 20.20: an idle pooled socket's timeout stays 0). A platform that closes an idle connection
// just as we send on it leaves a publish with no answer (outcome unknown, reconciled late). So idle
// sockets are closed here first, below the shortest keep-alive timeout servers commonly use (Node's own
// default, 5 s). The agent's `timeout` is acted on only for idle sockets (it destroys a free socket; a busy
// one's timeout event is ignored), so a slow answer is still bounded by `send`'s own timer alone.
export const IDLE_SOCKET_MS = 4000;
const agentOptions = { keepAlive: true, maxSockets: 256, timeout: IDLE_SOCKET_MS };
const agents = {
  "http:": new http.Agent(agentOptions),
  "https:": new https.Agent(agentOptions),
};

/** Pooled connections open and idle to `origin` (tests and diagnostics). */
export function idleSockets(origin: string): number {
  const u = new URL(origin);
  const agent = u.protocol === "https:" ? agents["https:"] : agents["http:"];
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  return Object.entries(agent.freeSockets)
    .filter(([name]) => name.startsWith(`${u.hostname}:${port}:`))
    .reduce((n, [, sockets]) => n + (sockets?.length ?? 0), 0);
}

/** One request; rejects with the socket's error or RequestTimeout when no complete answer came in time. */
export function send(url: URL, method: string, headers: Record<string, string>, body: string | Uint8Array | undefined, timeoutMs: number): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === "https:" ? https : http;
    const agent = url.protocol === "https:" ? agents["https:"] : agents["http:"];
    const req = client.request(url, { method, headers, agent });
    const timer = setTimeout(() => {
      // No socket yet, or still connecting: nothing reached the platform, which a timeout mid-answer cannot say.
      if (!req.socket || req.socket.connecting) req.destroy(Object.assign(new Error("connect timeout"), { code: "ECONNTIMEOUT" }));
      else req.destroy(new RequestTimeout("timeout"));
    }, timeoutMs);
    const fail = (err: unknown) => {
      clearTimeout(timer);
      reject(err);
    };
    req.on("error", fail);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", fail);
      // The connection closed before the whole answer arrived.
      res.on("aborted", () => fail(Object.assign(new Error("answer cut off"), { code: "ECONNRESET" })));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: new NodeReplyHeaders(res.headers), bytes: Buffer.concat(chunks) });
      });
    });
    req.end(body);
  });
}

// Errors that mean the request never left this machine or never reached the host.
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNTIMEOUT"]);

export class PlatformHttp {
  constructor(
    readonly platform: Platform,
    readonly timeoutMs: number,
  ) {}

  /** `endpoint` names the call in errors ("publish", "token"…): URLs may carry secrets, so they are never logged. */
  async request(endpoint: string, url: string, o: RequestOptions = {}): Promise<HttpReply> {
    const u = new URL(url);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: "application/json", ...o.headers };
    if (o.bearer) headers.authorization = `Bearer ${o.bearer}`;
    if (o.basic) {
      // RFC 6749 §2.3.1: form-urlencode each part before base64.
      const pair = `${encodeURIComponent(o.basic.user)}:${encodeURIComponent(o.basic.password)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
    }
    let body: string | Uint8Array | undefined;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers["content-type"] = "application/json";
    } else if (o.form) {
      const f = new URLSearchParams();
      for (const [k, v] of Object.entries(o.form)) if (v !== undefined) f.set(k, v);
      body = f.toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else if (o.multipart) {
      const m = multipartBody(o.multipart);
      body = m.body;
      headers["content-type"] = m.contentType;
    } else if (o.body) body = o.body;

    let res: RawReply;
    const timeoutMs = o.timeoutMs ?? this.timeoutMs;
    const started = Date.now();
    try {
      res = await send(u, o.method ?? (body === undefined ? "GET" : "POST"), headers, body, timeoutMs);
    } catch (err) {
      throw this.networkError(endpoint, err, Math.max(0, started + timeoutMs - Date.now()));
    }
    const text = res.bytes.toString("utf8");
    let parsed: unknown = text;
    if (text && /json/i.test(res.headers.get("content-type") ?? "")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (res.status >= 400) throw new PlatformHttpError(this.platform, endpoint, res.status, res.headers, parsed);
    return { status: res.status, headers: res.headers, body: parsed };
  }

  private networkError(endpoint: string, err: unknown, untilDeadlineMs: number): Error {
    const e = err as { name?: string; code?: string };
    if (e?.name === "TimeoutError") return new OutcomeUnknownError(this.platform, endpoint, "timeout");
    const code = e?.code;
    if (code && NOT_SENT.has(code)) return new PlatformUnreachableError(this.platform, endpoint, code);
    // Reset or closed mid-way: the platform may have acted on it.
    return new OutcomeUnknownError(this.platform, endpoint, "connection_lost", untilDeadlineMs);
  }
}
