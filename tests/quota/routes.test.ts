// The usage endpoints' exact fields, and POST /api/cycle-notify for operators only.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { reservePost } from "../../server/quota/ledger.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { DAY, insertPost, subscriber } from "./helpers.ts";

const OPS_TOKEN = "ops-token-for-tests-0123456789";

describe("quota endpoints", () => {
  let server: TestServer;
  const t0 = new Date("2026-11-01T00:00:00Z");
  before(async () => {
    server = await startTestServer({ env: { OPS_TOKEN } });
    server.clock.set(new Date(t0.getTime() + 5 * DAY));
  });
  after(async () => {
    await server.close();
  });

  it("answer 401 without a session", async () => {
    for (const path of ["/api/subscription-usage", "/api/quota-status", "/api/analytics"]) {
      const r = await server.client().get(path);
      assert.equal(r.status, 401, path);
      assert.equal(r.body.requiresLogin, true);
    }
  });

  it("without a subscription: zeros, no cycle, not within limits", async () => {
    const { client } = await signedUpClient(server, "nosub");
    const usage = await client.get("/api/subscription-usage");
    assert.deepEqual(usage.body, {
      subscriptionPlan: null,
      totalAllocation: 0,
      remainingPosts: 0,
      usedPosts: 0,
      publishedPosts: 0,
      failedPosts: 0,
      partialPosts: 0,
      planLimits: { posts: 0, reach: 0, engagement: 0 },
      usagePercentage: 0,
      cycleStart: null,
      cycleEnd: null,
    });
    const status = await client.get("/api/quota-status");
    assert.deepEqual(status.body, { withinLimits: false, remainingPosts: 0, cycleEnd: null });
    const analytics = await client.get("/api/analytics");
    const { targetPosts, targetReach, targetEngagement, targetConversions, goalProgress, ...figures } = analytics.body;
    assert.deepEqual(figures, { totalPosts: 0, reach: 0, engagement: 0, engagements: 0, impressions: 0, conversions: 0, platformBreakdown: [], hasRealData: false });
    // Targets are never 0 (the client divides by them): the starter plan's stand in without a plan.
    assert.ok([targetPosts, targetReach, targetEngagement, targetConversions].every((t) => typeof t === "number" && t > 0));
    assert.equal(goalProgress.posts.percentage, 0);
  });

  it("with a plan: the ledger, this cycle's posts and the plan's limits", async () => {
    const { client, user } = await subscriber(server, { plan: "growth", start: t0, tag: "usage" });
    for (let i = 0; i < 4; i++) {
      const p = await insertPost(server, user.id, { status: "approved", at: t0 });
      await server.deps.db.transaction((tx) => reservePost(tx, user.id, p, new Date(t0.getTime() + DAY)));
    }
    const at = new Date(t0.getTime() + 2 * DAY);
    await insertPost(server, user.id, { platform: "facebook", status: "published", at, reach: 100, engagement: 10, impressions: 300 });
    await insertPost(server, user.id, { platform: "facebook", status: "published", at, reach: 50, engagement: 5, impressions: 80 });
    await insertPost(server, user.id, { platform: "x", status: "published", at, reach: 20, engagement: 2, impressions: 30, fetched: false });
    await insertPost(server, user.id, { status: "failed", at });
    await insertPost(server, user.id, { status: "unknown", at });
    await insertPost(server, user.id, { status: "paused", at });
    // Another user's posts never count.
    const other = await subscriber(server, { start: t0, tag: "other" });
    await insertPost(server, other.user.id, { status: "published", at, reach: 5000 });

    const usage = await client.get("/api/subscription-usage");
    assert.equal(usage.status, 200);
    assert.deepEqual(usage.body, {
      subscriptionPlan: "growth",
      totalAllocation: 27,
      remainingPosts: 23,
      usedPosts: 4,
      publishedPosts: 3,
      failedPosts: 1,
      partialPosts: 2,
      planLimits: { posts: 27, reach: 15000, engagement: 750 },
      usagePercentage: 15,
      cycleStart: "2026-11-01T00:00:00.000Z",
      cycleEnd: "2026-12-01T00:00:00.000Z",
    });
    const status = await client.get("/api/quota-status");
    assert.deepEqual(status.body, { withinLimits: true, remainingPosts: 23, cycleEnd: "2026-12-01T00:00:00.000Z" });
    const analytics = await client.get("/api/analytics");
    const { goalProgress: _progress, ...body } = analytics.body;
    // Engagement is a percent of reach (the client shows it as a rate); the count is `engagements`.
    assert.deepEqual(body, {
      totalPosts: 3,
      targetPosts: 27,
      reach: 170,
      targetReach: 15_000,
      engagement: 10,
      targetEngagement: 5,
      engagements: 17,
      impressions: 410,
      conversions: 0,
      targetConversions: 75,
      platformBreakdown: [
        { platform: "facebook", posts: 2, reach: 150, engagement: 10, engagements: 15, performance: 2 },
        { platform: "x", posts: 1, reach: 20, engagement: 10, engagements: 2, performance: 0 },
      ],
      hasRealData: true,
    });
  });

  it("quota-status says when the quota is used up", async () => {
    const { client, user } = await subscriber(server, { start: t0, quota: 1, tag: "full" });
    const p = await insertPost(server, user.id, { status: "approved", at: t0 });
    await server.deps.db.transaction((tx) => reservePost(tx, user.id, p, t0));
    const status = await client.get("/api/quota-status");
    assert.deepEqual(status.body, { withinLimits: false, remainingPosts: 0, cycleEnd: "2026-12-01T00:00:00.000Z" });
  });

  it("POST /api/cycle-notify needs the operator's bearer token", async () => {
    const { client } = await signedUpClient(server, "notops");
    const noToken = await client.post("/api/cycle-notify", {});
    assert.equal(noToken.status, 401, "a user's session is not an operator");
    assert.equal(noToken.body.code, "ops_token_required");
    const wrong = await client.post("/api/cycle-notify", {}, { authorization: "Bearer not-the-ops-token-at-all" });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.code, "ops_token_invalid");
    const basic = await client.post("/api/cycle-notify", {}, { authorization: `Basic ${OPS_TOKEN}` });
    assert.equal(basic.status, 401);
    const prefix = await client.post("/api/cycle-notify", {}, { authorization: `Bearer ${OPS_TOKEN.slice(0, -1)}` });
    assert.equal(prefix.status, 403);
    assert.ok(!server.rawLog().includes(OPS_TOKEN));
  });

  it("POST /api/cycle-notify with the token runs the notify now", async () => {
    const start = new Date("2026-10-07T00:00:00Z");
    const { identity } = await subscriber(server, { start, tag: "opsrun" });
    // A minute into the last day of this user's first cycle.
    server.clock.set(new Date(start.getTime() + 29 * DAY + 60_000));
    const ops = server.client();
    const bad = await ops.post("/api/cycle-notify", { force: true }, { authorization: `Bearer ${OPS_TOKEN}` });
    assert.equal(bad.status, 400);
    const r = await ops.post("/api/cycle-notify", undefined, { authorization: `Bearer ${OPS_TOKEN}` });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), ["alreadySent", "due", "failed", "sent"]);
    assert.ok(r.body.sent >= 1);
    const again = await ops.post("/api/cycle-notify", undefined, { authorization: `Bearer ${OPS_TOKEN}` });
    assert.equal(again.body.sent, 0);
    assert.ok(again.body.alreadySent >= 1);
    assert.equal(server.deps.mailer.outbox.filter((m) => m.to === identity.email).length, 1);
  });
  // Last in this suite: it locks 127.0.0.1 out of the operator endpoint for an hour of test time.
  it("wrong operator tokens are limited per IP (20 an hour), then even the right one waits", async () => {
    server.clock.set("2027-01-01T00:00:00Z");
    const ops = server.client();
    let attempts = 0;
    let last = 0;
    while (attempts < 25) {
      attempts += 1;
      last = (await ops.post("/api/cycle-notify", {}, { authorization: `Bearer wrong-token-number-${attempts}` })).status;
      if (last !== 403) break;
    }
    assert.equal(last, 429);
    assert.ok(attempts <= 21, `limited after ${attempts} attempts`);
    const right = await ops.post("/api/cycle-notify", {}, { authorization: `Bearer ${OPS_TOKEN}` });
    assert.equal(right.status, 429);
    assert.equal(right.headers.get("retry-after"), "3600");
    server.clock.advance(2 * 3600_000);
    assert.equal((await ops.post("/api/cycle-notify", {}, { authorization: `Bearer ${OPS_TOKEN}` })).status, 200);
  });
});

describe("POST /api/cycle-notify without OPS_TOKEN", () => {
  it("does not exist (404), whatever the header", async () => {
    const server = await startTestServer();
    try {
      const c = server.client();
      assert.equal((await c.post("/api/cycle-notify", {})).status, 404);
      assert.equal((await c.post("/api/cycle-notify", {}, { authorization: "Bearer " })).status, 404);
      assert.equal((await c.post("/api/cycle-notify", {}, { authorization: "Bearer anything-at-all-here" })).status, 404);
    } finally {
      await server.close();
    }
  });
});
