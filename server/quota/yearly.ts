// GET /api/yearly-analytics (CLIENT.md §5): the calendar year (UTC) as the
// 30-day cycles it holds — the closed ones from subscription_analytics (what
// the cycle close recorded), plus the open cycle's live figures — against the
// cycle targets (targets.ts), the year's targets (a cycle's × cycles per year)
// and a straight-line projection to the year's end.
import type { User } from "../../shared/schema.ts";
import { closeCycleIfDue, type CloseDeps } from "./close.ts";
import { currentCycle } from "./cycle.ts";
import { analyticsByPlatform, closedCyclesBetween } from "./queries.ts";
import { engagementRate, targetsFor, type Targets } from "./targets.ts";
import { progress } from "./usage.ts";

interface CycleFigures {
  start: Date;
  targetPosts: number;
  posts: number;
  reach: number;
  engagements: number;
}

export async function yearlyAnalytics(deps: CloseDeps, user: User, now: Date) {
  const yearStart = new Date(Date.UTC(now.getUTCFullYear(), 0, 1));
  const yearEnd = new Date(Date.UTC(now.getUTCFullYear() + 1, 0, 1));
  const cycle = currentCycle(user, now, deps.config);
  // Records a cycle that ended since the last look, so it is counted as closed.
  if (cycle) await closeCycleIfDue(deps, user.id, now);
  const [closed, targets] = await Promise.all([closedCyclesBetween(deps.db, user.id, yearStart, yearEnd), targetsFor(deps, user)]);
  const cycles: CycleFigures[] = closed.map((c) => ({ start: c.cycleStart, targetPosts: c.quota > 0 ? c.quota : targets.posts, posts: c.posts, reach: c.reach, engagements: c.engagement }));
  if (cycle && cycle.start >= yearStart && !cycles.some((c) => c.start.getTime() === cycle.start.getTime())) {
    const live = await analyticsByPlatform(deps.db, user.id, { from: cycle.start, to: cycle.end });
    cycles.push({
      start: cycle.start,
      targetPosts: targets.posts,
      posts: live.reduce((n, p) => n + p.posts, 0),
      reach: live.reduce((n, p) => n + p.reach, 0),
      engagements: live.reduce((n, p) => n + p.engagement, 0),
    });
  }
  return formatYearly(cycles, targets, { now, yearStart, yearEnd, cycleDays: deps.config.cycle.days, timeZone: deps.config.cycle.notifyTimezone });
}

export function formatYearly(cycles: CycleFigures[], t: Targets, when: { now: Date; yearStart: Date; yearEnd: Date; cycleDays: number; timeZone: string }) {
  const label = (d: Date) => `Cycle from ${d.toLocaleDateString("en-AU", { day: "numeric", month: "short", year: "numeric", timeZone: when.timeZone })}`;
  const monthly = cycles.map((c) => ({
    month: label(c.start),
    posts: c.posts,
    reach: c.reach,
    engagement: engagementRate(c.engagements, c.reach),
    conversions: 0,
    targetPosts: c.targetPosts,
    targetReach: t.reach,
    targetEngagement: t.engagementRate,
    targetConversions: t.conversions,
    // Half for posts published against the allowance, half for reach against its target.
    performance: Math.round((progress(c.posts, c.targetPosts).percentage + progress(c.reach, t.reach).percentage) / 2),
  }));
  const totalPosts = cycles.reduce((n, c) => n + c.posts, 0);
  const totalReach = cycles.reduce((n, c) => n + c.reach, 0);
  const avgEngagement = engagementRate(cycles.reduce((n, c) => n + c.engagements, 0), totalReach);
  const perYear = Math.max(1, Math.round(365 / when.cycleDays));
  const elapsed = (when.now.getTime() - when.yearStart.getTime()) / (when.yearEnd.getTime() - when.yearStart.getTime());
  const project = (n: number) => (elapsed > 0 ? Math.round(n / elapsed) : n);
  const best = [...monthly].sort((a, b) => b.reach - a.reach || b.posts - a.posts)[0];
  return {
    yearToDate: {
      totalPosts,
      totalReach,
      avgEngagement,
      totalConversions: 0,
      yearlyTargets: { posts: t.posts * perYear, reach: t.reach * perYear, engagement: t.engagementRate, conversions: t.conversions * perYear },
    },
    yearEndProjection: { posts: project(totalPosts), reach: project(totalReach), engagement: avgEngagement, conversions: 0 },
    monthly30DayCycles: monthly,
    ...(best ? { bestPerformingMonth: { month: best.month, posts: best.posts, reach: best.reach, engagement: best.engagement, conversions: best.conversions } } : {}),
  };
}
