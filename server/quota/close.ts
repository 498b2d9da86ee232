// Cycle close: when a user's ledger period has ended, roll it to the cycle
// containing `now` with the plan's full quota, and record the closed cycle in
// subscription_analytics. Runs from the hourly timer and lazily whenever the
// ledger is about to be used (checkCanPost, the usage endpoints).
//
// Exactly once: the roll is a conditional UPDATE on the old period_start, so
// of two processes (or two ticks) closing the same cycle only one gets the
// row back; the unique (user_id, cycle_start) index on subscription_analytics
// is the second guard.
import { sql } from "drizzle-orm";
import type { PlanName } from "../../shared/schema.ts";
import type { Config } from "../config.ts";
import { rowsOf, type Db, type DbOrTx } from "../db/index.ts";
import { userLabel, type Log } from "../log.ts";
import { cycleAt, cycleLengthMs } from "./cycle.ts";
import { recordQuotaChange } from "./history.ts";

export interface CloseDeps {
  db: Db;
  config: Pick<Config, "cycle" | "plans">;
  log: Log;
}

interface DueRow {
  id: number;
  phone: string | null;
  subscription_plan: PlanName | null;
  subscription_start: Date | string;
  quota: number;
  used_posts: number;
  period_start: Date | string;
}

export interface ClosedCycle {
  userId: number;
  cycleStart: Date;
  cycleEnd: Date;
  postsUsed: number;
}

/** Closes the user's ended cycle if there is one; null when nothing was due or another process closed it. */
export async function closeCycleIfDue(deps: CloseDeps, userId: number, now: Date): Promise<ClosedCycle | null> {
  const length = cycleLengthMs(deps.config);
  const closed = await deps.db.transaction(async (tx) => {
    // The ledger row is locked first (lock order: post_ledger, then users) and
    // read as committed after any reservation in flight: the closed cycle's
    // used_posts then counts every reservation the roll below sets back to 0.
    const [row] = rowsOf<DueRow>(
      await tx.execute(sql`
        select u.id, u.phone, u.subscription_plan, u.subscription_start, l.quota, l.used_posts, l.period_start
        from users u join post_ledger l on l.user_id = u.id
        where u.id = ${userId} and u.subscription_active and u.subscription_start is not null
        for update of l`),
    );
    if (!row) return null;
    const oldStart = new Date(row.period_start);
    const current = cycleAt(new Date(row.subscription_start), now, length);
    if (oldStart.getTime() >= current.start.getTime()) return null;
    const oldEnd = new Date(Math.min(oldStart.getTime() + length, current.start.getTime()));
    const quota = row.subscription_plan ? deps.config.plans[row.subscription_plan] : row.quota;

    // The conditional roll: only the first closer of this period matches.
    const rolled = rowsOf<{ user_id: number }>(
      await tx.execute(sql`
        update post_ledger set period_start = ${current.start.toISOString()}::timestamptz, used_posts = 0,
          quota = ${quota}, updated_at = ${now.toISOString()}::timestamptz
        where user_id = ${userId} and period_start = ${oldStart.toISOString()}::timestamptz
        returning user_id`),
    );
    if (rolled.length === 0) return null;

    await recordClosedCycle(tx, {
      userId,
      plan: row.subscription_plan,
      start: oldStart,
      end: oldEnd,
      quota: row.quota,
      postsUsed: row.used_posts,
      now,
    });
    await tx.execute(sql`update users set remaining_posts = ${quota}, total_posts = ${quota} where id = ${userId}`);
    await recordQuotaChange(tx, {
      userId,
      previousTotal: row.quota,
      newTotal: quota,
      previousRemaining: Math.max(row.quota - row.used_posts, 0),
      newRemaining: quota,
      reason: "cycle_reset",
      at: now,
    });
    return { userId, cycleStart: oldStart, cycleEnd: oldEnd, postsUsed: row.used_posts, phone: row.phone };
  });
  if (!closed) return null;
  deps.log.info({ userId, cycleStart: closed.cycleStart, cycleEnd: closed.cycleEnd }, `Cycle completed ${userLabel(closed.phone, userId)}`);
  const { phone: _phone, ...result } = closed;
  return result;
}

/**
 * Writes a closed cycle's subscription_analytics row: posts published in it
 * and what the platforms reported for them. Once per (user, cycle start).
 */
export async function recordClosedCycle(
  tx: DbOrTx,
  c: { userId: number; plan: PlanName | null; start: Date; end: Date; quota: number; postsUsed: number; now: Date },
): Promise<void> {
  await tx.execute(sql`
    insert into subscription_analytics
      (user_id, plan, cycle_start, cycle_end, quota, posts_used, successful_posts, reach, engagement, impressions, created_at)
    select ${c.userId}, ${c.plan}::subscription_plan, ${c.start.toISOString()}::timestamptz,
           ${c.end.toISOString()}::timestamptz, ${c.quota}, ${c.postsUsed},
           count(p.id)::int, coalesce(sum(a.reach), 0)::int, coalesce(sum(a.engagement), 0)::int,
           coalesce(sum(a.impressions), 0)::int, ${c.now.toISOString()}::timestamptz
    from posts p left join post_analytics a on a.post_id = p.id
    where p.user_id = ${c.userId} and p.status = 'published'
      and p.published_at >= ${c.start.toISOString()}::timestamptz and p.published_at < ${c.end.toISOString()}::timestamptz
    on conflict (user_id, cycle_start) do nothing`);
}

/** The timer: closes every ended cycle. Returns how many this process closed. */
export async function closeDueCycles(deps: CloseDeps, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - cycleLengthMs(deps.config));
  const due = rowsOf<{ id: number }>(
    await deps.db.execute(sql`
      select u.id from users u join post_ledger l on l.user_id = u.id
      where u.subscription_active and l.period_start <= ${cutoff.toISOString()}::timestamptz
      order by u.id`),
  );
  let closed = 0;
  for (const { id } of due) {
    if (await closeCycleIfDue(deps, id, now)) closed += 1;
  }
  return closed;
}
