// Bench: the publishing runner end to end — claim (SKIP LOCKED) + quota
// reservation, token, platform call over HTTP to a standalone sandbox, fenced
// completion with its post_logs and post_analytics rows — for 10,000 due
// posts, first with a zero-latency sandbox, then with 200 ms per publish call
// to compare throughput with the concurrency bound (per platform × platforms / latency).
import { sql } from "drizzle-orm";
import { PLATFORMS } from "../../shared/schema.ts";
import { publishRunner } from "../../server/posts/runner.ts";
import { approvedPosts, multiProcessSetup, publisher, statusCounts } from "../posts/helpers.ts";

const USERS = 50;
const POSTS = Number(process.env.BENCH_PUBLISHING_POSTS ?? 10_000);
const PUBLISH_ENDPOINTS = ["facebook.publish", "instagram.media_publish", "linkedin.posts.create", "x.tweets.create", "youtube.upload.put"];

export interface PublishingRun {
  posts: number;
  latencyMs: number;
  seconds: number;
  postsPerSecond: number;
  published: number;
  /** CPU time of this process (runner + in-process sandbox + pg client) per published post. */
  cpuMsPerPost: number;
  /** CPU time / wall time: near 1 means one core is saturated (Node runs JS on one). */
  cpuShare: number;
  /** perPlatform × 5 platforms / latency: the most the bounds allow (Infinity at zero latency). */
  boundPostsPerSecond: number | null;
}

export async function benchPublishing(): Promise<{ perPlatform: number; perConnection: number; runs: PublishingRun[] }> {
  const setup = await multiProcessSetup({ RUNNER_LEASE_SECONDS: "300", PLATFORM_HTTP_TIMEOUT_MS: "20000" });
  const { server, sandbox } = setup;
  const { perPlatform, perConnection } = server.deps.config.publishing;
  try {
    const users = [];
    for (let i = 0; i < USERS; i++) users.push(await publisher(server, PLATFORMS, `bench${i}`, "professional", sandbox.url));
    const runs: PublishingRun[] = [];
    for (const latencyMs of [0, 200]) {
      await server.deps.db.execute(sql`delete from posts`);
      sandbox.state.published = [];
      sandbox.state.calls = [];
      sandbox.state.latency.clear();
      for (const e of PUBLISH_ENDPOINTS) if (latencyMs) sandbox.state.latency.set(e, latencyMs);
      const perAccount = POSTS / USERS / PLATFORMS.length;
      await approvedPosts(
        server.deps,
        sandbox.url,
        users.flatMap((u) => PLATFORMS.map((platform) => ({ userId: u.userId, platform, count: perAccount, tag: `bench${latencyMs}` }))),
      );
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await publishRunner(server.deps).drain();
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const counts = await statusCounts(server.deps);
      runs.push({
        posts: POSTS,
        latencyMs,
        seconds,
        postsPerSecond: (counts.published ?? 0) / seconds,
        published: counts.published ?? 0,
        cpuMsPerPost: cpuMs / Math.max(1, counts.published ?? 0),
        cpuShare: cpuMs / 1000 / seconds,
        boundPostsPerSecond: latencyMs ? (perPlatform * PLATFORMS.length * 1000) / latencyMs : null,
      });
    }
    return { perPlatform, perConnection, runs };
  } finally {
    await setup.close();
  }
}
