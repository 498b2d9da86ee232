// Password reset endpoints the React client calls (CLIENT.md §6).
import { Router } from "express";
import { z } from "zod";
import type { ApiRoute } from "../http/openapi.ts";
import { emailField, passwordField } from "../auth/routes.ts";
import type { Deps } from "../deps.ts";
import { safeError, tooManyRequests } from "../http/errors.ts";
import { consume } from "../http/rate-limit.ts";
import { parseBody } from "../http/validate.ts";
import { checkResetToken, requestReset, resetPassword } from "./reset.ts";

const HOUR = 60 * 60 * 1000;
/** Counted whether or not the account exists, so a 429 tells nothing either. */
export const FORGOT_LIMITS = { perEmail: { max: 5, windowMs: HOUR }, perIp: { max: 30, windowMs: HOUR } };

const token = z.string().trim().min(20, "is not a reset token").max(200);
const forgotBody = z.strictObject({ email: emailField, phone: z.string().trim().min(1, "is required").max(32) });
const validateBody = z.strictObject({ token, email: emailField });
const resetBody = z.strictObject({ token, email: emailField, password: passwordField });

export function accountRoutes(deps: Deps): Router {
  const r = Router();

  r.post("/api/forgot-password", async (req, res) => {
    const body = parseBody(forgotBody, req);
    const now = deps.clock.now();
    if (!(await consume(deps.db, { bucket: `forgot:ip:${req.ip ?? "unknown"}`, ...FORGOT_LIMITS.perIp }, now)) || !(await consume(deps.db, { bucket: `forgot:email:${body.email}`, ...FORGOT_LIMITS.perEmail }, now))) {
      throw tooManyRequests("Too many reset requests; try again in an hour", 3600);
    }
    // The same answer, as fast, whether or not the details match an account:
    // the look-up, the token and the e-mail happen after it.
    res.json({ success: true, message: "If these details match an account, a reset link is on its way to that e-mail address" });
    requestReset(deps, body).catch((err) => deps.log.error({ error: safeError(err) }, "Password reset request failed"));
  });

  r.post("/api/validate-reset-token", async (req, res) => {
    await checkResetToken(deps, parseBody(validateBody, req));
    res.json({ success: true, valid: true });
  });

  r.post("/api/reset-password", async (req, res) => {
    await resetPassword(deps, parseBody(resetBody, req));
    res.json({ success: true, message: "Your password was changed; log in with the new one" });
  });

  return r;
}

/** The contract of these routes (server/http/contract.ts). */
export const accountApi: ApiRoute[] = [
  {
    method: "post", path: "/api/forgot-password", tag: "auth", summary: "E-mail a password reset link (same answer whether or not the account exists)", body: forgotBody, errors: [429],
    responses: { 200: { description: "Accepted", schema: z.strictObject({ success: z.literal(true), message: z.string() }) } },
  },
  {
    method: "post", path: "/api/validate-reset-token", tag: "auth", summary: "Check a reset link before showing the form", body: validateBody, errors: [429],
    responses: { 200: { description: "Valid", schema: z.strictObject({ success: z.literal(true), valid: z.literal(true) }) } },
  },
  {
    method: "post", path: "/api/reset-password", tag: "auth", summary: "Set a new password with a reset link (used once)", body: resetBody, errors: [429],
    responses: { 200: { description: "Changed", schema: z.strictObject({ success: z.literal(true), message: z.string() }) } },
  },
];
