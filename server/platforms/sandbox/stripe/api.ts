// Stripe's REST API, the part the product calls, at Stripe's paths under
// /stripe/v1: form-encoded requests with bracketed keys, a secret key as
// Bearer, Stripe's error body. Each route goes through the sandbox's fault
// control (endpoint names stripe.checkout.sessions.create, …).
import express, { type Request, type Router } from "express";
import type { SandboxState } from "../state.ts";
import { bearer, Fail, handle } from "../kit.ts";
import { publicView } from "./objects.ts";
import type { StripeState } from "./state.ts";

export const stripeFail = (status: number, type: string, message: string, extra: Record<string, string> = {}) =>
  new Fail({ status, json: { error: { type, message, ...extra } } });

const missing = (what: string, id: string, param = "id") =>
  stripeFail(404, "invalid_request_error", `No such ${what}: '${id}'`, { code: "resource_missing", param });

/** `a[b][0][c]=v` form keys (the sandbox's parser keeps them flat) into nested values. */
export function nested(body: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!body || typeof body !== "object") return out;
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const path = key.replace(/\]/g, "").split("[");
    let at: Record<string, unknown> = out;
    path.forEach((k, i) => {
      if (i === path.length - 1) at[k] = value;
      else at = (at[k] ??= {}) as Record<string, unknown>;
    });
  }
  return out;
}

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
const record = (v: unknown) =>
  Object.fromEntries(Object.entries((v && typeof v === "object" ? v : {}) as Record<string, unknown>).filter(([, x]) => typeof x === "string")) as Record<string, string>;

function authorize(req: Request): void {
  if (!bearer(req)?.startsWith("sk_test_")) {
    throw stripeFail(401, "invalid_request_error", "Invalid API Key provided: the sandbox takes any sk_test_… key");
  }
}

export function stripeApiRoutes(s: SandboxState, stripe: StripeState): Router {
  const r = express.Router();

  r.post(
    "/stripe/v1/checkout/sessions",
    handle(s, "stripe.checkout.sessions.create", (req) => {
      authorize(req);
      const b = nested(req.body);
      const item = ((b.line_items ?? {}) as Record<string, Record<string, unknown>>)["0"];
      const price = str(item?.price);
      if (b.mode !== "subscription" && b.mode !== "payment") throw stripeFail(400, "invalid_request_error", "Missing required param: mode.", { param: "mode" });
      if (!price?.startsWith("price_")) throw missing("price", String(price ?? ""), "line_items[0][price]");
      if (!str(b.success_url)) throw stripeFail(400, "invalid_request_error", "Missing required param: success_url.", { param: "success_url" });
      const session = stripe.createSession({
        baseUrl: `${req.protocol}://${req.get("host")}${req.baseUrl}`,
        mode: String(b.mode),
        price,
        successUrl: String(b.success_url),
        cancelUrl: str(b.cancel_url),
        clientReferenceId: str(b.client_reference_id),
        customer: str(b.customer),
        customerEmail: str(b.customer_email),
        metadata: record(b.metadata),
        subscriptionMetadata: record((b.subscription_data as Record<string, unknown> | undefined)?.metadata),
      });
      return { json: publicView(session) };
    }),
  );

  r.get(
    "/stripe/v1/checkout/sessions/:id",
    handle(s, "stripe.checkout.sessions.retrieve", (req) => {
      authorize(req);
      const session = stripe.sessions.get(String(req.params.id));
      if (!session) throw missing("checkout.session", String(req.params.id));
      return { json: publicView(session) };
    }),
  );

  r.get(
    "/stripe/v1/subscriptions/:id",
    handle(s, "stripe.subscriptions.retrieve", (req) => {
      authorize(req);
      const sub = stripe.subscriptions.get(String(req.params.id));
      if (!sub) throw missing("subscription", String(req.params.id));
      return { json: sub };
    }),
  );

  r.post(
    "/stripe/v1/subscriptions/:id",
    handle(s, "stripe.subscriptions.update", (req) => {
      authorize(req);
      const sub = stripe.subscriptions.get(String(req.params.id));
      if (!sub) throw missing("subscription", String(req.params.id));
      if (sub.status === "canceled") {
        throw stripeFail(400, "invalid_request_error", "A canceled subscription can only update its cancellation_details and metadata.");
      }
      const b = nested(req.body);
      const price = str(((b.items ?? {}) as Record<string, Record<string, unknown>>)["0"]?.price);
      const cancel = b.cancel_at_period_end === undefined ? undefined : b.cancel_at_period_end === "true";
      // Stripe answers first and sends the event on its own time.
      void stripe.update(sub, { cancelAtPeriodEnd: cancel, price: price ?? undefined });
      return { json: sub };
    }),
  );

  r.use("/stripe/v1", (_req, res) => void res.status(404).json({ error: { type: "invalid_request_error", message: "Unrecognized request URL (sandbox)." } }));
  return r;
}
