// POST /api/webhooks/stripe: Stripe's signature over the raw body (valid,
// wrong secret, stale timestamp, modified body), the one narrow hole in the
// Origin and JSON guards, and events applied once whatever their order or
// number of deliveries, with the sandbox retrying a failed delivery.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signatureHeader } from "../../server/platforms/sandbox/stripe/index.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { buyPlan, count, events, one, postEvent, SANDBOX_PRICES, setWebhooks, startCheckout, submitCheckout, until, WEBHOOK_SECRET } from "./helpers.ts";

const event = (id: string, created: number) =>
  JSON.stringify({ id, object: "event", api_version: "2026-10-28.endive", created, type: "customer.created", data: { object: { id: "cus_x", object: "customer" } }, livemode: false });

describe("stripe webhook", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  const recorded = (id: string) => count(server, "select 1 from stripe_events where id = $1", [id]);
  const now = () => Math.floor(server.clock.now().getTime() / 1000);

  it("accepts Stripe's signature and refuses a wrong secret, a stale timestamp, a modified body, no signature", async () => {
    const payload = event("evt_valid", now());
    const ok = await postEvent(server, payload);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { received: true, duplicate: false });
    assert.equal(await recorded("evt_valid"), 1);

    for (const [name, reply] of [
      ["wrong secret", await postEvent(server, event("evt_wrong", now()), { secret: "whsec_not_ours" })],
      ["stale timestamp", await postEvent(server, event("evt_stale", now()), { at: server.clock.now().getTime() - 301_000 })],
      ["modified body", await postEvent(server, event("evt_modified", now()).replace("cus_x", "cus_y"), { signature: signatureHeader(event("evt_modified", now()), WEBHOOK_SECRET, now()) })],
      ["no signature", await postEvent(server, event("evt_unsigned", now()), { signature: "" })],
    ] as const) {
      assert.equal(reply.status, 400, name);
      assert.match(reply.body.code, /^(invalid|missing)_signature$/, name);
    }
    for (const id of ["evt_wrong", "evt_stale", "evt_modified", "evt_unsigned"]) assert.equal(await recorded(id), 0, id);
    // Within the tolerance the same signature is fine (clock skew).
    assert.equal((await postEvent(server, event("evt_recent", now()), { at: server.clock.now().getTime() - 200_000 })).status, 200);
  });

  it("is the only write outside the Origin and JSON guards", async () => {
    const foreign = await postEvent(server, event("evt_foreign_origin", now()), { headers: { origin: "https://evil.example", "content-type": "text/plain" } });
    assert.equal(foreign.status, 200, "Stripe sends no Origin we know; the signature is the check");
    const elsewhere = await fetch(`${server.url}/api/webhooks/stripe-other`, { method: "POST", headers: { origin: "https://evil.example", "content-type": "application/json" }, body: "{}" });
    assert.equal(elsewhere.status, 403);
    const form = await fetch(`${server.url}/api/create-checkout-session`, { method: "POST", headers: { "content-type": "text/plain" }, body: "x" });
    assert.equal(form.status, 415);
    const get = await fetch(`${server.url}/api/webhooks/stripe`);
    assert.equal(get.status, 404);
  });

  it("the same event delivered twice changes nothing the second time", async () => {
    const bought = await buyPlan(server, "starter", "twice");
    const [completed] = (await events(server, "checkout.session.completed")).filter((d) => d.objectId === bought.sessionId);
    const again = await server.client().post(`/sandbox/_control/stripe/events/${completed!.id}/deliver`, {});
    assert.equal(again.body.lastStatus, 200);
    assert.equal(again.body.attempts, 2);
    assert.equal(await count(server, "select 1 from quota_history where user_id = $1 and reason like 'plan_granted:%'", [bought.user.id]), 1);
    assert.equal(await recorded(completed!.id), 1);
  });

  it("events delivered in reverse order are all applied once", async () => {
    await setWebhooks(server, { hold: true });
    try {
      const { client, user } = await signedUpClient(server, "reverse");
      const started = await startCheckout(client, SANDBOX_PRICES.growth);
      await submitCheckout(client, started.body.url, "pay");
      const flushed = (await server.client().post("/sandbox/_control/stripe/webhooks/flush", { order: "reverse" })).body;
      assert.deepEqual(
        flushed.map((d: { type: string }) => d.type),
        ["checkout.session.completed", "invoice.paid", "customer.subscription.created"],
      );
      assert.ok(flushed.every((d: { delivered: boolean }) => d.delivered));
      const row = await one(server, "select subscription_plan, subscription_active, remaining_posts from users where id = $1", [user.id]);
      assert.deepEqual(row, { subscription_plan: "growth", subscription_active: true, remaining_posts: 27 });
      // Delivered once more, each in turn: still one grant and no new cycle.
      for (const d of flushed) await server.client().post(`/sandbox/_control/stripe/events/${d.id}/deliver`, {});
      assert.equal(await count(server, "select 1 from quota_history where user_id = $1", [user.id]), 1);
    } finally {
      await setWebhooks(server, { hold: false });
    }
  });

  it("a subscription deleted at Stripe before its checkout event arrives is not granted by it", async () => {
    await setWebhooks(server, { hold: true });
    try {
      const { client, user } = await signedUpClient(server, "ended");
      const started = await startCheckout(client, SANDBOX_PRICES.starter);
      await submitCheckout(client, started.body.url, "pay");
      const session = (await server.client().get(`/sandbox/_control/stripe/events?type=checkout.session.completed&full=true`)).body.find(
        (d: { objectId: string }) => d.objectId === started.body.sessionId,
      );
      const subscriptionId = JSON.parse(session.payload).data.object.subscription;
      await server.client().post(`/sandbox/_control/stripe/subscriptions/${subscriptionId}/fail-payment`, { final: true });
      const flushed = (await server.client().post("/sandbox/_control/stripe/webhooks/flush", { order: "reverse" })).body;
      assert.equal(flushed[0].type, "customer.subscription.deleted");
      assert.ok(flushed.every((d: { delivered: boolean }) => d.delivered));
      const row = await one(server, "select subscription_active, subscription_plan from users where id = $1", [user.id]);
      assert.deepEqual(row, { subscription_active: false, subscription_plan: null });
      const back = await client.get(`/api/payment-success?session_id=${started.body.sessionId}`);
      assert.equal(back.headers.get("location"), "/subscription?payment=ended");
      assert.equal(await count(server, "select 1 from quota_history where user_id = $1", [user.id]), 0);
    } finally {
      await setWebhooks(server, { hold: false });
    }
  });

  it("a delivery our server did not accept is retried until it is", async () => {
    await setWebhooks(server, { url: `${server.url}/api/webhooks/stripe-missing`, retryDelaysMs: [50] });
    try {
      const { client, user } = await signedUpClient(server, "retry");
      const started = await startCheckout(client, SANDBOX_PRICES.starter);
      await submitCheckout(client, started.body.url, "pay");
      const failing = await until("a failed attempt", async () => (await events(server, "checkout.session.completed")).find((d) => d.objectId === started.body.sessionId && d.attempts >= 2));
      assert.equal(failing.delivered, false);
      assert.equal(failing.lastStatus, 404);
      assert.equal((await one(server, "select subscription_active from users where id = $1", [user.id])).subscription_active, false);
      await setWebhooks(server, { url: `${server.url}/api/webhooks/stripe` });
      await until("the retry delivered", async () => (await events(server, "checkout.session.completed")).find((d) => d.objectId === started.body.sessionId && d.delivered));
      assert.equal((await one(server, "select subscription_plan, subscription_active from users where id = $1", [user.id])).subscription_active, true);
    } finally {
      await setWebhooks(server, { url: `${server.url}/api/webhooks/stripe`, retryDelaysMs: [1_000, 5_000, 30_000, 120_000, 600_000] });
    }
  });
});
