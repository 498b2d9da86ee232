// Cancelling in the product also cancels the payment: Stripe is asked to end
// the subscription at the end of the period already paid (no further charge),
// before anything changes here, so a user is never told "cancelled" while
// Stripe keeps billing. Stripe's customer.subscription.deleted at the period's
// end then finds the subscription already ended.
import type { User } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { stripeErrorType } from "./checkout.ts";
import { providerError, stripeFor } from "./stripe-client.ts";

export type StripeCancellation = "none" | "at_period_end" | "already_gone";

export async function cancelPaymentAtPeriodEnd(deps: Deps, user: User): Promise<StripeCancellation> {
  // Nothing to stop: no paid subscription, or one already cancelled here (Stripe was told then).
  if (!user.stripeSubscriptionId || !user.subscriptionActive || deps.config.billing.mode === "disabled") return "none";
  const stripe = stripeFor(deps.config);
  try {
    await stripe.subscriptions.update(user.stripeSubscriptionId, { cancel_at_period_end: true });
    return "at_period_end";
  } catch (err) {
    const e = err as { statusCode?: number };
    if (e?.statusCode === 404) return "already_gone";
    // Stripe refuses to update a subscription that has ended: then there is nothing left to stop.
    if (e?.statusCode === 400) {
      const sub = await stripe.subscriptions.retrieve(user.stripeSubscriptionId).catch(() => undefined);
      if (sub?.status === "canceled") return "already_gone";
    }
    deps.log.warn({ userId: user.id, stripeError: stripeErrorType(err) }, "Stripe cancellation failed; nothing cancelled");
    throw providerError(err, "Could not cancel the payment at Stripe, nothing was changed");
  }
}
