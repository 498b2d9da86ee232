// Cycles with injected time: the boundary, the close (analytics, reset, log,
// exactly once — also across two processes) and the notify email.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../server/config.ts";
import { allJobs } from "../../server/jobs/index.ts";
import { closeDueCycles } from "../../server/quota/close.ts";
import { cycleAt, currentCycle } from "../../server/quota/cycle.ts";
import { reservePost } from "../../server/quota/ledger.ts";
import { runCycleNotify } from "../../server/quota/notify.ts";
import { createMailer } from "../../server/notify/email.ts";
import { needsRealPostgres } from "../support/database.ts";
import { freePort, startTestServer, type TestServer } from "../support/server.ts";
import { all, DAY, insertPost, one, subscriber } from "./helpers.ts";

const logLines = (server: TestServer, msg: string) => server.logs.filter((l) => l.msg === msg);

describe("cycle arithmetic", () => {
  const config = { cycle: { days: 30, notifyCron: "0 9 * * *", notifyTimezone: "Australia/Brisbane" } };
  const start = new Date("2026-01-10T08:30:00Z");
  it("a cycle is [start + k·30 days, start + (k+1)·30 days)", () => {
    const first = cycleAt(start, new Date(start.getTime() + 30 * DAY - 1), 30 * DAY);
    assert.equal(first.index, 0);
    assert.equal(first.end.toISOString(), "2026-02-09T08:30:00.000Z");
    const second = cycleAt(start, new Date(start.getTime() + 30 * DAY), 30 * DAY);
    assert.equal(second.index, 1);
    assert.equal(second.start.toISOString(), "2026-02-09T08:30:00.000Z");
    assert.equal(currentCycle({ subscriptionActive: false, subscriptionStart: start }, start, config), null);
    assert.equal(currentCycle({ subscriptionActive: true, subscriptionStart: null }, start, config), null);
  });
});

describe("cycle close and notify", () => {
  let server: TestServer;
  const t0 = new Date("2026-10-01T00:00:00Z");
  before(async () => {
    server = await startTestServer({ clock: undefined });
  });
  after(async () => {
    await server.close();
  });

  it("closes an ended cycle once: analytics, reset ledger, history, log", async () => {
    const { user, identity } = await subscriber(server, { plan: "growth", start: t0, tag: "close" });
    for (let i = 0; i < 3; i++) {
      const p = await insertPost(server, user.id, { status: "approved", at: t0 });
      await server.deps.db.transaction((tx) => reservePost(tx, user.id, p, new Date(t0.getTime() + DAY)));
    }
    await insertPost(server, user.id, { platform: "facebook", status: "published", at: new Date(t0.getTime() + 2 * DAY), reach: 100, engagement: 7, impressions: 150 });
    await insertPost(server, user.id, { platform: "linkedin", status: "published", at: new Date(t0.getTime() + 3 * DAY), reach: 40, engagement: 3, impressions: 60 });
    await insertPost(server, user.id, { status: "failed", at: new Date(t0.getTime() + 3 * DAY) });
    // Published after the boundary: belongs to the next cycle.
    await insertPost(server, user.id, { status: "published", at: new Date(t0.getTime() + 30 * DAY + 1000), reach: 999 });

    const justBefore = new Date(t0.getTime() + 30 * DAY - 1);
    assert.equal(await closeDueCycles(server.deps, justBefore), 0);
    assert.equal(logLines(server, `Cycle completed ${identity.phone}`).length, 0);

    const boundary = new Date(t0.getTime() + 30 * DAY);
    assert.ok((await closeDueCycles(server.deps, boundary)) >= 1);
    assert.equal(await closeDueCycles(server.deps, boundary), 0, "a second run closes nothing");
    assert.equal(await closeDueCycles(server.deps, new Date(boundary.getTime() + 3600_000)), 0);

    const rows = await all(server, "select * from subscription_analytics where user_id = $1", [user.id]);
    assert.equal(rows.length, 1);
    const a = rows[0];
    assert.equal(new Date(a.cycle_start).toISOString(), t0.toISOString());
    assert.equal(new Date(a.cycle_end).toISOString(), boundary.toISOString());
    assert.equal(a.plan, "growth");
    assert.deepEqual(
      [a.quota, a.posts_used, a.successful_posts, a.reach, a.engagement, a.impressions],
      [27, 3, 2, 140, 10, 210],
    );
    const ledger = await one(server, "select quota, used_posts, period_start from post_ledger where user_id = $1", [user.id]);
    assert.equal(ledger.quota, 27);
    assert.equal(ledger.used_posts, 0);
    assert.equal(new Date(ledger.period_start).toISOString(), boundary.toISOString());
    const u = await one(server, "select remaining_posts, total_posts from users where id = $1", [user.id]);
    assert.deepEqual({ ...u }, { remaining_posts: 27, total_posts: 27 });
    const reset = await all(server, "select * from quota_history where user_id = $1 and reason = 'cycle_reset'", [user.id]);
    assert.equal(reset.length, 1);
    assert.deepEqual([reset[0].previous_remaining, reset[0].new_remaining], [24, 27]);
    assert.equal(logLines(server, `Cycle completed ${identity.phone}`).length, 1);
  });

  it("the usage endpoint closes an ended cycle lazily and shows the new one", async () => {
    const { user, client } = await subscriber(server, { plan: "starter", start: t0, tag: "lazy" });
    const p = await insertPost(server, user.id, { status: "approved", at: t0 });
    await server.deps.db.transaction((tx) => reservePost(tx, user.id, p, t0));
    server.clock.set(new Date(t0.getTime() + 31 * DAY));
    const usage = await client.get("/api/subscription-usage");
    assert.equal(usage.status, 200, usage.text);
    assert.equal(usage.body.cycleStart, new Date(t0.getTime() + 30 * DAY).toISOString());
    assert.equal(usage.body.usedPosts, 0);
    assert.equal(usage.body.remainingPosts, 12);
    assert.equal((await all(server, "select id from subscription_analytics where user_id = $1", [user.id])).length, 1);
  });

  it("notifies exactly one day before the end, once per cycle however often it runs", async () => {
    const start = new Date("2027-03-05T02:00:00Z");
    const { user, identity } = await subscriber(server, { start, tag: "notify" });
    const end = new Date(start.getTime() + 30 * DAY);
    const mine = () => server.deps.mailer.outbox.filter((m) => m.to === identity.email);

    await runCycleNotify(server.deps, new Date(end.getTime() - DAY - 1));
    assert.equal(mine().length, 0, "more than a day before the end: not yet");

    const r = await runCycleNotify(server.deps, new Date(end.getTime() - DAY));
    assert.ok(r.sent >= 1);
    assert.equal(mine().length, 1);
    assert.match(mine()[0]!.text, /approve or edit the posts scheduled for your next cycle/);
    assert.match(mine()[0]!.text, new RegExp(`${server.deps.config.publicUrl}/schedule`));
    assert.equal(logLines(server, `Cycle notify ${identity.phone}`).length, 1);

    // Repeated ticks, in sequence and in parallel: nothing more.
    await runCycleNotify(server.deps, new Date(end.getTime() - DAY / 2));
    await Promise.all([1, 2, 3].map(() => runCycleNotify(server.deps, new Date(end.getTime() - 1000))));
    assert.equal(mine().length, 1);
    const rows = await all(server, "select kind, dedupe_key from email_notifications where user_id = $1", [user.id]);
    assert.deepEqual(rows.map((x) => ({ ...x })), [{ kind: "cycle_notify", dedupe_key: `cycle:${start.toISOString()}` }]);

    // At the end itself the cycle is over; the next cycle gets its own email a day before its end.
    await runCycleNotify(server.deps, end);
    assert.equal(mine().length, 1);
    await runCycleNotify(server.deps, new Date(end.getTime() + 29 * DAY));
    assert.equal(mine().length, 2);
  });

  it("the registered timers: notify daily at 09:00 Brisbane, both reading the injected clock", async () => {
    const jobs = allJobs(server.deps);
    const notify = jobs.find((j) => j.name === "cycle-notify")!;
    assert.equal(notify.schedule, "0 9 * * *");
    assert.equal(notify.timezone, "Australia/Brisbane");
    const close = jobs.find((j) => j.name === "cycle-close")!;
    const start = new Date("2027-08-01T00:00:00Z");
    const { user, identity } = await subscriber(server, { start, tag: "timer" });
    server.clock.set(new Date(start.getTime() + 29 * DAY + 9 * 3600_000 - 1));
    await notify.run(server.deps);
    assert.equal(server.deps.mailer.outbox.filter((m) => m.to === identity.email).length, 1);
    server.clock.set(new Date(start.getTime() + 30 * DAY));
    await close.run(server.deps);
    assert.equal((await all(server, "select id from subscription_analytics where user_id = $1", [user.id])).length, 1);
  });

  it("a failed send frees the slot so a later run sends it", async () => {
    const start = new Date("2027-06-01T00:00:00Z");
    const { user, identity } = await subscriber(server, { start, tag: "smtpfail" });
    const when = new Date(start.getTime() + 29 * DAY + 3600_000);
    // A real SMTP transport pointed at a port nobody listens on.
    const config = loadConfig({ ...process.env, DATA_DIR: server.dataDir, SMTP_URL: `smtp://127.0.0.1:${await freePort()}` });
    const broken = { ...server.deps, mailer: createMailer(config, server.deps.log) };
    const failed = await runCycleNotify(broken, when);
    assert.ok(failed.failed >= 1);
    assert.equal((await all(server, "select id from email_notifications where user_id = $1", [user.id])).length, 0);
    assert.equal(logLines(server, `Cycle notify ${identity.phone}`).length, 0);
    await runCycleNotify(server.deps, when);
    assert.equal(server.deps.mailer.outbox.filter((m) => m.to === identity.email).length, 1);
    assert.equal((await all(server, "select id from email_notifications where user_id = $1", [user.id])).length, 1);
  });
});

describe("two processes on one database", () => {
  it("close and notify happen once per user however many processes run them", { skip: needsRealPostgres }, async () => {
    const a = await startTestServer();
    const b = await startTestServer({ database: a.database });
    try {
      const start = new Date("2028-01-01T00:00:00Z");
      const users = [];
      for (let i = 0; i < 5; i++) users.push(await subscriber(a, { start, tag: `two${i}` }));
      const emails = new Set(users.map((u) => u.identity.email));
      const sentTo = () => [...a.deps.mailer.outbox, ...b.deps.mailer.outbox].filter((m) => emails.has(m.to));

      const dayBefore = new Date(start.getTime() + 29 * DAY);
      await Promise.all([0, 1, 2].flatMap(() => [runCycleNotify(a.deps, dayBefore), runCycleNotify(b.deps, dayBefore)]));
      assert.equal(sentTo().length, 5);
      assert.equal(new Set(sentTo().map((m) => m.to)).size, 5);

      const boundary = new Date(start.getTime() + 30 * DAY);
      const closed = await Promise.all([0, 1, 2].flatMap(() => [closeDueCycles(a.deps, boundary), closeDueCycles(b.deps, boundary)]));
      assert.equal(closed.reduce((n, c) => n + c, 0), 5);
      const ids = users.map((u) => u.user.id);
      const analytics = await all(a, "select user_id from subscription_analytics where user_id = any($1)", [ids]);
      assert.equal(analytics.length, 5);
      const resets = await all(a, "select user_id from quota_history where reason = 'cycle_reset' and user_id = any($1)", [ids]);
      assert.equal(resets.length, 5);
      const completedLines = [...a.logs, ...b.logs].filter((l) => l.msg.startsWith("Cycle completed "));
      assert.equal(completedLines.length, 5);
    } finally {
      await b.close({ dropDatabase: false });
      await a.close();
    }
  });
});
