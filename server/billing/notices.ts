// What the user is told about money: one e-mail per failed invoice, however
// many times Stripe retries the charge (and re-sends invoice.payment_failed).
import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Deps } from "../deps.ts";
import { rowsOf } from "../db/index.ts";
import { sendEmailOnce, type OnceOutcome } from "../notify/once.ts";

export const PAYMENT_FAILED_KIND = "payment_failed";

export async function tellPaymentFailed(deps: Deps, userId: number, invoice: Stripe.Invoice): Promise<OnceOutcome | "no_user"> {
  const [user] = rowsOf<{ email: string }>(await deps.db.execute(sql`select email from users where id = ${userId}`));
  if (!user || !invoice.id) return "no_user";
  const retry = invoice.next_payment_attempt ? ` We will try again on ${new Date(invoice.next_payment_attempt * 1000).toUTCString()}.` : "";
  return sendEmailOnce(deps, {
    userId,
    kind: PAYMENT_FAILED_KIND,
    dedupeKey: `invoice:${invoice.id}`,
    at: deps.clock.now(),
    failureNote: "Payment-failed e-mail not sent; Stripe's next delivery of the event retries it",
    message: {
      to: user.email,
      subject: "Your AgencyIQ payment did not go through",
      text:
        `We could not charge your card for your AgencyIQ subscription.${retry}\n\n` +
        `Please update your payment details to keep publishing: ${deps.config.publicUrl}/subscription\n`,
    },
  });
}
