// Response shapes of the onboarding endpoints, built field by field.
import { z } from "zod";
import { PLAN_NAMES } from "../../shared/schema.ts";
import { formatUser, userSchema } from "../auth/format.ts";
import type { Redemption } from "./gift-service.ts";
import type { CancellationSummary } from "./account.ts";

/**
 * `certificateCode` is masked to its last group: the frontend shows which
 * certificate was used, and a bearer code is never sent back.
 */
export const maskedCode = (codeHint: string) => `****-****-****-****-****-****-${codeHint}`;

export function formatRedemption(r: Redemption) {
  return { plan: r.plan, certificateCode: maskedCode(r.codeHint), user: formatUser(r.user) };
}

export function formatCancellation(s: CancellationSummary) {
  return { success: true, summary: { platformConnectionsRevoked: s.platformConnectionsRevoked, postsDeleted: s.postsDeleted } };
}

/** The contracts of the formatters above (OpenAPI, server/http/contract.ts). */
export const redemptionSchema = z.strictObject({ plan: z.enum(PLAN_NAMES), certificateCode: z.string(), user: userSchema });
export const cancellationSchema = z.strictObject({
  success: z.literal(true),
  summary: z.strictObject({ platformConnectionsRevoked: z.number().int(), postsDeleted: z.number().int() }),
});
