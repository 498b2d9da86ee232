// The one error envelope (API.md): { error, message, code, requestId, details? }.
// `error` and `message` are the same human sentence, because the client throws
// `new Error(result.error || result.message)`: an object there would show as
// "[object Object]". The machine-readable part is `code` (and `details`).
import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import { randomUUID } from "node:crypto";
import { ZodError } from "zod";
import type { Log } from "../log.ts";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra fields the frontend contract puts beside the envelope (requiresLogin, quotaExceeded…). */
    readonly extra: Record<string, unknown> = {},
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string, details?: unknown) =>
  new HttpError(400, code, message, {}, details);
export const notFound = (what = "Not found") => new HttpError(404, "not_found", what);
export const conflict = (code: string, message: string) => new HttpError(409, code, message);
export const tooManyRequests = (message: string, retryAfterSeconds?: number) =>
  new HttpError(429, "rate_limited", message, retryAfterSeconds ? { retryAfter: retryAfterSeconds } : {});

export function sendError(res: Response, err: HttpError): void {
  if (err.status === 429 && typeof err.extra.retryAfter === "number") res.setHeader("Retry-After", String(err.extra.retryAfter));
  // The request id (request-log.ts) lets a user's report be matched to our log lines.
  const requestId = String(res.req?.id ?? randomUUID());
  const body: Record<string, unknown> = { ...err.extra, error: err.message, message: err.message, code: err.code, requestId };
  if (err.details !== undefined) body.details = err.details;
  res.status(err.status).json(body);
}

/** Zod issues → a 400 that names every offending field. */
export function validationError(zodError: ZodError, where = "body"): HttpError {
  const details = zodError.issues.map((i) => {
    const keys = "keys" in i && Array.isArray(i.keys) ? (i.keys as string[]) : [];
    const path = [...i.path, ...(keys.length === 1 ? keys : [])].join(".") || where;
    return { path, message: keys.length > 1 ? `${i.message}: ${keys.join(", ")}` : i.message };
  });
  const summary = details.map((d) => `${d.path}: ${d.message}`).join("; ");
  return badRequest("invalid_request", `Invalid ${where}: ${summary}`, details);
}

/**
 * What to log about an unexpected error: Drizzle's query errors carry the
 * statement's parameters (sealed tokens, hashes) in their message, so log the
 * driver's cause only. `pgCode`, not `code`: the logger redacts `*.code`.
 */
export function safeError(err: unknown): { name: string; pgCode?: string; message: string } {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string }; code?: string };
  const inner = e?.name === "DrizzleQueryError" || String(e?.message ?? "").startsWith("Failed query:") ? e.cause : e;
  return { name: String(e?.name ?? "Error"), ...(inner?.code ? { pgCode: String(inner.code) } : {}), message: String(inner?.message ?? err).slice(0, 300) };
}

export const notFoundApi: RequestHandler = (_req, res) => {
  // Never echo the path back: it is attacker-controlled.
  sendError(res, notFound("No such API endpoint"));
};

export function errorHandler(log: Log): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof HttpError) return sendError(res, err);
    if (err instanceof ZodError) return sendError(res, validationError(err));
    // body-parser's errors carry a status and a type.
    if (err?.type === "entity.parse.failed") return sendError(res, badRequest("invalid_json", "Malformed JSON body"));
    if (err?.type === "entity.too.large") {
      return sendError(res, new HttpError(413, "payload_too_large", "Request body is too large"));
    }
    if (typeof err?.status === "number" && err.status >= 400 && err.status < 500) {
      return sendError(res, new HttpError(err.status, "bad_request", "The request could not be processed"));
    }
    log.error({ error: safeError(err), method: req.method, route: req.route?.path }, "Unhandled error");
    sendError(res, new HttpError(500, "internal_error", "Something went wrong on our side"));
  };
}
