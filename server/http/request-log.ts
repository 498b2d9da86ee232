// One log line per request, and a request id on everything
// a request causes: accepted from X-Request-Id when it is sane (a proxy's or
// the client's id, so logs can be joined across hops), generated otherwise;
// echoed in the X-Request-Id response header and in every error body
// (errors.ts). The id is kept in an AsyncLocalStorage so that the lines the
// domains log through deps.log while serving the request carry it too
// (log.ts's mixin), not only the request's own line.
import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import { SECRET_KEYS, withRequestId, type Log } from "../log.ts";

declare module "node:http" {
  interface IncomingMessage {
    /** This request's id (requestLogging), named in its log lines and error body. */
    id?: string;
  }
}

// Long enough for a UUID, a W3C trace id or a cloud load balancer's id; nothing that could forge a log line.
const SANE_ID = /^[A-Za-z0-9._:@=+/-]{8,128}$/;

export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === "string" && SANE_ID.test(header) ? header : randomUUID();
}

// OAuth callbacks carry the authorization code and state in the query: log keys, never such values.
const SECRET_QUERY = new Set([...SECRET_KEYS, "state", "oauth_token", "oauth_verifier"].map((k) => k.toLowerCase()));
export function loggableUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of new Set(params.keys())) if (SECRET_QUERY.has(key.toLowerCase())) params.set(key, "[redacted]");
  return `${url.slice(0, q)}?${params.toString()}`;
}

// Probes and scrapes every few seconds would drown the log; the sandbox stands in for other machines (the platforms).
const QUIET_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);
const quiet = (url: string | undefined) => {
  const path = (url ?? "").split("?")[0]!;
  return QUIET_PATHS.has(path) || path.startsWith("/sandbox/");
};

/**
 * The request's line, in pino-http's shape (`req`, `res`, `responseTime`, "request completed") but
 * written here: pino-http made a child logger and ran its serializers for every request, whether
 * the level let the line out or not, a fifth of GET /api/user's CPU (issue 18's profile). Here a
 * request costs an id, a header and one listener; the line is built only when its level is enabled.
 */
export function requestLogging(log: Log): RequestHandler {
  return (req, res, next) => {
    const id = requestIdFor(req.headers["x-request-id"]);
    req.id = id;
    res.setHeader("X-Request-Id", id);
    if (!quiet(req.url)) {
      const started = performance.now();
      // "close" comes after "finish" for a completed response, alone for one the client abandoned.
      res.once("close", () => {
        const level = res.statusCode >= 500 ? "error" : "info";
        if (!log.isLevelEnabled(level)) return;
        const line = {
          req: { method: req.method, url: loggableUrl(req.originalUrl ?? req.url) },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(performance.now() - started),
          requestId: id,
        };
        log[level](line, res.writableFinished ? "request completed" : "request aborted");
      });
    }
    withRequestId(id, next);
  };
}
