// What /api/subscription-usage, /api/quota-status and /api/analytics report:
// the ledger (after closing an ended cycle, so the numbers are the current
// cycle's) and the posts table. Shapes are built by the formatters below.
import { z } from "zod";
import { PLAN_NAMES, PLATFORMS, type User } from "../../shared/schema.ts";
import { isoDate } from "../http/openapi.ts";
import { closeCycleIfDue, type CloseDeps } from "./close.ts";
import { currentCycle, type Cycle } from "./cycle.ts";
import { readLedger } from "./ledger.ts";
import { planLimits, type PlanLimits } from "./plans.ts";
import { engagementRate, targetsFor, type Targets } from "./targets.ts";
import { analyticsByPlatform, countPostsByOutcome, hasFetchedAnalytics, type PostCounts, type PlatformTotals } from "./queries.ts";

interface Allocation {
  active: boolean;
  cycle: Cycle | null;
  total: number;
  used: number;
}

async function allocation(deps: CloseDeps, user: User, now: Date): Promise<Allocation> {
  const cycle = currentCycle(user, now, deps.config);
  if (!cycle) return { active: false, cycle: null, total: 0, used: 0 };
  await closeCycleIfDue(deps, user.id, now);
  const ledger = await readLedger(deps.db, user.id);
  return { active: true, cycle, total: ledger?.quota ?? 0, used: ledger?.usedPosts ?? 0 };
}

export function formatUsage(user: User, a: Allocation, counts: PostCounts, limits: PlanLimits) {
  const remaining = Math.max(a.total - a.used, 0);
  return {
    subscriptionPlan: user.subscriptionPlan ?? null,
    totalAllocation: a.total,
    remainingPosts: remaining,
    usedPosts: a.used,
    publishedPosts: counts.published,
    failedPosts: counts.failed,
    partialPosts: counts.partial,
    planLimits: { posts: limits.posts, reach: limits.reach, engagement: limits.engagement },
    usagePercentage: a.total > 0 ? Math.round((a.used / a.total) * 100) : 0,
    cycleStart: a.cycle?.start.toISOString() ?? null,
    cycleEnd: a.cycle?.end.toISOString() ?? null,
  };
}

export async function subscriptionUsage(deps: CloseDeps, user: User, now: Date) {
  const a = await allocation(deps, user, now);
  const counts = await countPostsByOutcome(deps.db, user.id, a.cycle && { from: a.cycle.start, to: a.cycle.end });
  return formatUsage(user, a, counts, planLimits(deps.config, a.active ? user.subscriptionPlan : null));
}

export function formatQuotaStatus(a: Allocation) {
  const remaining = Math.max(a.total - a.used, 0);
  return { withinLimits: a.active && remaining > 0, remainingPosts: remaining, cycleEnd: a.cycle?.end.toISOString() ?? null };
}

export async function quotaStatus(deps: CloseDeps, user: User, now: Date) {
  return formatQuotaStatus(await allocation(deps, user, now));
}

/** { current, target, percentage } for the client's goal bars; the percentage is capped at 100. */
export function progress(current: number, target: number) {
  return { current, target, percentage: target > 0 ? Math.min(100, Math.round((current / target) * 100)) : 0 };
}

/**
 * The Analytics page (CLIENT.md §5): every figure it dereferences, targets
 * > 0, engagement as a percent of reach (the raw count is `engagements`).
 * Conversions: no platform reports them to us yet, so 0.
 */
export function formatAnalytics(platforms: PlatformTotals[], hasRealData: boolean, targets: Targets) {
  const sum = (k: "posts" | "reach" | "engagement" | "impressions") => platforms.reduce((n, p) => n + p[k], 0);
  const reach = sum("reach");
  const engagements = sum("engagement");
  const conversions = 0;
  // Each platform's share of the reach target; performance is how much of its share it reached.
  const reachShare = targets.reach / Math.max(1, platforms.length);
  return {
    totalPosts: sum("posts"),
    targetPosts: targets.posts,
    reach,
    targetReach: targets.reach,
    engagement: engagementRate(engagements, reach),
    targetEngagement: targets.engagementRate,
    engagements,
    impressions: sum("impressions"),
    conversions,
    targetConversions: targets.conversions,
    platformBreakdown: platforms.map((p) => ({
      platform: p.platform,
      posts: p.posts,
      reach: p.reach,
      engagement: engagementRate(p.engagement, p.reach),
      engagements: p.engagement,
      performance: progress(p.reach, reachShare).percentage,
    })),
    goalProgress: {
      posts: progress(sum("posts"), targets.posts),
      reach: progress(reach, targets.reach),
      engagement: progress(engagementRate(engagements, reach), targets.engagementRate),
      conversions: progress(conversions, targets.conversions),
    },
    hasRealData,
  };
}

/** The current cycle's published posts (all time without a subscription) against the cycle's targets. */
export async function analytics(deps: CloseDeps, user: User, now: Date) {
  const cycle = currentCycle(user, now, deps.config);
  const range = cycle && { from: cycle.start, to: cycle.end };
  const [platforms, real, targets] = await Promise.all([
    analyticsByPlatform(deps.db, user.id, range),
    hasFetchedAnalytics(deps.db, user.id),
    targetsFor(deps, user),
  ]);
  return formatAnalytics(platforms, real, targets);
}

/** The contracts of the formatters above (OpenAPI, server/http/contract.ts). */
export const usageSchema = z.strictObject({
  subscriptionPlan: z.enum(PLAN_NAMES).nullable(),
  totalAllocation: z.number().int(),
  remainingPosts: z.number().int(),
  usedPosts: z.number().int(),
  publishedPosts: z.number().int(),
  failedPosts: z.number().int(),
  partialPosts: z.number().int(),
  planLimits: z.strictObject({ posts: z.number().int(), reach: z.number(), engagement: z.number() }),
  usagePercentage: z.number(),
  cycleStart: isoDate.nullable(),
  cycleEnd: isoDate.nullable(),
});
export const quotaStatusSchema = z.strictObject({ withinLimits: z.boolean(), remainingPosts: z.number().int(), cycleEnd: isoDate.nullable() });
const goal = z.strictObject({ current: z.number(), target: z.number(), percentage: z.number() });
export const analyticsSchema = z.strictObject({
  totalPosts: z.number().int(),
  targetPosts: z.number(),
  reach: z.number(),
  targetReach: z.number(),
  engagement: z.number(),
  targetEngagement: z.number(),
  engagements: z.number(),
  impressions: z.number(),
  conversions: z.number(),
  targetConversions: z.number(),
  platformBreakdown: z.array(
    z.strictObject({ platform: z.enum(PLATFORMS), posts: z.number().int(), reach: z.number(), engagement: z.number(), engagements: z.number(), performance: z.number() }),
  ),
  goalProgress: z.strictObject({ posts: goal, reach: goal, engagement: goal, conversions: goal }),
  hasRealData: z.boolean(),
});
