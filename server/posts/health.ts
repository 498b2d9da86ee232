// The per-platform circuit breaker, in platform_health so every process sees
// the same state. Consecutive transient failures (5xx, timeouts, lost
// answers) open it; after the cool-down one process wins the right to send a
// probe (state half_open); the probe's outcome closes or re-opens it. Reads
// on the hot path come from a per-process cache of at most a second.
import { sql } from "drizzle-orm";
import { PLATFORMS, type Platform } from "../../shared/schema.ts";
import { rowsOf } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import type { ErrorClassification } from "../platforms/types.ts";

export type BreakerState = "closed" | "open" | "half_open";

export interface PlatformHealth {
  platform: Platform;
  healthy: boolean;
  state: BreakerState;
  lastError: string | null;
  retryAt: Date | null;
  /** Set while the platform refuses this app itself (operator problem): paused for everyone until a probe succeeds. */
  operatorCode: string | null;
}

interface Row {
  platform: Platform;
  state: BreakerState;
  consecutive_failures: number;
  last_error: string | null;
  retry_at: Date | string | null;
  operator_code: string | null;
}

const toDate = (v: Date | string | null) => (v === null ? null : new Date(v));

/** The breaker rows: every platform's, or one. */
async function healthRows(deps: Deps, platform?: Platform): Promise<Row[]> {
  return rowsOf<Row>(
    await deps.db.execute(sql`
      select platform, state, consecutive_failures, last_error, retry_at, operator_code from platform_health
      ${platform === undefined ? sql`` : sql`where platform = ${platform}`}`),
  );
}

export async function readHealth(deps: Deps): Promise<PlatformHealth[]> {
  const rows = await healthRows(deps);
  const now = deps.clock.now().getTime();
  return PLATFORMS.map((platform) => {
    const r = rows.find((x) => x.platform === platform);
    const state = r?.state ?? "closed";
    const retryAt = r ? toDate(r.retry_at) : null;
    return {
      platform,
      // Past its cool-down (open, or half-open whose probe never reported back because
      // its process died): the next publish is the probe, so it counts as usable.
      healthy: state === "closed" || (retryAt !== null && retryAt.getTime() <= now),
      state,
      lastError: r?.last_error ?? null,
      retryAt: state === "closed" ? null : retryAt,
      operatorCode: r?.operator_code ?? null,
    };
  });
}

/**
 * What this process last read of the breakers, for at most CACHE_MS: the hot
 * path (a closed breaker, a success that changes nothing) then costs no query.
 * Another process's opening is seen within that time; any failure recorded
 * here drops the cache at once.
 */
const CACHE_MS = 1000;
const cache = new WeakMap<Deps, { at: number; rows: Map<Platform, Row> }>();

async function cachedRow(deps: Deps, platform: Platform): Promise<Row | undefined> {
  const now = Date.now();
  let c = cache.get(deps);
  if (!c || now - c.at > CACHE_MS) {
    const rows = await healthRows(deps);
    c = { at: now, rows: new Map(rows.map((r) => [r.platform, r])) };
    cache.set(deps, c);
  }
  return c.rows.get(platform);
}

const forget = (deps: Deps) => cache.delete(deps);

export type BreakerDecision = { ok: true; probe: boolean } | { ok: false; retryAt: Date; lastError: string | null };

/**
 * May a call to this platform go out now? While open and cooling down: no,
 * with the retry time. Open and cooled down: exactly one caller (across
 * processes) turns it half_open and sends the probe; the others wait.
 */
export async function breakerAllows(deps: Deps, platform: Platform): Promise<BreakerDecision> {
  const now = deps.clock.now();
  const cached = await cachedRow(deps, platform);
  if (!cached || cached.state === "closed") return { ok: true, probe: false };
  const [row] = await healthRows(deps, platform);
  if (!row || row.state === "closed") return { ok: true, probe: false };
  const retryAt = toDate(row.retry_at) ?? now;
  if (retryAt.getTime() > now.getTime()) return { ok: false, retryAt, lastError: row.last_error };
  // Cooled down: claim the probe. The half_open state carries its own deadline, so a
  // probe whose process died is retried after another cool-down.
  const probeUntil = new Date(now.getTime() + deps.config.publishing.breakerCooldownMs);
  const won = rowsOf(
    await deps.db.execute(sql`
      update platform_health set state = 'half_open', retry_at = ${probeUntil.toISOString()}::timestamptz, updated_at = ${now.toISOString()}::timestamptz
      where platform = ${platform} and state <> 'closed' and retry_at <= ${now.toISOString()}::timestamptz
      returning platform`),
  );
  forget(deps);
  return won.length ? { ok: true, probe: true } : { ok: false, retryAt: probeUntil, lastError: row.last_error };
}

/**
 * A call reached the platform and it answered (success, or a non-transient
 * refusal, passed as `refusal`): close. A refusal about the user's own media,
 * content, token or account (notPlatform) says nothing; and an operator
 * pause is only ended by a success.
 */
export async function recordHealthy(deps: Deps, platform: Platform, refusal?: ErrorClassification): Promise<void> {
  if (refusal?.notPlatform) return;
  const cached = await cachedRow(deps, platform);
  if (!cached || (cached.state === "closed" && cached.consecutive_failures === 0)) return;
  forget(deps);
  // Written only when something changes, so the hot path does not contend on one row.
  await deps.db.execute(sql`
    update platform_health set state = 'closed', consecutive_failures = 0, retry_at = null, opened_at = null, operator_code = null,
      updated_at = ${deps.clock.now().toISOString()}::timestamptz
    where platform = ${platform} and (state <> 'closed' or consecutive_failures <> 0)
      ${refusal ? sql`and operator_code is null` : sql``}`);
}

/**
 * The platform refuses this app itself: open at once, probe after the
 * cool-down. True for exactly one caller per new problem (across
 * processes): that one alerts the operator.
 */
export async function recordOperatorProblem(deps: Deps, platform: Platform, e: ErrorClassification): Promise<{ isNew: boolean; retryAt: Date }> {
  const now = deps.clock.now();
  const at = now.toISOString();
  const retryAt = new Date(now.getTime() + deps.config.publishing.breakerCooldownMs);
  const message = e.message.slice(0, 500);
  forget(deps);
  const inserted = rowsOf(
    await deps.db.execute(sql`
      insert into platform_health (platform, state, consecutive_failures, last_error, opened_at, retry_at, updated_at, operator_code)
      values (${platform}, 'open', 1, ${message}, ${at}::timestamptz, ${retryAt.toISOString()}::timestamptz, ${at}::timestamptz, ${e.code})
      on conflict (platform) do nothing returning platform`),
  );
  if (inserted.length) return { isNew: true, retryAt };
  // The row lock makes the second of two concurrent callers see the code the first wrote: one alert.
  const changed = rowsOf(
    await deps.db.execute(sql`
      update platform_health set state = 'open', operator_code = ${e.code}, last_error = ${message},
        opened_at = case when state = 'open' and opened_at is not null then opened_at else ${at}::timestamptz end,
        consecutive_failures = consecutive_failures + 1, retry_at = ${retryAt.toISOString()}::timestamptz, updated_at = ${at}::timestamptz
      where platform = ${platform} and operator_code is distinct from ${e.code}
      returning platform`),
  );
  if (changed.length) return { isNew: true, retryAt };
  // The same problem again (a probe refused): wait another cool-down.
  await deps.db.execute(sql`
    update platform_health set state = 'open', last_error = ${message}, consecutive_failures = consecutive_failures + 1,
      retry_at = ${retryAt.toISOString()}::timestamptz, updated_at = ${at}::timestamptz
    where platform = ${platform}`);
  return { isNew: false, retryAt };
}

/**
 * A transient failure (5xx, timeout, lost answer): count it; open at the
 * threshold or when a probe failed. A failure of the user's own media
 * (notPlatform) is not counted: one user must not stop a platform for all.
 */
export async function recordUnhealthy(deps: Deps, platform: Platform, failure: string | ErrorClassification): Promise<void> {
  if (typeof failure !== "string" && failure.notPlatform) return;
  const error = typeof failure === "string" ? failure : failure.message;
  const now = deps.clock.now();
  const { breakerThreshold, breakerCooldownMs } = deps.config.publishing;
  const retryAt = new Date(now.getTime() + breakerCooldownMs).toISOString();
  const at = now.toISOString();
  forget(deps);
  await deps.db.execute(sql`
    insert into platform_health as h (platform, state, consecutive_failures, last_error, opened_at, retry_at, updated_at)
    values (${platform}, case when 1 >= ${breakerThreshold} then 'open' else 'closed' end, 1, ${error.slice(0, 500)},
            case when 1 >= ${breakerThreshold} then ${at}::timestamptz end, case when 1 >= ${breakerThreshold} then ${retryAt}::timestamptz end, ${at}::timestamptz)
    on conflict (platform) do update set
      consecutive_failures = h.consecutive_failures + 1,
      last_error = excluded.last_error,
      state = case when h.state = 'half_open' or h.consecutive_failures + 1 >= ${breakerThreshold} then 'open' else h.state end,
      opened_at = case when h.state <> 'open' and (h.state = 'half_open' or h.consecutive_failures + 1 >= ${breakerThreshold}) then ${at}::timestamptz else h.opened_at end,
      retry_at = case when h.state = 'half_open' or (h.state = 'closed' and h.consecutive_failures + 1 >= ${breakerThreshold}) then ${retryAt}::timestamptz else h.retry_at end,
      updated_at = ${at}::timestamptz`);
}
