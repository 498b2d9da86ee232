// Sending and checking verification codes. Every limit is counted in
// PostgreSQL: sends through rate-limit.ts `consume` (atomic per bucket), failed
// checks under a per-phone advisory lock held by the checking transaction, and
// the per-code attempt count by a conditional UPDATE. So none of them can be
// beaten by parallel requests or by spreading them over several processes.
import { sql } from "drizzle-orm";
import type { Deps } from "../deps.ts";
import { HttpError, tooManyRequests } from "../http/errors.ts";
import { consume, isLimited, recordHit, releaseHit } from "../http/rate-limit.ts";
import { SmsUnavailableError } from "../notify/sms.ts";
import {
  checkIpBucket,
  checkSessionBucket,
  CODE_RULES,
  codeHasher,
  DAY_MS,
  failBucket,
  generateCode,
  HOUR_MS,
  sendBucket,
  sendIpBucket,
} from "./codes.ts";
import { checkAttempt, expireCode, newestActiveCode, replaceActiveCode } from "./code-queries.ts";

export async function sendCode(deps: Deps, phone: string, ip: string, purpose = "signup"): Promise<void> {
  const now = deps.clock.now();
  if (!(await consume(deps.db, { bucket: sendIpBucket(ip), max: CODE_RULES.sendsPerIpPerHour, windowMs: HOUR_MS }, now))) {
    throw tooManyRequests("Too many codes requested from this address; try again in an hour", 3600);
  }
  if (!(await consume(deps.db, { bucket: sendBucket(phone), max: CODE_RULES.sendsPerPhonePerHour, windowMs: HOUR_MS }, now))) {
    throw tooManyRequests("Too many codes sent to this number; try again in an hour", 3600);
  }
  const code = generateCode();
  const codeHash = codeHasher(deps.config.session.secret)(phone, code);
  const id = await deps.db.transaction((tx) =>
    replaceActiveCode(tx, { phone, purpose, codeHash, now, expiresAt: new Date(now.getTime() + CODE_RULES.lifetimeMs) }),
  );
  try {
    await deps.sms.send({ to: phone, body: `Your AgencyIQ verification code is ${code}. It expires in 10 minutes.` });
  } catch (err) {
    // A code nobody received must not stay checkable; the send still counts
    // towards the hourly limit so a failing provider cannot be hammered.
    await expireCode(deps.db, id, now);
    if (err instanceof SmsUnavailableError) {
      throw new HttpError(503, "sms_unavailable", "Text messages cannot be sent right now (SMS is not configured)");
    }
    deps.log.error({ err: { message: (err as Error).message }, to: phone }, "SMS send failed");
    throw new HttpError(502, "sms_failed", "The text message could not be sent; try again shortly");
  }
}

type CheckOutcome = "ok" | "wrong" | "no_code" | "exhausted" | "locked";

/** Who is checking: the limits on the attacker's side (the phone's own limit is the other side). */
export interface Checker {
  ip: string;
  sessionId: string;
}

/**
 * Counts the check against the caller's address and session before anything
 * else (atomically, so parallel guesses cannot exceed them); a right code gives
 * the hits back. Throws 429 when either is used up.
 */
async function limitChecker(deps: Deps, who: Checker, now: Date): Promise<() => Promise<void>> {
  const ip = { bucket: checkIpBucket(who.ip), max: CODE_RULES.failedChecksPerIpPerHour, windowMs: HOUR_MS };
  const session = { bucket: checkSessionBucket(who.sessionId), max: CODE_RULES.failedChecksPerSessionPerHour, windowMs: HOUR_MS };
  if (!(await consume(deps.db, ip, now))) throw tooManyRequests("Too many code checks from this address; try again in an hour", 3600);
  if (!(await consume(deps.db, session, now))) {
    await releaseHit(deps.db, ip.bucket);
    throw tooManyRequests("Too many code checks; try again in an hour", 3600);
  }
  return async () => {
    await releaseHit(deps.db, ip.bucket);
    await releaseHit(deps.db, session.bucket);
  };
}

/**
 * Checks (and on success consumes) the newest active code of `phone`; throws
 * a 4xx HttpError when it is not accepted (the route records the proof in the
 * session, which signup requires).
 *
 * Only a wrong guess at a live code counts towards the phone's daily failures:
 * checks when no code is live (never sent, expired, used, spent) guess nothing,
 * and counting them let anyone lock a number out of verification anonymously.
 */
export async function checkCode(deps: Deps, phone: string, code: string, who: Checker): Promise<void> {
  const now = deps.clock.now();
  const giveBack = await limitChecker(deps, who, now);
  const codeHash = codeHasher(deps.config.session.secret)(phone, code);
  const failures = { bucket: failBucket(phone), max: CODE_RULES.failedChecksPerPhonePerDay, windowMs: DAY_MS };
  const outcome = await deps.db.transaction(async (tx): Promise<CheckOutcome> => {
    // One check per phone at a time, in every process: "count failures, check,
    // record the failure" is atomic.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${failures.bucket}))`);
    if (await isLimited(tx, failures, now)) return "locked";
    const active = await newestActiveCode(tx, phone, now);
    let result: CheckOutcome;
    if (!active) result = "no_code";
    else if (active.attempts >= CODE_RULES.maxChecksPerCode) result = "exhausted";
    else {
      const attempt = await checkAttempt(tx, { id: active.id, codeHash, now, maxChecks: CODE_RULES.maxChecksPerCode });
      result = attempt === undefined ? "exhausted" : attempt.matched ? "ok" : "wrong";
    }
    if (result === "wrong") await recordHit(tx, failures.bucket, now);
    return result;
  });
  if (outcome === "ok") return giveBack();
  deps.log.info({ phone, outcome }, "Verification code refused");
  throw refusal(outcome);
}

function refusal(outcome: Exclude<CheckOutcome, "ok">): HttpError {
  switch (outcome) {
    case "wrong":
      return new HttpError(400, "invalid_code", "Invalid code");
    case "no_code":
      return new HttpError(400, "code_expired", "Invalid code: it has expired or was already used; request a new one");
    case "exhausted":
      return new HttpError(429, "too_many_attempts", "This code was tried too many times; request a new one");
    case "locked":
      return tooManyRequests("Too many failed checks for this number today; try again tomorrow", 24 * 3600);
  }
}
