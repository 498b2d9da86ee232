// Reach, impressions and engagement of recently published posts, where the
// platform offers them, into post_analytics and the post's `analytics`.
import { sql } from "drizzle-orm";
import type { Platform } from "../../shared/schema.ts";
import { rowsOf } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { countAnalyticsFailure } from "../ops/metrics.ts";
import { tokenFor } from "./tokens.ts";

const WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

export interface AnalyticsResult {
  checked: number;
  updated: number;
  failed: number;
}

export async function refreshAnalytics(deps: Deps, limit = 200): Promise<AnalyticsResult> {
  const now = deps.clock.now();
  const staleBefore = new Date(now.getTime() - deps.config.jobs.analyticsMinutes * 60_000 + 1000);
  // The stalest first; fetched_at is stamped up front so another process's tick skips them.
  const due = rowsOf<{ id: number; user_id: number; platform: Platform; platform_post_id: string }>(
    await deps.db.execute(sql`
      update post_analytics a set fetched_at = ${now.toISOString()}::timestamptz
      from (
        select a2.id from post_analytics a2 join posts p on p.id = a2.post_id
        where p.status = 'published' and p.platform_post_id is not null
          and p.published_at >= ${new Date(now.getTime() - WINDOW_MS).toISOString()}::timestamptz
          and (a2.fetched_at is null or a2.fetched_at < ${staleBefore.toISOString()}::timestamptz)
        order by a2.fetched_at nulls first limit ${limit}
        for update of a2 skip locked
      ) d, posts p
      where a.id = d.id and p.id = a.post_id
      returning p.id, p.user_id, p.platform, p.platform_post_id`),
  );
  const result: AnalyticsResult = { checked: due.length, updated: 0, failed: 0 };
  for (const post of due) {
    const adapter = deps.platforms[post.platform];
    if (!adapter.fetchAnalytics) continue;
    const token = await tokenFor(deps, post.user_id, post.platform);
    if (!token.ok) continue;
    try {
      const m = await adapter.fetchAnalytics(token.credentials, post.platform_post_id);
      const metrics = { reach: m.reach, impressions: m.impressions, engagement: m.engagement };
      await deps.db.execute(sql`
        with a as (
          update post_analytics set reach = ${m.reach}, impressions = ${m.impressions}, engagement = ${m.engagement},
            fetched_at = ${now.toISOString()}::timestamptz
          where post_id = ${post.id} returning post_id
        )
        update posts set analytics = ${JSON.stringify(metrics)}::jsonb,
          platform_state = case when platform_state ? 'analyticsError' then platform_state - 'analyticsError' else platform_state end
        where id = ${post.id}`);
      result.updated++;
    } catch (err) {
      result.failed++;
      // Visible, not only logged: on the post (analyticsError) and in /metrics. A retired metric or a
      // missing insights permission otherwise looks like a post nobody saw.
      const c = adapter.classifyError(err);
      countAnalyticsFailure(post.platform, c.code);
      const shown = `${adapter.displayName} did not give this post's figures (${c.code}): ${c.message}`.slice(0, 500);
      await deps.db.execute(sql`
        update posts set platform_state = coalesce(platform_state, '{}'::jsonb) || jsonb_build_object('analyticsError', ${shown}::text)
        where id = ${post.id}`);
      deps.log.warn({ postId: post.id, platform: post.platform, code: c.code }, "Analytics fetch failed");
    }
  }
  return result;
}
