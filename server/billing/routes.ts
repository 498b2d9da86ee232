// Payments over HTTP: checkout, the success redirect, and Stripe's webhook.
// The webhook router is mounted before the Origin and JSON-content-type guards
// (app.ts): Stripe posts JSON with no Origin, and its signature covers the raw
// bytes, which must reach constructEvent unparsed. It matches exactly
// POST /api/webhooks/stripe; every other request passes on to the guards.
import express, { Router } from "express";
import type Stripe from "stripe";
import { z } from "zod";
import { accountOf, requireUser } from "../auth/middleware.ts";
import type { Deps } from "../deps.ts";
import { badRequest, HttpError } from "../http/errors.ts";
import { parseBody, parseQuery } from "../http/validate.ts";
import { applyCheckoutSession, checkoutEnded, createCheckoutSession, retrieveCheckoutSession } from "./checkout.ts";
import { processEvent } from "./events.ts";
import { paymentsDisabled, stripeFor } from "./stripe-client.ts";
import type { ApiRoute } from "../http/openapi.ts";

const checkoutBody = z.strictObject({ priceId: z.string().trim().min(1, "is required").max(200) });
const successQuery = z.object({ session_id: z.string().regex(/^cs_[A-Za-z0-9_]{1,200}$/, "must be a Checkout Session id (cs_…)") });

/** Stripe's default: a signature older than five minutes is a replay. */
const SIGNATURE_TOLERANCE_SECONDS = 300;

export function billingRoutes(deps: Deps): Router {
  const r = Router();

  r.post("/api/create-checkout-session", requireUser(deps), async (req, res) => {
    const { priceId } = parseBody(checkoutBody, req);
    res.json(await createCheckoutSession(deps, accountOf(req), priceId));
  });

  // Stripe's success_url: confirm with Stripe and apply the plan unless the webhook already did.
  r.get("/api/payment-success", async (req, res) => {
    const { session_id } = parseQuery(successQuery, req);
    const session = await retrieveCheckoutSession(deps, session_id);
    const ended = await checkoutEnded(deps, session);
    const outcome = await deps.db.transaction((tx) => applyCheckoutSession(deps, tx, session, ended));
    if (outcome === "ended") return res.redirect(302, "/subscription?payment=ended");
    if (outcome === "not_paid" || outcome === "not_ours") return res.redirect(302, "/subscription?payment=incomplete");
    res.redirect(302, "/brand-purpose?payment=success&setup=required");
  });

  return r;
}

export function stripeWebhookRoutes(deps: Deps): Router {
  const r = Router();
  r.post("/api/webhooks/stripe", express.raw({ type: () => true, limit: "1mb" }), async (req, res) => {
    const secret = deps.config.billing.webhookSecret;
    if (deps.config.billing.mode === "disabled") throw paymentsDisabled();
    if (!secret) throw new HttpError(503, "webhooks_unconfigured", "Stripe webhooks are not configured: set STRIPE_WEBHOOK_SECRET");
    const signature = req.get("stripe-signature");
    if (!signature) throw badRequest("missing_signature", "Missing Stripe-Signature header");
    const payload = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let event: Stripe.Event;
    try {
      event = stripeFor(deps.config).webhooks.constructEvent(payload, signature, secret, SIGNATURE_TOLERANCE_SECONDS, undefined, deps.clock.now().getTime());
    } catch {
      deps.log.warn({ ip: req.ip }, "Stripe webhook refused: bad signature");
      throw badRequest("invalid_signature", "Webhook signature verification failed");
    }
    const outcome = await processEvent(deps, event);
    deps.log.info({ eventId: event.id, type: event.type, outcome }, "Stripe event");
    res.json({ received: true, duplicate: outcome === "duplicate" });
  });
  return r;
}

/** The contract of these routes (server/http/contract.ts). */
export const billingApi: ApiRoute[] = [
  {
    method: "post", path: "/api/create-checkout-session", tag: "billing", auth: "session", summary: "Start a Stripe Checkout for a configured price", body: checkoutBody, errors: [503],
    responses: { 200: { description: "Where to send the browser", schema: z.strictObject({ url: z.string(), sessionId: z.string() }) } },
  },
  {
    method: "get", path: "/api/payment-success", tag: "billing", summary: "Stripe's success redirect: confirms the session and applies the plan once", query: successQuery,
    responses: { 302: { description: "To /brand-purpose?payment=success&setup=required, or /subscription?payment=incomplete|ended" } },
  },
  {
    method: "post", path: "/api/webhooks/stripe", tag: "billing", summary: "Stripe's signed webhook (raw body; no Origin or JSON-type check)", errors: [400, 503],
    description: "Needs the Stripe-Signature header; each event id is applied once.",
    responses: { 200: { description: "Received", schema: z.strictObject({ received: z.literal(true), duplicate: z.boolean() }) } },
  },
];
