// Signup and login rules. Limits are counted in PostgreSQL so they hold across processes.
import type { User } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { conflict, HttpError, safeError, tooManyRequests } from "../http/errors.ts";
import { clearBucket, consume, releaseHit } from "../http/rate-limit.ts";
import { DUMMY_HASH, hashPassword, verifyPassword } from "./passwords.ts";
import { findUserByEmail, findUserByPhone, insertUser, releaseUnverifiedPhone } from "./queries.ts";

const FIFTEEN_MINUTES = 15 * 60 * 1000;
export const LOGIN_LIMITS = {
  perAccount: { max: 10, windowMs: FIFTEEN_MINUTES },
  perIp: { max: 50, windowMs: FIFTEEN_MINUTES },
};

export interface SignupInput {
  email: string;
  password: string;
  phone: string;
}

/** What a session proved with POST /api/verify-code. */
export interface VerifiedPhone {
  phone: string;
  at: number;
}

export async function signup(deps: Deps, input: SignupInput, ip: string, verified?: VerifiedPhone): Promise<User> {
  const now = deps.clock.now();
  if (!(await consume(deps.db, { bucket: `signup:ip:${ip}`, max: deps.config.auth.signupsPerIpPerHour, windowMs: 3_600_000 }, now))) {
    throw tooManyRequests("Too many signups from this address; try again later", 3600);
  }
  // The proof must come from this session (not merely "someone verified this
  // number"), recently; logging in then regenerates the session, using it up.
  const proven = verified !== undefined && verified.phone === input.phone && now.getTime() - verified.at <= deps.config.auth.phoneVerificationMaxAgeMs;
  if (deps.config.auth.requirePhoneVerification && !proven) {
    throw new HttpError(400, "phone_not_verified", "Verify this phone number first (POST /api/send-code, then /api/verify-code)");
  }
  const values = {
    uid: input.phone,
    email: input.email,
    phone: input.phone,
    passwordHash: await hashPassword(input.password),
    phoneVerifiedAt: proven ? now : null,
  };
  // One transaction (a savepoint inside a redemption's), so a number taken
  // from an unverified holder is only taken when this account gets it.
  const { user, released } = await deps.db.transaction(async (tx) => {
    const first = await insertUser(tx, values);
    if (first || !proven || (await findUserByEmail(tx, input.email))) return { user: first, released: undefined };
    // The number is taken: a verified claim wins over a holder that never proved it.
    const released = await releaseUnverifiedPhone(tx, input.phone, now);
    return { user: released ? await insertUser(tx, values) : undefined, released };
  });
  if (!user) {
    // The unique indexes refused it; say which without revealing more than the form already knows.
    const byEmail = await findUserByEmail(deps.db, input.email);
    throw byEmail
      ? conflict("email_taken", "An account with this email already exists")
      : conflict("phone_taken", "An account with this phone number already exists");
  }
  if (released) await tellPhoneReleased(deps, released);
  return user;
}

/** The account that lost an unproven number is told (by e-mail: it no longer has a number). */
export async function tellPhoneReleased(deps: Deps, account: User): Promise<void> {
  deps.log.info({ userId: account.id }, "Unverified phone released to a verified claim");
  try {
    await deps.mailer.send({
      to: account.email,
      subject: "Your AgencyIQ phone number was removed",
      text:
        "Someone proved with a text-message code that they hold the phone number on your AgencyIQ account, which was never verified, so it was removed from your account.\n" +
        `Log in with your e-mail address and add your own number under Profile: ${deps.config.publicUrl}/profile`,
    });
  } catch (err) {
    deps.log.warn({ userId: account.id, error: safeError(err) }, "Phone release notice could not be sent");
  }
}

export interface LoginInput {
  email?: string;
  phone?: string;
  password: string;
}

const INVALID = () => new HttpError(401, "invalid_credentials", "Invalid credentials");

/** The account's failed-login bucket: one per account, whether it is named by email or phone. */
export const accountLoginBucket = (userId: number) => `login:acct:user:${userId}`;

/** Ends an account's lock-out for browsers it does not know yet (e.g. after a password reset). */
export async function endLoginLockout(db: DbOrTx, userId: number): Promise<void> {
  await clearBucket(db, accountLoginBucket(userId));
}

/**
 * Checks a login. `device(userId)` names the browser's known device for that
 * account, if any (device.ts): its attempts are counted per device, so failures
 * from elsewhere cannot lock the owner's browser out. Everyone else shares the
 * account's bucket, whichever identifier (email or phone) they use.
 */
export async function login(deps: Deps, input: LoginInput, ip: string, device: (userId: number) => string | undefined = () => undefined): Promise<User> {
  const now = deps.clock.now();
  const user = input.email ? await findUserByEmail(deps.db, input.email) : await findUserByPhone(deps.db, input.phone!);
  const knownDevice = user ? device(user.id) : undefined;
  // An unknown account is counted by what was typed, so the answers are alike either way.
  const accountBucket = knownDevice
    ? `login:device:${knownDevice}`
    : user
      ? accountLoginBucket(user.id)
      : `login:acct:${input.email ? `email:${input.email}` : `phone:${input.phone}`}`;
  const ipBucket = `login:ip:${ip}`;
  // Every attempt is counted atomically BEFORE the password is checked, so
  // parallel attempts cannot all pass a "count, then record" check; a
  // successful login gives its hits back.
  if (!(await consume(deps.db, { bucket: accountBucket, ...LOGIN_LIMITS.perAccount }, now))) {
    throw tooManyRequests("Too many failed login attempts; try again in 15 minutes", 15 * 60);
  }
  if (!(await consume(deps.db, { bucket: ipBucket, ...LOGIN_LIMITS.perIp }, now))) {
    await releaseHit(deps.db, accountBucket);
    throw tooManyRequests("Too many failed login attempts; try again in 15 minutes", 15 * 60);
  }

  const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok) {
    deps.log.info({ ip }, "Login failed");
    throw INVALID();
  }
  await clearBucket(deps.db, accountBucket);
  await releaseHit(deps.db, ipBucket);
  return user;
}
