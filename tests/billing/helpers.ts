// Helpers for the payment tests: buy a plan through the sandbox's Stripe
// Checkout over HTTP, drive the sandbox's Stripe control API, sign events the
// way Stripe does, and wait for webhook deliveries by polling.
import assert from "node:assert/strict";
import { SANDBOX_PRICES, SANDBOX_STRIPE } from "../../server/config.ts";
import { signatureHeader } from "../../server/platforms/sandbox/stripe/index.ts";
import type { PlanName } from "../../shared/schema.ts";
import type { Client, Reply } from "../support/client.ts";
import { signedUpClient, type TestServer } from "../support/server.ts";

export { SANDBOX_PRICES };
export const WEBHOOK_SECRET = SANDBOX_STRIPE.webhookSecret;

export interface Delivery {
  id: string;
  type: string;
  objectId: string | null;
  attempts: number;
  delivered: boolean;
  lastStatus: number | null;
  payload?: string;
}

/** Polls until `probe` returns something truthy; fails with `what` after a generous deadline. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const control = (server: TestServer) => server.client();

export async function events(server: TestServer, type?: string, full = false): Promise<Delivery[]> {
  const q = new URLSearchParams({ ...(type ? { type } : {}), ...(full ? { full: "true" } : {}) });
  return (await control(server).get(`/sandbox/_control/stripe/events?${q}`)).body;
}

export async function setWebhooks(server: TestServer, settings: Record<string, unknown>): Promise<void> {
  const r = await control(server).put("/sandbox/_control/stripe/settings", settings);
  assert.equal(r.status, 200, r.text);
}

/** Every event of `type` the sandbox sent has been answered 2xx. */
export function delivered(server: TestServer, type: string, count = 1) {
  return until(`${count} ${type} delivered`, async () => {
    const list = (await events(server, type)).filter((d) => d.delivered);
    return list.length >= count ? list : undefined;
  });
}

export function startCheckout(client: Client, priceId: string): Promise<Reply> {
  return client.post("/api/create-checkout-session", { priceId });
}

/** Submits the sandbox checkout page's form like a browser (form-encoded, no script). */
export function submitCheckout(client: Client, url: string, action: "pay" | "decline" | "cancel"): Promise<Reply> {
  return client.request("POST", new URL(url).pathname, `card=4242&action=${action}`, { "content-type": "application/x-www-form-urlencoded" });
}

/** A new user buys `plan` with the pretend card; resolves once the checkout webhook was processed. */
export async function buyPlan(server: TestServer, plan: PlanName = "starter", tag = "buyer") {
  const signed = await signedUpClient(server, tag);
  const started = await startCheckout(signed.client, SANDBOX_PRICES[plan]);
  assert.equal(started.status, 200, started.text);
  const paid = await submitCheckout(signed.client, started.body.url, "pay");
  assert.equal(paid.status, 303, paid.text);
  await until("checkout webhook processed", async () => {
    const list = await events(server, "checkout.session.completed");
    return list.some((d) => d.objectId === started.body.sessionId && d.delivered);
  });
  const user = await one(server, "select stripe_subscription_id, stripe_customer_id from users where id = $1", [signed.user.id]);
  return { ...signed, sessionId: started.body.sessionId, successUrl: paid.headers.get("location")!, subscriptionId: user.stripe_subscription_id as string };
}

export async function one(server: TestServer, text: string, params: unknown[] = []) {
  return (await server.deps.database.pool.query(text, params)).rows[0];
}

export async function count(server: TestServer, text: string, params: unknown[] = []): Promise<number> {
  return (await server.deps.database.pool.query(text, params)).rows.length;
}

/** POSTs an event payload to the webhook, signed as Stripe signs (or as told). */
export function postEvent(server: TestServer, payload: string, o: { secret?: string; at?: number; signature?: string; headers?: Record<string, string> } = {}) {
  const t = Math.floor((o.at ?? server.clock.now().getTime()) / 1000);
  const signature = o.signature ?? signatureHeader(payload, o.secret ?? WEBHOOK_SECRET, t);
  return fetch(`${server.url}/api/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8", "stripe-signature": signature, ...o.headers },
    body: payload,
  }).then(async (r) => ({ status: r.status, body: await r.json() }));
}
