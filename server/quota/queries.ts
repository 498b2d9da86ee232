// Read-only queries behind the usage and analytics endpoints.
import { sql } from "drizzle-orm";
import { PLATFORMS, type Platform } from "../../shared/schema.ts";
import { rowsOf, type DbOrTx } from "../db/index.ts";

export interface PostCounts {
  published: number;
  failed: number;
  /** Started but not finished: publishing, outcome unknown, or paused for a reconnect. */
  partial: number;
}

/**
 * Posts by outcome, dated by published_at (published) or updated_at (the
 * others), within [from, to) — or over all time when no range is given.
 */
export async function countPostsByOutcome(db: DbOrTx, userId: number, range: { from: Date; to: Date } | null): Promise<PostCounts> {
  const from = range ? range.from.toISOString() : null;
  const to = range ? range.to.toISOString() : null;
  const [row] = rowsOf<PostCounts>(
    await db.execute(sql`
      select
        count(*) filter (where status = 'published')::int as published,
        count(*) filter (where status = 'failed')::int as failed,
        count(*) filter (where status in ('publishing', 'unknown', 'paused'))::int as partial
      from posts
      where user_id = ${userId}
        and (${from}::timestamptz is null or coalesce(published_at, updated_at) >= ${from}::timestamptz)
        and (${to}::timestamptz is null or coalesce(published_at, updated_at) < ${to}::timestamptz)`),
  );
  return row ?? { published: 0, failed: 0, partial: 0 };
}

export interface PlatformTotals {
  platform: Platform;
  posts: number;
  reach: number;
  engagement: number;
  impressions: number;
}

/** Published posts and their reported analytics, per platform (only platforms with posts), by published_at in [from, to) when given. */
export async function analyticsByPlatform(db: DbOrTx, userId: number, range: { from: Date; to: Date } | null = null): Promise<PlatformTotals[]> {
  const from = range ? range.from.toISOString() : null;
  const to = range ? range.to.toISOString() : null;
  const rows = rowsOf<PlatformTotals>(
    await db.execute(sql`
      select p.platform, count(p.id)::int as posts,
             coalesce(sum(a.reach), 0)::int as reach, coalesce(sum(a.engagement), 0)::int as engagement,
             coalesce(sum(a.impressions), 0)::int as impressions
      from posts p left join post_analytics a on a.post_id = p.id
      where p.user_id = ${userId} and p.status = 'published'
        and (${from}::timestamptz is null or p.published_at >= ${from}::timestamptz)
        and (${to}::timestamptz is null or p.published_at < ${to}::timestamptz)
      group by p.platform`),
  );
  return rows.sort((a, b) => PLATFORMS.indexOf(a.platform) - PLATFORMS.indexOf(b.platform));
}

/** True when at least one figure was fetched from a platform rather than defaulted. */
export async function hasFetchedAnalytics(db: DbOrTx, userId: number): Promise<boolean> {
  const [row] = rowsOf<{ found: boolean }>(
    await db.execute(sql`
      select exists (select 1 from post_analytics where user_id = ${userId} and fetched_at is not null) as found`),
  );
  return Boolean(row?.found);
}

export interface ClosedCycleRow {
  cycleStart: Date;
  quota: number;
  posts: number;
  reach: number;
  engagement: number;
}

/** Closed cycles (subscription_analytics) that started in [from, to), oldest first. */
export async function closedCyclesBetween(db: DbOrTx, userId: number, from: Date, to: Date): Promise<ClosedCycleRow[]> {
  const rows = rowsOf<{ cycle_start: Date | string; quota: number; successful_posts: number; reach: number; engagement: number }>(
    await db.execute(sql`
      select cycle_start, quota, successful_posts, reach, engagement from subscription_analytics
      where user_id = ${userId} and cycle_start >= ${from.toISOString()}::timestamptz and cycle_start < ${to.toISOString()}::timestamptz
      order by cycle_start`),
  );
  return rows.map((r) => ({ cycleStart: new Date(r.cycle_start), quota: r.quota, posts: r.successful_posts, reach: r.reach, engagement: r.engagement }));
}
