// Known devices for the login limit (OWASP "device cookies"). After a
// successful login the browser gets a signed cookie naming the account; a
// login attempt that carries one for the account it tries is counted in that
// device's own bucket instead of the account's. So a stranger who fails on
// purpose locks out only unknown browsers, while the owner's browser still gets
// in — and a stolen device cookie still allows only 10 guesses per 15 minutes.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";
import type { Config } from "../config.ts";

export const DEVICE_COOKIE = "aiq.device";
const MAX_AGE_MS = 180 * 24 * 60 * 60 * 1000;
// Sent only where it is read.
const PATH = "/api/auth";

function signer(secret: string): (payload: string) => Buffer {
  const key = createHmac("sha256", secret).update("agencyiq:login-device:v1").digest();
  return (payload) => createHmac("sha256", key).update(payload).digest();
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The device id when the request carries a valid device cookie for `userId`. */
export function knownDevice(req: Request, config: Config, userId: number | undefined): string | undefined {
  const value = readCookie(req, DEVICE_COOKIE);
  if (userId === undefined || !value) return undefined;
  const [user, device, mac] = value.split(".");
  if (user !== String(userId) || !device || !mac || !/^[A-Za-z0-9_-]{22}$/.test(device)) return undefined;
  const expected = signer(config.session.secret)(`${user}.${device}`);
  const given = Buffer.from(mac, "base64url");
  return given.length === expected.length && timingSafeEqual(given, expected) ? device : undefined;
}

/** Marks this browser as a known device of the account (after a successful login). */
export function rememberDevice(req: Request, res: Response, config: Config, userId: number): void {
  const device = knownDevice(req, config, userId) ?? randomBytes(16).toString("base64url");
  const mac = signer(config.session.secret)(`${userId}.${device}`).toString("base64url");
  res.cookie(DEVICE_COOKIE, `${userId}.${device}.${mac}`, {
    httpOnly: true,
    sameSite: "lax",
    secure: config.session.secureCookie,
    maxAge: MAX_AGE_MS,
    path: PATH,
  });
}
