// The Posts API over HTTP: exact fields, ownership (another user's post is
// 404), read-only published posts, every pre-flight check by name, publish
// now, the on-demand runner endpoints, platform health and analytics.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq, sql } from "drizzle-orm";
import { PLATFORMS, posts, platformHealth } from "../../shared/schema.ts";
import { refreshAnalytics } from "../../server/posts/analytics.ts";
import { connectPlatform } from "../support/connect.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { control, FAST_PUBLISHING, mediaFor, publisher, sandboxPublished } from "./helpers.ts";

const POST_FIELDS = [
  "analytics",
  "approvedAt",
  "attemptCount",
  "businessCanvasPhase",
  "content",
  "edited",
  "editedAt",
  "engagementOptimisation",
  "errorLog",
  "generatedBy",
  "id",
  "localEvent",
  "mediaUrl",
  "mediaUrls",
  "nextAttemptAt",
  "platform",
  "platformPostId",
  "publishedAt",
  "scheduledFor",
  "status",
  "strategicTheme",
  // (platforms) what the platform decided beside the id
  "platformNotice",
  "visibility",
  "analyticsError",
].sort();

describe("posts API", () => {
  let server: TestServer;
  let sandbox: string;
  before(async () => {
    server = await startTestServer({ env: { ...FAST_PUBLISHING, PLAN_STARTER_POSTS: "1" } });
    sandbox = `${server.url}/sandbox`;
  });
  after(() => server.close());

  it("creates, lists, edits, approves and deletes with the contract's fields; bad bodies name the field", async () => {
    const { client } = await signedUpClient(server, "crud");
    const created = await client.post("/api/posts", { platform: "twitter", content: "Hello from the bakery" });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), POST_FIELDS);
    assert.equal(created.body.platform, "x");
    assert.equal(created.body.status, "draft");
    assert.deepEqual(created.body.analytics, { reach: 0, engagement: 0, impressions: 0 });

    const list = await client.get("/api/posts");
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.map((p: { id: number }) => p.id), [created.body.id]);

    const edited = await client.put(`/api/posts/${created.body.id}`, { content: "Hello from the bakery, fresh bread at 7" });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.edited, true);
    assert.ok(edited.body.editedAt);

    const approved = await client.post("/api/approve-post", { postId: created.body.id });
    assert.equal(approved.status, 200);
    assert.equal(approved.body.success, true);
    assert.equal(approved.body.queued, true);
    assert.equal(approved.body.post.status, "approved");
    assert.ok(approved.body.post.approvedAt);

    const bad = [
      await client.post("/api/posts", { platform: "myspace", content: "x" }),
      await client.post("/api/posts", { platform: "x", content: "  " }),
      await client.post("/api/posts", { platform: "x", content: "ok", scheduledFor: "tomorrow" }),
      await client.post("/api/posts", { platform: "x", content: "ok", status: "published" }),
      await client.put(`/api/posts/${created.body.id}`, { platformPostId: "123" }),
      await client.put("/api/posts/abc", { content: "x" }),
      await client.post("/api/approve-post", {}),
      await client.post("/api/direct-publish", { action: "everything" }),
    ];
    for (const r of bad) assert.equal(r.status, 400, r.text);
    assert.match(bad[0]!.body.message, /platform/);
    assert.match(bad[1]!.body.message, /content/);
    assert.match(bad[2]!.body.message, /scheduledFor/);
    assert.match(bad[6]!.body.message, /postId/);

    const del = await client.delete(`/api/posts/${created.body.id}`);
    assert.deepEqual(del.body, { success: true });
    assert.equal((await client.get("/api/posts")).body.length, 0);
  });

  it("an id beyond PostgreSQL's integer range is a 400 naming the field, not a 500", async () => {
    const { client } = await signedUpClient(server, "bigid");
    const replies = [
      await client.delete("/api/posts/3000000000"),
      await client.put("/api/posts/3000000000", { content: "x" }),
      await client.post("/api/approve-post", { postId: 3000000000 }),
    ];
    for (const r of replies) assert.equal(r.status, 400, r.text);
  });

  it("a half-open breaker whose probe never reported back (its process died) is usable again after its retry time: a publish goes through and closes it", async () => {
    const u = await publisher(server, ["youtube"], "halfopen");
    const past = new Date(server.clock.now().getTime() - 1000);
    await server.deps.db
      .insert(platformHealth)
      .values({ platform: "youtube", state: "half_open", consecutiveFailures: 5, retryAt: past })
      .onConflictDoUpdate({ target: platformHealth.platform, set: { state: "half_open", consecutiveFailures: 5, retryAt: past } });
    // A row written behind this process's back, as a dead process would leave it: it is seen once the breaker's
    // per-process cache (CACHE_MS = 1 s of wall time, server/posts/health.ts) has expired, which this wait guarantees.
    await new Promise((r) => setTimeout(r, 1_100));
    try {
      const youtube = (await u.client.get("/api/platform-health")).body.find((h: any) => h.platform === "youtube");
      assert.equal(youtube.state, "half_open");
      assert.equal(youtube.healthy, true);
      // The pre-flight lets it through, the post is published, and its success closes the breaker.
      const r = await u.client.post("/api/post", { platform: "youtube", content: "Behind the scenes", mediaUrl: mediaFor(sandbox, "youtube") });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.post.status, "published");
      const out = (await sandboxPublished(sandbox)).filter((p) => p.platform === "youtube" && p.id === r.body.platformPostId);
      assert.equal(out.length, 1, "the video is on the platform");
      const [health] = await server.deps.db.select().from(platformHealth).where(eq(platformHealth.platform, "youtube"));
      assert.equal(health!.state, "closed");
      assert.equal(health!.consecutiveFailures, 0);
    } finally {
      await server.deps.db.delete(platformHealth);
    }
  });

  it("one platform post can belong to only one of our posts (two same-text posts cannot both claim it)", async () => {
    const { user } = await signedUpClient(server, "samepost");
    const values = { userId: user.id, platform: "x" as const, content: "We're open today!", status: "published" as const, platformPostId: "1790000000000000001" };
    await server.deps.db.insert(posts).values(values);
    await assert.rejects(server.deps.db.insert(posts).values(values), (err: any) => (err.cause?.code ?? err.code) === "23505");
    // The same id on another platform is another post.
    await server.deps.db.insert(posts).values({ ...values, platform: "linkedin" });
  });

  it("another user's post answers 404 everywhere", async () => {
    const owner = await signedUpClient(server, "own");
    const other = await signedUpClient(server, "oth");
    const p = (await owner.client.post("/api/posts", { platform: "linkedin", content: "Mine" })).body;
    const replies = [
      await other.client.put(`/api/posts/${p.id}`, { content: "Yours now" }),
      await other.client.delete(`/api/posts/${p.id}`),
      await other.client.post("/api/approve-post", { postId: p.id }),
      await other.client.post("/api/post", { postId: p.id }),
      await other.client.put("/api/posts/999999", { content: "nobody's" }),
    ];
    for (const r of replies) assert.equal(r.status, 404, r.text);
    assert.deepEqual((await other.client.get("/api/posts")).body, []);
    const [row] = await server.deps.db.select().from(posts).where(eq(posts.id, p.id));
    assert.equal(row!.content, "Mine");
    assert.equal((await server.client().get("/api/posts")).status, 401);
  });

  it("publish now: pre-flight logs the validation, publishes once, and the published post is read-only", async () => {
    const u = await publisher(server, ["linkedin", "instagram"], "now1");
    const p = (await u.client.post("/api/posts", { platform: "linkedin", content: "Open late on Friday" })).body;
    const r = await u.client.post("/api/post", { postId: p.id });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.success, true);
    assert.equal(r.body.post.status, "published");
    assert.ok(r.body.platformPostId);
    assert.equal(r.body.post.platformPostId, r.body.platformPostId);
    assert.ok(server.logs.some((l) => l.msg === `Post validated ${u.phone} for linkedin`));
    const out = (await sandboxPublished(sandbox)).filter((x) => x.text === "Open late on Friday");
    assert.equal(out.length, 1);

    assert.equal((await u.client.put(`/api/posts/${p.id}`, { content: "changed" })).status, 409);
    assert.equal((await u.client.delete(`/api/posts/${p.id}`)).status, 409);
    const again = await u.client.post("/api/post", { postId: p.id });
    assert.equal(again.status, 409);
    assert.equal((await sandboxPublished(sandbox)).filter((x) => x.text === "Open late on Friday").length, 1);

    // Without a saved post: { platform, content, mediaUrl }.
    const direct = await u.client.post("/api/post", { platform: "instagram", content: "Our new window display", mediaUrl: mediaFor(sandbox, "instagram") });
    assert.equal(direct.status, 200, direct.text);
    assert.equal(direct.body.post.platform, "instagram");
  });

  it("each failing pre-flight check is named: token, platform_health, content, quota, cycle", async () => {
    const u = await publisher(server, ["x", "facebook"], "pre1");
    const send = (body: unknown) => u.client.post("/api/post", body);

    const token = await send({ platform: "youtube", content: "A video", mediaUrl: mediaFor(sandbox, "youtube") });
    assert.equal(token.status, 409);
    assert.equal(token.body.check, "token");
    assert.equal(token.body.code, "not_connected");

    const content = await send({ platform: "x", content: "a".repeat(300) });
    assert.equal(content.status, 422);
    assert.equal(content.body.check, "content");
    assert.equal(content.body.code, "x_too_long");

    await server.deps.db.execute(sql`
      insert into platform_health (platform, state, consecutive_failures, last_error, opened_at, retry_at)
      values ('x', 'open', 5, 'HTTP 503', now(), ${new Date(server.clock.now().getTime() + 60_000).toISOString()}::timestamptz)`);
    const health = await send({ platform: "x", content: "While X is down" });
    assert.equal(health.status, 409);
    assert.equal(health.body.check, "platform_health");
    assert.ok(health.body.retryAt);
    const shown = (await u.client.get("/api/platform-health")).body;
    assert.deepEqual(shown.map((h: { platform: string }) => h.platform), [...PLATFORMS]);
    assert.deepEqual(Object.keys(shown[0]).sort(), ["healthy", "lastError", "operatorCode", "pausedFor", "platform", "retryAt", "state"]);
    assert.equal(shown.find((h: { platform: string }) => h.platform === "x").healthy, false);
    await server.deps.db.execute(sql`delete from platform_health where platform = 'x'`);

    const noPlan = await signedUpClient(server, "noplan");
    const unconnected = await noPlan.client.post("/api/post", { platform: "x", content: "No plan yet" });
    // No connection either: the token check comes first.
    assert.equal(unconnected.status, 409, unconnected.text);
    assert.equal(unconnected.body.check, "token");
    assert.equal(unconnected.body.code, "not_connected");
    // Connected but without a plan: the quota check refuses it.
    await connectPlatform(noPlan.client, "x", "noplan");
    const quota = await noPlan.client.post("/api/post", { platform: "x", content: "No plan yet" });
    assert.equal(quota.status, 409, quota.text);
    assert.equal(quota.body.check, "quota");
    assert.equal(quota.body.code, "no_active_subscription");
    assert.equal((await noPlan.client.get("/api/posts")).body.length, 0, "a refusal leaves no draft behind");

    const starter = await publisher(server, ["x"], "pre2", "starter");
    const first = await starter.client.post("/api/post", { platform: "x", content: "The one post of this cycle" });
    assert.equal(first.status, 200, first.text);
    const over = await starter.client.post("/api/post", { platform: "x", content: "One too many" });
    assert.equal(over.status, 429);
    assert.equal(over.body.check, "quota");
    assert.equal(over.body.quotaExceeded, true);
    assert.equal(over.body.code, "quota_exhausted");

    // A post approved in a cycle that has ended (Facebook Page tokens do not expire).
    const planned = (await u.client.post("/api/posts", { platform: "facebook", content: "Planned last month", status: "approved", scheduledFor: new Date(server.clock.now().getTime() + 86_400_000).toISOString() })).body;
    // Its cycle ended: the subscription (and the cycle the post was planned for) began 31 days ago.
    const monthAgo = new Date(server.clock.now().getTime() - 31 * 86_400_000).toISOString();
    await server.deps.db.execute(sql`update users set subscription_start = ${monthAgo}::timestamptz where id = ${u.userId}`);
    await server.deps.db.execute(sql`update post_ledger set period_start = ${monthAgo}::timestamptz where user_id = ${u.userId}`);
    await server.deps.db.execute(sql`update posts set subscription_cycle = ${monthAgo}::timestamptz where id = ${planned.id}`);
    const cycle = await send({ postId: planned.id });
    assert.equal(cycle.status, 409, cycle.text);
    assert.equal(cycle.body.check, "cycle");
    assert.equal(cycle.body.code, "cycle_ended");
    assert.ok(!server.logs.some((l) => l.msg === `Post validated ${u.phone} for facebook`));
  });

  it("publish now when the platform refuses for good: 422 naming the publish check, the platform's message kept, the quota given back", async () => {
    const u = await publisher(server, ["x"], "perm1");
    const before = (await u.client.get("/api/quota-status")).body.remainingPosts;
    await control(sandbox, "/faults", { endpoint: "x.tweets.create", times: 1, status: 403, body: { title: "Forbidden", detail: "This account may not post links", type: "about:blank", status: 403 } });
    const r = await u.client.post("/api/post", { platform: "x", content: "Refused by X" });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.body.check, "publish");
    assert.equal(r.body.post.status, "failed");
    assert.match(r.body.post.errorLog, /may not post links/);
    assert.equal((await u.client.get("/api/quota-status")).body.remainingPosts, before);
    const logs = await server.deps.db.execute(sql`select status, error_code from post_logs where post_id = ${r.body.post.id}`);
    assert.deepEqual((logs as unknown as { rows: unknown[] }).rows, [{ status: "failed", error_code: "http_403" }]);
  });

  it("publish now when the answer is lost: 202 queued as unknown, then reconciled — published once, never re-sent", async () => {
    const u = await publisher(server, ["linkedin"], "lost1");
    await control(sandbox, "/faults", { endpoint: "linkedin.posts.create", times: 1, mode: "drop" });
    const r = await u.client.post("/api/post", { platform: "linkedin", content: "Answer lost on the way back" });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.body.queued, true);
    assert.equal(r.body.post.status, "unknown");
    server.clock.advance(3_000); // past the lost request's deadline (2 s) and the settle margin (1 s)
    const auto = await u.client.post("/api/auto-post", {});
    assert.equal(auto.body.postsPublished, 1);
    const post = (await u.client.get("/api/posts")).body[0];
    assert.equal(post.status, "published");
    const out = (await sandboxPublished(sandbox)).filter((p) => p.text === "Answer lost on the way back");
    assert.equal(out.length, 1);
    assert.equal(out[0]!.id, post.platformPostId);
  });

  it("auto-post, enforce-auto-posting and direct-publish publish the user's due posts and report counts; analytics arrive", async () => {
    const u = await publisher(server, ["linkedin", "facebook"], "auto1");
    const due = [];
    for (let i = 0; i < 3; i++) due.push((await u.client.post("/api/posts", { platform: "linkedin", content: `Due post ${i}`, status: "approved" })).body);
    const later = (await u.client.post("/api/posts", { platform: "facebook", content: "Next week", status: "approved", scheduledFor: new Date(server.clock.now().getTime() + 7 * 86_400_000).toISOString() })).body;
    const tooLong = (await u.client.post("/api/posts", { platform: "linkedin", content: "x".repeat(3500), status: "approved" })).body;

    const auto = await u.client.post("/api/auto-post", {});
    assert.equal(auto.status, 200);
    assert.deepEqual(Object.keys(auto.body).sort(), ["connectionRepairs", "errors", "message", "postsFailed", "postsProcessed", "postsPublished", "success"]);
    assert.equal(auto.body.postsProcessed, 4);
    assert.equal(auto.body.postsPublished, 3);
    assert.equal(auto.body.postsFailed, 1);
    assert.equal(auto.body.success, false);
    assert.match(auto.body.errors[0], new RegExp(`Post ${tooLong.id} .*content`));
    const failed = (await u.client.get("/api/posts")).body.find((p: { id: number }) => p.id === tooLong.id);
    assert.equal(failed.status, "failed");
    assert.match(failed.errorLog, /^content: /);

    const enforce = await u.client.post("/api/enforce-auto-posting", {});
    assert.equal(enforce.body.postsProcessed, 0, "the next week's post is not due");

    const direct = await u.client.post("/api/direct-publish", { action: "publish_all" });
    assert.equal(direct.status, 200);
    assert.equal(direct.body.successCount, 1);
    assert.equal(direct.body.totalPosts, 1);
    assert.equal(direct.body.success, true);
    const published = (await u.client.get("/api/posts")).body.find((p: { id: number }) => p.id === later.id);
    assert.equal(published.status, "published");

    // Analytics: the sandbox's figures reach post_analytics and the post.
    await control(sandbox, "/analytics", { postId: published.platformPostId, reach: 120, impressions: 300, engagement: 17 });
    const r = await refreshAnalytics(server.deps);
    assert.ok(r.updated >= 1);
    const withStats = (await u.client.get("/api/posts")).body.find((p: { id: number }) => p.id === later.id);
    assert.deepEqual(withStats.analytics, { reach: 120, engagement: 17, impressions: 300 });
    void due;
  });
});
