// Operator-only endpoints: `Authorization: Bearer <OPS_TOKEN>`, compared in
// constant time. A session cookie counts for nothing here. Without OPS_TOKEN
// configured the endpoints do not exist (404), so an unset token can never be
// matched by an empty one.
import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import type { Config } from "../config.ts";
import { HttpError, notFound } from "../http/errors.ts";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

export function requireOpsToken(config: Pick<Config, "opsToken">): RequestHandler {
  // Hashing both sides gives equal-length buffers, so timingSafeEqual never throws and length leaks nothing.
  const expected = config.opsToken ? digest(config.opsToken) : undefined;
  return (req, _res, next) => {
    if (!expected) throw notFound("No such API endpoint");
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get("authorization") ?? "");
    if (!match) {
      throw new HttpError(401, "ops_token_required", "An operator token is required (Authorization: Bearer <OPS_TOKEN>)");
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      throw new HttpError(403, "ops_token_invalid", "The operator token is not valid");
    }
    next();
  };
}
