// Response shapes of the onboarding endpoints, built field by field.
import { formatUser } from "../auth/format.ts";
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
