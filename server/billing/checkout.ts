// Buying a plan: a Stripe Checkout Session in subscription mode, and applying
// a paid session — from the checkout.session.completed webhook or from the
// success redirect, whichever comes first; the other changes nothing.
import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import { type PlanName, type User } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { rowsOf, type DbOrTx } from "../db/index.ts";
import { badRequest, conflict } from "../http/errors.ts";
import { grantPlan } from "../quota/grant.ts";
import { isPlanName, quotaFor } from "../quota/plans.ts";
import { planForPrice } from "./prices.ts";
import { providerError, stripeFor } from "./stripe-client.ts";

export async function createCheckoutSession(deps: Deps, user: User, priceId: string): Promise<{ url: string; sessionId: string }> {
  const stripe = stripeFor(deps.config);
  const plan = planForPrice(deps.config, priceId);
  if (!plan) {
    throw badRequest("unknown_price", "Unknown price: choose one of the plans offered", [{ path: "priceId", message: "is not a price of any plan" }]);
  }
  // A second subscription would bill twice; plan changes go through Stripe's subscription update.
  if (user.subscriptionActive && user.stripeSubscriptionId) {
    throw conflict("already_subscribed", "You already have a paid subscription; cancel it before buying another plan");
  }
  const base = deps.config.publicUrl;
  let session: Stripe.Checkout.Session;
  try {
    session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: priceId, quantity: 1 }],
      success_url: `${base}/api/payment-success?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${base}/subscription`,
      client_reference_id: String(user.id),
      ...(user.stripeCustomerId ? { customer: user.stripeCustomerId } : { customer_email: user.email }),
      metadata: { userId: String(user.id), plan },
      subscription_data: { metadata: { userId: String(user.id), plan } },
    });
  } catch (err) {
    deps.log.warn({ userId: user.id, stripeError: stripeErrorType(err) }, "Checkout session not created");
    throw providerError(err, "Could not start the payment");
  }
  if (!session.url) throw providerError(new Error("no url"), "Could not start the payment");
  deps.log.info({ userId: user.id, plan, sessionId: session.id }, "Checkout session created");
  return { url: session.url, sessionId: session.id };
}

export async function retrieveCheckoutSession(deps: Deps, sessionId: string): Promise<Stripe.Checkout.Session> {
  try {
    return await stripeFor(deps.config).checkout.sessions.retrieve(sessionId);
  } catch (err) {
    throw providerError(err, "Could not confirm the payment");
  }
}

export type CheckoutOutcome = "applied" | "already_applied" | "not_paid" | "not_ours" | "ended";

const idOf = (v: string | { id: string } | null | undefined) => (typeof v === "string" ? v : (v?.id ?? null));

/**
 * Whether the paid session's subscription has ended at Stripe already: its
 * deletion may be delivered before the checkout event, and must not be undone
 * by it. Read from Stripe (outside any transaction) before applying.
 */
export async function checkoutEnded(deps: Deps, session: Stripe.Checkout.Session): Promise<boolean> {
  const subscriptionId = idOf(session.subscription);
  if (!subscriptionId || session.payment_status !== "paid") return false;
  try {
    const sub = await stripeFor(deps.config).subscriptions.retrieve(subscriptionId);
    return sub.status === "canceled" || sub.status === "incomplete_expired";
  } catch (err) {
    throw providerError(err, "Could not confirm the subscription");
  }
}

/**
 * Grants the session's plan once: the stripe_checkouts row is the guard, the
 * grant and the user's Stripe ids go in the same transaction (the caller's).
 * `ended`: checkoutEnded's answer.
 */
export async function applyCheckoutSession(deps: Deps, tx: DbOrTx, session: Stripe.Checkout.Session, ended: boolean): Promise<CheckoutOutcome> {
  if (session.mode !== "subscription" || session.status !== "complete" || session.payment_status !== "paid") return "not_paid";
  if (ended) {
    deps.log.info({ sessionId: session.id }, "Checkout for a subscription already ended at Stripe: no plan");
    return "ended";
  }
  const userId = Number(session.client_reference_id ?? session.metadata?.userId);
  const plan = session.metadata?.plan;
  if (!Number.isSafeInteger(userId) || userId <= 0 || !isPlanName(plan)) {
    deps.log.warn({ sessionId: session.id }, "Checkout session without our user or plan: ignored");
    return "not_ours";
  }
  const now = deps.clock.now();
  const subscriptionId = idOf(session.subscription);
  const [claimed] = rowsOf<{ session_id: string }>(
    await tx.execute(sql`
      insert into stripe_checkouts (session_id, user_id, plan, subscription_id, applied_at)
      select ${session.id}, id, ${plan}::subscription_plan, ${subscriptionId}, ${now.toISOString()}::timestamptz from users where id = ${userId}
      on conflict (session_id) do nothing
      returning session_id`),
  );
  if (!claimed) return "already_applied";
  await grantPlan(tx, { userId, plan: plan as PlanName, source: "stripe", now, quotaFor: quotaFor(deps.config) });
  await tx.execute(sql`
    update users set stripe_customer_id = coalesce(${idOf(session.customer)}, stripe_customer_id),
      stripe_subscription_id = ${subscriptionId}
    where id = ${userId}`);
  deps.log.info({ userId, plan, sessionId: session.id }, "Plan bought");
  return "applied";
}

/** Stripe's error type only: its messages may quote request parameters. */
export function stripeErrorType(err: unknown): string {
  return String((err as { type?: string })?.type ?? (err as Error)?.name ?? "Error");
}
