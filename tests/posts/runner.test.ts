// The runner in one process against the mounted sandbox: claim, fenced
// completion, reconciliation of lost answers, retries, rate limits, a
// revoked token, the circuit breaker, expired leases and shutdown.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq, sql } from "drizzle-orm";
import { PLATFORMS, postLogs, posts, type Platform } from "../../shared/schema.ts";
import { rowsOf } from "../../server/db/index.ts";
import { claimDue, recoverExpiredLeases } from "../../server/posts/lease.ts";
import { publishRunner, stopPublishing } from "../../server/posts/runner.ts";
import { onRealPostgres } from "../support/database.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { approvedPosts, assertExactlyOnce, control, FAST_PUBLISHING, publisher, sandboxPublished, statusCounts, type Publisher } from "./helpers.ts";

/** Runs ticks, moving the clock past every back-off, until nothing is waiting. */
async function runUntilSettled(server: TestServer, maxRounds = 60): Promise<void> {
  const runner = publishRunner(server.deps);
  for (let round = 0; round < maxRounds; round++) {
    await runner.tick();
    const c = await statusCounts(server.deps);
    if (!c.approved && !c.unknown && !c.publishing) return;
    server.clock.advance(5_000);
  }
  assert.fail(`not settled: ${JSON.stringify(await statusCounts(server.deps))}`);
}

describe("publishing runner", () => {
  let server: TestServer;
  let sandbox: string;
  before(async () => {
    server = await startTestServer({ env: FAST_PUBLISHING });
    sandbox = `${server.url}/sandbox`;
  });
  after(() => server.close());

  it("publishes approved posts over five platforms with 5xx, lost answers, a 429 burst and a revoked token: each exactly once, or paused/failed with a reason", async () => {
    // Real PostgreSQL: the issue's 1,000 posts. Embedded: the same mix, smaller.
    const perAccount = onRealPostgres ? 20 : 4;
    const users: Publisher[] = [];
    for (let i = 0; i < 10; i++) users.push(await publisher(server, PLATFORMS, `mix${i}`));
    await control(sandbox, "/settings", {}).catch(() => {});
    await fetch(`${sandbox}/_control/settings`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ instagramDailyLimit: 1000, xPostsPer15Min: 1000 }) });
    const ids = await approvedPosts(
      server.deps,
      sandbox,
      users.flatMap((u) => PLATFORMS.map((platform) => ({ userId: u.userId, platform, count: perAccount, tag: "mix" }))),
    );
    const total = ids.length;

    // Faults: ~10% answered 5xx, ~5% carried out but the answer lost, a 429 burst on X, one account revoked.
    const publishEndpoints = ["facebook.publish", "instagram.media_publish", "linkedin.posts.create", "x.tweets.create", "youtube.upload.put"];
    for (const endpoint of publishEndpoints) {
      for (let k = 0; k < Math.ceil(total / 50); k++) await control(sandbox, "/faults", { endpoint, times: 1, status: 503 });
      for (let k = 0; k < Math.ceil(total / 100); k++) await control(sandbox, "/faults", { endpoint, times: 1, mode: "drop" });
    }
    await control(sandbox, "/rate-limit", { platform: "x", user: users[1]!.account, seconds: 20 });
    await control(sandbox, "/revoke", { platform: "linkedin", user: users[2]!.account });

    await runUntilSettled(server);
    const all = await assertExactlyOnce(server.deps, sandbox, { allowFailed: true, allowPaused: true });
    assert.equal(all.length, total);
    const counts = await statusCounts(server.deps);
    // The revoked account's LinkedIn posts pause (and only those); the rest go out.
    const paused = all.filter((p) => p.status === "paused");
    assert.equal(paused.length, perAccount);
    assert.ok(paused.every((p) => p.platform === "linkedin"));
    assert.ok((counts.published ?? 0) >= total - perAccount - (counts.failed ?? 0));
    assert.ok((counts.failed ?? 0) <= total * 0.02, `few give up: ${JSON.stringify(counts)}`);

    // Lost answers were reconciled, not re-sent; each attempt left a log row without a token.
    const logs = await server.deps.db.select().from(postLogs);
    assert.ok(logs.some((l) => l.status === "unknown") && logs.some((l) => l.status === "reconciled"));
    assert.ok(logs.some((l) => l.status === "rate_limited"));
    assert.ok(logs.some((l) => l.status === "retry" && l.errorCode === "http_503"));
    assert.doesNotMatch(server.rawLog(), /access_token|Bearer [A-Za-z0-9]/);

    // The user was told once, and reconnecting resumes the paused posts.
    const revoked = users[2]!;
    const mails = server.deps.mailer.outbox.filter((m) => /Reconnect/i.test(m.subject));
    assert.equal(mails.length, 1);
    const { connectPlatform } = await import("../support/connect.ts");
    server.clock.advance(1000);
    await connectPlatform(revoked.client, "linkedin", revoked.account);
    await runUntilSettled(server);
    const resumed = await server.deps.db.select().from(posts).where(eq(posts.userId, revoked.userId));
    assert.ok(resumed.filter((p) => p.platform === "linkedin").every((p) => p.status === "published"));
    await assertExactlyOnce(server.deps, sandbox, { allowFailed: true });
  });

  it("a post whose lease expired (its process died after sending) is reconciled, not sent again", async () => {
    const u = await publisher(server, ["facebook"], "lease1");
    const [id] = await approvedPosts(server.deps, sandbox, [{ userId: u.userId, platform: "facebook", count: 1, tag: "lease" }]);
    // Claim it, and publish it behind the runner's back the way a dying process would have.
    const [claimed] = await claimDue(server.deps, 1, { postIds: [id!] });
    assert.ok(claimed);
    await server.deps.db.execute(sql`update posts set attempt_count = 1, last_attempt_at = ${server.clock.now().toISOString()}::timestamptz where id = ${id!}`);
    const { tokenFor } = await import("../../server/posts/tokens.ts");
    const t = await tokenFor(server.deps, u.userId, "facebook");
    assert.ok(t.ok);
    const sent = await server.deps.platforms.facebook.publish(t.credentials, { content: claimed.content });

    assert.equal(await recoverExpiredLeases(server.deps), 0, "a live lease is left alone");
    server.clock.advance(31_000);
    assert.equal(await recoverExpiredLeases(server.deps), 1);
    // When the process died is unknown: the first look waits a whole reconcile delay (3 s here).
    assert.equal((await publishRunner(server.deps).drain({ postIds: [id!] })).processed, 0, "not looked for too early");
    server.clock.advance(3_000);
    await publishRunner(server.deps).drain({ postIds: [id!] });
    const [row] = await server.deps.db.select().from(posts).where(eq(posts.id, id!));
    assert.equal(row!.status, "published");
    assert.equal(row!.platformPostId, sent.platformPostId);
    const onSandbox = (await sandboxPublished(sandbox)).filter((p) => p.text === claimed.content);
    assert.equal(onSandbox.length, 1);

    // The dead process's late completion is fenced out: nothing changes.
    const { complete } = await import("../../server/posts/complete.ts");
    assert.equal(await complete(server.deps, claimed, { status: "failed", errorLog: "late" }), false);
  });

  it("resumePausedPosts (for the connect flow) re-queues a connection's paused posts; ones sent before come back unknown", async () => {
    const u = await publisher(server, [], "resume1");
    const [sent, fresh, other] = await approvedPosts(server.deps, sandbox, [
      { userId: u.userId, platform: "x", count: 2, tag: "resume" },
      { userId: u.userId, platform: "linkedin", count: 1, tag: "resume" },
    ]);
    await server.deps.db.execute(sql`update posts set status = 'paused', error_log = 'token: reconnect', next_attempt_at = null where user_id = ${u.userId}`);
    await server.deps.db.execute(sql`update posts set attempt_count = 1 where id = ${sent!}`);
    const { resumePausedPosts } = await import("../../server/posts/complete.ts");
    assert.equal(await resumePausedPosts(server.deps, u.userId, "x"), 2);
    const rows = new Map((await server.deps.db.select().from(posts).where(eq(posts.userId, u.userId))).map((p) => [p.id, p]));
    assert.equal(rows.get(sent!)!.status, "unknown");
    assert.equal(rows.get(fresh!)!.status, "approved");
    assert.equal(rows.get(fresh!)!.errorLog, null);
    assert.ok(rows.get(fresh!)!.nextAttemptAt);
    assert.equal(rows.get(other!)!.status, "paused", "another platform's posts stay paused");
    await server.deps.db.execute(sql`delete from posts where user_id = ${u.userId}`);
  });

  it("the circuit breaker opens after consecutive transient failures, refuses with a retry time, and a probe closes it", async () => {
    const u = await publisher(server, ["x"], "breaker1");
    const threshold = 3;
    (server.deps.config.publishing as { breakerThreshold: number }).breakerThreshold = threshold;
    try {
      await control(sandbox, "/faults", { endpoint: "x.tweets.create", times: 50, status: 500 });
      const ids = await approvedPosts(server.deps, sandbox, [{ userId: u.userId, platform: "x", count: 8, tag: "breaker" }]);
      await publishRunner(server.deps).drain({ postIds: ids });
      const health = await u.client.get("/api/platform-health");
      const x = health.body.find((h: { platform: Platform }) => h.platform === "x");
      assert.equal(x.state, "open");
      assert.equal(x.healthy, false);
      assert.ok(x.retryAt && x.lastError);
      const refused = await server.deps.db.select().from(posts).where(sql`${posts.id} in (${sql.join(ids.map((i) => sql`${i}`), sql`, `)}) and ${posts.errorLog} like 'platform_health:%'`);
      assert.ok(refused.length >= 1, "posts after the opening wait for the retry time");
      assert.ok(refused.every((p) => p.attemptCount === 0 && p.nextAttemptAt!.getTime() === new Date(x.retryAt).getTime()));

      await fetch(`${sandbox}/_control/faults`, { method: "DELETE" });
      server.clock.advance(2_100);
      await runUntilSettled(server);
      const after = (await u.client.get("/api/platform-health")).body.find((h: { platform: Platform }) => h.platform === "x");
      assert.equal(after.state, "closed");
      assert.equal(after.healthy, true);
      const rows = rowsOf<{ status: string }>(await server.deps.db.execute(sql`select status::text from posts where user_id = ${u.userId}`));
      assert.ok(rows.every((r) => r.status === "published"));
    } finally {
      (server.deps.config.publishing as { breakerThreshold: number }).breakerThreshold = 1000;
    }
  });
  // Last: it stops this server's runner.
  it("shutdown stops claiming, lets the calls already sent finish, and hands back what it never sent", async () => {
    const u = await publisher(server, ["facebook"], "stop1");
    const ids = await approvedPosts(server.deps, sandbox, [{ userId: u.userId, platform: "facebook", count: 10, tag: "stop" }]);
    await control(sandbox, "/latency", { endpoint: "facebook.publish", ms: 400 });
    try {
      const runner = publishRunner(server.deps);
      const draining = runner.drain({ postIds: ids });
      // Two calls in flight (two per connection), eight claimed and waiting.
      const until = Date.now() + 5000;
      while ((await server.deps.db.select().from(posts).where(sql`${posts.id} in (${sql.join(ids.map((i) => sql`${i}`), sql`, `)}) and ${posts.attemptCount} > 0`)).length < 2) {
        assert.ok(Date.now() < until, "calls started");
        await new Promise((r) => setTimeout(r, 20));
      }
      await stopPublishing(server.deps);
      await draining;
      const rows = await server.deps.db.select().from(posts).where(sql`${posts.id} in (${sql.join(ids.map((i) => sql`${i}`), sql`, `)})`);
      const by = (s: string) => rows.filter((r) => r.status === s);
      assert.equal(by("published").length, 2);
      assert.equal(by("approved").length, 8);
      assert.ok(by("approved").every((r) => r.leaseId === null && r.attemptCount === 0));
      assert.equal((await sandboxPublished(sandbox)).filter((p) => p.text.startsWith("stop post")).length, 2);
      assert.equal((await runner.drain()).processed, 0, "a stopped runner claims nothing");
    } finally {
      await fetch(`${sandbox}/_control/faults`, { method: "DELETE" });
    }
  });

});
