// Connection checks the React client calls beyond API.md (CLIENT.md §7, §9):
// /token-status's GET /api/validate-tokens, /oauth-reconnect's POST
// /api/test-connection, and the Facebook permission fix's reconnect URL.
// Each check is the connection check run now (verify.ts); nothing is published.
import { Router } from "express";
import { z } from "zod";
import type { ApiRoute } from "../http/openapi.ts";
import { PLATFORMS } from "../../shared/schema.ts";
import { accountOf, requireUser } from "../auth/middleware.ts";
import type { Deps } from "../deps.ts";
import { HttpError } from "../http/errors.ts";
import { parseBody } from "../http/validate.ts";
import { platformName } from "./routes.ts";
import { limitConnectionChecks, summarizeVerdicts, verifyConnections } from "./verify.ts";

const testBody = z.strictObject({ platform: platformName });

export function clientConnectionRoutes(deps: Deps): Router {
  const r = Router();
  const mustBeUser = requireUser(deps);

  r.get("/api/validate-tokens", mustBeUser, async (req, res) => {
    const userId = accountOf(req).id;
    await limitConnectionChecks(deps, userId);
    // All five, so the page can show what is not connected as well.
    const verdicts = await verifyConnections(deps, userId, { platforms: [...PLATFORMS], validate: true });
    const validationResults = Object.fromEntries(
      verdicts.map((v) => [v.platform, { valid: v.valid, needsReconnection: v.needsReconnection, ...(v.error ? { error: v.error } : {}) }]),
    );
    res.json({ success: true, validationResults, summary: summarizeVerdicts(verdicts) });
  });

  r.post("/api/test-connection", mustBeUser, async (req, res) => {
    const { platform } = parseBody(testBody, req);
    const userId = accountOf(req).id;
    await limitConnectionChecks(deps, userId);
    const [v] = await verifyConnections(deps, userId, { platforms: [platform], validate: true });
    if (!v!.connected) throw new HttpError(404, "not_connected", v!.error!, { success: false, platform, needsReconnection: true });
    const name = deps.platforms[platform].displayName;
    res.json({
      success: v!.valid,
      platform,
      valid: v!.valid,
      needsReconnection: v!.needsReconnection,
      message: v!.valid ? `${name} is connected and working` : v!.error!,
    });
  });

  // The /schedule page's "Fix Facebook Permissions" opens this URL in a popup: a forced new consent.
  r.get("/api/reconnect/facebook", mustBeUser, (_req, res) => {
    res.json({ success: true, authUrl: "/api/auth/facebook?force_reauth=true" });
  });

  return r;
}

/** The contract of these routes (server/http/contract.ts). */
export const clientConnectionsApi: ApiRoute[] = [
  {
    method: "get", path: "/api/validate-tokens", tag: "connections", auth: "session", summary: "Check every platform's token with the platform now", errors: [429],
    responses: { 200: { description: "Per platform", schema: z.looseObject({ success: z.literal(true), validationResults: z.record(z.string(), z.looseObject({ valid: z.boolean(), needsReconnection: z.boolean() })) }) } },
  },
  {
    method: "post", path: "/api/test-connection", tag: "connections", auth: "session", summary: "Check one platform's connection with the platform now", body: testBody, errors: [404, 429],
    responses: {
      200: { description: "Whether it works", schema: z.strictObject({ success: z.boolean(), platform: z.string(), valid: z.boolean(), needsReconnection: z.boolean(), message: z.string() }) },
    },
  },
  {
    method: "get", path: "/api/reconnect/facebook", tag: "connections", auth: "session", summary: "Where to open Facebook's forced re-consent",
    responses: { 200: { description: "The start URL", schema: z.strictObject({ success: z.literal(true), authUrl: z.string() }) } },
  },
];
