// The sandbox's route wrapper: handlers return a reply instead of writing it,
// so fault control can answer instead, add latency, or carry the call out and
// never answer; with settings.carryOutOnArrival, a call whose caller gave up
// before it was read is not carried out.
import type { Request, RequestHandler, Response } from "express";
import type { SandboxState } from "./state.ts";

export interface Reply {
  status?: number;
  json?: unknown;
  html?: string;
  headers?: Record<string, string>;
  redirect?: string;
}

/** Thrown by handlers to answer with an error reply. */
export class Fail extends Error {
  constructor(readonly reply: Reply) {
    super("sandbox reply");
  }
}

export type Handler = (req: Request) => Reply | Promise<Reply>;

export function handle(s: SandboxState, name: string | ((req: Request) => string), h: Handler): RequestHandler {
  return async (req, res) => {
    const endpoint = typeof name === "string" ? name : name(req);
    s.calls.push({ endpoint, at: s.now() });
    const onArrival = s.settings.carryOutOnArrival;
    if (onArrival && (await callerGaveUp(req))) {
      s.abandoned += 1;
      req.socket.destroy();
      return;
    }
    const delay = s.latencyFor(endpoint);
    const wait = () => new Promise((r) => setTimeout(r, delay));
    // Latency delays the work (a real platform's queue), or with carryOutOnArrival only the answer.
    if (delay > 0 && !onArrival) await wait();
    const fault = s.takeFault(endpoint);
    let reply: Reply;
    if (fault?.mode === "respond") reply = { status: fault.status, json: fault.body, headers: fault.headers };
    else {
      if (fault?.mode === "late") await holdLate(s, fault.holdMs);
      try {
        reply = await h(req);
      } catch (err) {
        if (!(err instanceof Fail)) throw err;
        reply = err.reply;
      }
    }
    if (delay > 0 && onArrival) await wait();
    if (fault?.mode === "hang") {
      // Carried out; the answer never comes. The socket closes when the client gives up or the sandbox stops.
      s.held.add(res);
      res.on("close", () => s.held.delete(res));
      return;
    }
    if (fault?.mode === "drop") {
      req.socket.destroy();
      return;
    }
    send(res, reply);
  };
}

/**
 * Whether the caller had closed its connection before its request was read.
 * Its end of stream, already there, is read only on the event loop's next turn
 * after the request itself (libuv stops at a short read), so look after that.
 */
async function callerGaveUp(req: Request): Promise<boolean> {
  await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
  return req.socket.destroyed || req.socket.readableEnded;
}

/** A "late" request waits before it is carried out: `holdMs`, or until the control API releases it. */
function holdLate(s: SandboxState, holdMs: number | null): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const go = () => {
      clearTimeout(timer);
      s.late.delete(go);
      resolve();
    };
    s.late.add(go);
    if (holdMs !== null) timer = setTimeout(go, holdMs);
  });
}

function send(res: Response, r: Reply): void {
  // A late request's caller may be gone: carried out all the same, the answer goes nowhere.
  if (res.destroyed || res.writableEnded) return;
  for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
  if (r.redirect) return res.redirect(r.status ?? 302, r.redirect);
  res.status(r.status ?? 200);
  if (r.html !== undefined) {
    res.type("html").send(r.html);
  } else if (r.json !== undefined) {
    res.json(r.json);
  } else res.end();
}

/** Parameters from the query and a form or JSON body alike (Graph accepts both). */
export function params(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const src of [req.query, typeof req.body === "object" && req.body && !Buffer.isBuffer(req.body) ? req.body : {}]) {
    for (const [k, v] of Object.entries(src as Record<string, unknown>)) if (typeof v === "string") out[k] = v;
  }
  return out;
}

export function bearer(req: Request): string | undefined {
  const h = req.get("authorization");
  return h?.startsWith("Bearer ") ? h.slice(7) : undefined;
}

export function basicAuth(req: Request): { user: string; password: string } | undefined {
  const h = req.get("authorization");
  if (!h?.startsWith("Basic ")) return undefined;
  const text = Buffer.from(h.slice(6), "base64").toString("utf8");
  const i = text.indexOf(":");
  if (i < 0) return undefined;
  try {
    return { user: decodeURIComponent(text.slice(0, i)), password: decodeURIComponent(text.slice(i + 1)) };
  } catch {
    return undefined;
  }
}

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

// Each platform's error body shape.
export const graphFail = (code: number, message: string, o: { subcode?: number; status?: number; headers?: Record<string, string>; type?: string } = {}) =>
  new Fail({
    status: o.status ?? 400,
    headers: o.headers,
    json: {
      error: {
        message,
        type: o.type ?? "OAuthException",
        code,
        ...(o.subcode ? { error_subcode: o.subcode } : {}),
        fbtrace_id: `sandbox${Date.now().toString(36)}`,
      },
    },
  });
export const oauthFail = (status: number, error: string, description: string) =>
  new Fail({ status, json: { error, error_description: description } });
export const linkedinFail = (status: number, message: string, serviceErrorCode?: number) =>
  new Fail({ status, json: { message, ...(serviceErrorCode ? { serviceErrorCode } : {}), status } });
export const xFail = (status: number, title: string, detail: string, headers?: Record<string, string>) =>
  new Fail({ status, headers, json: { title, detail, type: "about:blank", status } });
export const googleFail = (status: number, reason: string, message: string, statusText: string, domain = "global") =>
  new Fail({ status, json: { error: { code: status, message, errors: [{ message, domain, reason }], status: statusText } } });
