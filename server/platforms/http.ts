// Every platform call goes through here: built-in fetch with a timeout, JSON or
// form bodies, and the three ways a call can end badly kept apart — an answer
// with an error status, no answer at all (outcome unknown), or never sent.
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
  body?: Uint8Array;
  timeoutMs?: number;
}

export interface HttpReply {
  status: number;
  headers: Headers;
  body: any;
}

// Errors that mean the request never left this machine or never reached the host.
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

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
    } else if (o.body) body = o.body;

    let res: Response;
    let text: string;
    try {
      res = await fetch(u, {
        method: o.method ?? (body === undefined ? "GET" : "POST"),
        headers,
        body: body as BodyInit | undefined,
        redirect: "manual",
        signal: AbortSignal.timeout(o.timeoutMs ?? this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw this.networkError(endpoint, err);
    }
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

  private networkError(endpoint: string, err: unknown): Error {
    const e = err as { name?: string; cause?: { code?: string; name?: string } };
    if (e?.name === "TimeoutError" || e?.name === "AbortError") {
      return new OutcomeUnknownError(this.platform, endpoint, "timeout");
    }
    const code = e?.cause?.code ?? e?.cause?.name;
    if (code && NOT_SENT.has(code)) return new PlatformUnreachableError(this.platform, endpoint, code);
    // Reset or closed mid-way: the platform may have acted on it.
    return new OutcomeUnknownError(this.platform, endpoint, "connection_lost");
  }
}
