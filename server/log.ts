// The one logger. Redaction is by path so a token, code, password or cookie
// never reaches a log line even when a whole object is logged by mistake.
import { AsyncLocalStorage } from "node:async_hooks";
import pino, { type Logger } from "pino";

// The id of the request being served (server/http/request-log.ts sets it), mixed into every line.
const requestContext = new AsyncLocalStorage<string>();
export const withRequestId = (requestId: string, fn: () => void) => requestContext.run(requestId, fn);

export type Log = Logger;

/**
 * How the product's log lines name a user (`Token refreshed <phone> for …`):
 * the phone number, or "user <id>" for an account without one (an unverified
 * number another account took is cleared), never "null".
 */
export const userLabel = (phone: string | null | undefined, userId: number) => phone ?? `user ${userId}`;

export const SECRET_KEYS = [
  "password",
  "passwordHash",
  "code",
  "verificationCode",
  "token",
  "accessToken",
  "refreshToken",
  "access_token",
  "refresh_token",
  "clientSecret",
  "client_secret",
  "code_verifier",
  "cookie",
  "authorization",
  "secret",
  "apiKey",
];

export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  "req.headers.cookie",
  "req.headers.authorization",
  'res.headers["set-cookie"]',
];

export function createLog(level: string, destination?: pino.DestinationStream): Log {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      // Every line logged while serving a request names it (server/http/request-log.ts).
      mixin: () => {
        const requestId = requestContext.getStore();
        return requestId ? { requestId } : {};
      },
    },
    destination,
  );
}
