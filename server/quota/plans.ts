// The plan table: posts per cycle come from config.plans (PLAN_*_POSTS);
// the reach/engagement figures are the targets /api/subscription-usage shows
// as planLimits, scaled with the plan (they are guidance, never enforced).
import { PLAN_NAMES, type PlanName } from "../../shared/schema.ts";
import type { Config } from "../config.ts";

/** Monthly reach and engagement targets shown beside the post allowance. */
export const PLAN_TARGETS: Record<PlanName, { reach: number; engagement: number }> = {
  starter: { reach: 5_000, engagement: 250 },
  growth: { reach: 15_000, engagement: 750 },
  professional: { reach: 30_000, engagement: 1_500 },
};

export interface PlanLimits {
  posts: number;
  reach: number;
  engagement: number;
}

export function quotaFor(config: Pick<Config, "plans">): (plan: PlanName) => number {
  return (plan) => config.plans[plan];
}

export function planLimits(config: Pick<Config, "plans">, plan: PlanName | null): PlanLimits {
  if (!plan) return { posts: 0, reach: 0, engagement: 0 };
  return { posts: config.plans[plan], ...PLAN_TARGETS[plan] };
}

export function isPlanName(v: unknown): v is PlanName {
  return typeof v === "string" && (PLAN_NAMES as readonly string[]).includes(v);
}
