// A renewal delivered to two servers on one PostgreSQL database at once —
// Stripe retrying while the first delivery is still being processed, behind a
// load balancer — opens the next cycle exactly once. Also when the same
// invoice comes as two different events.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { TestClock } from "../support/clock.ts";
import { needsRealPostgres } from "../support/database.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { buyPlan, count, one, postEvent, setWebhooks } from "./helpers.ts";

const DAY = 24 * 60 * 60 * 1000;

describe("renewal across two processes", { skip: needsRealPostgres }, () => {
  let a: TestServer;
  let b: TestServer;
  const clock = new TestClock(new Date());
  before(async () => {
    a = await startTestServer({ clock });
    b = await startTestServer({ clock, database: a.database });
  });
  after(async () => {
    await b?.close({ dropDatabase: false });
    await a?.close();
  });

  it("opens the next cycle once for 20 concurrent deliveries of one renewal, and for a second event of the same invoice", async () => {
    const bought = await buyPlan(a, "growth", "twoproc");
    await a.deps.database.pool.query("update post_ledger set used_posts = 4 where user_id = $1", [bought.user.id]);
    clock.advance(31 * DAY);
    // The sandbox holds the renewal's event; the test delivers its exact payload itself, to both servers.
    await setWebhooks(a, { hold: true });
    const renewed = await a.client().post(`/sandbox/_control/stripe/subscriptions/${bought.subscriptionId}/renew`, {});
    const [held] = renewed.body.events;
    assert.equal(held.type, "invoice.paid");
    const payload = (await a.client().get(`/sandbox/_control/stripe/events?type=invoice.paid&full=true`)).body.find((d: { id: string }) => d.id === held.id).payload;

    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => postEvent(i % 2 ? a : b, payload)));
    assert.ok(replies.every((r) => r.status === 200), JSON.stringify(replies.filter((r) => r.status !== 200)));
    assert.equal(replies.filter((r) => r.body.duplicate === false).length, 1);

    const periodStart = renewed.body.subscription.items.data[0].current_period_start * 1000;
    const ledger = await one(a, "select quota, used_posts, period_start from post_ledger where user_id = $1", [bought.user.id]);
    assert.deepEqual({ quota: ledger.quota, used: ledger.used_posts, start: new Date(ledger.period_start).getTime() }, { quota: 27, used: 0, start: periodStart });
    assert.equal(await count(a, "select 1 from quota_history where user_id = $1 and reason like 'cycle_renewed:%'", [bought.user.id]), 1);
    assert.equal(await count(a, "select 1 from subscription_analytics where user_id = $1", [bought.user.id]), 1);
    assert.equal(await count(a, "select 1 from stripe_events where id = $1", [held.id]), 1);

    // Used posts in the new cycle stay used when the same invoice arrives as another event.
    await a.deps.database.pool.query("update post_ledger set used_posts = 2 where user_id = $1", [bought.user.id]);
    const copy = JSON.parse(payload);
    const copies = ["evt_copy_1", "evt_copy_2", "evt_copy_3", "evt_copy_4"].map((id) => JSON.stringify({ ...copy, id }));
    const second = await Promise.all(copies.map((p, i) => postEvent(i % 2 ? a : b, p)));
    assert.ok(second.every((r) => r.status === 200 && r.body.duplicate === false));
    assert.equal((await one(a, "select used_posts from post_ledger where user_id = $1", [bought.user.id])).used_posts, 2);
    assert.equal(await count(a, "select 1 from quota_history where user_id = $1 and reason like 'cycle_renewed:%'", [bought.user.id]), 1);
  });
});
