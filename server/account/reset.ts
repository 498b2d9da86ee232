// Password reset by e-mailed link (CLIENT.md §6). The link carries a 256-bit
// random token; only its SHA-256 is stored (password_reset_tokens), so a
// database copy opens nothing. A token lives an hour, is good once (using it
// is one conditional UPDATE), and a new request replaces the older ones.
// Asking never says whether an account exists: the work for a match happens
// after the answer (see routes.ts), and only email + phone together match.
import { createHash, randomBytes } from "node:crypto";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { passwordResetTokens, users } from "../../shared/schema.ts";
import { hashPassword } from "../auth/passwords.ts";
import { endLoginLockout } from "../auth/service.ts";
import { findUserByEmail } from "../auth/queries.ts";
import type { Deps } from "../deps.ts";
import { badRequest } from "../http/errors.ts";
import { normalizePhone } from "../onboarding/phone.ts";

export const RESET_TOKEN_LIFETIME_MS = 60 * 60 * 1000;

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");
const invalidLink = () => badRequest("invalid_reset_token", "This reset link is invalid or has expired; ask for a new one");

/** The link the client's /reset-password page reads: both parameters, `+` in the e-mail as %2B. */
export const resetLink = (publicUrl: string, token: string, email: string) => `${publicUrl}/reset-password?token=${token}&email=${encodeURIComponent(email)}`;

/** E-mails a reset link when email and phone belong to one account; otherwise does nothing. */
export async function requestReset(deps: Deps, input: { email: string; phone: string }): Promise<"sent" | "no_match"> {
  const user = await findUserByEmail(deps.db, input.email);
  const phone = normalizePhone(input.phone);
  if (!user || !phone || user.phone !== phone) {
    deps.log.info("Password reset requested; no account matches");
    return "no_match";
  }
  const now = deps.clock.now();
  const token = randomBytes(32).toString("base64url");
  await deps.db.transaction(async (tx) => {
    await tx.delete(passwordResetTokens).where(and(eq(passwordResetTokens.userId, user.id), isNull(passwordResetTokens.usedAt)));
    await tx.insert(passwordResetTokens).values({ userId: user.id, tokenHash: hashToken(token), expiresAt: new Date(now.getTime() + RESET_TOKEN_LIFETIME_MS), createdAt: now });
  });
  await deps.mailer.send({
    to: user.email,
    subject: "Reset your AgencyIQ password",
    text: `Someone (hopefully you) asked to reset your AgencyIQ password. This link works once, for one hour:\n${resetLink(deps.config.publicUrl, token, user.email)}\nIf it was not you, ignore this e-mail: your password stays as it is.`,
  });
  deps.log.info({ userId: user.id }, "Password reset link sent");
  return "sent";
}

/** Throws 400 unless the token is live and belongs to this e-mail's account. Does not use it up. */
export async function checkResetToken(deps: Deps, input: { token: string; email: string }): Promise<void> {
  const [row] = await deps.db
    .select({ id: passwordResetTokens.id })
    .from(passwordResetTokens)
    .innerJoin(users, eq(users.id, passwordResetTokens.userId))
    .where(
      and(
        eq(passwordResetTokens.tokenHash, hashToken(input.token)),
        eq(users.email, input.email),
        isNull(passwordResetTokens.usedAt),
        gt(passwordResetTokens.expiresAt, deps.clock.now()),
      ),
    );
  if (!row) throw invalidLink();
}

/** Uses the token (once, whoever races), sets the password and ends every session of the account. */
export async function resetPassword(deps: Deps, input: { token: string; email: string; password: string }): Promise<number> {
  const now = deps.clock.now();
  const passwordHash = await hashPassword(input.password);
  const userId = await deps.db.transaction(async (tx) => {
    const [used] = await tx
      .update(passwordResetTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(passwordResetTokens.tokenHash, hashToken(input.token)),
          isNull(passwordResetTokens.usedAt),
          gt(passwordResetTokens.expiresAt, now),
          eq(passwordResetTokens.userId, sql`(select id from users where email = ${input.email})`),
        ),
      )
      .returning({ userId: passwordResetTokens.userId });
    if (!used) return undefined;
    await tx.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, used.userId));
    // Whoever knew the old password (or held a session with it) is out.
    await tx.execute(sql`delete from sessions where (sess::jsonb ->> 'userId') = ${String(used.userId)}`);
    // And the owner, who proved the account through the reset, is no longer locked out of login.
    await endLoginLockout(tx, used.userId);
    return used.userId;
  });
  if (userId === undefined) throw invalidLink();
  deps.log.info({ userId }, "Password reset; all sessions ended");
  return userId;
}
