// What the Analytics pages measure against (CLIENT.md §5): per cycle, the
// plan's posts, its reach figure (plans.ts PLAN_TARGETS), an engagement RATE
// (the client shows engagement as a percent of reach) and conversions. A
// brand purpose's own goals, when the user wrote numbers there, replace the
// plan's. Every target is > 0: the client divides by them. Without an active
// plan the starter plan's figures stand in, so the page still has a yardstick.
import { sql } from "drizzle-orm";
import type { PlanName } from "../../shared/schema.ts";
import type { Config } from "../config.ts";
import { rowsOf, type DbOrTx } from "../db/index.ts";
import { PLAN_TARGETS } from "./plans.ts";

export interface Targets {
  posts: number;
  reach: number;
  /** Percent of reach that engages. */
  engagementRate: number;
  conversions: number;
}

/** Half a percent of the people reached: a modest rate for small-business social posts (no platform reports conversions yet). */
const CONVERSION_SHARE = 0.005;

/** Engagements as a percent of reach, one decimal; 0 when nothing was reached. */
export const engagementRate = (engagements: number, reach: number) => (reach > 0 ? Math.round((engagements / reach) * 1000) / 10 : 0);

export function planTargets(config: Pick<Config, "plans">, plan: PlanName | null): Targets {
  const p = plan ?? "starter";
  const { reach, engagement } = PLAN_TARGETS[p];
  return {
    posts: Math.max(1, config.plans[p]),
    reach: Math.max(1, reach),
    engagementRate: Math.max(0.1, engagementRate(engagement, reach)),
    conversions: Math.max(1, Math.round(reach * CONVERSION_SHARE)),
  };
}

/** The first positive number in what the user typed ("10,000 visitors", "5%"), if any. */
export function goalNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v > 0 && Number.isFinite(v) ? v : undefined;
  if (typeof v !== "string") return undefined;
  const m = /\d[\d,]*(?:\.\d+)?/.exec(v);
  const n = m ? Number(m[0].replace(/,/g, "")) : NaN;
  return n > 0 && Number.isFinite(n) ? n : undefined;
}

/** The brand purpose's goals (reachTarget, engagementTarget, conversion/sales/lead targets) over the plan's targets. */
export function withGoals(t: Targets, goals: Record<string, unknown> | undefined): Targets {
  if (!goals) return t;
  const rate = goalNumber(goals.engagementTarget);
  return {
    posts: t.posts,
    reach: Math.round(goalNumber(goals.reachTarget) ?? t.reach),
    engagementRate: rate !== undefined && rate <= 100 ? rate : t.engagementRate,
    conversions: Math.round(goalNumber(goals.conversionTarget) ?? goalNumber(goals.salesTarget) ?? goalNumber(goals.leadTarget) ?? t.conversions),
  };
}

/**
 * The user's brand purpose goals. The brand domain owns brand_purposes (and
 * may not be deployed with this code yet), so it is read defensively: no
 * table, no row, or goals that are not an object all mean "no goals".
 */
export async function readBrandGoals(db: DbOrTx, userId: number): Promise<Record<string, unknown> | undefined> {
  const [present] = rowsOf<{ ok: boolean }>(await db.execute(sql`select to_regclass('public.brand_purposes') is not null as ok`));
  if (!present?.ok) return undefined;
  const [row] = rowsOf<{ goals: unknown }>(await db.execute(sql`select goals from brand_purposes where user_id = ${userId}`));
  const goals = typeof row?.goals === "string" ? JSON.parse(row.goals) : row?.goals;
  return goals && typeof goals === "object" && !Array.isArray(goals) ? (goals as Record<string, unknown>) : undefined;
}

export async function targetsFor(deps: { db: DbOrTx; config: Pick<Config, "plans"> }, user: { id: number; subscriptionActive: boolean; subscriptionPlan: PlanName | null }) {
  const plan = planTargets(deps.config, user.subscriptionActive ? user.subscriptionPlan : null);
  return withGoals(plan, await readBrandGoals(deps.db, user.id));
}
