// GET /api/check-connection and POST /api/platform-connections/:platform/refresh:
// the user asks now what the connection check does every few minutes.
// Both call the platforms, so they are limited per user.
import { Router } from "express";
import type { PlatformConnection } from "../../shared/schema.ts";
import { accountOf, requireUser } from "../auth/middleware.ts";
import type { Deps } from "../deps.ts";
import { HttpError } from "../http/errors.ts";
import { limitConnectionChecks } from "./verify.ts";
import { sameOriginOnly } from "../http/security.ts";
import { platformParam, platformPathSchema } from "./platform-param.ts";
import { z } from "zod";
import type { ApiRoute } from "../http/openapi.ts";
import { checkConnection, checkUserConnections } from "./connection-check.ts";
import { connectionSchema, formatConnection } from "./format.ts";
import { findActiveConnection, listConnections } from "./service.ts";
import { refreshConnection } from "./token-manager.ts";


const reconnect = (code: string, message: string) => new HttpError(409, code, message, { success: false, requiresReconnection: true });

export function checkRoutes(deps: Deps): Router {
  const r = Router();
  const mustBeUser = requireUser(deps);
  const margin = deps.config.tokens.refreshMarginMs;

  const limit = (userId: number) => limitConnectionChecks(deps, userId);

  // A GET with effect (it calls the platforms and may refresh tokens): never from another site.
  r.get("/api/check-connection", sameOriginOnly(deps.config.publicOrigin), mustBeUser, async (req, res) => {
    const userId = accountOf(req).id;
    await limit(userId);
    const { result, needsReconnect } = await checkUserConnections(deps, userId);
    const now = deps.clock.now();
    const rows = await listConnections(deps, userId);
    res.json({
      checked: result.checked,
      refreshed: result.refreshed,
      needsReconnect,
      connections: rows.map((row) => formatConnection(row, now, margin)),
    });
  });

  r.post("/api/platform-connections/:platform/refresh", mustBeUser, async (req, res) => {
    const platform = platformParam(req);
    const userId = accountOf(req).id;
    const name = deps.platforms[platform].displayName;
    const row = await findActiveConnection(deps, userId, platform);
    if (!row) throw new HttpError(404, "not_connected", `${name} is not connected`, { success: false, requiresReconnection: true });
    if (row.status === "needs_reconnect") throw reconnect("needs_reconnect", `${name} needs to be reconnected: ${row.lastError ?? "the access was refused"}`);
    await limit(userId);

    let after: PlatformConnection;
    let message: string;
    if (row.refreshToken) {
      const r = await refreshConnection(deps, row.id, { seenAccessToken: row.accessToken, force: true });
      if (r.kind === "gone") throw new HttpError(404, "not_connected", `${name} is not connected`, { success: false, requiresReconnection: true });
      if (r.kind === "needs_reconnect") throw reconnect("needs_reconnect", `${name} needs to be reconnected: ${r.message}`);
      if (r.kind === "failed") {
        throw new HttpError(503, "refresh_failed", `${name} could not renew the access right now; it will be retried automatically`, {
          success: false,
          requiresReconnection: false,
          retryAt: r.retryAt,
        });
      }
      after = r.connection;
      message = `${name} access renewed`;
    } else {
      // Nothing to renew (Facebook and Instagram Page tokens): prove the token still works instead.
      const { outcome } = await checkConnection(deps, row, { forceValidate: true });
      const [current] = await listConnections(deps, userId).then((rows) => rows.filter((x) => x.platform === platform));
      if (outcome === "needs_reconnect" || current?.status === "needs_reconnect") {
        throw reconnect("needs_reconnect", `${name} needs to be reconnected: ${current?.lastError ?? "the access was refused"}`);
      }
      if (outcome === "failed") {
        throw new HttpError(503, "check_failed", `${name} could not be reached right now; it will be retried automatically`, { success: false, requiresReconnection: false });
      }
      after = current ?? row;
      message = `${name} access works and does not need renewing`;
    }
    res.json({ success: true, connection: formatConnection(after, deps.clock.now(), margin), message });
  });

  return r;
}

/** The contract of these routes (server/http/contract.ts). */
export const checkApi: ApiRoute[] = [
  {
    method: "get", path: "/api/check-connection", tag: "connections", auth: "session", summary: "Check (and renew where due) every connection now", errors: [429],
    responses: {
      200: {
        description: "What was checked",
        schema: z.strictObject({ checked: z.number().int(), refreshed: z.number().int(), needsReconnect: z.array(z.string()), connections: z.array(connectionSchema) }),
      },
    },
  },
  {
    method: "post", path: "/api/platform-connections/:platform/refresh", tag: "connections", auth: "session", summary: "Renew a platform's access now", params: platformPathSchema, errors: [404, 409, 429, 503],
    responses: { 200: { description: "Renewed or proven to work", schema: z.strictObject({ success: z.literal(true), connection: connectionSchema, message: z.string() }) } },
  },
];
