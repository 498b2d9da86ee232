// The Stripe sandbox: Stripe's API (/stripe/v1/…), its hosted Checkout page
// (/stripe/checkout/:id), signed webhooks to the product, and a control API
// (/_control/stripe/…). State is in memory, like the rest of the sandbox.
import express, { type Router } from "express";
import type { SandboxState } from "../state.ts";
import { stripeApiRoutes } from "./api.ts";
import { stripeControlRoutes } from "./control.ts";
import { checkoutPageRoutes } from "./page.ts";
import { StripeState } from "./state.ts";

export { StripeState } from "./state.ts";
export { signatureHeader } from "./webhooks.ts";

/** The secret the sandbox signs with when the product names none (same default as config's sandbox mode). */
export const SANDBOX_WEBHOOK_SECRET = "whsec_sandbox_agencyiq";

export interface StripeSandboxOptions {
  webhookSecret?: string;
}

export function stripeSandbox(s: SandboxState, options: StripeSandboxOptions): { router: Router; stripe: StripeState } {
  // Events go to the product's PUBLIC_URL as the sandbox knows it now (PUT /_control/app may change it),
  // unless a test points them elsewhere (PUT /_control/stripe/settings { url }).
  let urlOverride: string | undefined;
  const stripe = new StripeState(() => s.now(), {
    get url() {
      return urlOverride ?? `${s.appUrl.replace(/\/$/, "")}/api/webhooks/stripe`;
    },
    set url(url: string) {
      urlOverride = url;
    },
    secret: options.webhookSecret ?? SANDBOX_WEBHOOK_SECRET,
    hold: false,
    // Stripe retries for days with growing gaps; the sandbox's are short so a demo sees the retry.
    retryDelaysMs: [1_000, 5_000, 30_000, 120_000, 600_000],
    maxAttempts: 8,
  });
  const router = express.Router();
  router.use(stripeApiRoutes(s, stripe));
  router.use(checkoutPageRoutes(s, stripe));
  router.use(stripeControlRoutes(stripe));
  return { router, stripe };
}
