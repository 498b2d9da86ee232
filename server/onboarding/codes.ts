// Verification codes: six digits from crypto.randomInt, stored only as an
// HMAC-SHA-256 keyed with a server secret and bound to the phone number.
//
// Why a keyed fast hash and not scrypt: a six-digit code has 10^6 values, so
// any hash of it alone — however slow — is reversed offline in minutes. What
// protects a code is its 10-minute life, the 5-checks-per-code limit and the
// 100-failures-per-phone-per-day limit. The server-side key means a copy of
// the database alone does not reveal live codes (the key is not in it), and
// binding the phone means a hash can never match for another number.
import { createHmac, randomInt } from "node:crypto";

export const CODE_RULES = {
  lifetimeMs: 10 * 60 * 1000,
  maxChecksPerCode: 5,
  sendsPerPhonePerHour: 5,
  // Protects the SMS budget from one address pumping many numbers.
  sendsPerIpPerHour: 50,
  failedChecksPerPhonePerDay: 100,
  // Who checks: one address or one browser session cannot guess across many numbers.
  failedChecksPerIpPerHour: 50,
  failedChecksPerSessionPerHour: 10,
} as const;

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

export function generateCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, "0");
}

/** The key is derived from the session secret so there is no extra secret to configure. */
export function codeHasher(serverSecret: string): (phone: string, code: string) => string {
  const key = createHmac("sha256", serverSecret).update("agencyiq:verification-code:v1").digest();
  return (phone, code) => createHmac("sha256", key).update(`${phone}\n${code}`).digest("hex");
}

export const sendBucket = (phone: string) => `code:send:phone:${phone}`;
export const sendIpBucket = (ip: string) => `code:send:ip:${ip}`;
export const failBucket = (phone: string) => `code:fail:phone:${phone}`;
export const checkIpBucket = (ip: string) => `code:check:ip:${ip}`;
export const checkSessionBucket = (sessionId: string) => `code:check:session:${sessionId}`;
