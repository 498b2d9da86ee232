import type { Request } from "express";
import { z } from "zod";
import { PLATFORMS, type Platform } from "../../shared/schema.ts";
import { HttpError } from "../http/errors.ts";
import { parsePlatform } from "../platforms/registry.ts";

/** The `:platform` of a route (`twitter` = `x`), or a 404 naming the accepted values. */
export function platformParam(req: Request): Platform {
  const p = parsePlatform(String(req.params.platform ?? ""));
  if (!p) throw new HttpError(404, "unknown_platform", "Unknown platform: use facebook, instagram, linkedin, x (twitter) or youtube");
  return p;
}

/** The `:platform` parameter as the contract documents it. */
export const platformPathSchema = z.object({ platform: z.enum([...PLATFORMS, "twitter"]) });
