// Claiming posts for publishing. A claim is ONE statement
// (UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING), so
// processes never wait on each other and never take the same post. The same
// statement counts the attempt and records when it began (the reconciliation
// window), and the quota of the whole batch is reserved in the same
// transaction, so a batch costs a handful of statements whatever its size.
// The platform is called later, outside any transaction, while the lease is
// still well inside its time; every later write is fenced on the lease id.
import { randomUUID } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import type { Platform } from "../../shared/schema.ts";
import { anyId, rowsOf } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { checkCanPost } from "../quota/check.ts";
import { currentCycle } from "../quota/cycle.ts";
import { lockAccounts, reservePost, reservePosts, type LockedAccount } from "../quota/ledger.ts";

export interface ClaimedPost {
  id: number;
  userId: number;
  platform: Platform;
  content: string;
  mediaUrl: string | null;
  /** Several media (an Instagram carousel, X images), mediaUrl the first; null for one or none. */
  mediaUrls: string[] | null;
  mediaType: string | null;
  /** This attempt's number: counted by the claim, given back when nothing is sent. */
  attemptCount: number;
  /** When the previous attempt began (null before the first): where reconciliation looks. */
  lastAttemptAt: Date | null;
  /** Reconciliation looks that found nothing since the last send (reconcile.ts). */
  reconcileLooks: number;
  createdAt: Date;
  leaseId: string;
  /** When the lease runs out unless renewed. */
  leaseUntil: Date;
  /** The status before the claim: `unknown` must be reconciled before anything is sent. */
  previous: "approved" | "unknown";
  /** Set when the quota or cycle check refused the post: it must not be sent. */
  refused?: { check: "quota" | "cycle"; code: string; message: string };
}

export interface ClaimFilter {
  userId?: number;
  postIds?: number[];
  /** connectionKey()s ("userId:platform") of connections this process already holds enough posts of. */
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
  media_urls: string[] | null;
  media_type: string | null;
  attempt_count: number;
  reconcile_looks: number;
  last_attempt_at: Date | string | null;
  created_at: Date | string;
  subscription_cycle: Date | string | null;
  was_reserved: boolean;
  previous: "approved" | "unknown";
  previous_attempt_at: Date | string | null;
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
 * Claims up to `limit` due posts (approved or unknown, next_attempt_at ≤ now;
 * at most 2 × the per-connection bound per connection), counts the attempt,
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
  const deferred: Array<{ post: ClaimedPost; account: LockedAccount; cycleStart: Date | null }> = [];

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
          select p.id, p.status::text as previous, p.last_attempt_at as previous_attempt_at, p.quota_reserved as was_reserved
          from posts p join spread s on s.id = p.id
          where p.status in ('approved', 'unknown') and p.next_attempt_at <= ${iso(now)}::timestamptz
          for update of p skip locked
        )
        update posts p set status = 'publishing', lease_id = ${leaseId}, lease_expires_at = ${iso(leaseUntil)}::timestamptz,
          attempt_count = p.attempt_count + 1,
          -- A post being reconciled keeps the time of the attempt that may have gone out:
          -- moving it forward would shrink the look-up window past that post.
          last_attempt_at = case when due.previous = 'unknown' then coalesce(p.last_attempt_at, ${iso(now)}::timestamptz) else ${iso(now)}::timestamptz end,
          -- "May hold a reservation": set before the reservation below commits with it; a post the
          -- quota refuses clears it when it fails, and the ledger's history is what decides.
          quota_reserved = true,
          updated_at = ${iso(now)}::timestamptz
        from due where p.id = due.id
        returning p.id, p.user_id, p.platform, p.content, p.media_url, p.media_urls, p.media_type, p.attempt_count, p.reconcile_looks, due.previous_attempt_at,
          p.created_at, p.subscription_cycle, due.was_reserved, due.previous`),
    );
    if (rows.length === 0) return [];
    const accounts = await lockAccounts(tx, rows.map((r) => r.user_id));
    const out: ClaimedPost[] = [];
    const reservable: Array<{ post: ClaimedPost; quotaReserved: boolean }> = [];
    for (const r of rows.sort((a, b) => a.id - b.id)) {
      const account = accounts.get(r.user_id)!;
      const post: ClaimedPost = {
        id: r.id,
        userId: r.user_id,
        platform: r.platform,
        content: r.content,
        mediaUrl: r.media_url,
        mediaUrls: r.media_urls,
        mediaType: r.media_type,
        attemptCount: r.attempt_count,
        lastAttemptAt: date(r.previous_attempt_at),
        reconcileLooks: r.reconcile_looks,
        createdAt: new Date(r.created_at),
        leaseId,
        leaseUntil,
        previous: r.previous,
      };
      out.push(post);
      const cycle = currentCycle(account, now, deps.config);
      const postCycle = date(r.subscription_cycle);
      const periodStart = account.ledger?.periodStart;
      const ledgerStale = !periodStart || (cycle !== null && periodStart.getTime() < cycle.start.getTime());
      if (!cycle || (postCycle && postCycle.getTime() < cycle.start.getTime()) || ledgerStale) {
        // checkCanPost names the reason (and rolls an ended cycle) outside this transaction.
        deferred.push({ post, account, cycleStart: postCycle });
      } else reservable.push({ post, quotaReserved: r.was_reserved });
    }
    const holding = await reservePosts(
      tx,
      accounts,
      reservable.map(({ post, quotaReserved }) => ({ userId: post.userId, postId: post.id, quotaReserved })),
      now,
    );
    for (const { post } of reservable) if (!holding.has(post.id)) post.refused = QUOTA_USED_UP;
    return out;
  });

  for (const { post, account, cycleStart } of deferred) {
    const check = await checkCanPost(deps, { id: account.userId, ...account }, now, { postCycleStart: cycleStart });
    if (!check.ok) {
      post.refused = { check: check.reason === "cycle_ended" ? "cycle" : "quota", code: check.reason, message: check.message };
      continue;
    }
    const ok = await deps.db.transaction(async (tx) => reservePost(tx, post.userId, post.id, now));
    if (!ok) post.refused = QUOTA_USED_UP;
  }
  return claimed;
}

const QUOTA_USED_UP = { check: "quota", code: "quota_exhausted", message: "All posts of this cycle are used" } as const;

/**
 * May this process still send the post? While at least half the lease is
 * left, yes, without a query: no other process takes a post over before its
 * lease has run out. Later, the lease is renewed, fenced on its id; false
 * means it was lost (another process may be reconciling the post) and
 * nothing may be sent.
 */
export async function holdLease(deps: Deps, post: ClaimedPost): Promise<boolean> {
  const now = deps.clock.now();
  const { leaseMs } = deps.config.publishing;
  if (post.leaseUntil.getTime() - now.getTime() > leaseMs / 2) return true;
  const until = new Date(now.getTime() + leaseMs);
  const renewed = rowsOf(
    await deps.db.execute(sql`
      update posts set lease_expires_at = ${iso(until)}::timestamptz, updated_at = ${iso(now)}::timestamptz
      where id = ${post.id} and lease_id = ${post.leaseId} and status = 'publishing' and lease_expires_at > ${iso(now)}::timestamptz
      returning id`),
  );
  if (renewed.length) post.leaseUntil = until;
  return renewed.length === 1;
}

/** Shutdown: posts claimed but never sent go back to what they were, due now, their attempt not counted. */
export async function releaseUnstarted(deps: Deps, posts: ClaimedPost[]): Promise<number> {
  if (!posts.length) return 0;
  const now = iso(deps.clock.now());
  const input = posts.map((p) => ({ id: p.id, lease_id: p.leaseId, previous: p.previous, last_attempt_at: p.lastAttemptAt && iso(p.lastAttemptAt) }));
  const rows = rowsOf(
    await deps.db.execute(sql`
      update posts p set status = i.previous::post_status, lease_id = null, lease_expires_at = null, next_attempt_at = ${now}::timestamptz,
        attempt_count = greatest(p.attempt_count - 1, 0), last_attempt_at = i.last_attempt_at, updated_at = ${now}::timestamptz
      from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as i(id int, lease_id text, previous text, last_attempt_at timestamptz)
      where p.id = ${anyId(posts.map((p) => p.id))} and p.id = i.id and p.lease_id = i.lease_id and p.status = 'publishing'
      returning p.id`),
  );
  return rows.length;
}

/**
 * Posts left in `publishing` after their lease ran out (their process died or
 * stalled): the call may have gone out, so they become `unknown` and are
 * reconciled with the platform before anything is re-sent. When the process
 * died is not known, so the first look waits a whole reconcile delay (a
 * request's timeout plus the settle margin) from now, and both looks are due
 * again: a send after the last empty look may be the one that went out.
 */
export async function recoverExpiredLeases(deps: Deps, limit = 500): Promise<number> {
  const now = iso(deps.clock.now());
  const firstLook = iso(new Date(deps.clock.now().getTime() + deps.config.publishing.reconcileDelayMs));
  const rows = rowsOf(
    await deps.db.execute(sql`
      update posts p set status = 'unknown', lease_id = null, lease_expires_at = null, next_attempt_at = ${firstLook}::timestamptz,
        reconcile_looks = 0, updated_at = ${now}::timestamptz
      from (select id from posts where status = 'publishing' and lease_expires_at < ${now}::timestamptz
            limit ${limit} for update skip locked) expired
      where p.id = expired.id
      returning p.id`),
  );
  return rows.length;
}
