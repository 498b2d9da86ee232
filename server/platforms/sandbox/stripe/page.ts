// The hosted Checkout page: what the session sells, a pretend card, and three
// ways out — Pay (the subscription starts, the events go to the product's
// webhook, the browser returns to success_url), "Card declined" (the page says
// so and the session stays open, as Stripe's does) and Cancel (back to
// cancel_url). No script; the form posts to this page.
import express, { type Router } from "express";
import type { SandboxState } from "../state.ts";
import { escapeHtml, Fail, handle, params, type Reply } from "../kit.ts";
import type { Session } from "./objects.ts";
import type { StripeState } from "./state.ts";

function page(session: Session, notice?: string): Reply {
  const amount = (session.amount_total / 100).toFixed(2);
  const price = session._price;
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Stripe sandbox: checkout</title>
<style>body{font-family:system-ui,sans-serif;max-width:30rem;margin:3rem auto}button{font-size:1rem;margin:0 1rem 1rem 0}.notice{color:#b00}</style></head>
<body><p>Stripe (sandbox) — no real payment is made</p>
<h1>Subscribe: ${escapeHtml(price.product)}</h1>
<p id="amount">$${amount} per month</p>
<p>${escapeHtml(session.customer_email ?? "")}</p>
${notice ? `<p class="notice" id="notice" role="alert">${escapeHtml(notice)}</p>` : ""}
<form method="post">
<label>Card number <input name="card" value="4242 4242 4242 4242" autocomplete="off"></label>
<p><button type="submit" name="action" value="pay">Pay</button>
<button type="submit" name="action" value="decline">Pay with a card that is declined</button>
<button type="submit" name="action" value="cancel">Cancel</button></p>
</form></body></html>`;
  const targets = [session.success_url, session.cancel_url].filter((u): u is string => Boolean(u)).map((u) => new URL(u).origin);
  const csp = `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${[...new Set(targets)].join(" ")}; frame-ancestors 'none'`;
  return { html, headers: { "content-security-policy": csp, "cache-control": "no-store" } };
}

const gone = () => new Fail({ status: 404, html: "<!doctype html><title>Stripe sandbox: checkout</title><h1>This checkout session does not exist</h1>" });

export function checkoutPageRoutes(s: SandboxState, stripe: StripeState): Router {
  const r = express.Router();

  r.get(
    "/stripe/checkout/:id",
    handle(s, "stripe.checkout.page", (req) => {
      const session = stripe.sessions.get(String(req.params.id));
      if (!session) throw gone();
      if (session.status !== "open") return { redirect: session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id), status: 303 };
      return page(session);
    }),
  );

  r.post(
    "/stripe/checkout/:id",
    handle(s, "stripe.checkout.submit", (req) => {
      const session = stripe.sessions.get(String(req.params.id));
      if (!session) throw gone();
      const action = params(req).action;
      if (session.status !== "open") return { redirect: session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id), status: 303 };
      if (action === "cancel") return { redirect: session.cancel_url ?? "/", status: 303 };
      if (action === "decline") {
        session._declined += 1;
        return { ...page(session, "Your card was declined. Try another card."), status: 402 };
      }
      if (action !== "pay") return { ...page(session, "Choose Pay, the declined card or Cancel."), status: 400 };
      // The session completes now; the events reach the product's webhook on their own time.
      void stripe.pay(session);
      return { redirect: session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id), status: 303 };
    }),
  );
  return r;
}
