// The connection check: every few minutes, look only at connections that are
// due (the partial index on next_check_at), claim them with FOR UPDATE SKIP
// LOCKED so several processes share the work without overlap, and for each:
// refresh when the access token expires within the margin, otherwise validate
// when the last validation is older than a day; warn before a deadline nobody
// can extend; then set next_check_at. Cost per tick grows with what is due,
// not with what is stored.
import { and, eq, inArray, lte } from "drizzle-orm";
import { platformConnections, type PlatformConnection } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { safeError } from "../http/errors.ts";
import type { Job } from "../jobs/index.ts";
import { credentialsOf } from "./service.ts";
import { refreshConnection } from "./token-manager.ts";
import {
  announceReconnect,
  noticeRecheckAt,
  settleReconnectNotice,
  EXPIRY_WARNING_MS,
  hardDeadline,
  nextCheckAt,
  recordFailure,
  VALIDATE_EVERY_MS,
  warnExpiry,
} from "./token-state.ts";
import { pauseForOperator } from "../posts/operator.ts";

export type CheckOutcome = "refreshed" | "validated" | "scheduled" | "needs_reconnect" | "failed" | "skipped";

export interface CheckResult {
  checked: number;
  refreshed: number;
  validated: number;
  needsReconnect: number;
  failed: number;
  warned: number;
  batches: number;
  /** The time budget ran out with connections possibly still due (the next tick takes them). */
  outOfTime: boolean;
}

export interface CheckOptions {
  batchSize?: number;
  /** Wall-clock budget for one tick (real time, not the business clock: it bounds work, not rules). */
  budgetMs?: number;
  /** Connections checked at once; each refresh holds a pooled connection during the platform call. */
  concurrency?: number;
  /** How long a claim hides a connection from other processes (a crashed process's claims come back). */
  leaseMs?: number;
}

const emptyResult = (): CheckResult => ({ checked: 0, refreshed: 0, validated: 0, needsReconnect: 0, failed: 0, warned: 0, batches: 0, outOfTime: false });

function add(result: CheckResult, outcome: CheckOutcome, warned: boolean): void {
  result.checked += 1;
  if (outcome === "refreshed") result.refreshed += 1;
  if (outcome === "validated") result.validated += 1;
  if (outcome === "needs_reconnect") result.needsReconnect += 1;
  if (outcome === "failed") result.failed += 1;
  if (warned) result.warned += 1;
}

/**
 * Claims up to `limit` due connections in one statement: the inner SELECT
 * walks the next_check_at index and skips rows another process is claiming;
 * the UPDATE pushes next_check_at out by the lease so nobody else takes them.
 */
export async function claimDue(deps: Deps, now: Date, limit: number, leaseMs: number): Promise<PlatformConnection[]> {
  return deps.db
    .update(platformConnections)
    .set({ nextCheckAt: new Date(now.getTime() + leaseMs) })
    .where(inArray(platformConnections.id, dueQuery(deps, now, limit)))
    .returning();
}

/** The due rows, oldest first, through the partial index on next_check_at (the benchmark EXPLAINs this). */
export function dueQuery(deps: Deps, now: Date, limit: number) {
  const pc = platformConnections;
  return deps.db
    .select({ id: pc.id })
    .from(pc)
    .where(and(eq(pc.isActive, true), lte(pc.nextCheckAt, now)))
    .orderBy(pc.nextCheckAt)
    .limit(limit)
    .for("update", { skipLocked: true });
}

const withinMargin = (deps: Deps, row: PlatformConnection, now: Date) =>
  row.expiresAt !== null && row.expiresAt.getTime() - now.getTime() <= deps.config.tokens.refreshMarginMs;
const past = (d: Date | null, now: Date) => d !== null && d.getTime() <= now.getTime();

/** What needs the row lock: a renewal, or a verdict on a token that cannot be renewed. */
function needsRenewal(deps: Deps, row: PlatformConnection, now: Date): boolean {
  if (row.refreshToken) return withinMargin(deps, row, now) || past(row.refreshTokenExpiresAt, now);
  return past(row.expiresAt, now);
}

/** One connection, claimed by the caller: refresh or validate, warn, reschedule. */
export async function checkConnection(deps: Deps, claimed: PlatformConnection, options: { forceValidate?: boolean } = {}): Promise<{ outcome: CheckOutcome; warned: boolean }> {
  let row = claimed;
  let now = deps.clock.now();
  if (row.status === "needs_reconnect") {
    await settleReconnectNotice(deps, row, now);
    return { outcome: "skipped", warned: false };
  }
  if (needsRenewal(deps, row, now)) {
    const r = await refreshConnection(deps, row.id, { seenAccessToken: row.accessToken, seenFailureCount: row.failureCount, due: (x, t) => needsRenewal(deps, x, t) });
    if (r.kind === "gone") return { outcome: "skipped", warned: false };
    if (r.kind === "refreshed") return { outcome: "refreshed", warned: false };
    if (r.kind === "needs_reconnect") return { outcome: "needs_reconnect", warned: false };
    if (r.kind === "failed") return { outcome: "failed", warned: false };
    row = r.connection; // another process refreshed it, or nothing could renew it yet
    now = deps.clock.now();
  }

  let warned = false;
  const deadline = hardDeadline(row);
  if (deadline && deadline.getTime() > now.getTime() && deadline.getTime() - now.getTime() <= EXPIRY_WARNING_MS) {
    warned = await warnExpiry(deps, row, deadline);
  }

  const stale = !row.lastValidatedAt || now.getTime() - row.lastValidatedAt.getTime() >= VALIDATE_EVERY_MS;
  const pc = platformConnections;
  // Updates below only apply when nobody replaced the token meanwhile (whoever did also rescheduled it).
  const unchanged = and(eq(pc.id, row.id), eq(pc.accessToken, row.accessToken), eq(pc.isActive, true));
  if (!options.forceValidate && !stale) {
    await deps.db.update(pc).set({ nextCheckAt: nextCheckAt(row, now, deps.config.tokens.refreshMarginMs), updatedAt: now }).where(unchanged);
    return { outcome: "scheduled", warned };
  }

  const adapter = deps.platforms[row.platform];
  try {
    await adapter.validate(credentialsOf(deps, row));
  } catch (err) {
    const c = adapter.classifyError(err);
    if (c.kind === "auth_revoked") {
      const message = `${adapter.displayName} no longer accepts the access (${c.code})`;
      const [marked] = await deps.db
        .update(pc)
        .set({ status: "needs_reconnect", lastError: message, nextCheckAt: noticeRecheckAt(now), updatedAt: now })
        .where(and(unchanged, eq(pc.status, "connected")))
        .returning({ id: pc.id });
      if (marked) await announceReconnect(deps, row, message);
      return { outcome: marked ? "needs_reconnect" : "skipped", warned };
    }
    // Our app refused (secret, credits, API version): the platform pauses for everyone; this user is not at fault.
    if (c.operator) await pauseForOperator(deps, row.platform, c);
    await recordFailure(deps.db, row, `${c.code}: ${c.message}`, now, c.retryAt);
    deps.log.warn({ userId: row.userId, platform: row.platform, error: c.code }, "Connection validation failed; will retry");
    return { outcome: "failed", warned };
  }
  await deps.db
    .update(pc)
    .set({ lastValidatedAt: now, failureCount: 0, lastError: null, nextCheckAt: nextCheckAt(row, now, deps.config.tokens.refreshMarginMs), updatedAt: now })
    .where(unchanged);
  return { outcome: "validated", warned };
}

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** One tick: batches of due connections until none is left or the budget is spent. */
export async function runConnectionCheck(deps: Deps, options: CheckOptions = {}): Promise<CheckResult> {
  const batchSize = options.batchSize ?? 100;
  const budgetMs = options.budgetMs ?? Math.max(30_000, deps.config.jobs.connectionCheckMinutes * 60_000 * 0.8);
  const concurrency = options.concurrency ?? 4;
  const leaseMs = options.leaseMs ?? 10 * 60_000;
  const started = performance.now();
  const result = emptyResult();
  for (;;) {
    if (performance.now() - started > budgetMs) {
      result.outOfTime = true;
      break;
    }
    const batch = await claimDue(deps, deps.clock.now(), batchSize, leaseMs);
    if (batch.length === 0) break;
    result.batches += 1;
    await inParallel(batch, concurrency, async (row) => {
      try {
        const { outcome, warned } = await checkConnection(deps, row);
        add(result, outcome, warned);
      } catch (err) {
        // One bad row (say, a token the vault cannot open) must not stop the others; the lease brings it back later.
        deps.log.error({ error: safeError(err), connectionId: row.id }, "Connection check failed for one connection");
        add(result, "failed", false);
      }
    });
    if (batch.length < batchSize) break;
  }
  if (result.checked > 0) deps.log.info({ ...result, ms: Math.round(performance.now() - started) }, "Connection check");
  return result;
}

/** Checks one user's active connections now, due or not (GET /api/check-connection). */
export async function checkUserConnections(deps: Deps, userId: number): Promise<{ result: CheckResult; needsReconnect: PlatformConnection["platform"][] }> {
  const rows = await deps.db
    .select()
    .from(platformConnections)
    .where(and(eq(platformConnections.userId, userId), eq(platformConnections.isActive, true)));
  const result = emptyResult();
  for (const row of rows) {
    if (row.status === "needs_reconnect") continue;
    const { outcome, warned } = await checkConnection(deps, row, { forceValidate: true });
    add(result, outcome, warned);
  }
  const after = await deps.db
    .select({ platform: platformConnections.platform, status: platformConnections.status })
    .from(platformConnections)
    .where(and(eq(platformConnections.userId, userId), eq(platformConnections.isActive, true)));
  return { result, needsReconnect: after.filter((r) => r.status === "needs_reconnect").map((r) => r.platform) };
}

/** node-cron expression for "every n minutes" (0 disables the timer). */
export function everyMinutes(n: number): string {
  if (n < 60) return `*/${n} * * * *`;
  return `0 */${Math.min(23, Math.floor(n / 60))} * * *`;
}

export function connectionCheckJobs(deps: Deps): Job[] {
  const minutes = deps.config.jobs.connectionCheckMinutes;
  if (minutes <= 0) return [];
  return [{ name: "connection-check", schedule: everyMinutes(minutes), run: (d) => runConnectionCheck(d) }];
}
