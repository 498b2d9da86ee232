// Connection checks the React client calls beyond API.md (CLIENT.md §7, §9):
// /token-status's GET /api/validate-tokens, /oauth-reconnect's POST
// /api/test-connection, and the Facebook permission fix's reconnect URL.
// Each check is the connection check run now (verify.ts); nothing is published.
import { Router } from "express";
import { z } from "zod";
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
