// Webhook delivery as Stripe does it: a JSON event POSTed to the endpoint with
// `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload" keyed
// with the endpoint secret>`, signed afresh on every attempt; anything but a
// 2xx answer is retried later with growing delays. Deliveries can be held
// (and released in any order) to imitate Stripe's lack of ordering.
import { createHmac } from "node:crypto";

export interface Delivery {
  event: { id: string; type: string; created: number; data: { object: { id?: string } } };
  /** The exact bytes sent (Stripe signs the raw payload). */
  payload: string;
  attempts: number;
  delivered: boolean;
  lastStatus: number | null;
  lastError: string | null;
  timer?: NodeJS.Timeout;
}

export interface WebhookSettings {
  url: string;
  secret: string;
  /** Hold new events until released (flush or one by one). */
  hold: boolean;
  /** Waits before each retry; the last repeats until maxAttempts. */
  retryDelaysMs: number[];
  maxAttempts: number;
}

export function signatureHeader(payload: string, secret: string, timestampSec: number): string {
  const v1 = createHmac("sha256", secret).update(`${timestampSec}.${payload}`).digest("hex");
  return `t=${timestampSec},v1=${v1}`;
}

export class WebhookSender {
  readonly deliveries: Delivery[] = [];

  constructor(
    readonly settings: WebhookSettings,
    private readonly nowSec: () => number,
  ) {}

  /** Queues an event; sends it at once unless deliveries are held. Resolves after the first attempt. */
  async emit(event: Delivery["event"]): Promise<Delivery> {
    const d: Delivery = { event, payload: JSON.stringify(event, null, 2), attempts: 0, delivered: false, lastStatus: null, lastError: null };
    this.deliveries.push(d);
    if (!this.settings.hold) await this.attempt(d);
    return d;
  }

  /** One attempt now (also for an event already delivered: Stripe may send an event more than once). */
  async attempt(d: Delivery): Promise<Delivery> {
    if (d.timer) clearTimeout(d.timer);
    d.timer = undefined;
    d.attempts += 1;
    try {
      const res = await fetch(this.settings.url, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "stripe-signature": signatureHeader(d.payload, this.settings.secret, this.nowSec()),
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
        body: d.payload,
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      d.lastStatus = res.status;
      d.lastError = null;
      if (res.ok) d.delivered = true;
    } catch (err) {
      d.lastStatus = null;
      d.lastError = String((err as Error).message ?? err);
    }
    if (!d.delivered) this.scheduleRetry(d);
    return d;
  }

  /** Sends every undelivered event now, in the order given (default: emission order). */
  async flush(order: "emitted" | "reverse" = "emitted"): Promise<Delivery[]> {
    const pending = this.deliveries.filter((d) => !d.delivered);
    if (order === "reverse") pending.reverse();
    for (const d of pending) await this.attempt(d);
    return pending;
  }

  find(eventId: string): Delivery | undefined {
    return this.deliveries.find((d) => d.event.id === eventId);
  }

  stop(): void {
    for (const d of this.deliveries) if (d.timer) clearTimeout(d.timer);
  }

  private scheduleRetry(d: Delivery): void {
    if (this.settings.hold || d.attempts >= this.settings.maxAttempts) return;
    const delays = this.settings.retryDelaysMs;
    const wait = delays[Math.min(d.attempts - 1, delays.length - 1)] ?? 60_000;
    d.timer = setTimeout(() => void this.attempt(d), wait);
    d.timer.unref();
  }
}
