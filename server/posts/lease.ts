// Claiming posts for publishing. A claim is ONE statement
// (UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING), so
// processes never wait on each other and never take the same post; the quota
// is reserved in the same transaction. The platform is called later, outside
// any transaction, and every later write is fenced on the lease id.
import { randomUUID } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import type { Platform, PlanName } from "../../shared/schema.ts";
import { rowsOf, type DbOrTx } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { checkCanPost } from "../quota/check.ts";
import { currentCycle } from "../quota/cycle.ts";
import { reservePost } from "../quota/ledger.ts";

export interface ClaimedPost {
  id: number;
  userId: number;
  platform: Platform;
  content: string;
  mediaUrl: string | null;
  mediaType: string | null;
  attemptCount: number;
  lastAttemptAt: Date | null;
  createdAt: Date;
  leaseId: string;
  /** The status before the claim: `unknown` must be reconciled before anything is sent. */
  previous: "approved" | "unknown";
  phone: string;
  /** Set when the quota or cycle check refused the post: it must not be sent. */
  refused?: { check: "quota" | "cycle"; code: string; message: string };
}

export interface ClaimFilter {
  userId?: number;
  postIds?: number[];
  /** "userId:platform" of connections this process already holds enough posts of. */
  busy?: string[];
}

/** How many due rows a claim looks at per post it takes (to spread a batch over connections). */
const CANDIDATE_WINDOW = 8;

interface ClaimRow {
  id: number;
  user_id: number;
  platform: Platform;
  content: string;
  media_url: string | null;
  media_type: string | null;
  attempt_count: number;
  last_attempt_at: Date | string | null;
  created_at: Date | string;
  subscription_cycle: Date | string | null;
  previous: "approved" | "unknown";
}

interface UserRow {
  id: number;
  phone: string;
  subscription_active: boolean;
  subscription_start: Date | string | null;
  subscription_plan: PlanName | null;
  period_start: Date | string | null;
}

const iso = (d: Date) => d.toISOString();
const date = (v: Date | string | null) => (v === null ? null : new Date(v));

function filterSql(f: ClaimFilter): SQL {
  const parts: SQL[] = [];
  if (f.userId !== undefined) parts.push(sql`and user_id = ${f.userId}`);
  if (f.postIds) parts.push(sql`and id in (${sql.join(f.postIds.map((id) => sql`${id}`), sql`, `)})`);
  if (f.busy?.length) parts.push(sql`and (user_id::text || ':' || platform::text) not in (${sql.join(f.busy.map((k) => sql`${k}`), sql`, `)})`);
  return sql.join(parts, sql` `);
}

/**
 * Claims up to `limit` due posts (at most 2 × the per-connection bound per connection) (approved or unknown, next_attempt_at ≤ now),
 * reserves their quota and commits. Posts whose user's ledger still shows an
 * ended cycle are reserved after checkCanPost has rolled it (it must run
 * outside a transaction). Refused posts come back with `refused` set.
 */
export async function claimDue(deps: Deps, limit: number, filter: ClaimFilter = {}): Promise<ClaimedPost[]> {
  if (limit <= 0 || (filter.postIds && filter.postIds.length === 0)) return [];
  const now = deps.clock.now();
  const leaseId = randomUUID();
  const leaseUntil = new Date(now.getTime() + deps.config.publishing.leaseMs);
  const perConnection = deps.config.publishing.perConnection * 2;
  const deferred: Array<{ post: ClaimedPost; user: UserRow; cycleStart: Date | null }> = [];

  const claimed = await deps.db.transaction(async (tx) => {
    const rows = rowsOf<ClaimRow>(
      await tx.execute(sql`
        with candidates as (
          select id, user_id, platform, next_attempt_at from posts
          where status in ('approved', 'unknown') and next_attempt_at <= ${iso(now)}::timestamptz ${filterSql(filter)}
          order by next_attempt_at
          limit ${limit * CANDIDATE_WINDOW}
        ), spread as (
          -- A few per connection, so one account's backlog does not fill the batch while its
          -- per-connection bound lets only some of it go out.
          select id from (
            select id, next_attempt_at, row_number() over (partition by user_id, platform order by next_attempt_at, id) as n from candidates
          ) c
          where n <= ${perConnection}
          order by next_attempt_at
          limit ${limit}
        ), due as (
          -- The lock decides: rows another process claimed meanwhile are skipped or no longer match.
          select p.id, p.status::text as previous from posts p join spread s on s.id = p.id
          where p.status in ('approved', 'unknown') and p.next_attempt_at <= ${iso(now)}::timestamptz
          for update of p skip locked
        )
        update posts p set status = 'publishing', lease_id = ${leaseId}, lease_expires_at = ${iso(leaseUntil)}::timestamptz,
          updated_at = ${iso(now)}::timestamptz
        from due where p.id = due.id
        returning p.id, p.user_id, p.platform, p.content, p.media_url, p.media_type, p.attempt_count, p.last_attempt_at,
          p.created_at, p.subscription_cycle, due.previous`),
    );
    if (rows.length === 0) return [];
    const userIds = [...new Set(rows.map((r) => r.user_id))];
    const users = new Map(
      rowsOf<UserRow>(
        await tx.execute(sql`
          select u.id, u.phone, u.subscription_active, u.subscription_start, u.subscription_plan, l.period_start
          from users u left join post_ledger l on l.user_id = u.id
          where u.id in (${sql.join(userIds.map((id) => sql`${id}`), sql`, `)})`),
      ).map((u) => [u.id, u]),
    );
    const out: ClaimedPost[] = [];
    const reserved: number[] = [];
    // Ledger rows are locked user by user: take them in one order in every
    // process, so two claims in flight cannot deadlock on each other's users.
    rows.sort((a, b) => a.user_id - b.user_id || a.id - b.id);
    for (const r of rows) {
      const user = users.get(r.user_id)!;
      const post: ClaimedPost = {
        id: r.id,
        userId: r.user_id,
        platform: r.platform,
        content: r.content,
        mediaUrl: r.media_url,
        mediaType: r.media_type,
        attemptCount: r.attempt_count,
        lastAttemptAt: date(r.last_attempt_at),
        createdAt: new Date(r.created_at),
        leaseId,
        previous: r.previous,
        phone: user.phone,
      };
      out.push(post);
      const cycle = currentCycle(
        { subscriptionActive: user.subscription_active, subscriptionStart: date(user.subscription_start) },
        now,
        deps.config,
      );
      const postCycle = date(r.subscription_cycle);
      const ledgerStale = !user.period_start || (cycle !== null && new Date(user.period_start).getTime() < cycle.start.getTime());
      if (!cycle || (postCycle && postCycle.getTime() < cycle.start.getTime()) || ledgerStale) {
        // checkCanPost names the reason (and rolls an ended cycle) outside this transaction.
        deferred.push({ post, user, cycleStart: postCycle });
      } else if (await reservePost(tx, r.user_id, r.id, now)) {
        reserved.push(r.id);
      } else {
        post.refused = { check: "quota", code: "quota_exhausted", message: "All posts of this cycle are used" };
      }
    }
    await markReserved(tx, reserved);
    return out;
  });

  for (const { post, user, cycleStart } of deferred) {
    const check = await checkCanPost(
      deps,
      {
        id: user.id,
        subscriptionActive: user.subscription_active,
        subscriptionPlan: user.subscription_plan,
        subscriptionStart: date(user.subscription_start),
      },
      now,
      { postCycleStart: cycleStart },
    );
    if (!check.ok) {
      post.refused = { check: check.reason === "cycle_ended" ? "cycle" : "quota", code: check.reason, message: check.message };
      continue;
    }
    const ok = await deps.db.transaction(async (tx) => {
      const r = await reservePost(tx, post.userId, post.id, now);
      if (r) await markReserved(tx, [post.id]);
      return r;
    });
    if (!ok) post.refused = { check: "quota", code: "quota_exhausted", message: "All posts of this cycle are used" };
  }
  return claimed;
}

async function markReserved(tx: DbOrTx, ids: number[]): Promise<void> {
  if (!ids.length) return;
  await tx.execute(sql`update posts set quota_reserved = true where id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`);
}

/**
 * The attempt begins: counts it, records when (the reconciliation window) and
 * renews the lease. Null when the lease was lost meanwhile (it expired and
 * another process took the post over): then nothing may be sent.
 */
export async function startAttempt(deps: Deps, post: ClaimedPost): Promise<{ attempt: number; startedAt: Date } | null> {
  const now = deps.clock.now();
  const until = new Date(now.getTime() + deps.config.publishing.leaseMs);
  const [row] = rowsOf<{ attempt_count: number }>(
    await deps.db.execute(sql`
      update posts set attempt_count = attempt_count + 1,
        -- A post being reconciled keeps the time of the attempt that may have gone out:
        -- moving it forward would shrink the look-up window past that post.
        last_attempt_at = case when ${post.previous === "unknown"}::boolean then coalesce(last_attempt_at, ${iso(now)}::timestamptz) else ${iso(now)}::timestamptz end,
        lease_expires_at = ${iso(until)}::timestamptz, updated_at = ${iso(now)}::timestamptz
      where id = ${post.id} and lease_id = ${post.leaseId} and status = 'publishing'
      returning attempt_count`),
  );
  return row ? { attempt: row.attempt_count, startedAt: now } : null;
}

/** Shutdown: posts claimed but never started go back to what they were, due now. */
export async function releaseUnstarted(deps: Deps, posts: ClaimedPost[]): Promise<number> {
  let n = 0;
  const now = iso(deps.clock.now());
  for (const p of posts) {
    const rows = rowsOf(
      await deps.db.execute(sql`
        update posts set status = ${p.previous}, lease_id = null, lease_expires_at = null, next_attempt_at = ${now}::timestamptz,
          updated_at = ${now}::timestamptz
        where id = ${p.id} and lease_id = ${p.leaseId} and status = 'publishing'
        returning id`),
    );
    n += rows.length;
  }
  return n;
}

/**
 * Posts left in `publishing` after their lease ran out (their process died or
 * stalled): the call may have gone out, so they become `unknown` and are
 * reconciled with the platform before anything is re-sent.
 */
export async function recoverExpiredLeases(deps: Deps, limit = 500): Promise<number> {
  const now = iso(deps.clock.now());
  const rows = rowsOf(
    await deps.db.execute(sql`
      update posts p set status = 'unknown', lease_id = null, lease_expires_at = null, next_attempt_at = ${now}::timestamptz,
        updated_at = ${now}::timestamptz
      from (select id from posts where status = 'publishing' and lease_expires_at < ${now}::timestamptz
            limit ${limit} for update skip locked) expired
      where p.id = expired.id
      returning p.id`),
  );
  return rows.length;
}
