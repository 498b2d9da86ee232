// The ledger: parallel reservations never exceed the quota, a failed publish
// gives its reservation back exactly once, and refusals name their reason.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkCanPost } from "../../server/quota/check.ts";
import { grantPlan } from "../../server/quota/grant.ts";
import { releaseReservation, reservePost } from "../../server/quota/ledger.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { all, DAY, insertPost, one, subscriber } from "./helpers.ts";

describe("post ledger", () => {
  let server: TestServer;
  const t0 = new Date("2026-11-01T00:00:00Z");
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  const reserve = (userId: number, postId: number, now = t0) =>
    server.deps.db.transaction((tx) => reservePost(tx, userId, postId, now));
  const release = (userId: number, postId: number, now = t0, reason = "permanent_failure") =>
    server.deps.db.transaction((tx) => releaseReservation(tx, userId, postId, now, reason));

  it("100 parallel reservations against a quota of 10: exactly 10 succeed", async () => {
    const { user } = await subscriber(server, { start: t0, quota: 10, tag: "par" });
    const postIds: number[] = [];
    for (let i = 0; i < 100; i++) postIds.push(await insertPost(server, user.id, { status: "approved", at: t0 }));
    const results = await Promise.all(postIds.map((id) => reserve(user.id, id, new Date(t0.getTime() + DAY))));
    assert.equal(results.filter(Boolean).length, 10);
    const ledger = await one(server, "select quota, used_posts from post_ledger where user_id = $1", [user.id]);
    assert.deepEqual({ ...ledger }, { quota: 10, used_posts: 10 });
    const u = await one(server, "select remaining_posts, total_posts from users where id = $1", [user.id]);
    assert.deepEqual({ ...u }, { remaining_posts: 0, total_posts: 10 });
    const history = await all(
      server,
      "select post_id, previous_remaining, new_remaining from quota_history where user_id = $1 and reason = 'post_reserved' order by id",
      [user.id],
    );
    assert.equal(history.length, 10);
    // Each reservation took exactly one: remaining went 10→9, 9→8 … 1→0.
    assert.deepEqual(
      history.map((h) => [h.previous_remaining, h.new_remaining]),
      Array.from({ length: 10 }, (_, i) => [10 - i, 9 - i]),
    );
    const reservedPosts = new Set(history.map((h) => h.post_id));
    assert.equal(reservedPosts.size, 10);
    postIds.forEach((id, i) => assert.equal(reservedPosts.has(id), results[i]));
  });

  it("reservations, releases and a re-grant racing each other: no deadlock, users mirror the ledger", async () => {
    const { user } = await subscriber(server, { start: t0, quota: 20, tag: "race" });
    const posts: number[] = [];
    for (let i = 0; i < 40; i++) posts.push(await insertPost(server, user.id, { status: "approved", at: t0 }));
    const at = new Date(t0.getTime() + DAY);
    await Promise.all([
      ...posts.map((p) => reserve(user.id, p, at)),
      ...posts.slice(0, 10).map((p) => release(user.id, p, at)),
      server.deps.db.transaction((tx) =>
        grantPlan(tx, { userId: user.id, plan: "growth", source: "test", now: at, quotaFor: () => 25 }),
      ),
    ]);
    const l = await one(server, "select quota, used_posts from post_ledger where user_id = $1", [user.id]);
    const u = await one(server, "select remaining_posts, total_posts from users where id = $1", [user.id]);
    assert.ok(l.used_posts <= l.quota);
    assert.equal(u.total_posts, l.quota);
    assert.equal(u.remaining_posts, l.quota - l.used_posts);
    // The last history row tells the same story as the ledger.
    const last = await one(server, "select new_total, new_remaining from quota_history where user_id = $1 order by id desc limit 1", [user.id]);
    assert.deepEqual([last.new_total, last.new_remaining], [l.quota, l.quota - l.used_posts]);
  });

  it("a failed publish gives its reservation back, once", async () => {
    const { user } = await subscriber(server, { start: t0, quota: 2, tag: "rel" });
    const a = await insertPost(server, user.id, { status: "approved", at: t0 });
    const b = await insertPost(server, user.id, { status: "approved", at: t0 });
    const c = await insertPost(server, user.id, { status: "approved", at: t0 });
    assert.equal(await reserve(user.id, a), true);
    assert.equal(await reserve(user.id, b), true);
    assert.equal(await reserve(user.id, c), false, "quota of 2 is used up");
    assert.equal(await release(user.id, a), true);
    assert.equal(await release(user.id, a), false, "a second release of the same post gives nothing back");
    assert.equal(await release(user.id, c), false, "a post that never reserved gives nothing back");
    const ledger = await one(server, "select used_posts from post_ledger where user_id = $1", [user.id]);
    assert.equal(ledger.used_posts, 1);
    assert.equal((await one(server, "select remaining_posts from users where id = $1", [user.id])).remaining_posts, 1);
    const h = await one(server, "select * from quota_history where user_id = $1 and post_id = $2 and reason like 'post_released%'", [user.id, a]);
    assert.equal(h.reason, "post_released:permanent_failure");
    assert.equal(h.previous_remaining, 0);
    assert.equal(h.new_remaining, 1);
    // The freed post can be used by the next one.
    assert.equal(await reserve(user.id, c), true);
  });

  it("reserving the same post twice counts once (a retried claim)", async () => {
    const { user } = await subscriber(server, { start: t0, quota: 5, tag: "idem" });
    const p = await insertPost(server, user.id, { status: "approved", at: t0 });
    assert.equal(await reserve(user.id, p), true);
    assert.equal(await reserve(user.id, p), true);
    assert.equal((await one(server, "select used_posts from post_ledger where user_id = $1", [user.id])).used_posts, 1);
  });

  it("an inactive subscription and a quota of 0 are refused with a clear reason", async () => {
    const fresh = await signedUpClient(server, "none");
    const freshUser = await one(server, "select id from users where id = $1", [fresh.user.id]);
    const p = await insertPost(server, freshUser.id, { status: "approved", at: t0 });
    assert.equal(await reserve(freshUser.id, p), false);
    const noSub = await checkCanPost(server.deps, { id: freshUser.id, subscriptionActive: false, subscriptionPlan: null, subscriptionStart: null }, t0);
    assert.equal(noSub.ok, false);
    assert.equal(noSub.ok === false && noSub.reason, "no_active_subscription");
    assert.match(noSub.ok === false ? noSub.message : "", /No active subscription/);

    const zero = await subscriber(server, { start: t0, quota: 0, tag: "zero" });
    const zp = await insertPost(server, zero.user.id, { status: "approved", at: t0 });
    assert.equal(await reserve(zero.user.id, zp), false);
    const zeroCheck = await checkCanPost(
      server.deps,
      { id: zero.user.id, subscriptionActive: true, subscriptionPlan: "starter", subscriptionStart: t0 },
      t0,
    );
    assert.deepEqual(zeroCheck.ok === false && [zeroCheck.reason, zeroCheck.message], [
      "quota_exhausted",
      "Your plan includes no posts in this cycle",
    ]);

    // A cancelled subscription keeps its ledger but reserves nothing.
    const cancelled = await subscriber(server, { start: t0, quota: 5, tag: "cancel" });
    await server.deps.database.pool.query("update users set subscription_active = false where id = $1", [cancelled.user.id]);
    const cp = await insertPost(server, cancelled.user.id, { status: "approved", at: t0 });
    assert.equal(await reserve(cancelled.user.id, cp), false);
    assert.equal((await one(server, "select used_posts from post_ledger where user_id = $1", [cancelled.user.id])).used_posts, 0);
  });

  it("checkCanPost: ok with what remains, quota_exhausted when used up, cycle_ended for an old cycle's post", async () => {
    const { user } = await subscriber(server, { start: t0, quota: 1, tag: "check" });
    const subscriberRow = { id: user.id, subscriptionActive: true, subscriptionPlan: "starter" as const, subscriptionStart: t0 };
    const ok = await checkCanPost(server.deps, subscriberRow, new Date(t0.getTime() + DAY));
    assert.equal(ok.ok, true);
    assert.equal(ok.ok && ok.remaining, 1);
    assert.equal(ok.cycle?.end.toISOString(), "2026-12-01T00:00:00.000Z");
    await reserve(user.id, await insertPost(server, user.id, { status: "approved", at: t0 }));
    const used = await checkCanPost(server.deps, subscriberRow, new Date(t0.getTime() + DAY));
    assert.equal(used.ok === false && used.reason, "quota_exhausted");
    assert.match(used.ok === false ? used.message : "", /All 1 posts of this cycle are used; the next cycle starts on 2026-12-01/);
    const late = await checkCanPost(server.deps, subscriberRow, new Date(t0.getTime() + 31 * DAY), { postCycleStart: t0 });
    assert.equal(late.ok === false && late.reason, "cycle_ended");
    assert.match(late.ok === false ? late.message : "", /ended on 2026-12-01/);
  });

  it("a plan granted mid-cycle (a redeemed gift) does not end the posts already approved", async () => {
    const { user } = await subscriber(server, { start: t0, quota: 5, tag: "regrant" });
    const later = new Date(t0.getTime() + 10 * DAY);
    await server.deps.db.transaction((tx) => grantPlan(tx, { userId: user.id, plan: "growth", source: "certificate", now: later, quotaFor: () => 27 }));
    const row = { id: user.id, subscriptionActive: true, subscriptionPlan: "growth" as const, subscriptionStart: later };
    const check = await checkCanPost(server.deps, row, new Date(later.getTime() + DAY), { postCycleStart: t0 });
    assert.equal(check.ok, true, check.ok ? "" : check.message);
  });

  it("a reservation made before the cycle rolled is not given back into the new cycle", async () => {
    const { user } = await subscriber(server, { start: t0, quota: 3, tag: "roll" });
    const p = await insertPost(server, user.id, { status: "approved", at: t0 });
    assert.equal(await reserve(user.id, p, new Date(t0.getTime() + 29 * DAY)), true);
    const next = new Date(t0.getTime() + 30 * DAY);
    // The pre-flight closes the ended cycle: the new one has its full quota.
    const check = await checkCanPost(server.deps, { id: user.id, subscriptionActive: true, subscriptionPlan: "starter", subscriptionStart: t0 }, next);
    assert.equal(check.ok && check.remaining, 12, "the plan's configured quota, not the test's 3");
    assert.equal(await release(user.id, p, next), false);
    assert.equal((await one(server, "select used_posts from post_ledger where user_id = $1", [user.id])).used_posts, 0);
  });
});
