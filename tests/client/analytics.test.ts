// The Analytics pages' fields (CLIENT.md §5): every number the page
// dereferences, targets > 0 from the plan and the brand purpose's goals,
// engagement as a rate, conversions 0 with hasRealData false until platforms
// report, performance 0–100; the yearly page over the 30-day cycles that
// subscription_analytics recorded plus the open one.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../support/server.ts";
import { signedUpClient, startTestServer } from "../support/server.ts";
import { DAY, insertPost, subscriber } from "../quota/helpers.ts";

const ANALYTICS_NUMBERS = ["totalPosts", "targetPosts", "reach", "targetReach", "engagement", "targetEngagement", "conversions", "targetConversions"];

/** Stores a brand purpose's goals whichever brand_purposes table this build has (the brand domain owns it). */
async function storeGoals(server: TestServer, userId: number, goals: Record<string, unknown>) {
  const q = server.deps.database.pool;
  await q.query("create table if not exists brand_purposes (user_id integer primary key references users(id) on delete cascade, goals jsonb not null)");
  const { rows } = await q.query(
    `select column_name, data_type from information_schema.columns
     where table_schema = 'public' and table_name = 'brand_purposes' and is_nullable = 'NO' and column_default is null`,
  );
  const cols = rows.map((r: { column_name: string }) => r.column_name);
  const values = rows.map((r: { column_name: string; data_type: string }) =>
    r.column_name === "user_id" ? userId : r.column_name === "goals" ? JSON.stringify(goals) : r.data_type === "jsonb" ? "{}" : "filled by the analytics test",
  );
  await q.query(`insert into brand_purposes (${cols.join(", ")}) values (${cols.map((_c: string, i: number) => `$${i + 1}`).join(", ")})`, values);
}

describe("analytics for the client", () => {
  let server: TestServer;
  const t0 = new Date("2026-03-01T00:00:00Z");
  before(async () => {
    server = await startTestServer();
    server.clock.set(new Date(t0.getTime() + 5 * DAY));
  });
  after(() => server.close());

  it("without a plan or posts: every required number, targets > 0, no real data", async () => {
    const { client } = await signedUpClient(server, "an0");
    const r = await client.get("/api/analytics");
    assert.equal(r.status, 200);
    for (const k of ANALYTICS_NUMBERS) assert.equal(typeof r.body[k], "number", k);
    for (const k of ["targetPosts", "targetReach", "targetEngagement", "targetConversions"]) assert.ok(r.body[k] > 0, k);
    assert.equal(r.body.conversions, 0);
    assert.equal(r.body.hasRealData, false);
    assert.deepEqual(r.body.platformBreakdown, []);
  });

  it("with a plan: the cycle's posts against the plan, per-platform performance within 0–100", async () => {
    const { client, user } = await subscriber(server, { plan: "starter", start: t0, tag: "an1" });
    const at = new Date(t0.getTime() + DAY);
    await insertPost(server, user.id, { platform: "linkedin", status: "published", at, reach: 9_000, engagement: 450 });
    await insertPost(server, user.id, { platform: "x", status: "published", at, reach: 100, engagement: 1, fetched: false });
    await insertPost(server, user.id, { platform: "x", status: "failed", at });
    const r = (await client.get("/api/analytics")).body;
    assert.equal(r.totalPosts, 2);
    assert.equal(r.targetPosts, server.deps.config.plans.starter);
    assert.equal(r.reach, 9_100);
    assert.equal(r.engagement, 5);
    assert.equal(r.hasRealData, true);
    assert.equal(r.conversions, 0, "no platform reports conversions");
    const perf = Object.fromEntries(r.platformBreakdown.map((p: { platform: string; performance: number }) => [p.platform, p.performance]));
    // Each platform's share of the 5,000 reach target is 2,500: LinkedIn's 9,000 caps at 100.
    assert.deepEqual(perf, { linkedin: 100, x: 4 });
    for (const p of r.platformBreakdown) assert.ok(p.performance >= 0 && p.performance <= 100);
    assert.deepEqual(r.goalProgress.posts, { current: 2, target: r.targetPosts, percentage: Math.round((2 / r.targetPosts) * 100) });
  });

  it("the brand purpose's numeric goals replace the plan's targets; unusable goals leave them", async () => {
    const { client, user } = await subscriber(server, { plan: "growth", start: t0, tag: "an2" });
    const before = (await client.get("/api/analytics")).body;
    await storeGoals(server, user.id, { reachTarget: "20,000 people", engagementTarget: "8%", conversionTarget: "", salesTarget: "40 sales", leadTarget: "lots", websiteUrl: "" });
    const r = (await client.get("/api/analytics")).body;
    assert.equal(r.targetReach, 20_000);
    assert.equal(r.targetEngagement, 8);
    assert.equal(r.targetConversions, 40);
    assert.equal(r.targetPosts, before.targetPosts, "posts come from the plan");
    const other = await subscriber(server, { plan: "growth", start: t0, tag: "an3" });
    await storeGoals(server, other.user.id, { reachTarget: "0", engagementTarget: "", conversionTarget: "none" });
    const plain = (await other.client.get("/api/analytics")).body;
    assert.deepEqual([plain.targetReach, plain.targetEngagement, plain.targetConversions], [before.targetReach, before.targetEngagement, before.targetConversions]);
  });
});

describe("yearly analytics over the 30-day cycles", () => {
  let server: TestServer;
  const t0 = new Date("2026-01-10T00:00:00Z");
  before(async () => {
    server = await startTestServer({ env: { SESSION_IDLE_MINUTES: "100000" } });
    server.clock.set(new Date(t0.getTime() + DAY));
  });
  after(() => server.close());

  it("no subscription: the required objects with zeros and targets > 0", async () => {
    const { client } = await signedUpClient(server, "yr0");
    const r = await client.get("/api/yearly-analytics");
    assert.equal(r.status, 200);
    const { yearToDate: y, yearEndProjection: p } = r.body;
    for (const k of ["totalPosts", "totalReach", "avgEngagement", "totalConversions"]) assert.equal(y[k], 0, k);
    for (const k of ["posts", "reach", "engagement", "conversions"]) {
      assert.ok(y.yearlyTargets[k] > 0, k);
      assert.equal(typeof p[k], "number", k);
    }
    assert.deepEqual(r.body.monthly30DayCycles, []);
  });

  it("a closed cycle (recorded by the cycle close) and the open one, best cycle, projection", async () => {
    const { client, user } = await subscriber(server, { plan: "growth", start: t0, tag: "yr1" });
    await insertPost(server, user.id, { platform: "facebook", status: "published", at: new Date(t0.getTime() + 2 * DAY), reach: 3_000, engagement: 150 });
    await insertPost(server, user.id, { platform: "facebook", status: "published", at: new Date(t0.getTime() + 3 * DAY), reach: 1_000, engagement: 50 });
    // Into the second cycle: reading closes the first into subscription_analytics.
    server.clock.set(new Date(t0.getTime() + 32 * DAY));
    await insertPost(server, user.id, { platform: "x", status: "published", at: new Date(t0.getTime() + 31 * DAY), reach: 500, engagement: 5 });
    const r = (await client.get("/api/yearly-analytics")).body;
    const recorded = (await server.deps.database.pool.query("select posts_used, successful_posts, reach from subscription_analytics where user_id = $1", [user.id])).rows;
    assert.deepEqual(recorded, [{ posts_used: 0, successful_posts: 2, reach: 4_000 }]);
    assert.equal(r.monthly30DayCycles.length, 2);
    const [first, second] = r.monthly30DayCycles;
    assert.deepEqual([first.posts, first.reach, first.engagement, first.targetPosts], [2, 4_000, 5, 27]);
    assert.deepEqual([second.posts, second.reach, second.engagement], [1, 500, 1]);
    for (const c of r.monthly30DayCycles) assert.ok(c.performance >= 0 && c.performance <= 100 && c.targetReach > 0 && typeof c.month === "string");
    assert.deepEqual(r.yearToDate.totalPosts, 3);
    assert.equal(r.yearToDate.totalReach, 4_500);
    assert.equal(r.yearToDate.yearlyTargets.posts, 27 * 12);
    assert.equal(r.bestPerformingMonth.month, first.month);
    // 3 posts by 11 Feb (42 days into 365): about 26 by the year's end.
    assert.equal(r.yearEndProjection.posts, Math.round(3 / ((server.clock.now().getTime() - Date.UTC(2026, 0, 1)) / (365 * DAY))));
  });
});
