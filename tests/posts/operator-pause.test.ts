// Platform-wide signals against the mounted sandbox. A user's bad media
// never moves a platform's circuit breaker (one tenant cannot stop a
// platform for the others). Operator-level refusals — X out of credits, our
// app secret rotated — pause the platform for everyone: posts wait (nothing
// fails, no quota is given back, no user is e-mailed), platform-health and
// /metrics say why, the operator is alerted once, and a successful probe
// resumes publishing by itself.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq, inArray, sql } from "drizzle-orm";
import { platformConnections, posts, type Platform } from "../../shared/schema.ts";
import { rowsOf } from "../../server/db/index.ts";
import { publishRunner } from "../../server/posts/runner.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { approvedPosts, control, FAST_PUBLISHING, publisher } from "./helpers.ts";

const OPS = "ops@agencyiq.example";

describe("platform-wide pauses", () => {
  let server: TestServer;
  let sandbox: string;
  before(async () => {
    server = await startTestServer({ env: { ...FAST_PUBLISHING, BREAKER_FAILURE_THRESHOLD: "3", OPS_EMAIL: OPS } });
    sandbox = `${server.url}/sandbox`;
  });
  after(() => server.close());

  const db = () => server.deps.db;
  const settings = (body: unknown) =>
    fetch(`${sandbox}/_control/settings`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const rows = (ids: number[]) => db().select().from(posts).where(inArray(posts.id, ids)).orderBy(posts.id);
  const healthOf = async (client: { get(p: string): Promise<{ body: any }> }, platform: Platform) =>
    (await client.get("/api/platform-health")).body.find((h: { platform: Platform }) => h.platform === platform);
  const usedPosts = async (userId: number) =>
    rowsOf<{ used_posts: number }>(await db().execute(sql`select used_posts from post_ledger where user_id = ${userId}`))[0]!.used_posts;
  const mailsTo = (to: string) => server.deps.mailer.outbox.filter((m) => m.to === to);

  it("five posts with unreachable media from one user do not open YouTube's breaker: another user's post goes out", async () => {
    const attacker = await publisher(server, ["youtube"], "badmedia");
    const victim = await publisher(server, ["youtube"], "goodmedia");
    const bad = await approvedPosts(server.deps, sandbox, [{ userId: attacker.userId, platform: "youtube", count: 5, tag: "bad" }]);
    // Loopback, a closed port, the cloud metadata address: refused without a platform call.
    const urls = ["http://127.0.0.1:1/x.mp4", "http://127.0.0.1:5432/x.mp4", "http://169.254.169.254/latest/meta-data/x.mp4", "http://[::1]:1/x.mp4", "http://localhost:1/x.mp4"];
    for (const [i, id] of bad.entries()) await db().update(posts).set({ mediaUrl: urls[i]! }).where(eq(posts.id, id));
    const r = await publishRunner(server.deps).drain({ postIds: bad });
    assert.equal(r.published, 0);

    const health = await healthOf(victim.client, "youtube");
    assert.equal(health.state, "closed");
    assert.equal(health.healthy, true);
    for (const p of await rows(bad)) {
      assert.notEqual(p.status, "published");
      assert.match(p.errorLog ?? "", /The media could not be downloaded/);
      assert.doesNotMatch(p.errorLog ?? "", /127\.0\.0\.1|169\.254|5432|refused|ECONN/, "no network oracle");
    }
    const ok = await victim.client.post("/api/post", { platform: "youtube", content: "Victim's video", mediaUrl: `${sandbox}/_media/sample.mp4` });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.success, true);
  });

  it("X out of credits pauses X for everyone: nothing fails, quota kept, no user e-mailed, health and /metrics say why, one operator alert; a probe resumes it", async () => {
    const a = await publisher(server, ["x"], "credits1");
    const b = await publisher(server, ["x"], "credits2");
    const ids = await approvedPosts(server.deps, sandbox, [
      { userId: a.userId, platform: "x", count: 3, tag: "credits" },
      { userId: b.userId, platform: "x", count: 3, tag: "credits" },
    ]);
    const usedBefore = [await usedPosts(a.userId), await usedPosts(b.userId)];
    const mailsBefore = server.deps.mailer.outbox.length;
    await settings({ xCreditsDepleted: true });
    try {
      const first = await publishRunner(server.deps).drain({ postIds: ids });
      assert.equal(first.failed + first.paused + first.published, 0, JSON.stringify(first));
      // A second round after the probe time is refused again: still one alert.
      server.clock.advance(2_100);
      await publishRunner(server.deps).drain({ postIds: ids });

      for (const p of await rows(ids)) {
        assert.equal(p.status, "approved", `post ${p.id}: ${p.errorLog}`);
        assert.match(p.errorLog ?? "", /platform_paused|platform_health/);
        assert.equal(p.attemptCount, 0, "the refusal does not use up the post's attempts");
      }
      assert.deepEqual([await usedPosts(a.userId), await usedPosts(b.userId)], usedBefore.map((n) => n + 3), "no quota given back");
      const connections = await db().select().from(platformConnections).where(inArray(platformConnections.userId, [a.userId, b.userId]));
      assert.ok(connections.every((c) => c.status === "connected"), "nobody is asked to reconnect");
      const mails = server.deps.mailer.outbox.slice(mailsBefore);
      assert.deepEqual(mails.map((m) => m.to), [OPS], "one operator alert, no user mail");
      assert.match(mails[0]!.subject, /X publishing paused \(credits_depleted\)/);
      assert.equal(server.logs.filter((l: any) => l.level === 50 && /Platform paused for everyone/.test(l.msg)).length, 1);

      const health = await healthOf(a.client, "x");
      assert.deepEqual([health.healthy, health.pausedFor, health.operatorCode], [false, "operator", "credits_depleted"]);
      const refused = await a.client.post("/api/post", { platform: "x", content: "Right now please" });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.check, "platform_health");
      assert.match(refused.body.error, /paused for every user/);
      const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
      assert.match(metrics, /agencyiq_platform_paused\{platform="x",reason="operator:credits_depleted"\} 1/);
    } finally {
      await settings({ xCreditsDepleted: false });
    }
    // Credits are back: the next probe succeeds and everyone's posts go out.
    server.clock.advance(2_100);
    for (let round = 0; round < 5; round++) {
      await publishRunner(server.deps).drain({ postIds: ids });
      if ((await rows(ids)).every((p) => p.status === "published")) break;
      server.clock.advance(2_100);
    }
    assert.deepEqual((await rows(ids)).map((p) => p.status), ids.map(() => "published"));
    const health = await healthOf(a.client, "x");
    assert.deepEqual([health.state, health.operatorCode, health.pausedFor], ["closed", null, null]);
  });

  it("a rotated app secret (invalid_client on refresh) never marks users' connections for reconnect", async () => {
    const u = await publisher(server, ["youtube"], "rotated");
    const [id] = await approvedPosts(server.deps, sandbox, [{ userId: u.userId, platform: "youtube", count: 1, tag: "rotated" }]);
    const mailsBefore = server.deps.mailer.outbox.length;
    await control(sandbox, "/app-secret", { platform: "youtube", secret: "rotated-elsewhere" });
    try {
      // The access token expires: publishing must refresh it, and the token endpoint refuses our app.
      server.clock.advance(3_700_000);
      await publishRunner(server.deps).drain({ postIds: [id!] });
      const [conn] = await db().select().from(platformConnections).where(eq(platformConnections.userId, u.userId));
      assert.equal(conn!.status, "connected");
      assert.equal((await rows([id!]))[0]!.status, "approved");
      const health = await healthOf(u.client, "youtube");
      assert.deepEqual([health.pausedFor, health.operatorCode], ["operator", "invalid_client"]);
      assert.deepEqual(server.deps.mailer.outbox.slice(mailsBefore).map((m) => m.to), [OPS]);
    } finally {
      await control(sandbox, "/app-secret", { platform: "youtube", secret: "sandbox-google-secret" });
    }
  });
});
