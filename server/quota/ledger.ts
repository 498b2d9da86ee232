// The post ledger: quota and used posts of the user's current period.
// Reservations are decided under the ledger row's lock (SELECT … FOR UPDATE),
// never from a read that another transaction could change meanwhile; every
// change writes quota_history and keeps users.remaining_posts / total_posts
// equal to the ledger in the same transaction.
//
// Lock order for a user's quota rows is always post_ledger, then users; for
// several users, post_ledger rows in user id order.
import { sql } from "drizzle-orm";
import type { PlanName } from "../../shared/schema.ts";
import { anyId, rowsOf, type DbOrTx } from "../db/index.ts";
import { recordQuotaChange } from "./history.ts";

export const RESERVED = "post_reserved";
export const RELEASED = "post_released";

export interface LedgerRow {
  quota: number;
  usedPosts: number;
  periodStart: Date;
}

export async function readLedger(db: DbOrTx, userId: number): Promise<LedgerRow | undefined> {
  const [row] = rowsOf<{ quota: number; used_posts: number; period_start: Date | string }>(
    await db.execute(sql`select quota, used_posts, period_start from post_ledger where user_id = ${userId}`),
  );
  return row && { quota: row.quota, usedPosts: row.used_posts, periodStart: new Date(row.period_start) };
}

/** Over quota_history rows: reservations made minus reservations given back. */
const netReservations = sql`sum(case when reason = ${RESERVED} then 1 when reason like ${RELEASED + "%"} then -1 else 0 end)`;

/** Reservations of a post in the ledger's current period not yet given back. */
async function openReservations(db: DbOrTx, userId: number, postId: number, periodStart: Date): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await db.execute(sql`
      select coalesce(${netReservations}, 0)::int as n
      from quota_history
      where user_id = ${userId} and post_id = ${postId} and created_at >= ${periodStart.toISOString()}::timestamptz`),
  );
  return row?.n ?? 0;
}

export interface WantedReservation {
  userId: number;
  postId: number;
  /** The post's quota_reserved flag; false means it holds no reservation (no need to look one up). */
  quotaReserved?: boolean;
}

/** What a publishing claim decides with, per user: the subscription and the (locked) ledger. */
export interface LockedAccount {
  userId: number;
  subscriptionActive: boolean;
  subscriptionStart: Date | null;
  subscriptionPlan: PlanName | null;
  /** Absent when no ledger was ever opened. */
  ledger?: { quota: number; usedPosts: number; periodStart: Date };
}

interface AccountRow {
  id: number;
  subscription_active: boolean;
  subscription_start: Date | string | null;
  subscription_plan: PlanName | null;
  quota: number | null;
  used_posts: number | null;
  period_start: Date | string | null;
}

/**
 * Locks the ledgers of these users — in user id order, the one lock order
 * every process uses, so two claims cannot deadlock — and reads their
 * subscriptions with them: one statement for the whole batch. Users without
 * a ledger come back without one (a second, rare statement reads them).
 */
export async function lockAccounts(tx: DbOrTx, userIds: number[]): Promise<Map<number, LockedAccount>> {
  const ids = [...new Set(userIds)].sort((a, b) => a - b);
  const out = new Map<number, LockedAccount>();
  if (!ids.length) return out;
  const toAccount = (r: AccountRow): LockedAccount => ({
    userId: r.id,
    subscriptionActive: r.subscription_active,
    subscriptionStart: r.subscription_start === null ? null : new Date(r.subscription_start),
    subscriptionPlan: r.subscription_plan,
    ...(r.period_start === null ? {} : { ledger: { quota: r.quota!, usedPosts: r.used_posts!, periodStart: new Date(r.period_start) } }),
  });
  const locked = rowsOf<AccountRow>(
    await tx.execute(sql`
      select u.id, u.subscription_active, u.subscription_start, u.subscription_plan, l.quota, l.used_posts, l.period_start
      from post_ledger l join users u on u.id = l.user_id
      where l.user_id = ${anyId(ids)}
      order by l.user_id
      for update of l`),
  );
  for (const r of locked) out.set(r.id, toAccount(r));
  const missing = ids.filter((id) => !out.has(id));
  if (missing.length) {
    const rows = rowsOf<AccountRow>(
      await tx.execute(sql`
        select id, subscription_active, subscription_start, subscription_plan, null as quota, null as used_posts, null as period_start
        from users where id = ${anyId(missing)}`),
    );
    for (const r of rows) out.set(r.id, toAccount(r));
  }
  return out;
}

/** Posts of `wanted` that already hold a reservation in their user's current period (a retried claim). */
async function holdingReservations(db: DbOrTx, wanted: WantedReservation[]): Promise<Set<number>> {
  const maybe = wanted.filter((w) => w.quotaReserved !== false);
  if (!maybe.length) return new Set();
  const list = (xs: number[]) => sql.join(xs.map((x) => sql`${x}`), sql`, `);
  const rows = rowsOf<{ post_id: number }>(
    await db.execute(sql`
      select h.post_id from quota_history h join post_ledger l on l.user_id = h.user_id
      where h.user_id in (${list([...new Set(maybe.map((w) => w.userId))])}) and h.post_id in (${list(maybe.map((w) => w.postId))})
        and h.created_at >= l.period_start
      group by h.post_id
      having ${netReservations} > 0`),
  );
  return new Set(rows.map((r) => r.post_id));
}

/**
 * Takes one post from its user's quota for each wanted post, in the order
 * given, while the quota lasts. Returns the posts that hold a reservation
 * afterwards: newly reserved, or already holding one in the current period
 * (a retried claim does not count twice). Nothing is reserved for a user with
 * no ledger or an inactive subscription. Run it inside the claim transaction.
 *
 * `accounts` come from lockAccounts in the same transaction: the grants are
 * decided here under those locks, and one statement applies them to the
 * ledger, mirrors them on users and audits each post in quota_history. A
 * ledger whose period has ended is rolled by `closeCycleIfDue` (checkCanPost
 * and the cycle-close timer), not here.
 */
export async function reservePosts(tx: DbOrTx, accounts: Map<number, LockedAccount>, wanted: WantedReservation[], now: Date): Promise<Set<number>> {
  if (!wanted.length) return new Set();
  const holding = await holdingReservations(tx, wanted);
  const granted: Array<{ user_id: number; post_id: number; quota: number; previous_remaining: number; new_remaining: number }> = [];
  const used = new Map<number, number>();
  for (const w of wanted) {
    const account = accounts.get(w.userId);
    const l = account?.ledger;
    if (holding.has(w.postId) || !account?.subscriptionActive || !l) continue;
    const before = used.get(w.userId) ?? l.usedPosts;
    if (before >= l.quota) continue;
    used.set(w.userId, before + 1);
    granted.push({ user_id: w.userId, post_id: w.postId, quota: l.quota, previous_remaining: Math.max(l.quota - before, 0), new_remaining: Math.max(l.quota - before - 1, 0) });
    holding.add(w.postId);
  }
  if (!granted.length) return holding;
  const at = now.toISOString();
  await tx.execute(sql`
    with granted as (
      select * from jsonb_to_recordset(${JSON.stringify(granted)}::jsonb)
        as g(user_id int, post_id int, quota int, previous_remaining int, new_remaining int)
    ), per_user as (
      select user_id, count(*)::int as n from granted group by user_id
    ), ledger as (
      update post_ledger l set used_posts = l.used_posts + p.n, updated_at = ${at}::timestamptz
      from per_user p where l.user_id = ${anyId(granted.map((g) => g.user_id))} and l.user_id = p.user_id
      returning l.user_id, l.quota, l.used_posts
    ), mirrored as (
      update users u set remaining_posts = greatest(l.quota - l.used_posts, 0), total_posts = l.quota
      from ledger l where u.id = ${anyId(granted.map((g) => g.user_id))} and u.id = l.user_id
      returning u.id
    )
    insert into quota_history (user_id, post_id, previous_total, new_total, previous_remaining, new_remaining, reason, created_at)
    select user_id, post_id, quota, quota, previous_remaining, new_remaining, ${RESERVED}, ${at}::timestamptz from granted`);
  return holding;
}

/** One post's reservation (see reservePosts). */
export async function reservePost(tx: DbOrTx, userId: number, postId: number, now: Date): Promise<boolean> {
  return (await reservePosts(tx, await lockAccounts(tx, [userId]), [{ userId, postId }], now)).has(postId);
}

/**
 * Gives a post's reservation back (a publish that finally failed). Only a
 * reservation made in the ledger's current period is returned — after the
 * cycle rolled, the old cycle's usage stays in its analytics — and only once
 * per reservation, so calling it twice is harmless. True when given back.
 */
export async function releaseReservation(
  tx: DbOrTx,
  userId: number,
  postId: number,
  now: Date,
  reason: string,
): Promise<boolean> {
  const [locked] = rowsOf<{ quota: number; used_posts: number; period_start: Date | string }>(
    await tx.execute(sql`select quota, used_posts, period_start from post_ledger where user_id = ${userId} for update`),
  );
  if (!locked || locked.used_posts <= 0) return false;
  if ((await openReservations(tx, userId, postId, new Date(locked.period_start))) <= 0) return false;
  const used = locked.used_posts - 1;
  await tx.execute(sql`update post_ledger set used_posts = ${used}, updated_at = ${now.toISOString()}::timestamptz where user_id = ${userId}`);
  await tx.execute(sql`
    update users set remaining_posts = ${Math.max(locked.quota - used, 0)}, total_posts = ${locked.quota}
    where id = ${userId}`);
  await recordQuotaChange(tx, {
    userId,
    postId,
    previousTotal: locked.quota,
    newTotal: locked.quota,
    previousRemaining: Math.max(locked.quota - locked.used_posts, 0),
    newRemaining: Math.max(locked.quota - used, 0),
    reason: `${RELEASED}:${reason}`,
    at: now,
  });
  return true;
}
