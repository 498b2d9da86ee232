// The quota pre-flight the publishing code runs before it reserves: is there
// an active subscription, is the post's cycle still the current one, and is
// there a post left in the ledger. Each refusal names its reason.
import type { User } from "../../shared/schema.ts";
import { closeCycleIfDue, type CloseDeps } from "./close.ts";
import { currentCycle, cycleLengthMs, type Cycle } from "./cycle.ts";
import { readLedger } from "./ledger.ts";

export type CannotPostReason = "no_active_subscription" | "cycle_ended" | "quota_exhausted";

export type PostCheck =
  | { ok: true; remaining: number; quota: number; cycle: Cycle }
  | { ok: false; reason: CannotPostReason; message: string; cycle: Cycle | null };

type Subscriber = Pick<User, "id" | "subscriptionActive" | "subscriptionPlan" | "subscriptionStart">;

/**
 * Call it OUTSIDE any open transaction (it may close an ended cycle in its
 * own), then reserve with `reservePost` inside the claim transaction.
 * `postCycleStart` is the cycle the post was planned for (posts.subscription_cycle):
 * a post planned for a cycle that has ended is refused with `cycle_ended`.
 */
export async function checkCanPost(
  deps: CloseDeps,
  user: Subscriber,
  now: Date,
  options: { postCycleStart?: Date | null } = {},
): Promise<PostCheck> {
  const cycle = currentCycle(user, now, deps.config);
  if (!cycle || !user.subscriptionPlan) {
    return {
      ok: false,
      reason: "no_active_subscription",
      message: "No active subscription: choose a plan or redeem a gift certificate to publish",
      cycle: null,
    };
  }
  // Ended means the planned cycle's 30 days are over — not merely that a new
  // cycle started early (a plan granted mid-cycle restarts the cycle, and the
  // posts already approved must still go out).
  if (options.postCycleStart && options.postCycleStart.getTime() + cycleLengthMs(deps.config) <= now.getTime()) {
    return {
      ok: false,
      reason: "cycle_ended",
      message: `This post was planned for the cycle that ended on ${new Date(
        options.postCycleStart.getTime() + cycleLengthMs(deps.config),
      ).toISOString()}; approve it again for the current cycle`,
      cycle,
    };
  }
  await closeCycleIfDue(deps, user.id, now);
  const ledger = await readLedger(deps.db, user.id);
  if (!ledger) {
    return { ok: false, reason: "no_active_subscription", message: "No post allowance has been opened for this subscription", cycle };
  }
  const remaining = Math.max(ledger.quota - ledger.usedPosts, 0);
  if (ledger.quota === 0) {
    return { ok: false, reason: "quota_exhausted", message: "Your plan includes no posts in this cycle", cycle };
  }
  if (remaining === 0) {
    return {
      ok: false,
      reason: "quota_exhausted",
      message: `All ${ledger.quota} posts of this cycle are used; the next cycle starts on ${cycle.end.toISOString()}`,
      cycle,
    };
  }
  return { ok: true, remaining, quota: ledger.quota, cycle };
}
