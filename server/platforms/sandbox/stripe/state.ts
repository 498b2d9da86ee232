// The sandbox's Stripe account: Checkout Sessions, customers, subscriptions,
// invoices, and the events each change sends to the product's webhook.
import { API_VERSION, addMonth, invoiceObject, newId, priceObject, publicView, seconds, type Invoice, type Session, type Subscription } from "./objects.ts";
import { WebhookSender, type WebhookSettings } from "./webhooks.ts";

export class StripeState {
  readonly sessions = new Map<string, Session>();
  readonly subscriptions = new Map<string, Subscription>();
  readonly invoices = new Map<string, Invoice>();
  readonly customers = new Map<string, { id: string; object: "customer"; email: string | null; created: number }>();
  readonly webhooks: WebhookSender;

  constructor(
    private readonly nowMs: () => number,
    settings: WebhookSettings,
  ) {
    this.webhooks = new WebhookSender(settings, () => seconds(this.nowMs()));
  }

  now(): number {
    return seconds(this.nowMs());
  }

  createSession(p: {
    baseUrl: string;
    mode: string;
    price: string;
    successUrl: string;
    cancelUrl: string | null;
    clientReferenceId: string | null;
    customer: string | null;
    customerEmail: string | null;
    metadata: Record<string, string>;
    subscriptionMetadata: Record<string, string>;
  }): Session {
    const id = newId("cs_test");
    const price = priceObject(p.price);
    const session: Session = {
      id,
      object: "checkout.session",
      mode: p.mode,
      status: "open",
      payment_status: "unpaid",
      url: `${p.baseUrl}/stripe/checkout/${id}`,
      success_url: p.successUrl,
      cancel_url: p.cancelUrl,
      client_reference_id: p.clientReferenceId,
      customer: p.customer,
      customer_email: p.customerEmail,
      customer_details: null,
      subscription: null,
      invoice: null,
      metadata: p.metadata,
      amount_total: price.unit_amount,
      currency: "usd",
      created: this.now(),
      expires_at: this.now() + 24 * 60 * 60,
      livemode: false,
      _price: price,
      _subscriptionMetadata: p.subscriptionMetadata,
      _declined: 0,
    };
    this.sessions.set(id, session);
    return session;
  }

  /** The card was accepted: customer, subscription and first invoice, then the events Stripe sends. */
  async pay(session: Session): Promise<void> {
    const now = this.now();
    const customerId = session.customer ?? newId("cus");
    if (!this.customers.has(customerId)) this.customers.set(customerId, { id: customerId, object: "customer", email: session.customer_email, created: now });
    const subId = newId("sub");
    const sub: Subscription = {
      id: subId,
      object: "subscription",
      customer: customerId,
      status: "active",
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      created: now,
      start_date: now,
      metadata: session._subscriptionMetadata,
      latest_invoice: null,
      items: {
        object: "list",
        has_more: false,
        url: `/v1/subscription_items?subscription=${subId}`,
        data: [{ id: newId("si"), object: "subscription_item", price: session._price, quantity: 1, current_period_start: now, current_period_end: addMonth(now), subscription: subId }],
      },
      livemode: false,
    };
    this.subscriptions.set(subId, sub);
    const invoice = this.addInvoice(sub, "subscription_create", true);
    Object.assign(session, {
      status: "complete",
      payment_status: "paid",
      customer: customerId,
      subscription: subId,
      invoice: invoice.id,
      customer_details: { email: session.customer_email },
    });
    // Stripe's order is not guaranteed; this is a common one.
    await this.emit("customer.subscription.created", sub);
    await this.emit("invoice.paid", invoice);
    await this.emit("checkout.session.completed", session);
  }

  /** The end of the period: renew (invoice paid) — or end it when cancellation at period end was asked. */
  async renew(sub: Subscription): Promise<void> {
    if (sub.status === "canceled") return;
    if (sub.cancel_at_period_end) return this.end(sub);
    this.nextPeriod(sub);
    sub.status = "active";
    const invoice = this.addInvoice(sub, "subscription_cycle", true);
    await this.emit("invoice.paid", invoice);
  }

  /** The renewal's charge is declined; `final`: Stripe's retries are over and the subscription is cancelled. */
  async failPayment(sub: Subscription, final: boolean): Promise<void> {
    if (sub.status === "canceled") return;
    if (sub.status === "active") this.nextPeriod(sub);
    sub.status = "past_due";
    const invoice = this.addInvoice(sub, "subscription_cycle", false);
    await this.emit("invoice.payment_failed", invoice);
    if (final) await this.end(sub);
  }

  async update(sub: Subscription, p: { cancelAtPeriodEnd?: boolean; price?: string }): Promise<void> {
    const previous: Record<string, unknown> = {};
    if (p.cancelAtPeriodEnd !== undefined && p.cancelAtPeriodEnd !== sub.cancel_at_period_end) {
      previous.cancel_at_period_end = sub.cancel_at_period_end;
      sub.cancel_at_period_end = p.cancelAtPeriodEnd;
    }
    if (p.price && p.price !== sub.items.data[0]!.price.id) {
      previous.items = structuredClone(sub.items);
      sub.items.data[0]!.price = priceObject(p.price);
    }
    if (Object.keys(previous).length) await this.emit("customer.subscription.updated", sub, previous);
  }

  async end(sub: Subscription): Promise<void> {
    sub.status = "canceled";
    sub.canceled_at = sub.canceled_at ?? this.now();
    sub.ended_at = this.now();
    await this.emit("customer.subscription.deleted", sub);
  }

  private nextPeriod(sub: Subscription): void {
    const item = sub.items.data[0]!;
    item.current_period_start = item.current_period_end;
    item.current_period_end = addMonth(item.current_period_start);
  }

  private addInvoice(sub: Subscription, reason: string, paid: boolean): Invoice {
    const invoice = invoiceObject(sub, reason, paid, this.now());
    this.invoices.set(invoice.id, invoice);
    sub.latest_invoice = invoice.id;
    return invoice;
  }

  private async emit(type: string, object: { id: string }, previous?: Record<string, unknown>): Promise<void> {
    const data = { object: structuredClone(publicView(object)), ...(previous ? { previous_attributes: previous } : {}) };
    await this.webhooks.emit({
      id: newId("evt"),
      object: "event",
      api_version: API_VERSION,
      created: this.now(),
      type,
      data,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
    } as never);
  }
}
