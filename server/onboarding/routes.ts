// Onboarding endpoints of API.md: verification codes, phone change, gift
// certificates, cancellation. HTTP only: parse, call the service, format.
import { Router, type Request } from "express";
import { z } from "zod";
import { accountOf, requireUser } from "../auth/middleware.ts";
import { findUserById, markPhoneVerified } from "../auth/queries.ts";
import type { Deps } from "../deps.ts";
import { logIn } from "../http/session.ts";
import { parseBody } from "../http/validate.ts";
import { safeLine } from "../http/schemas.ts";
import { cancelSubscription, updatePhone } from "./account.ts";
import { cancelPaymentAtPeriodEnd } from "../billing/cancel.ts";
import { cancellationSchema, formatCancellation, formatRedemption, redemptionSchema } from "./format.ts";
import { successOnly, type ApiRoute } from "../http/openapi.ts";
import { redeemCertificate } from "./gift-service.ts";
import { phoneField } from "./phone.ts";
import { checkCode, sendCode } from "./verification.ts";

const email = z.string().trim().toLowerCase().pipe(z.email({ message: "must be a valid email address" })).pipe(z.string().max(254));
const password = z.string().min(8, "must be at least 8 characters").max(128, "must be at most 128 characters");
const code = z.string().trim().regex(/^\d{6}$/, "must be the 6-digit code from the text message");

const sendCodeBody = z.strictObject({ phone: phoneField });
const verifyCodeBody = z.strictObject({ phone: phoneField, code });
const updatePhoneBody = z.strictObject({ email, newPhone: phoneField, verificationCode: code });
// The redeem form always sends all four; its optional phone left empty is "".
const absentWhenEmpty = <S extends z.ZodType>(field: S) => z.union([z.literal("").transform(() => undefined), field]).optional();
const giftCode = safeLine(100).min(1, "is required");
const redeemBody = z.strictObject({
  code: giftCode,
  email: absentWhenEmpty(email),
  password: absentWhenEmpty(password),
  phone: absentWhenEmpty(phoneField),
});
// A logged-in redeemer redeems for itself: the form's email/password/phone are ignored, not judged.
const loggedInRedeemBody = z.strictObject({
  code: giftCode,
  email: z.string().max(254).optional(),
  password: z.string().max(128).optional(),
  phone: z.string().max(32).optional(),
});
const emptyBody = z.strictObject({});

const ipOf = (req: Request) => req.ip ?? "unknown";
const checkerOf = (req: Request) => ({ ip: ipOf(req), sessionId: req.sessionID ?? "none" });

export function onboardingRoutes(deps: Deps): Router {
  const r = Router();
  const mustBeUser = requireUser(deps);

  r.post("/api/send-code", async (req, res) => {
    const { phone } = parseBody(sendCodeBody, req);
    await sendCode(deps, phone, ipOf(req));
    res.json({ success: true, message: "Verification code sent" });
  });

  // The seed's path and the documented one.
  for (const path of ["/api/verify-code", "/verify-code"]) {
    r.post(path, async (req, res) => {
      const body = parseBody(verifyCodeBody, req);
      await checkCode(deps, body.phone, body.code, checkerOf(req));
      // A logged-in user proving its own number makes it verified (it can then no longer be claimed).
      if (req.session.userId) await markPhoneVerified(deps.db, req.session.userId, body.phone, deps.clock.now());
      // The proof belongs to this browser session only: nobody else can sign up with the number.
      req.session.verifiedPhone = { phone: body.phone, at: deps.clock.now().getTime() };
      res.json({ success: true });
    });
  }

  r.post("/api/update-phone", mustBeUser, async (req, res) => {
    const body = parseBody(updatePhoneBody, req);
    const user = await updatePhone(deps, accountOf(req), body, checkerOf(req));
    res.json({ success: true, newPhone: user.phone });
  });

  r.post("/api/redeem-gift-certificate", async (req, res) => {
    const user = req.session?.userId ? await findUserById(deps.db, req.session.userId) : undefined;
    const body = user ? { code: parseBody(loggedInRedeemBody, req).code } : parseBody(redeemBody, req);
    const result = await redeemCertificate(deps, body, {
      user,
      ip: ipOf(req),
      userAgent: req.get("user-agent") ?? null,
      verifiedPhone: req.session?.verifiedPhone,
    });
    // A new plan (and, for a new account, a login) is a privilege change: new session id.
    await logIn(req, result.user.id, deps.clock.now());
    deps.log.info({ userId: result.user.id, plan: result.plan, created: result.created }, "Gift certificate redeemed");
    res.json(formatRedemption(result));
  });

  r.post("/api/cancel-subscription", mustBeUser, async (req, res) => {
    parseBody(emptyBody, req);
    const user = accountOf(req);
    // Stripe first (cancel at period end): if it cannot be reached nothing is cancelled here either.
    const payment = await cancelPaymentAtPeriodEnd(deps, user);
    const summary = await cancelSubscription(deps, user);
    deps.log.info({ userId: user.id, payment, ...summary }, "Subscription cancelled");
    res.json(formatCancellation(summary));
  });

  return r;
}

const verifyDoc = {
  body: verifyCodeBody, errors: [429],
  description: "A wrong code is 400 invalid_code; an expired, used or never-sent code is 400 code_expired. Records the proof in this cookie session for signup.",
  responses: { 200: { description: "Verified", schema: successOnly } },
};

/** The contract of these routes (server/http/contract.ts). */
export const onboardingApi: ApiRoute[] = [
  {
    method: "post", path: "/api/send-code", tag: "onboarding", summary: "Text a 6-digit verification code to a phone", body: sendCodeBody, errors: [429, 503],
    description: "Without Twilio (development) the code is written to DATA_DIR/outbox/sms.jsonl.",
    responses: { 200: { description: "Sent", schema: z.strictObject({ success: z.literal(true), message: z.string() }) } },
  },
  { method: "post", path: "/api/verify-code", tag: "onboarding", summary: "Check a verification code", ...verifyDoc },
  { method: "post", path: "/verify-code", tag: "onboarding", summary: "Same as /api/verify-code (the seed's path)", ...verifyDoc },
  {
    method: "post", path: "/api/update-phone", tag: "onboarding", auth: "session", summary: "Change the account's phone (code sent to the new number)", body: updatePhoneBody, errors: [409, 429],
    responses: { 200: { description: "Changed", schema: z.strictObject({ success: z.literal(true), newPhone: z.string() }) } },
  },
  {
    method: "post", path: "/api/redeem-gift-certificate", tag: "onboarding", summary: "Redeem a gift certificate (for the logged-in user, or creating the account)", body: redeemBody, errors: [409, 429],
    responses: { 200: { description: "Plan granted and logged in (new session id)", schema: redemptionSchema } },
  },
  {
    method: "post", path: "/api/cancel-subscription", tag: "onboarding", auth: "session", summary: "Cancel: deactivate connections, delete unpublished posts", body: emptyBody,
    responses: { 200: { description: "Cancelled", schema: cancellationSchema } },
  },
];
