// Content HTTP: POST /api/generate-strategic-content (CLIENT.md §4).
import { Router } from "express";
import { z } from "zod";
import { PLATFORMS, type Platform } from "../../shared/schema.ts";
import { accountOf, requireUser } from "../auth/middleware.ts";
import type { Deps } from "../deps.ts";
import { tooManyRequests } from "../http/errors.ts";
import { consume } from "../http/rate-limit.ts";
import { parseBody } from "../http/validate.ts";
import { parsePlatform } from "../platforms/registry.ts";
import { generateStrategicContent } from "./generate.ts";
import type { ApiRoute } from "../http/openapi.ts";

// The client sends {brandPurpose, totalPosts: 30, platforms: [all 5], resetQuota: true} whatever the plan:
// the stored brand purpose and the plan's allocation decide; `platforms` only narrows the connected ones.
const body = z.object({
  brandPurpose: z.unknown().optional(),
  totalPosts: z.number().int().min(0).max(1000).optional(),
  resetQuota: z.boolean().optional(),
  platforms: z.array(z.string().max(40)).max(20).optional(),
});

// Each generation may call a paid model with a whole month of slots.
const GENERATE_LIMIT = { max: 20, windowMs: 60 * 60_000 };

export function contentRoutes(deps: Deps): Router {
  const r = Router();
  r.post("/api/generate-strategic-content", requireUser(deps), async (req, res) => {
    const b = parseBody(body, req);
    const account = accountOf(req);
    if (!(await consume(deps.db, { bucket: `generate-content:${account.id}`, ...GENERATE_LIMIT }, deps.clock.now()))) {
      throw tooManyRequests("Too many generations this hour; try again later", 3600);
    }
    const requested = new Set<Platform>(b.platforms ? b.platforms.map(parsePlatform).filter((p): p is Platform => Boolean(p)) : PLATFORMS);
    res.json(await generateStrategicContent(deps, account, requested));
  });
  return r;
}

/** The contract of this route (server/http/contract.ts). */
export const contentApi: ApiRoute[] = [
  {
    method: "post", path: "/api/generate-strategic-content", tag: "content", auth: "session", summary: "Write the cycle's draft posts from the brand purpose", body, errors: [409, 429],
    responses: {
      200: {
        description: "Drafts created (replacing untouched generated drafts)",
        schema: z.looseObject({ savedCount: z.number().int(), replacedCount: z.number().int(), generator: z.string(), message: z.string() }),
      },
    },
  },
];
