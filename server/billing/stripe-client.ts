// The one Stripe client of a configuration: the official `stripe` package with
// a pinned API version, talking to Stripe itself when STRIPE_SECRET_KEY is set
// and to the platform sandbox's imitation otherwise. The package only lets us
// choose host, port and protocol (its paths always start at /v1/), so for the
// sandbox a thin wrapper of its own Node HTTP client puts the sandbox's path
// (…/sandbox/stripe) in front of every request path.
import type Stripe from "stripe";
import type { Config } from "../config.ts";
import { HttpError } from "../http/errors.ts";
import { stripePackage } from "../lazy-packages.ts";

/** Pinned: webhook payloads and API answers have the shape of this version whatever the account's default. */
export const STRIPE_API_VERSION = "2026-10-28.endive" as const;

const clients = new WeakMap<Config["billing"], Stripe>();

/** The client for this configuration, or a 503 naming what to set when payments are not configured. */
export function stripeFor(config: Pick<Config, "billing">): Stripe {
  const billing = config.billing;
  if (billing.mode === "disabled") throw paymentsDisabled();
  let client = clients.get(billing);
  if (!client) {
    client = billing.mode === "stripe" ? new (stripePackage())(billing.secretKey, options()) : sandboxClient(billing.secretKey, billing.sandboxApiUrl);
    clients.set(billing, client);
  }
  return client;
}

export function paymentsDisabled(): HttpError {
  return new HttpError(503, "payments_unavailable", "Payments are not configured: set STRIPE_SECRET_KEY (or run the platform sandbox)");
}

function options(): Stripe.StripeConfig {
  return { apiVersion: STRIPE_API_VERSION, maxNetworkRetries: 2, timeout: 20_000, telemetry: false, appInfo: { name: "AgencyIQ" } };
}

function sandboxClient(key: string, apiUrl: string): Stripe {
  const url = new URL(apiUrl);
  const protocol = url.protocol === "https:" ? "https" : "http";
  const StripeClient = stripePackage();
  const inner = StripeClient.createNodeHttpClient();
  const prefix = url.pathname.replace(/\/$/, "");
  const httpClient = Object.assign(Object.create(inner) as typeof inner, {
    makeRequest: (...args: Parameters<typeof inner.makeRequest>) => {
      args[2] = `${prefix}${args[2]}`;
      return inner.makeRequest(...args);
    },
  });
  return new StripeClient(key, { ...options(), host: url.hostname, port: url.port || (protocol === "https" ? 443 : 80), protocol, httpClient });
}

/** A Stripe API failure as our error envelope: what the caller can do, never Stripe's raw text. */
export function providerError(err: unknown, action: string): HttpError {
  const e = err as { type?: string; statusCode?: number };
  if (e?.type === "StripeInvalidRequestError" && e.statusCode === 404) {
    return new HttpError(404, "payment_not_found", `${action}: Stripe does not know this payment`);
  }
  return new HttpError(502, "payment_provider_error", `${action}: the payment provider did not answer; try again`);
}
