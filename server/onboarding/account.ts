// The logged-in user's phone change and subscription cancellation.
import { eq } from "drizzle-orm";
import { users, type User } from "../../shared/schema.ts";
import { findUserByPhone, releaseUnverifiedPhone } from "../auth/queries.ts";
import { tellPhoneReleased } from "../auth/service.ts";
import type { Deps } from "../deps.ts";
import { badRequest, conflict } from "../http/errors.ts";
import { deactivateConnections, revokeAtPlatforms, type RevocationReport } from "../connections/service.ts";
import { removeUnsentPostsOfUser } from "../posts/service.ts";
import { checkCode, type Checker } from "./verification.ts";
import { isUniqueViolation } from "../db/index.ts";
import { announceSubscriptionChange } from "../subscription/events.ts";

const phoneTaken = () => conflict("phone_taken", "This phone number belongs to another account");

export async function updatePhone(
  deps: Deps,
  user: User,
  input: { email: string; newPhone: string; verificationCode: string },
  who: Checker,
): Promise<User> {
  if (input.email !== user.email.toLowerCase()) {
    throw badRequest("email_mismatch", "email does not match the logged-in account", [{ path: "email", message: "must be your account's email" }]);
  }
  if (input.newPhone === user.phone) throw badRequest("same_phone", "This is already your phone number");
  // The code (and its limits) first: only someone who holds the number learns
  // whether another account has it — otherwise this answer enumerates numbers.
  await checkCode(deps, input.newPhone, input.verificationCode, who);
  // A holder that never proved the number loses it to this verified claim.
  if ((await findUserByPhone(deps.db, input.newPhone))?.phoneVerifiedAt) throw phoneTaken();
  const now = deps.clock.now();
  try {
    const { updated, released } = await deps.db.transaction(async (tx) => {
      const released = await releaseUnverifiedPhone(tx, input.newPhone, now);
      const [updated] = await tx.update(users).set({ phone: input.newPhone, phoneVerifiedAt: now, updatedAt: now }).where(eq(users.id, user.id)).returning();
      return { updated: updated!, released };
    });
    if (released) await tellPhoneReleased(deps, released);
    return updated;
  } catch (err) {
    // Another account took the number between the check and the update.
    if (isUniqueViolation(err)) throw phoneTaken();
    throw err;
  }
}

export interface CancellationSummary {
  platformConnectionsRevoked: number;
  postsDeleted: number;
  /** What the platforms said to the token revocations (after the commit). */
  atPlatforms: RevocationReport;
}

export async function cancelSubscription(deps: Deps, user: User): Promise<CancellationSummary> {
  const now = deps.clock.now();
  const { connections, postsDeleted } = await deps.db.transaction(async (tx) => {
    const connections = await deactivateConnections(tx, user.id, now);
    // Posts that reached a platform, or may have, stay (the posts domain decides which).
    const postsDeleted = await removeUnsentPostsOfUser(tx, user.id);
    await tx.update(users).set({ subscriptionActive: false, updatedAt: now }).where(eq(users.id, user.id));
    await announceSubscriptionChange(tx, user.id);
    return { connections, postsDeleted };
  });
  const atPlatforms = await revokeAtPlatforms(deps, connections);
  return { platformConnectionsRevoked: connections.length, postsDeleted, atPlatforms };
}
