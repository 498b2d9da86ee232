// What the token manager and the connection check write about a connection
// besides its tokens: when to look at it next, failures with back-off, the
// needs_reconnect verdict, and the e-mails that go with it (each at most once,
// through email_notifications' unique user/kind/dedupe_key).
import { and, eq, sql } from "drizzle-orm";
import { platformConnections, users, type Platform, type PlatformConnection } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { userLabel } from "../log.ts";
import { sendEmailOnce, type OnceOutcome } from "../notify/once.ts";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Page tokens and long-lived tokens still get a cheap validation call this often. */
export const VALIDATE_EVERY_MS = DAY;
/** Tokens that cannot be renewed (no refresh token, LinkedIn's fixed 365 days): warn this long before. */
export const EXPIRY_WARNING_MS = 7 * DAY;
const BACKOFF_BASE_MS = MINUTE;
const BACKOFF_CAP_MS = 60 * MINUTE;

export const RECONNECT_KIND = "connection_reconnect";
export const EXPIRY_KIND = "connection_expiry";

/** When the connection dies for good unless the user reconnects: null when it can be renewed forever. */
export function hardDeadline(row: Pick<PlatformConnection, "refreshToken" | "expiresAt" | "refreshTokenExpiresAt">): Date | null {
  return row.refreshToken ? row.refreshTokenExpiresAt : row.expiresAt;
}

/**
 * The next time the check must look: the refresh margin before expiry (only
 * when a refresh token can renew it), the 7-day warning and the deadline of a
 * token that cannot be renewed, and at least once a day for validation.
 */
export function nextCheckAt(row: Pick<PlatformConnection, "refreshToken" | "expiresAt" | "refreshTokenExpiresAt">, now: Date, refreshMarginMs: number): Date {
  const t = now.getTime();
  const candidates = [t + VALIDATE_EVERY_MS];
  if (row.refreshToken && row.expiresAt) candidates.push(row.expiresAt.getTime() - refreshMarginMs);
  const deadline = hardDeadline(row);
  if (deadline) {
    const warnAt = deadline.getTime() - EXPIRY_WARNING_MS;
    if (warnAt > t) candidates.push(warnAt);
    candidates.push(deadline.getTime());
  }
  return new Date(Math.max(t, Math.min(...candidates)));
}

/** Exponential back-off with jitter (half to full), never before the platform's own retry time. */
export function backoffUntil(failureCount: number, now: Date, retryAt?: Date, random: () => number = Math.random): Date {
  const full = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(Math.max(failureCount - 1, 0), 10));
  const wait = full / 2 + random() * (full / 2);
  return new Date(Math.max(now.getTime() + wait, retryAt?.getTime() ?? 0));
}

/** A transient failure: stays active, counts, backs off. Returns the next check time. */
export async function recordFailure(db: DbOrTx, row: PlatformConnection, error: string, now: Date, retryAt?: Date): Promise<Date> {
  const next = backoffUntil(row.failureCount + 1, now, retryAt);
  await db
    .update(platformConnections)
    .set({ failureCount: sql`${platformConnections.failureCount} + 1`, lastError: error.slice(0, 500), nextCheckAt: next, updatedAt: now })
    .where(eq(platformConnections.id, row.id));
  return next;
}

/**
 * When the check looks at a needs_reconnect connection again: only to make
 * sure the user was told (a mail server that was down must not mean the user
 * never hears of it). Once the notice is recorded, next_check_at becomes null.
 */
export const NOTICE_RECHECK_MS = 60 * 60 * 1000;
export const noticeRecheckAt = (now: Date) => new Date(now.getTime() + NOTICE_RECHECK_MS);

/**
 * The definite verdict: the user must reconnect. With `refusedAccessToken`
 * (the sealed token a platform just refused) only while the connection still
 * holds that token: a refusal of a token replaced since (a reconnect, a
 * refresh) says nothing about the connection now. True when marked.
 */
export async function markNeedsReconnect(db: DbOrTx, id: number, error: string, now: Date, refusedAccessToken?: string): Promise<boolean> {
  const rows = await db
    .update(platformConnections)
    .set({ status: "needs_reconnect", lastError: error.slice(0, 500), nextCheckAt: noticeRecheckAt(now), updatedAt: now })
    .where(
      and(
        eq(platformConnections.id, id),
        ...(refusedAccessToken === undefined ? [] : [eq(platformConnections.isActive, true), eq(platformConnections.accessToken, refusedAccessToken)]),
      ),
    )
    .returning({ id: platformConnections.id });
  return rows.length > 0;
}

/** For a needs_reconnect connection that came due: send the notice if it never went out, then stop looking. */
export async function settleReconnectNotice(deps: Deps, conn: PlatformConnection, now: Date): Promise<void> {
  const name = deps.platforms[conn.platform].displayName;
  const outcome = await sendOnce(deps, conn.userId, RECONNECT_KIND, `connection:${conn.id}`, () => reconnectMail(deps, conn, name, conn.lastError ?? "reconnect needed"));
  await deps.db
    .update(platformConnections)
    .set({ nextCheckAt: outcome === "failed" ? noticeRecheckAt(now) : null })
    .where(and(eq(platformConnections.id, conn.id), eq(platformConnections.status, "needs_reconnect")));
}

function reconnectMail(deps: Deps, conn: Pick<PlatformConnection, "platform">, name: string, reason: string) {
  return {
    subject: `Reconnect your ${name} account to keep posting`,
    text:
      `AgencyIQ can no longer post to ${name} for you: ${reason}\n\n` +
      `Reconnect it here (it takes a minute):\n${connectLink(deps, conn.platform)}\n\n` +
      `Posts for ${name} wait until you do.\n\n— AgencyIQ`,
  };
}

async function accountOfConnection(db: DbOrTx, userId: number) {
  const [u] = await db.select({ email: users.email, phone: users.phone }).from(users).where(eq(users.id, userId));
  return u;
}

export async function phoneOf(db: DbOrTx, userId: number): Promise<string> {
  return userLabel((await accountOfConnection(db, userId))?.phone, userId);
}

/** One e-mail per user, kind and key (notify/once.ts); a failed send is retried by a later check. */
async function sendOnce(deps: Deps, userId: number, kind: string, dedupeKey: string, mail: () => { subject: string; text: string }): Promise<OnceOutcome | "no_account"> {
  const account = await accountOfConnection(deps.db, userId);
  if (!account) return "no_account";
  return sendEmailOnce(deps, {
    userId,
    kind,
    dedupeKey,
    at: deps.clock.now(),
    message: { to: account.email, ...mail() },
    failureNote: "Connection e-mail failed; a later check retries",
  });
}

export function connectLink(deps: Deps, platform: Platform): string {
  return `${deps.config.publicUrl}/connect?platform=${platform}`;
}

/** After a connection was marked needs_reconnect: the log line, and one e-mail per connection. */
export async function announceReconnect(deps: Deps, conn: Pick<PlatformConnection, "id" | "userId" | "platform">, reason: string): Promise<void> {
  const phone = await phoneOf(deps.db, conn.userId);
  deps.log.info({ userId: conn.userId, platform: conn.platform, reason }, `Redirect to connect ${phone}`);
  const name = deps.platforms[conn.platform].displayName;
  await sendOnce(deps, conn.userId, RECONNECT_KIND, `connection:${conn.id}`, () => reconnectMail(deps, conn, name, reason));
}

/** A token nobody can renew expires within 7 days: warn once per deadline. */
export async function warnExpiry(deps: Deps, conn: Pick<PlatformConnection, "id" | "userId" | "platform">, deadline: Date): Promise<boolean> {
  const name = deps.platforms[conn.platform].displayName;
  const sent = "sent" === await sendOnce(deps, conn.userId, EXPIRY_KIND, `connection:${conn.id}:${deadline.toISOString()}`, () => ({
    subject: `Your ${name} connection expires on ${deadline.toUTCString()}`,
    text:
      `${name} does not let AgencyIQ renew this connection by itself; it stops working on ${deadline.toUTCString()}.\n\n` +
      `Reconnect before then to keep posting:\n${connectLink(deps, conn.platform)}\n\n— AgencyIQ`,
  }));
  if (sent) deps.log.info({ userId: conn.userId, platform: conn.platform, deadline }, `Connection expiry warning sent for ${conn.platform}`);
  return sent;
}
