// A paid renewal (Stripe's invoice.paid for a new billing period) opens the
// next cycle at the start of the paid period. Stripe's periods are calendar
// months while cycles last CYCLE_DAYS, so the hourly cycle close may already
// have rolled the ledger a day or two before the payment arrives: such a roll
// (past the subscription's anchor, within half a cycle of the paid period's
// start) is that same period, and the renewal only moves its start (used posts
// stay); otherwise the open cycle is closed and a fresh one opened with the
// plan's full quota. A renewal for a period at or before the anchor (already
// opened, or older and delivered late) changes nothing. Either way the
// subscription is re-anchored on the paid period, so later cycles follow
// Stripe's calendar. Applying the same renewal twice changes nothing.
import { sql } from "drizzle-orm";
import type { PlanName } from "../../shared/schema.ts";
import { rowsOf, type DbOrTx } from "../db/index.ts";
import { recordClosedCycle } from "./close.ts";
import { recordQuotaChange } from "./history.ts";

export interface PaidCycleArgs {
  userId: number;
  /** The plan paid for (a downgrade made during the last period takes effect here). */
  plan: PlanName;
  periodStart: Date;
  now: Date;
  quotaFor: (plan: PlanName) => number;
  cycleLengthMs: number;
}

/** opened: a new cycle with full quota; moved: the cycle already open was re-anchored; unchanged: nothing to do. */
export type PaidCycleOutcome = "opened" | "moved" | "unchanged" | "inactive";

/** Run inside the caller's transaction (the webhook event's). Lock order: post_ledger, then users. */
export async function openPaidCycle(tx: DbOrTx, args: PaidCycleArgs): Promise<PaidCycleOutcome> {
  const { userId, plan, periodStart, now } = args;
  const [ledger] = rowsOf<{ quota: number; used_posts: number; period_start: Date | string }>(
    await tx.execute(sql`select quota, used_posts, period_start from post_ledger where user_id = ${userId} for update`),
  );
  const [user] = rowsOf<{ subscription_active: boolean; subscription_plan: PlanName | null; subscription_start: Date | string | null }>(
    await tx.execute(sql`select subscription_active, subscription_plan, subscription_start from users where id = ${userId} for update`),
  );
  // A cancelled subscription gets no further cycles, whatever Stripe still sends.
  if (!user?.subscription_active || !ledger) return "inactive";

  const quota = args.quotaFor(plan);
  const oldStart = new Date(ledger.period_start);
  const anchor = user.subscription_start ? new Date(user.subscription_start) : oldStart;
  // A renewal for a period already opened (by this renewal, a later one, or a grant since).
  if (periodStart.getTime() <= anchor.getTime()) return "unchanged";
  const iso = periodStart.toISOString();

  // The cycle close rolled the ledger past the anchor close to the paid period's start: same period.
  const rolledByClock = oldStart.getTime() > anchor.getTime();
  if (rolledByClock && Math.abs(oldStart.getTime() - periodStart.getTime()) < args.cycleLengthMs / 2) {
    await tx.execute(sql`
      update post_ledger set period_start = ${iso}::timestamptz, quota = ${quota}, updated_at = ${now.toISOString()}::timestamptz
      where user_id = ${userId}`);
    await setSubscription(tx, userId, plan, periodStart, quota, Math.max(quota - ledger.used_posts, 0), now);
    if (ledger.quota !== quota) {
      await recordQuotaChange(tx, {
        userId,
        previousTotal: ledger.quota,
        newTotal: quota,
        previousRemaining: Math.max(ledger.quota - ledger.used_posts, 0),
        newRemaining: Math.max(quota - ledger.used_posts, 0),
        reason: `plan_renewed:${plan}`,
        at: now,
      });
    }
    return "moved";
  }

  await recordClosedCycle(tx, {
    userId,
    plan: user.subscription_plan,
    start: oldStart,
    end: new Date(Math.min(oldStart.getTime() + args.cycleLengthMs, periodStart.getTime())),
    quota: ledger.quota,
    postsUsed: ledger.used_posts,
    now,
  });
  await tx.execute(sql`
    update post_ledger set period_start = ${iso}::timestamptz, used_posts = 0, quota = ${quota}, updated_at = ${now.toISOString()}::timestamptz
    where user_id = ${userId}`);
  await setSubscription(tx, userId, plan, periodStart, quota, quota, now);
  await recordQuotaChange(tx, {
    userId,
    previousTotal: ledger.quota,
    newTotal: quota,
    previousRemaining: Math.max(ledger.quota - ledger.used_posts, 0),
    newRemaining: quota,
    reason: `cycle_renewed:${plan}`,
    at: now,
  });
  return "opened";
}

async function setSubscription(tx: DbOrTx, userId: number, plan: PlanName, start: Date, quota: number, remaining: number, now: Date) {
  await tx.execute(sql`
    update users set subscription_plan = ${plan}::subscription_plan, subscription_start = ${start.toISOString()}::timestamptz,
      total_posts = ${quota}, remaining_posts = ${remaining}, updated_at = ${now.toISOString()}::timestamptz
    where id = ${userId}`);
}
