// GET /api/my-gift-certificate-actions: the client's gift certificate tracker
// (CLIENT.md §8), limited to the logged-in user's own certificates and own
// redemption attempts. Certificates are created by the operator's CLI, never
// by a user, so createdCertificates is empty. Codes are shown masked (only
// their last group is stored); IP and user agent are never sent.
import { z } from "zod";
import type { ApiRoute } from "../http/openapi.ts";
import { Router } from "express";
import { desc, eq } from "drizzle-orm";
import { giftCertificateActionLog, giftCertificates, type User } from "../../shared/schema.ts";
import { accountOf, requireUser } from "../auth/middleware.ts";
import type { Deps } from "../deps.ts";
import { maskedCode } from "./format.ts";

/** Attempts shown, newest first. */
const MAX_LOGS = 200;

// What each logged outcome means, in words (gift-service.ts writes the outcomes).
const OUTCOME_TEXT: Record<string, string> = {
  rate_limited: "Too many attempts; try again in an hour",
  account_details_missing: "Account details were missing",
  malformed_code: "The code was not a valid gift certificate code",
  unknown_code: "The code was not a valid gift certificate code",
  already_used: "This gift certificate had already been used",
  error: "Something went wrong on our side",
};
const outcomeText = (outcome: string) => OUTCOME_TEXT[outcome] ?? (outcome.startsWith("account_refused:") ? "The account could not be created" : outcome);

export async function giftActionsOf(deps: Deps, user: User) {
  const [redeemed, logs] = await Promise.all([
    deps.db.select().from(giftCertificates).where(eq(giftCertificates.redeemedBy, user.id)).orderBy(desc(giftCertificates.redeemedAt)),
    deps.db.select().from(giftCertificateActionLog).where(eq(giftCertificateActionLog.userId, user.id)).orderBy(desc(giftCertificateActionLog.id)).limit(MAX_LOGS),
  ]);
  const redeemedCertificates = redeemed.map((c) => ({
    id: c.id,
    code: maskedCode(c.codeHint),
    plan: c.plan,
    isUsed: c.isUsed,
    createdFor: c.createdFor,
    createdAt: c.createdAt,
    redeemedAt: c.redeemedAt,
  }));
  const actionLogs = logs.map((l) => {
    const success = l.outcome === "redeemed";
    return {
      id: l.id,
      certificateCode: l.codeHint ? maskedCode(l.codeHint) : null,
      actionType: success ? "redeemed" : "attempted_redeem",
      success,
      actionByEmail: user.email,
      errorMessage: success ? null : outcomeText(l.outcome),
      actionDetails: { outcome: l.outcome },
      createdAt: l.createdAt,
    };
  });
  return {
    createdCertificates: [] as typeof redeemedCertificates,
    redeemedCertificates,
    actionLogs,
    summary: { totalCreated: 0, totalRedeemed: redeemedCertificates.length, totalActions: actionLogs.length },
  };
}

export function giftTrackerRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/api/my-gift-certificate-actions", requireUser(deps), async (req, res) => {
    res.json(await giftActionsOf(deps, accountOf(req)));
  });
  return r;
}

/** The contract of this route (server/http/contract.ts). */
export const giftTrackerApi: ApiRoute[] = [
  {
    method: "get", path: "/api/my-gift-certificate-actions", tag: "onboarding", auth: "session", summary: "The user's redeemed certificates and redemption attempts (codes masked)",
    responses: {
      200: {
        description: "Certificates, attempts and counts",
        schema: z.looseObject({ createdCertificates: z.array(z.unknown()), redeemedCertificates: z.array(z.unknown()), actionLogs: z.array(z.unknown()), summary: z.looseObject({}) }),
      },
    },
  },
];
