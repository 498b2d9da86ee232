// The Stripe sandbox's control API under /_control/stripe (JSON): the end of a
// billing period (renewal), a declined renewal charge (and the end of
// Stripe's retries), a plan change made at Stripe, and the webhook deliveries —
// listed, held, released in any order, sent again.
import express, { type Response, type Router } from "express";
import { parse } from "../control.ts";
import { z } from "zod";
import { API_VERSION, type Subscription } from "./objects.ts";
import type { StripeState } from "./state.ts";
import type { Delivery } from "./webhooks.ts";

const settingsBody = z.strictObject({
  hold: z.boolean().optional(),
  url: z.url().optional(),
  retryDelaysMs: z.array(z.number().int().min(0).max(3_600_000)).min(1).optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
});
const failBody = z.strictObject({ final: z.boolean().default(false) });
const priceBody = z.strictObject({ price: z.string().regex(/^price_\w+$/) });
const flushBody = z.strictObject({ order: z.enum(["emitted", "reverse"]).default("emitted") });

const view = (d: Delivery, full = false) => ({
  id: d.event.id,
  type: d.event.type,
  objectId: d.event.data.object.id ?? null,
  attempts: d.attempts,
  delivered: d.delivered,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  ...(full ? { payload: d.payload } : {}),
});

export function stripeControlRoutes(stripe: StripeState): Router {
  const r = express.Router();
  const notFound = (res: Response, what: string) => void res.status(404).json({ error: { code: "not_found", message: `No such ${what}` }, message: `No such ${what}` });

  r.get("/_control/stripe/settings", (_req, res) => {
    const { secret: _secret, ...rest } = stripe.webhooks.settings;
    res.json({ ...rest, apiVersion: API_VERSION });
  });
  r.put("/_control/stripe/settings", (req, res) => {
    const b = parse(settingsBody, req, res);
    if (!b) return;
    Object.assign(stripe.webhooks.settings, Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)));
    const { secret: _secret, ...rest } = stripe.webhooks.settings;
    res.json(rest);
  });

  r.get("/_control/stripe/events", (req, res) => {
    const type = typeof req.query.type === "string" ? req.query.type : undefined;
    res.json(stripe.webhooks.deliveries.filter((d) => !type || d.event.type === type).map((d) => view(d, req.query.full === "true")));
  });
  // Send one event (again) now: Stripe may deliver an event twice, and in any order.
  r.post("/_control/stripe/events/:id/deliver", async (req, res) => {
    const d = stripe.webhooks.find(String(req.params.id));
    if (!d) return notFound(res, "event");
    res.json(view(await stripe.webhooks.attempt(d)));
  });
  r.post("/_control/stripe/webhooks/flush", async (req, res) => {
    const b = parse(flushBody, req, res);
    if (!b) return;
    res.json((await stripe.webhooks.flush(b.order)).map((d) => view(d)));
  });

  r.get("/_control/stripe/subscriptions/:id", (req, res) => {
    const sub = stripe.subscriptions.get(String(req.params.id));
    if (!sub) return notFound(res, "subscription");
    res.json(sub);
  });
  /** Runs a change on one subscription and answers it with the events the change sent. */
  function onSubscription<T>(path: string, schema: z.ZodType<T>, change: (sub: Subscription, body: T) => Promise<void>) {
    r.post(`/_control/stripe/subscriptions/:id/${path}`, async (req, res) => {
      const body = parse(schema, req, res);
      if (!body) return;
      const sub = stripe.subscriptions.get(String(req.params.id));
      if (!sub) return notFound(res, "subscription");
      const before = stripe.webhooks.deliveries.length;
      await change(sub, body);
      res.json({ subscription: sub, events: stripe.webhooks.deliveries.slice(before).map((d) => view(d)) });
    });
  }
  // The period ends: a renewal paid (invoice.paid), or the end of a subscription set to cancel at period end.
  onSubscription("renew", z.object({}), (sub) => stripe.renew(sub));
  onSubscription("fail-payment", failBody, (sub, b) => stripe.failPayment(sub, b.final));
  onSubscription("price", priceBody, (sub, b) => stripe.update(sub, { price: b.price }));
  return r;
}
