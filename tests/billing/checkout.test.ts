// Buying a plan through the sandbox's Stripe Checkout over HTTP: the session,
// the page's Pay / declined card / Cancel, the webhook and the success
// redirect each granting the plan at most once between them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { buyPlan, count, events, one, SANDBOX_PRICES, setWebhooks, startCheckout, submitCheckout, until } from "./helpers.ts";

describe("checkout", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  const grants = (userId: number) => count(server, "select 1 from quota_history where user_id = $1 and reason like 'plan_granted:%'", [userId]);

  it("refuses an unknown price, a bad body and an anonymous caller", async () => {
    const { client } = await signedUpClient(server, "price");
    const unknown = await startCheckout(client, "price_nothing");
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.code, "unknown_price");
    assert.equal(unknown.body.details[0].path, "priceId");
    const bad = await client.post("/api/create-checkout-session", { plan: "starter" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "invalid_request");
    const anonymous = await startCheckout(server.client(), SANDBOX_PRICES.starter);
    assert.equal(anonymous.status, 401);
  });

  it("the client's literal price ids buy their plans: page, Pay, webhook, success redirect", async () => {
    const bought = await buyPlan(server, "growth");
    const user = await one(server, "select subscription_plan, subscription_active, subscription_source, total_posts, stripe_customer_id from users where id = $1", [bought.user.id]);
    assert.deepEqual(
      { plan: user.subscription_plan, active: user.subscription_active, source: user.subscription_source, total: user.total_posts },
      { plan: "growth", active: true, source: "stripe", total: 27 },
    );
    assert.match(bought.subscriptionId, /^sub_/);
    assert.match(user.stripe_customer_id, /^cus_/);
    assert.equal((await one(server, "select quota, used_posts from post_ledger where user_id = $1", [bought.user.id])).quota, 27);

    // The browser arrives at success_url after the webhook: redirect, nothing granted twice.
    const success = new URL(bought.successUrl);
    assert.equal(success.pathname, "/api/payment-success");
    assert.equal(success.searchParams.get("session_id"), bought.sessionId);
    const back = await bought.client.get(success.pathname + success.search);
    assert.equal(back.status, 302);
    assert.equal(back.headers.get("location"), "/brand-purpose?payment=success&setup=required");
    assert.equal(await grants(bought.user.id), 1);
    const usage = await bought.client.get("/api/subscription-usage");
    assert.equal(usage.body.totalAllocation, 27);
  });

  it("the success redirect applies the plan when the webhook has not come yet; the webhook then changes nothing", async () => {
    await setWebhooks(server, { hold: true });
    try {
      const { client, user } = await signedUpClient(server, "early");
      const started = await startCheckout(client, SANDBOX_PRICES.professional);
      const page = await client.get(new URL(started.body.url).pathname);
      assert.equal(page.status, 200);
      assert.match(page.text, /\$99\.99 per month/);
      const paid = await submitCheckout(client, started.body.url, "pay");
      assert.equal(paid.status, 303);
      const back = await client.get(new URL(paid.headers.get("location")!).pathname + new URL(paid.headers.get("location")!).search);
      assert.equal(back.status, 302);
      assert.equal(back.headers.get("location"), "/brand-purpose?payment=success&setup=required");
      assert.equal((await one(server, "select subscription_plan from users where id = $1", [user.id])).subscription_plan, "professional");
      assert.equal(await grants(user.id), 1);

      await setWebhooks(server, { hold: false });
      const flushed = (await server.client().post("/sandbox/_control/stripe/webhooks/flush", {})).body;
      assert.ok(flushed.every((d: { delivered: boolean }) => d.delivered));
      assert.equal(await grants(user.id), 1);
      assert.equal(await count(server, "select 1 from stripe_checkouts where user_id = $1", [user.id]), 1);
    } finally {
      await setWebhooks(server, { hold: false });
    }
  });

  it("a declined card leaves the session open and grants nothing; Cancel returns to /subscription", async () => {
    const { client, user } = await signedUpClient(server, "declined");
    const before = (await events(server)).length;
    const started = await startCheckout(client, SANDBOX_PRICES.starter);
    const declined = await submitCheckout(client, started.body.url, "decline");
    assert.equal(declined.status, 402);
    assert.match(declined.text, /card was declined/);
    assert.equal((await events(server)).length, before, "no event for a declined card");
    const notPaid = await client.get(`/api/payment-success?session_id=${started.body.sessionId}`);
    assert.equal(notPaid.status, 302);
    assert.equal(notPaid.headers.get("location"), "/subscription?payment=incomplete");
    const row = await one(server, "select subscription_active, subscription_plan, stripe_subscription_id from users where id = $1", [user.id]);
    assert.deepEqual(row, { subscription_active: false, subscription_plan: null, stripe_subscription_id: null });

    const cancelled = await submitCheckout(client, started.body.url, "cancel");
    assert.equal(cancelled.status, 303);
    assert.equal(cancelled.headers.get("location"), `${server.url}/subscription`);
    // The same session can still be paid after a decline, like Stripe's page.
    assert.equal((await submitCheckout(client, started.body.url, "pay")).status, 303);
    await until("plan after retry", async () => (await one(server, "select subscription_active from users where id = $1", [user.id])).subscription_active);
  });

  it("an unknown or malformed session id on the success URL is a clear error", async () => {
    const unknown = await server.client().get("/api/payment-success?session_id=cs_test_nothing");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, "payment_not_found");
    const malformed = await server.client().get("/api/payment-success?session_id=<script>");
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, "invalid_request");
  });

  it("a paying subscriber cannot open a second subscription", async () => {
    const bought = await buyPlan(server, "starter", "twice");
    const again = await startCheckout(bought.client, SANDBOX_PRICES.growth);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, "already_subscribed");
  });
});
