// The timers of a live server, firing on their own (no test calls a job):
// with short schedules (JOB_SCHEDULES, CYCLE_NOTIFY_CRON, RUNNER_INTERVAL_SECONDS)
// the connection check refreshes and flags connections, the runner publishes,
// cycle close and cycle notify run, and the prune jobs delete what expired.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq, inArray } from "drizzle-orm";
import { oauthStates, posts, rateLimitHits, stripeEvents } from "../../shared/schema.ts";
import { grantPlan } from "../../server/quota/grant.ts";
import { quotaFor } from "../../server/quota/plans.ts";
import { connectPlatform } from "../support/connect.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const EVERY_SECOND = "* * * * * *";

describe("timers in a live server", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      jobs: true,
      env: {
        JOB_SCHEDULES: ["connection-check", "cycle-close", "prune-rate-limits", "prune-oauth-states", "prune-stripe-events"].map((n) => `${n}=${EVERY_SECOND}`).join(";"),
        CYCLE_NOTIFY_CRON: EVERY_SECOND,
        RUNNER_INTERVAL_SECONDS: "1",
      },
    });
  });
  after(() => server?.close());

  const db = () => server.deps.db;
  const planFrom = (userId: number, start: Date) =>
    db().transaction((tx) => grantPlan(tx, { userId, plan: "professional", source: "test", now: start, quotaFor: quotaFor(server.deps.config) }));
  const logged = (line: string) => server.logs.some((l) => l.msg === line);

  it("each job runs on its own schedule and does its work", { timeout: 180_000 }, async () => {
    const t0 = server.clock.now().getTime();
    // Connections: X tokens live 2 hours; one account's grant is revoked at the platform.
    const fresh = await signedUpClient(server, "tfresh");
    await planFrom(fresh.user.id, new Date(t0));
    await connectPlatform(fresh.client, "x", "timerfresh");
    const revoked = await signedUpClient(server, "trevoked");
    await planFrom(revoked.user.id, new Date(t0));
    await connectPlatform(revoked.client, "x", "timerrevoked");
    // Cycles: one ended yesterday, one ends within the next day.
    const ended = await signedUpClient(server, "tended");
    await planFrom(ended.user.id, new Date(t0 - 31 * DAY));
    const ending = await signedUpClient(server, "tending");
    await planFrom(ending.user.id, new Date(t0 - 29.5 * DAY));
    // A post due now on a platform whose token needs no refresh.
    const poster = await signedUpClient(server, "tposter");
    await planFrom(poster.user.id, new Date(t0));
    await connectPlatform(poster.client, "facebook", "timerposter");
    const created = await poster.client.post("/api/posts", { platform: "facebook", content: "Published by the timer", status: "approved" });
    assert.equal(created.status, 201, created.text);
    // Expired rows for the prune jobs, beside rows they must keep.
    const now = new Date(t0);
    const hits = await db()
      .insert(rateLimitHits)
      .values([{ bucket: "timers:old", at: new Date(t0 - 26 * HOUR) }, { bucket: "timers:new", at: now }])
      .returning({ id: rateLimitHits.id, bucket: rateLimitHits.bucket });
    await db().insert(oauthStates).values([
      { handle: "timers-old", sessionHash: "x", userId: poster.user.id, platform: "x", expiresAt: new Date(t0 - HOUR) },
      { handle: "timers-new", sessionHash: "x", userId: poster.user.id, platform: "x", expiresAt: new Date(t0 + 10 * 60_000 + 3 * HOUR) },
    ]);
    await db().insert(stripeEvents).values([
      { id: "evt_timers_old", type: "invoice.paid", stripeCreatedAt: new Date(t0 - 40 * DAY), processedAt: new Date(t0 - 40 * DAY) },
      { id: "evt_timers_new", type: "invoice.paid", stripeCreatedAt: new Date(t0 - 2 * DAY), processedAt: new Date(t0 - 2 * DAY) },
    ]);

    await fetch(`${server.url}/sandbox/_control/revoke`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ platform: "x", user: "timerrevoked" }) });
    // Three hours on: the X tokens have expired and the connection check finds them due.
    server.clock.advance(3 * HOUR);

    const expected = [
      `Token refreshed ${fresh.identity.phone} for x`,
      `Redirect to connect ${revoked.identity.phone}`,
      `Cycle completed ${ended.identity.phone}`,
      `Cycle notify ${ending.identity.phone}`,
    ];
    const deadline = Date.now() + 150_000;
    const pruned = async () =>
      (await db().select().from(rateLimitHits).where(inArray(rateLimitHits.id, hits.map((h) => h.id)))).map((h) => h.bucket).join() === "timers:new" &&
      (await db().select().from(oauthStates).where(inArray(oauthStates.handle, ["timers-old", "timers-new"]))).map((s) => s.handle).join() === "timers-new" &&
      (await db().select().from(stripeEvents).where(inArray(stripeEvents.id, ["evt_timers_old", "evt_timers_new"]))).map((e) => e.id).join() === "evt_timers_new";
    const post = async () => (await db().select().from(posts).where(eq(posts.id, created.body.id)))[0]!;
    const published = async () => (await post()).status === "published";
    for (let poll = 1; ; poll++) {
      const missing = expected.filter((l) => !logged(l));
      const done = !missing.length && (await pruned()) && (await published());
      if (done) break;
      if (Date.now() > deadline) {
        const p = await post();
        assert.fail(`timers did not all run: missing ${JSON.stringify(missing)}, pruned ${await pruned()}, post ${p.status} (${p.errorLog})`);
      }
      // A loaded machine can make the post's first call time out; its retry or reconciliation waits
      // on the test clock, which moves only when the test moves it (10 s every 2 s of waiting).
      if (poll % 8 === 0 && !(await published())) server.clock.advance(10_000);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(server.deps.mailer.outbox.filter((m) => m.to === ending.identity.email).length, 1, "one cycle notice");
    assert.equal(server.deps.mailer.outbox.filter((m) => m.to === revoked.identity.email).length, 1, "one reconnect e-mail");
    assert.ok(!server.logs.some((l) => l.msg === "Job failed"), "no job failed");
  });
});
