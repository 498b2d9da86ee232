// A subscription's life after checkout, driven from the sandbox's Stripe
// control: renewals open the paid period's cycle once, a declined renewal is
// told once per invoice and ends the subscription when Stripe gives up, plan
// changes (upgrade now, downgrade at renewal, in any order), and cancellation
// at Stripe at period end with no further cycles.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../support/server.ts";
import { buyPlan, count, events, one, postEvent, SANDBOX_PRICES, setWebhooks } from "./helpers.ts";

const DAY = 24 * 60 * 60 * 1000;

describe("subscription lifecycle", () => {
  let server: TestServer;
  before(async () => {
    // Sessions outlive the months the clock jumps (the idle timeout follows the test clock).
    server = await startTestServer({ env: { SESSION_IDLE_MINUTES: String(365 * 24 * 60) } });
  });
  after(async () => {
    await server?.close();
  });

  const ctl = (path: string, body: unknown = {}) => server.client().post(`/sandbox/_control/stripe${path}`, body);
  const ledger = (userId: number) => one(server, "select quota, used_posts, period_start from post_ledger where user_id = $1", [userId]);
  const user = (userId: number) => one(server, "select subscription_plan, subscription_active, subscription_start from users where id = $1", [userId]);
  const reasons = (userId: number, like: string) => count(server, "select 1 from quota_history where user_id = $1 and reason like $2", [userId, like]);

  it("a paid renewal opens the paid period's cycle once; a renewal after the clock's own roll only moves it", async () => {
    const b = await buyPlan(server, "starter", "renew");
    await server.deps.database.pool.query("update post_ledger set used_posts = 5 where user_id = $1", [b.user.id]);
    server.clock.advance(31 * DAY);
    const renewed = await ctl(`/subscriptions/${b.subscriptionId}/renew`);
    assert.equal(renewed.status, 200);
    const [paid] = renewed.body.events;
    assert.equal(paid.type, "invoice.paid");
    assert.equal(paid.delivered, true);
    const periodStart = new Date(renewed.body.subscription.items.data[0].current_period_start * 1000);

    const l = await ledger(b.user.id);
    assert.deepEqual({ quota: l.quota, used: l.used_posts, start: new Date(l.period_start).getTime() }, { quota: 12, used: 0, start: periodStart.getTime() });
    assert.equal(new Date((await user(b.user.id)).subscription_start).getTime(), periodStart.getTime());
    const closed = await one(server, "select posts_used from subscription_analytics where user_id = $1", [b.user.id]);
    assert.equal(closed.posts_used, 5);
    // The same renewal again changes nothing.
    await ctl(`/events/${paid.id}/deliver`);
    assert.equal(await reasons(b.user.id, "cycle_renewed:%"), 1);

    // 30 days on the hourly close rolls the cycle itself; Stripe's month ends a day or so later.
    await server.deps.database.pool.query("update post_ledger set used_posts = 3 where user_id = $1", [b.user.id]);
    server.clock.advance(30 * DAY + 60_000);
    assert.equal((await b.client.get("/api/subscription-usage")).status, 200);
    assert.equal(await reasons(b.user.id, "cycle_reset"), 1);
    await server.deps.database.pool.query("update post_ledger set used_posts = 2 where user_id = $1", [b.user.id]);
    const second = await ctl(`/subscriptions/${b.subscriptionId}/renew`);
    const secondStart = second.body.subscription.items.data[0].current_period_start * 1000;
    const moved = await ledger(b.user.id);
    assert.equal(new Date(moved.period_start).getTime(), secondStart);
    assert.equal(moved.used_posts, 2, "the cycle the clock opened is the paid one: its posts stay used");
    assert.equal(await reasons(b.user.id, "cycle_renewed:%"), 1);
  });

  it("a declined renewal e-mails the user once per invoice; when Stripe gives up the subscription ends", async () => {
    const b = await buyPlan(server, "growth", "declined");
    const outbox = () => server.deps.mailer.outbox.filter((m) => m.to === b.identity.email && /payment did not go through/.test(m.subject));
    server.clock.advance(31 * DAY);
    const failed = await ctl(`/subscriptions/${b.subscriptionId}/fail-payment`, {});
    assert.equal(failed.body.events[0].type, "invoice.payment_failed");
    assert.equal(failed.body.events[0].delivered, true);
    assert.equal(outbox().length, 1);
    assert.match(outbox()[0]!.text, /\/subscription/);
    await ctl(`/events/${failed.body.events[0].id}/deliver`);
    assert.equal(outbox().length, 1);
    assert.equal((await user(b.user.id)).subscription_active, true, "still active while Stripe retries");

    const final = await ctl(`/subscriptions/${b.subscriptionId}/fail-payment`, { final: true });
    assert.deepEqual(final.body.events.map((e: { type: string }) => e.type), ["invoice.payment_failed", "customer.subscription.deleted"]);
    assert.ok(final.body.events.every((e: { delivered: boolean }) => e.delivered));
    assert.equal(outbox().length, 2, "one per failed invoice");
    assert.equal((await user(b.user.id)).subscription_active, false);
  });

  it("an upgrade applies now, a downgrade at the next renewal; late plan-change events apply Stripe's current plan", async () => {
    const b = await buyPlan(server, "growth", "change");
    await ctl(`/subscriptions/${b.subscriptionId}/price`, { price: SANDBOX_PRICES.professional });
    assert.deepEqual(await ledgerPlan(b.user.id), { plan: "professional", quota: 52 });
    await ctl(`/subscriptions/${b.subscriptionId}/price`, { price: SANDBOX_PRICES.starter });
    assert.deepEqual(await ledgerPlan(b.user.id), { plan: "professional", quota: 52 }, "a downgrade waits for the renewal");
    server.clock.advance(31 * DAY);
    await ctl(`/subscriptions/${b.subscriptionId}/renew`);
    assert.deepEqual(await ledgerPlan(b.user.id), { plan: "starter", quota: 12 });

    // Out of order: an upgrade and a downgrade back, delivered newest first. Stripe's plan is
    // starter in the end, so neither changes the plan now.
    await setWebhooks(server, { hold: true });
    try {
      await ctl(`/subscriptions/${b.subscriptionId}/price`, { price: SANDBOX_PRICES.growth });
      await ctl(`/subscriptions/${b.subscriptionId}/price`, { price: SANDBOX_PRICES.starter });
      const flushed = (await ctl("/webhooks/flush", { order: "reverse" })).body;
      assert.equal(flushed.length, 2);
      assert.ok(flushed.every((d: { delivered: boolean }) => d.delivered));
    } finally {
      await setWebhooks(server, { hold: false });
    }
    assert.deepEqual(await ledgerPlan(b.user.id), { plan: "starter", quota: 12 });
  });

  async function ledgerPlan(userId: number) {
    return { plan: (await user(userId)).subscription_plan, quota: (await ledger(userId)).quota };
  }

  it("cancelling cancels at Stripe at period end; no cycle follows, whatever Stripe still sends", async () => {
    const b = await buyPlan(server, "starter", "cancel");
    const before = await ledger(b.user.id);
    const cancelled = await b.client.post("/api/cancel-subscription", {});
    assert.equal(cancelled.status, 200, cancelled.text);
    const atStripe = (await server.client().get(`/sandbox/_control/stripe/subscriptions/${b.subscriptionId}`)).body;
    assert.equal(atStripe.cancel_at_period_end, true);
    assert.equal(atStripe.status, "active");
    assert.equal((await user(b.user.id)).subscription_active, false);

    server.clock.advance(31 * DAY);
    const end = await ctl(`/subscriptions/${b.subscriptionId}/renew`);
    assert.deepEqual(end.body.events.map((e: { type: string }) => e.type), ["customer.subscription.deleted"]);
    assert.equal(end.body.events[0].delivered, true);
    // Even a paid renewal (say, from a retry Stripe had queued) opens nothing.
    const [template] = (await events(server, "invoice.paid", true)).filter((d) => d.payload!.includes(b.subscriptionId));
    const invoice = JSON.parse(template!.payload!);
    invoice.id = "evt_late_renewal";
    invoice.data.object.billing_reason = "subscription_cycle";
    invoice.data.object.lines.data[0].period.start += 31 * 24 * 3600;
    assert.equal((await postEvent(server, JSON.stringify(invoice))).status, 200);
    assert.equal((await b.client.get("/api/subscription-usage")).status, 200);
    const after = await ledger(b.user.id);
    assert.equal(new Date(after.period_start).getTime(), new Date(before.period_start).getTime());
    assert.equal(await reasons(b.user.id, "cycle_%"), 0);
    assert.equal((await user(b.user.id)).subscription_active, false);
    // Cancelling again, with the subscription gone at Stripe, is still a plain answer.
    assert.equal((await b.client.post("/api/cancel-subscription", {})).status, 200);
  });

  it("when Stripe cannot be reached, cancelling changes nothing and says so", async () => {
    const b = await buyPlan(server, "starter", "stripedown");
    const fault = await server.client().post("/sandbox/_control/faults", { endpoint: "stripe.subscriptions.update", times: 3, status: 500, body: { error: { type: "api_error", message: "down" } } });
    assert.equal(fault.status, 201, fault.text);
    const refused = await b.client.post("/api/cancel-subscription", {});
    assert.equal(refused.status, 502);
    assert.equal(refused.body.code, "payment_provider_error");
    assert.equal((await user(b.user.id)).subscription_active, true);
    const atStripe = (await server.client().get(`/sandbox/_control/stripe/subscriptions/${b.subscriptionId}`)).body;
    assert.equal(atStripe.cancel_at_period_end, false);
  });
});
