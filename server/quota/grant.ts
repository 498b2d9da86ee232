// Granting a plan (gift certificate, payment, operator): the subscription
// starts now and a fresh cycle opens with the plan's full quota. Callers pass
// their own transaction so the grant commits or rolls back with whatever
// caused it (e.g. the certificate's `is_used` update).
import { eq, sql } from "drizzle-orm";
import { postLedger, users, type PlanName } from "../../shared/schema.ts";
import { rowsOf, type DbOrTx } from "../db/index.ts";
import { recordQuotaChange } from "./history.ts";
import { announceSubscriptionChange } from "../subscription/events.ts";

export interface GrantPlanArgs {
  userId: number;
  plan: PlanName;
  /** Where the subscription came from: "gift_certificate", "stripe", "ops"… (stored on the user). */
  source: string;
  now: Date;
  /** Posts per cycle for a plan; usually `(p) => deps.config.plans[p]` (see plans.ts `quotaFor`). */
  quotaFor: (plan: PlanName) => number;
}

export interface GrantResult {
  plan: PlanName;
  quota: number;
  remainingPosts: number;
  cycleStart: Date;
}

/**
 * Sets the user's plan (active, starting `now`), opens or resets the ledger
 * to (quota, used 0, period_start now), mirrors it on users.remaining_posts /
 * total_posts and writes quota_history. Throws if the user does not exist.
 * Run it inside the caller's transaction.
 */
export async function grantPlan(tx: DbOrTx, args: GrantPlanArgs): Promise<GrantResult> {
  const { userId, plan, source, now } = args;
  const quota = args.quotaFor(plan);
  if (!Number.isInteger(quota) || quota < 0) throw new Error(`invalid quota ${quota} for plan ${plan}`);

  // Lock the ledger row, then the user row — the order every quota change
  // uses (reserve, release, cycle close), so they take turns without
  // deadlocking and the history's "previous" values are true.
  const [ledger] = rowsOf<{ quota: number; used_posts: number }>(
    await tx.execute(sql`select quota, used_posts from post_ledger where user_id = ${userId} for update`),
  );
  const [user] = rowsOf<{ remaining_posts: number; total_posts: number }>(
    await tx.execute(sql`select remaining_posts, total_posts from users where id = ${userId} for update`),
  );
  if (!user) throw new Error(`grantPlan: user ${userId} not found`);
  const previousTotal = ledger ? ledger.quota : user.total_posts;
  const previousRemaining = ledger ? Math.max(ledger.quota - ledger.used_posts, 0) : user.remaining_posts;

  await tx
    .insert(postLedger)
    .values({ userId, quota, usedPosts: 0, periodStart: now, updatedAt: now })
    .onConflictDoUpdate({
      target: postLedger.userId,
      set: { quota, usedPosts: 0, periodStart: now, updatedAt: now },
    });
  await tx
    .update(users)
    .set({
      subscriptionPlan: plan,
      subscriptionActive: true,
      subscriptionStart: now,
      subscriptionSource: source,
      totalPosts: quota,
      remainingPosts: quota,
      updatedAt: now,
    })
    .where(eq(users.id, userId));
  await recordQuotaChange(tx, {
    userId,
    previousTotal,
    newTotal: quota,
    previousRemaining,
    newRemaining: quota,
    reason: `plan_granted:${plan}:${source}`,
    at: now,
  });
  // Open subscription streams hear of it once this transaction commits.
  await announceSubscriptionChange(tx, userId);
  return { plan, quota, remainingPosts: quota, cycleStart: now };
}
