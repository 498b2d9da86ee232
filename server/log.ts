// The one logger. Redaction is by path so a token, code, password or cookie
// never reaches a log line even when a whole object is logged by mistake.
import pino, { type Logger } from "pino";

export type Log = Logger;

const SECRET_KEYS = [
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
  return pino({ level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, destination);
}
