// Errors adapters throw, and the classification shared by every platform.
// Each adapter's classifyError reads the platform's own error shapes first and
// falls back to classifyCommon for what is the same everywhere.
import type { ReplyHeaders } from "./http.ts";
import { MediaFetchError } from "../media/fetch.ts";
import type { Platform } from "../../shared/schema.ts";
import type { ContentProblem, ErrorClassification, ErrorKind } from "./types.ts";

/** The platform answered with a non-2xx status. */
export class PlatformHttpError extends Error {
  constructor(
    readonly platform: Platform,
    readonly endpoint: string,
    readonly status: number,
    readonly headers: ReplyHeaders,
    readonly body: unknown,
  ) {
    super(`${platform} ${endpoint}: HTTP ${status}${summarise(body)}`);
    this.name = "PlatformHttpError";
  }
}

/** The request may have been carried out but no answer arrived (timeout, connection lost mid-way). */
export class OutcomeUnknownError extends Error {
  constructor(
    readonly platform: Platform,
    readonly endpoint: string,
    readonly reason: "timeout" | "connection_lost",
    /**
     * How long the request could still have run under its own timeout when it
     * ended (0 for a timeout): the platform may act on it until then, and
     * reconciliation waits out this deadline plus its settle margin.
     */
    readonly untilDeadlineMs = 0,
  ) {
    super(`${platform} ${endpoint}: no answer (${reason}); the outcome is unknown`);
    this.name = "OutcomeUnknownError";
  }
}

/** The request never reached the platform (DNS, connection refused): nothing happened there. */
export class PlatformUnreachableError extends Error {
  constructor(
    readonly platform: Platform,
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super(`${platform} ${endpoint}: unreachable (${reason})`);
    this.name = "PlatformUnreachableError";
  }
}

/** A decision the adapter made itself: reconnect required, no Instagram business account, disabled… */
export class PlatformError extends Error {
  constructor(
    readonly platform: Platform,
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly retryAt?: Date,
  ) {
    super(message);
    this.name = "PlatformError";
  }
}

/** publish() refuses a post that breaks the platform's content rules, before any call. */
export class ContentRejectedError extends Error {
  constructor(
    readonly platform: Platform,
    readonly problems: ContentProblem[],
  ) {
    super(problems.map((p) => p.message).join("; "));
    this.name = "ContentRejectedError";
  }
}

function summarise(body: unknown): string {
  const b = body as any;
  const text =
    (typeof b?.error?.message === "string" && b.error.message) ||
    (typeof b?.error_description === "string" && b.error_description) ||
    (typeof b?.detail === "string" && b.detail) ||
    (typeof b?.message === "string" && b.message) ||
    (typeof b?.error === "string" && b.error) ||
    "";
  return text ? `: ${String(text).slice(0, 200)}` : "";
}

/** Classification of what is not platform-specific. */
export function classifyCommon(err: unknown, now: Date): ErrorClassification {
  if (err instanceof OutcomeUnknownError) {
    return { kind: "outcome_unknown", code: err.reason, message: err.message, untilDeadlineMs: err.untilDeadlineMs };
  }
  if (err instanceof PlatformUnreachableError) return { kind: "transient", code: "unreachable", message: err.message };
  if (err instanceof MediaFetchError) {
    // The user's URL, not the platform: retried (or failed) for this post alone.
    return { kind: err.permanent ? "permanent" : "transient", code: "media_unavailable", message: err.message, notPlatform: true };
  }
  if (err instanceof ContentRejectedError) {
    // Refused before (or instead of) any platform call: the user's content says nothing about the platform.
    return { kind: "permanent", code: err.problems[0]?.code ?? "content_rejected", message: err.message, notPlatform: true };
  }
  if (err instanceof PlatformError) {
    return { kind: err.kind, code: err.code, message: err.message, ...(err.retryAt ? { retryAt: err.retryAt } : {}) };
  }
  if (err instanceof PlatformHttpError) {
    const s = err.status;
    const base = { status: s, message: err.message };
    // Our app's own credentials refused (wrong or rotated secret): an operator problem, never the users' grants.
    const oauthError = String((err.body as any)?.error ?? "");
    if ((err.endpoint === "refresh" || err.endpoint === "token") && (s === 400 || s === 401) && (oauthError === "invalid_client" || oauthError === "unauthorized_client")) {
      return { ...base, kind: "transient", code: "invalid_client", message: `${err.platform}: the platform refused our app credentials (client id or secret)`, operator: true };
    }
    // A refused refresh (invalid_grant, X's invalid_request) means the grant is gone: reconnect.
    if (err.endpoint === "refresh" && (s === 400 || s === 401)) return { ...base, kind: "auth_revoked", code: "refresh_token_invalid" };
    if (s === 401) return { ...base, kind: "auth_revoked", code: "unauthorized" };
    if (s === 429) return { ...base, kind: "rate_limited", code: "rate_limited", retryAt: retryAfter(err.headers, now) };
    if (s === 408 || s >= 500) return { ...base, kind: "transient", code: `http_${s}` };
    return { ...base, kind: "permanent", code: `http_${s}` };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { kind: "permanent", code: "unexpected", message };
}

const DEFAULT_WAIT_MS = 15 * 60 * 1000;

/** Retry-After (seconds or HTTP date); 15 minutes when the platform does not say. */
export function retryAfter(headers: ReplyHeaders, now: Date, fallbackMs = DEFAULT_WAIT_MS): Date {
  const v = headers.get("retry-after");
  if (v && /^\d+$/.test(v)) return new Date(now.getTime() + Number(v) * 1000);
  const d = v ? Date.parse(v) : NaN;
  return Number.isFinite(d) && d > now.getTime() ? new Date(d) : new Date(now.getTime() + fallbackMs);
}

/** The next midnight in a time zone (LinkedIn's daily limits: UTC; YouTube's quota: Pacific time). */
export function nextMidnight(now: Date, timeZone: string): Date {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const sinceMidnight = (get("hour") * 3600 + get("minute") * 60 + get("second")) * 1000 + now.getUTCMilliseconds();
  return new Date(now.getTime() - sinceMidnight + 24 * 3600 * 1000);
}
