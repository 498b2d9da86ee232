// Operator-only endpoints: `Authorization: Bearer <OPS_TOKEN>`, compared in
// constant time. A session cookie counts for nothing here. Without OPS_TOKEN
// configured the endpoints do not exist (404), so an unset token can never be
// matched by an empty one. Wrong tokens are counted per IP in PostgreSQL
// (all processes): after 20 in an hour the IP is refused with 429.
import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import type { Deps } from "../deps.ts";
import { HttpError, notFound, tooManyRequests } from "./errors.ts";
import { consume, releaseHit } from "./rate-limit.ts";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
const WRONG_TOKENS_PER_HOUR = 20;

export function requireOpsToken(deps: Pick<Deps, "config" | "db" | "clock">): RequestHandler {
  // Hashing both sides gives equal-length buffers, so timingSafeEqual never throws and length leaks nothing.
  const expected = deps.config.opsToken ? digest(deps.config.opsToken) : undefined;
  return async (req, _res, next) => {
    if (!expected) throw notFound("No such API endpoint");
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get("authorization") ?? "");
    if (!match) {
      throw new HttpError(401, "ops_token_required", "An operator token is required (Authorization: Bearer <OPS_TOKEN>)");
    }
    const now = deps.clock.now();
    const bucket = `ops:ip:${req.ip ?? "unknown"}`;
    // Counted before comparing (atomically), given back when right: parallel guesses cannot exceed the limit.
    if (!(await consume(deps.db, { bucket, max: WRONG_TOKENS_PER_HOUR, windowMs: 3_600_000 }, now))) {
      throw tooManyRequests("Too many wrong operator tokens; try again later", 3600);
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      throw new HttpError(403, "ops_token_invalid", "The operator token is not valid");
    }
    await releaseHit(deps.db, bucket);
    next();
  };
}
