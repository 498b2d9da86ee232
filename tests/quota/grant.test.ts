// grantPlan: the subscription, the ledger, the users mirror and the history
// move together, inside the caller's transaction.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { grantPlan } from "../../server/quota/grant.ts";
import { quotaFor } from "../../server/quota/plans.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";

describe("grantPlan", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { PLAN_GROWTH_POSTS: "30" } });
  });
  after(async () => {
    await server.close();
  });

  const q = (text: string, params: unknown[]) => server.deps.database.pool.query(text, params);

  it("activates the plan, opens the ledger, mirrors it on the user and writes history", async () => {
    const { user } = await signedUpClient(server, "grant");
    const now = new Date("2026-11-20T10:00:00Z");
    const result = await server.deps.db.transaction((tx) =>
      grantPlan(tx, { userId: user.id, plan: "growth", source: "gift_certificate", now, quotaFor: quotaFor(server.deps.config) }),
    );
    assert.deepEqual(result, { plan: "growth", quota: 30, remainingPosts: 30, cycleStart: now });
    const u = (await q("select * from users where id = $1", [user.id])).rows[0];
    assert.equal(u.subscription_plan, "growth");
    assert.equal(u.subscription_active, true);
    assert.equal(new Date(u.subscription_start).toISOString(), now.toISOString());
    assert.equal(u.subscription_source, "gift_certificate");
    assert.equal(u.remaining_posts, 30);
    assert.equal(u.total_posts, 30);
    const l = (await q("select * from post_ledger where user_id = $1", [user.id])).rows[0];
    assert.equal(l.quota, 30);
    assert.equal(l.used_posts, 0);
    assert.equal(new Date(l.period_start).toISOString(), now.toISOString());
    const h = (await q("select * from quota_history where user_id = $1", [user.id])).rows;
    assert.equal(h.length, 1);
    assert.equal(h[0].previous_total, 0);
    assert.equal(h[0].new_total, 30);
    assert.equal(h[0].new_remaining, 30);
    assert.match(h[0].reason, /plan_granted:growth:gift_certificate/);
  });

  it("a second grant resets usage and records what was there before", async () => {
    const { user } = await signedUpClient(server, "regrant");
    const t0 = new Date("2026-11-01T00:00:00Z");
    await server.deps.db.transaction((tx) =>
      grantPlan(tx, { userId: user.id, plan: "starter", source: "ops", now: t0, quotaFor: quotaFor(server.deps.config) }),
    );
    await q("update post_ledger set used_posts = 5 where user_id = $1", [user.id]);
    const t1 = new Date("2026-11-10T00:00:00Z");
    await server.deps.db.transaction((tx) =>
      grantPlan(tx, { userId: user.id, plan: "professional", source: "stripe", now: t1, quotaFor: quotaFor(server.deps.config) }),
    );
    const l = (await q("select * from post_ledger where user_id = $1", [user.id])).rows[0];
    assert.equal(l.quota, 52);
    assert.equal(l.used_posts, 0);
    const h = (await q("select * from quota_history where user_id = $1 order by id", [user.id])).rows;
    assert.equal(h.length, 2);
    assert.equal(h[1].previous_total, 12);
    assert.equal(h[1].previous_remaining, 7);
    assert.equal(h[1].new_remaining, 52);
  });

  it("rolls back with the caller's transaction", async () => {
    const { user } = await signedUpClient(server, "rollback");
    await assert.rejects(
      server.deps.db.transaction(async (tx) => {
        await grantPlan(tx, { userId: user.id, plan: "starter", source: "gift_certificate", now: new Date(), quotaFor: quotaFor(server.deps.config) });
        throw new Error("certificate already used");
      }),
      /certificate already used/,
    );
    const u = (await q("select subscription_active, remaining_posts from users where id = $1", [user.id])).rows[0];
    assert.equal(u.subscription_active, false);
    assert.equal(u.remaining_posts, 0);
    assert.equal((await q("select count(*)::int n from post_ledger where user_id = $1", [user.id])).rows[0].n, 0);
    assert.equal((await q("select count(*)::int n from quota_history where user_id = $1", [user.id])).rows[0].n, 0);
  });
});
