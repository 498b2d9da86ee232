// One log line per request through pino-http, and a request id on everything
// a request causes: accepted from X-Request-Id when it is sane (a proxy's or
// the client's id, so logs can be joined across hops), generated otherwise;
// echoed in the X-Request-Id response header and in every error body
// (errors.ts). The id is kept in an AsyncLocalStorage so that the lines the
// domains log through deps.log while serving the request carry it too
// (log.ts's mixin), not only req.log's.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { RequestHandler } from "express";
import { pinoHttp } from "pino-http";
import { SECRET_KEYS, withRequestId, type Log } from "../log.ts";

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

export function requestLogging(log: Log): RequestHandler {
  const withId = (req: IncomingMessage, value: Record<string, unknown>) => ({ ...value, requestId: (req as { id?: string }).id });
  const http = pinoHttp({
    logger: log,
    genReqId: (req, res) => {
      const id = requestIdFor(req.headers["x-request-id"]);
      res.setHeader("X-Request-Id", id);
      return id;
    },
    // Our own shapes: no headers at all (cookies, authorization), the query without secrets.
    serializers: {
      req: (req: { method: string; url: string }) => ({ method: req.method, url: loggableUrl(req.url) }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? "error" : "info"),
    customSuccessObject: (req, _res, value) => withId(req, value),
    customErrorObject: (req, _res, _err, value) => withId(req, value),
    autoLogging: { ignore: (req) => quiet(req.url) },
  });
  return (req, res, next) => {
    http(req, res);
    withRequestId(String(req.id), next);
  };
}
