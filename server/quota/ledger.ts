// The post ledger: quota and used posts of the user's current period. A
// reservation is one conditional UPDATE — the database, not a read-then-write
// in Node, decides whether a post still fits — and every change writes
// quota_history and keeps users.remaining_posts / total_posts equal to the
// ledger in the same statement or transaction.
//
// Lock order for a user's quota rows is always post_ledger, then users.
import { sql } from "drizzle-orm";
import { rowsOf, type DbOrTx } from "../db/index.ts";
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

/** Reservations of a post in the ledger's current period not yet given back. */
async function openReservations(db: DbOrTx, userId: number, postId: number, periodStart: Date): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await db.execute(sql`
      select coalesce(sum(case when reason = ${RESERVED} then 1 when reason like ${RELEASED + "%"} then -1 else 0 end), 0)::int as n
      from quota_history
      where user_id = ${userId} and post_id = ${postId} and created_at >= ${periodStart.toISOString()}::timestamptz`),
  );
  return row?.n ?? 0;
}

/**
 * Takes one post from the user's quota for `postId`. True when reserved (or
 * when this post already holds a reservation in the current period, so a
 * retried claim does not count twice); false when the quota is used up, the
 * user has no ledger or the subscription is inactive. Run it inside the
 * publisher's claim transaction. A ledger whose period has ended is rolled by
 * `closeCycleIfDue` (called by checkCanPost and the cycle-close timer), not here.
 */
export async function reservePost(tx: DbOrTx, userId: number, postId: number, now: Date): Promise<boolean> {
  const ledger = await readLedger(tx, userId);
  if (!ledger) return false;
  if ((await openReservations(tx, userId, postId, ledger.periodStart)) > 0) return true;
  const at = now.toISOString();
  // The whole check is the WHERE of the first CTE; the other two mirror the
  // result on users and audit it, in the same statement.
  const rows = rowsOf<{ new_remaining: number }>(
    await tx.execute(sql`
      with reserved as (
        update post_ledger l set used_posts = l.used_posts + 1, updated_at = ${at}::timestamptz
        where l.user_id = ${userId} and l.used_posts < l.quota
          and exists (select 1 from users u where u.id = ${userId} and u.subscription_active)
        returning l.quota, l.used_posts
      ), mirrored as (
        update users set remaining_posts = greatest(r.quota - r.used_posts, 0), total_posts = r.quota
        from reserved r where users.id = ${userId}
        returning users.id
      )
      insert into quota_history (user_id, post_id, previous_total, new_total, previous_remaining, new_remaining, reason, created_at)
      select ${userId}, ${postId}, r.quota, r.quota, greatest(r.quota - r.used_posts + 1, 0), greatest(r.quota - r.used_posts, 0),
             ${RESERVED}, ${at}::timestamptz
      from reserved r
      returning new_remaining`),
  );
  return rows.length === 1;
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
