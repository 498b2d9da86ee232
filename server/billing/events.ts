// Stripe webhook events, each applied at most once: the event id goes into
// stripe_events in the same transaction as its effect, so a replay, a retry
// or the same event delivered to two processes at once changes nothing the
// second time (the second insert waits for the first and then conflicts).
// Out of order: every handler reads what is current (the subscription from
// Stripe, the user's state under lock) instead of trusting that events come
// in sequence, and renewals carry their own period.
import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { PlanName } from "../../shared/schema.ts";
import { findUserById } from "../auth/queries.ts";
import type { Deps } from "../deps.ts";
import { rowsOf, type DbOrTx } from "../db/index.ts";
import { cancelSubscription } from "../onboarding/account.ts";
import { cycleLengthMs } from "../quota/cycle.ts";
import { grantPlan } from "../quota/grant.ts";
import { quotaFor } from "../quota/plans.ts";
import { openPaidCycle } from "../quota/renew.ts";
import { applyCheckoutSession, checkoutEnded } from "./checkout.ts";
import { tellPaymentFailed } from "./notices.ts";
import { planForPrice, planRank } from "./prices.ts";
import { providerError, stripeFor } from "./stripe-client.ts";

export type EventOutcome = "processed" | "duplicate";

/** Applies one verified event. Throws (→ 500, Stripe retries) when its effect could not be made. */
export async function processEvent(deps: Deps, event: Stripe.Event): Promise<EventOutcome> {
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded": {
      if (await seen(deps, event.id)) return "duplicate";
      const ended = await checkoutEnded(deps, event.data.object);
      return once(deps, event, (tx) => applyCheckoutSession(deps, tx, event.data.object, ended));
    }
    case "invoice.paid":
      return once(deps, event, (tx) => renew(deps, tx, event.data.object));
    case "invoice.payment_failed":
      return paymentFailed(deps, event);
    case "customer.subscription.deleted":
      return subscriptionEnded(deps, event);
    case "customer.subscription.updated":
      return subscriptionChanged(deps, event);
    default:
      return once(deps, event, async () => undefined);
  }
}

/** Records the event and applies its effect in one transaction; a recorded event is skipped. */
async function once(deps: Deps, event: Stripe.Event, apply: (tx: DbOrTx) => Promise<unknown>): Promise<EventOutcome> {
  return deps.db.transaction(async (tx) => {
    const [claimed] = rowsOf<{ id: string }>(
      await tx.execute(sql`
        insert into stripe_events (id, type, stripe_created_at, processed_at)
        values (${event.id}, ${event.type}, to_timestamp(${event.created}), ${deps.clock.now().toISOString()}::timestamptz)
        on conflict (id) do nothing
        returning id`),
    );
    if (!claimed) return "duplicate" as const;
    await apply(tx);
    return "processed" as const;
  });
}

/**
 * Stripe retries a webhook for up to 3 days and keeps events for 30; an id
 * older than that cannot arrive again, so its row only costs space. Kept for
 * 35 days (the prune-stripe-events job).
 */
export const STRIPE_EVENT_RETENTION_MS = 35 * 24 * 3600_000;

export async function pruneStripeEvents(db: DbOrTx, now: Date): Promise<void> {
  await db.execute(sql`delete from stripe_events where processed_at < ${new Date(now.getTime() - STRIPE_EVENT_RETENTION_MS).toISOString()}::timestamptz`);
}

async function seen(deps: Deps, eventId: string): Promise<boolean> {
  return rowsOf(await deps.db.execute(sql`select 1 from stripe_events where id = ${eventId}`)).length > 0;
}

const idOf = (v: string | { id: string } | null | undefined) => (typeof v === "string" ? v : (v?.id ?? null));

function subscriptionOfInvoice(invoice: Stripe.Invoice): string | null {
  return idOf(invoice.parent?.subscription_details?.subscription);
}

interface Subscriber {
  id: number;
  subscription_active: boolean;
  subscription_plan: PlanName | null;
  subscription_source: string | null;
}

async function subscriberOf(db: DbOrTx, subscriptionId: string | null, lock = false): Promise<Subscriber | undefined> {
  if (!subscriptionId) return undefined;
  const [row] = rowsOf<Subscriber>(
    await db.execute(sql`
      select id, subscription_active, subscription_plan, subscription_source from users where stripe_subscription_id = ${subscriptionId}
      ${lock ? sql`for update` : sql``}`),
  );
  return row;
}

/** invoice.paid for a new billing period: the next cycle, with the plan paid for. The first invoice is the checkout's. */
async function renew(deps: Deps, tx: DbOrTx, invoice: Stripe.Invoice): Promise<void> {
  if (invoice.billing_reason !== "subscription_cycle") return;
  const user = await subscriberOf(tx, subscriptionOfInvoice(invoice));
  if (!user) {
    deps.log.warn({ invoiceId: invoice.id }, "Renewal for a subscription we do not know: ignored");
    return;
  }
  const line = invoice.lines.data.find((l) => planForPrice(deps.config, l.pricing?.price_details?.price as string | undefined));
  const plan = planForPrice(deps.config, line?.pricing?.price_details?.price as string | undefined) ?? user.subscription_plan;
  if (!line || !plan) {
    deps.log.warn({ invoiceId: invoice.id, userId: user.id }, "Renewal without a known price: ignored");
    return;
  }
  const outcome = await openPaidCycle(tx, {
    userId: user.id,
    plan,
    periodStart: new Date(line.period.start * 1000),
    now: deps.clock.now(),
    quotaFor: quotaFor(deps.config),
    cycleLengthMs: cycleLengthMs(deps.config),
  });
  deps.log.info({ userId: user.id, invoiceId: invoice.id, plan, outcome }, "Subscription renewed");
}

/**
 * invoice.payment_failed: the user hears once per invoice (Stripe retries the
 * charge and sends the event again each time). The e-mail goes first and the
 * event is recorded after it, so a send that failed is retried by Stripe's redelivery.
 */
async function paymentFailed(deps: Deps, event: Stripe.InvoicePaymentFailedEvent): Promise<EventOutcome> {
  if (await seen(deps, event.id)) return "duplicate";
  const user = await subscriberOf(deps.db, subscriptionOfInvoice(event.data.object));
  if (user && (await tellPaymentFailed(deps, user.id, event.data.object)) === "failed") {
    throw new Error("payment-failed e-mail not sent");
  }
  return once(deps, event, async () => undefined);
}

/**
 * customer.subscription.deleted (cancelled at Stripe, or Stripe's retries of a
 * failed payment ended): the subscription ends the way a cancellation does.
 * cancelSubscription runs its own transaction and is harmless to repeat, so it
 * runs first and the event is recorded after it.
 */
async function subscriptionEnded(deps: Deps, event: Stripe.CustomerSubscriptionDeletedEvent): Promise<EventOutcome> {
  if (await seen(deps, event.id)) return "duplicate";
  const sub = event.data.object;
  const user = await subscriberOf(deps.db, sub.id);
  // A plan from elsewhere since (a gift certificate) is not Stripe's to end.
  if (user?.subscription_active && user.subscription_source === "stripe") {
    const account = await findUserById(deps.db, user.id);
    if (account) {
      const summary = await cancelSubscription(deps, account);
      deps.log.info({ userId: user.id, subscriptionId: sub.id, ...summary }, "Subscription ended at Stripe");
    }
  }
  return once(deps, event, async () => undefined);
}

/**
 * customer.subscription.updated: a plan change. The subscription is read back
 * from Stripe, so an old event delivered late applies today's state. An
 * upgrade applies now (grantPlan); a downgrade waits for the next renewal,
 * whose invoice carries the new price.
 */
async function subscriptionChanged(deps: Deps, event: Stripe.CustomerSubscriptionUpdatedEvent): Promise<EventOutcome> {
  if (await seen(deps, event.id)) return "duplicate";
  let sub: Stripe.Subscription;
  try {
    sub = await stripeFor(deps.config).subscriptions.retrieve(event.data.object.id);
  } catch (err) {
    throw providerError(err, "Could not read the subscription");
  }
  const plan = planForPrice(deps.config, sub.items.data[0]?.price?.id);
  return once(deps, event, async (tx) => {
    if (!plan || sub.status !== "active") return;
    // Ledger first, then the user: grantPlan's lock order.
    await tx.execute(sql`select 1 from post_ledger l join users u on u.id = l.user_id where u.stripe_subscription_id = ${sub.id} for update of l`);
    const user = await subscriberOf(tx, sub.id, true);
    if (!user?.subscription_active || planRank(plan) <= planRank(user.subscription_plan)) return;
    await grantPlan(tx, { userId: user.id, plan, source: "stripe", now: deps.clock.now(), quotaFor: quotaFor(deps.config) });
    deps.log.info({ userId: user.id, plan }, "Plan upgraded");
  });
}
