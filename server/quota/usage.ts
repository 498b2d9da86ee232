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

export function formatAnalytics(platforms: PlatformTotals[], hasRealData: boolean) {
  const sum = (k: "posts" | "reach" | "engagement" | "impressions") => platforms.reduce((n, p) => n + p[k], 0);
  return {
    totalPosts: sum("posts"),
    reach: sum("reach"),
    engagement: sum("engagement"),
    impressions: sum("impressions"),
    platformBreakdown: platforms.map((p) => ({ platform: p.platform, posts: p.posts, reach: p.reach, engagement: p.engagement })),
    hasRealData,
  };
}

export async function analytics(deps: CloseDeps, user: User) {
  const [platforms, real] = await Promise.all([analyticsByPlatform(deps.db, user.id), hasFetchedAnalytics(deps.db, user.id)]);
  return formatAnalytics(platforms, real);
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
export const analyticsSchema = z.strictObject({
  totalPosts: z.number().int(),
  reach: z.number(),
  engagement: z.number(),
  impressions: z.number(),
  platformBreakdown: z.array(z.strictObject({ platform: z.enum(PLATFORMS), posts: z.number().int(), reach: z.number(), engagement: z.number() })),
  hasRealData: z.boolean(),
});
