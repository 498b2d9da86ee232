// Stripe's objects as the sandbox keeps them, shaped like API version
// 2026-10-28 (the version the product pins): periods on subscription items,
// an invoice's subscription under parent.subscription_details, its price
// under lines.data[].pricing.price_details.
import { randomBytes } from "node:crypto";

export const API_VERSION = "2026-10-28.endive";

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString("base64url").replace(/[-_]/g, "")}`;
export const seconds = (ms: number) => Math.floor(ms / 1000);

/** One calendar month later (Stripe's monthly interval), the day clamped to the month's end. */
export function addMonth(sec: number): number {
  const d = new Date(sec * 1000);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return seconds(target.getTime());
}

/** Sandbox prices: any `price_…` id; the amount follows the plan its name ends with (the client's prices). */
export function priceObject(id: string) {
  const amount = /professional$/.test(id) ? 9999 : /growth$/.test(id) ? 4199 : 1999;
  return {
    id,
    object: "price",
    active: true,
    currency: "usd",
    unit_amount: amount,
    unit_amount_decimal: String(amount),
    product: `prod_${id.replace(/^price_/, "")}`,
    recurring: { interval: "month", interval_count: 1, usage_type: "licensed" },
    type: "recurring",
    livemode: false,
  };
}

export type Price = ReturnType<typeof priceObject>;

export interface Session {
  id: string;
  object: "checkout.session";
  mode: string;
  status: "open" | "complete" | "expired";
  payment_status: "unpaid" | "paid";
  url: string | null;
  success_url: string;
  cancel_url: string | null;
  client_reference_id: string | null;
  customer: string | null;
  customer_email: string | null;
  customer_details: { email: string | null } | null;
  subscription: string | null;
  invoice: string | null;
  metadata: Record<string, string>;
  amount_total: number;
  currency: string;
  created: number;
  expires_at: number;
  livemode: false;
  /** Sandbox only, never sent: what the page sells and what the subscription gets. */
  _price: Price;
  _subscriptionMetadata: Record<string, string>;
  _declined: number;
}

export interface Subscription {
  id: string;
  object: "subscription";
  customer: string;
  status: "active" | "past_due" | "canceled";
  cancel_at_period_end: boolean;
  canceled_at: number | null;
  ended_at: number | null;
  created: number;
  start_date: number;
  metadata: Record<string, string>;
  latest_invoice: string | null;
  items: {
    object: "list";
    data: Array<{ id: string; object: "subscription_item"; price: Price; quantity: number; current_period_start: number; current_period_end: number; subscription: string }>;
    has_more: false;
    url: string;
  };
  livemode: false;
}

export function invoiceObject(sub: Subscription, reason: string, paid: boolean, now: number) {
  const item = sub.items.data[0]!;
  const id = newId("in");
  return {
    id,
    object: "invoice",
    customer: sub.customer,
    status: paid ? "paid" : "open",
    billing_reason: reason,
    collection_method: "charge_automatically",
    currency: "usd",
    amount_due: item.price.unit_amount,
    amount_paid: paid ? item.price.unit_amount : 0,
    amount_remaining: paid ? 0 : item.price.unit_amount,
    attempt_count: 1,
    attempted: true,
    next_payment_attempt: paid ? null : now + 3 * 24 * 60 * 60,
    created: now,
    period_start: item.current_period_start,
    period_end: item.current_period_start,
    parent: { type: "subscription_details", quote_details: null, subscription_details: { subscription: sub.id, metadata: sub.metadata } },
    lines: {
      object: "list",
      has_more: false,
      url: `/v1/invoices/${id}/lines`,
      data: [
        {
          id: newId("il"),
          object: "line_item",
          amount: item.price.unit_amount,
          currency: "usd",
          description: `1 × ${item.price.product}`,
          invoice: id,
          quantity: 1,
          metadata: {},
          period: { start: item.current_period_start, end: item.current_period_end },
          pricing: { type: "price_details", price_details: { price: item.price.id, product: item.price.product }, unit_amount_decimal: String(item.price.unit_amount) },
          livemode: false,
        },
      ],
    },
    livemode: false,
  };
}

export type Invoice = ReturnType<typeof invoiceObject>;

/** What the API answers: the sandbox's own fields (`_…`) left out. */
export function publicView<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith("_"))) as T;
}
