// Sessions live in PostgreSQL (table `sessions`) so they survive restarts and
// are shared by every process. Cookie: HttpOnly, SameSite=Lax, Secure behind
// https, 7-day absolute lifetime, plus an idle timeout (SESSION_IDLE_MINUTES,
// default a day) enforced here because the store only knows the absolute expiry.
import { createHash } from "node:crypto";
import type { Request, RequestHandler } from "express";
import session from "express-session";
import type { Config } from "../config.ts";
import type { Db, QueryPool } from "../db/index.ts";
import type { Clock } from "../deps.ts";
import { createSessionStore } from "./session-store.ts";

declare module "express-session" {
  interface SessionData {
    userId?: number;
    establishedAt?: number;
    lastSeenAt?: number;
    /** The phone this session proved it holds (POST /api/verify-code): signup's precondition. */
    verifiedPhone?: { phone: string; at: number };
  }
}

export interface SessionHandle {
  middleware: RequestHandler;
  close(): void;
}

export function createSessions(config: Config, pool: QueryPool, db: Db): SessionHandle {
  const store = createSessionStore({
    pool: pool as never,
    tableName: "sessions",
    createTableIfMissing: false,
    // Expired rows are pruned by the store every 15 minutes.
    pruneSessionInterval: 15 * 60,
    // The expiry is absolute (7 days); idleness is tracked by lastSeenAt below.
    // Without this the store would UPDATE the row on every request.
    disableTouch: true,
  }, db);
  const middleware = session({
    store,
    name: config.session.cookieName,
    secret: config.session.secret,
    resave: false,
    saveUninitialized: false,
    proxy: config.trustProxy !== false,
    cookie: {
      httpOnly: true,
      sameSite: "lax",
      secure: config.session.secureCookie,
      maxAge: config.session.maxAgeMs,
    },
  });
  return { middleware, close: () => store.close() };
}

/** Ends sessions idle for longer than the configured timeout; refreshes lastSeenAt at most once a minute. */
export function idleTimeout(config: Config, clock: Clock): RequestHandler {
  return (req, _res, next) => {
    const s = req.session;
    if (!s?.userId) return next();
    const now = clock.now().getTime();
    if (s.lastSeenAt && now - s.lastSeenAt > config.session.idleTimeoutMs) {
      return s.regenerate((err) => next(err));
    }
    if (!s.lastSeenAt || now - s.lastSeenAt > 60_000) s.lastSeenAt = now;
    next();
  };
}

/** Swaps the session id (login, signup, privilege change) and keeps nothing of the old one. */
export function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}

/** Logs a user in on a NEW session id (login, signup, privilege change) and stores it before answering. */
export async function logIn(req: Request, userId: number, now: Date): Promise<void> {
  await regenerateSession(req);
  req.session.userId = userId;
  req.session.lastSeenAt = now.getTime();
  await saveSession(req);
}

export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

export function destroySession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
}

/**
 * A stable, non-secret identifier of the session for the frontend's `sessionId`
 * field: a hash of the id, so it can never be replayed as the cookie.
 */
export function publicSessionId(req: Request): string | null {
  const stored = req.session && (req.session.establishedAt !== undefined || req.session.userId !== undefined);
  if (!stored || !req.sessionID) return null;
  return createHash("sha256").update(req.sessionID).digest("hex").slice(0, 24);
}
