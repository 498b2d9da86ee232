// Gift certificates: creation (the CLI) and redemption (the API). Redemption
// marks the certificate used, creates the account when needed and grants the
// plan in ONE transaction, so either all of it happens or none of it; every
// attempt, whatever its outcome, is written to gift_certificate_action_log.
import type { PlanName, User } from "../../shared/schema.ts";
import { findUserById } from "../auth/queries.ts";
import { signup } from "../auth/service.ts";
import type { Db } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import type { VerifiedPhone } from "../auth/service.ts";
import { badRequest, HttpError, tooManyRequests } from "../http/errors.ts";
import { consume } from "../http/rate-limit.ts";
import { grantPlan } from "../quota/grant.ts";
import { quotaFor } from "../quota/plans.ts";
import { HOUR_MS } from "./codes.ts";
import { canonicalGiftCode, giftCodeHash, giftCodeHint, newGiftCode } from "./gift-codes.ts";
import { findCertificateByHash, insertCertificates, logAction, markUsed, setRedeemedBy } from "./gift-queries.ts";

/** Every attempt counts (successes too: a real customer redeems rarely). */
export const GIFT_LIMITS = {
  perIp: { max: 100, windowMs: HOUR_MS },
  perAccount: { max: 10, windowMs: HOUR_MS },
};

export async function createCertificates(
  db: Db,
  args: { plan: PlanName; createdFor: string | null; count: number; now: Date },
): Promise<string[]> {
  const codes = Array.from({ length: args.count }, () => newGiftCode());
  const rows = codes.map((code) => {
    const canonical = canonicalGiftCode(code)!;
    return { codeHash: giftCodeHash(canonical), codeHint: giftCodeHint(canonical), plan: args.plan, createdFor: args.createdFor, createdAt: args.now };
  });
  await db.transaction((tx) => insertCertificates(tx, rows));
  return codes;
}

export interface RedeemInput {
  code: string;
  email?: string;
  password?: string;
  phone?: string;
}

export interface RedeemContext {
  /** The logged-in user, who redeems for itself; absent: the body creates the account. */
  user?: User;
  ip: string;
  userAgent: string | null;
  /** The session's phone proof, for a new account. */
  verifiedPhone?: VerifiedPhone;
}

export interface Redemption {
  plan: PlanName;
  codeHint: string;
  user: User;
  /** True when the account was created by this redemption (the caller logs it in). */
  created: boolean;
}

const invalidCode = () => badRequest("invalid_certificate", "This gift certificate code is not valid");
const usedCode = () => badRequest("certificate_already_used", "This gift certificate has already been used");

export async function redeemCertificate(deps: Deps, input: RedeemInput, ctx: RedeemContext): Promise<Redemption> {
  const now = deps.clock.now();
  const canonical = canonicalGiftCode(input.code);
  // For a malformed code the hint is just the tail of what was typed (at most 4 symbols).
  const codeHint = canonical ? giftCodeHint(canonical) : input.code.replace(/[^0-9A-Za-z]/g, "").slice(-4).toUpperCase() || null;
  const entry = { certificateId: null as number | null, userId: ctx.user?.id ?? null, outcome: "error" };
  try {
    const result = await attempt(deps, input, ctx, canonical, now, entry);
    entry.outcome = "redeemed";
    entry.userId = result.user.id;
    return { ...result, codeHint: codeHint! };
  } finally {
    await logAction(deps.db, {
      ...entry,
      codeHint,
      action: "redeem",
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      at: now,
    });
  }
}

async function attempt(
  deps: Deps,
  input: RedeemInput,
  ctx: RedeemContext,
  canonical: string | null,
  now: Date,
  entry: { certificateId: number | null; outcome: string },
): Promise<Omit<Redemption, "codeHint">> {
  const fail = (outcome: string, err: HttpError) => {
    entry.outcome = outcome;
    return err;
  };
  if (!(await consume(deps.db, { bucket: `gift:ip:${ctx.ip}`, ...GIFT_LIMITS.perIp }, now))) {
    throw fail("rate_limited", tooManyRequests("Too many gift certificate attempts from this address; try again in an hour", 3600));
  }
  const account = ctx.user ? `user:${ctx.user.id}` : input.email ? `email:${input.email}` : undefined;
  if (account && !(await consume(deps.db, { bucket: `gift:acct:${account}`, ...GIFT_LIMITS.perAccount }, now))) {
    throw fail("rate_limited", tooManyRequests("Too many gift certificate attempts for this account; try again in an hour", 3600));
  }
  if (!ctx.user) {
    const missing = (["email", "password", "phone"] as const).filter((k) => !input[k]);
    if (missing.length) {
      throw fail(
        "account_details_missing",
        badRequest("account_details_missing", `Log in, or give ${missing.join(", ")} to create the account`, missing.map((path) => ({ path, message: "required when not logged in" }))),
      );
    }
  }
  if (!canonical) throw fail("malformed_code", invalidCode());
  const codeHash = giftCodeHash(canonical);

  let refused: "already_used" | "unknown_code" | undefined;
  try {
    const done = await deps.db.transaction(async (tx) => {
      const cert = await markUsed(tx, codeHash, now, ctx.user?.id ?? null);
      if (!cert) {
        const existing = await findCertificateByHash(tx, codeHash);
        entry.certificateId = existing?.id ?? null;
        refused = existing ? "already_used" : "unknown_code";
        return undefined;
      }
      entry.certificateId = cert.id;
      let user = ctx.user;
      if (!user) {
        // Auth's own signup rules (verified phone, unique email/phone, password
        // hashing, signup limit) run inside this transaction.
        user = await signup({ ...deps, db: tx }, { email: input.email!, password: input.password!, phone: input.phone! }, ctx.ip, ctx.verifiedPhone);
        await setRedeemedBy(tx, cert.id, user.id);
      }
      await grantPlan(tx, { userId: user.id, plan: cert.plan, source: "certificate", now, quotaFor: quotaFor(deps.config) });
      return { plan: cert.plan, user: (await findUserById(tx, user.id))!, created: !ctx.user };
    });
    if (done) return done;
  } catch (err) {
    // The account could not be created (taken email, unverified phone…): nothing was written.
    if (err instanceof HttpError) throw fail(`account_refused:${err.code}`, err);
    throw err;
  }
  throw refused === "already_used" ? fail("already_used", usedCode()) : fail("unknown_code", invalidCode());
}
