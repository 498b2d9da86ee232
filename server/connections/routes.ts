// The connections endpoints of API.md. No token ever reaches a response:
// rows go through format.ts.
import { Router } from "express";
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { accountOf, requireUser } from "../auth/middleware.ts";
import { HttpError } from "../http/errors.ts";
import { parseBody } from "../http/validate.ts";
import { parsePlatform } from "../platforms/registry.ts";
import { platformParam, platformPathSchema } from "./platform-param.ts";
import { connectionSchema, formatConnection, formatOauthStatus, oauthStatusRowSchema } from "./format.ts";
import { successOnly, type ApiRoute } from "../http/openapi.ts";
import { disconnect, listConnections } from "./service.ts";

/** A platform named in a body (`twitter` = `x`), or a 400 naming the accepted values. */
export const platformName = z.string().transform((v, ctx) => {
  const p = parsePlatform(v);
  if (!p) {
    ctx.addIssue({ code: "custom", message: "must be one of facebook, instagram, linkedin, x (twitter), youtube" });
    return z.NEVER;
  }
  return p;
});
const disconnectBody = z.strictObject({ platform: platformName });

export function connectionRoutes(deps: Deps): Router {
  const r = Router();
  const mustBeUser = requireUser(deps);
  const margin = deps.config.tokens.refreshMarginMs;

  r.get("/api/platform-connections", mustBeUser, async (req, res) => {
    const now = deps.clock.now();
    const rows = await listConnections(deps, accountOf(req).id);
    res.json(rows.map((row) => formatConnection(row, now, margin)));
  });

  r.get("/api/oauth-status", mustBeUser, async (req, res) => {
    const now = deps.clock.now();
    const rows = await listConnections(deps, accountOf(req).id);
    res.json({ connections: rows.map((row) => formatOauthStatus(row, now, margin)) });
  });

  r.post("/api/disconnect-platform", mustBeUser, async (req, res) => {
    const { platform } = parseBody(disconnectBody, req);
    if (!(await disconnect(deps, accountOf(req).id, platform))) {
      throw new HttpError(404, "not_connected", `${platform} is not connected`);
    }
    res.json({ success: true });
  });

  r.delete("/api/platform-connections/:platform", mustBeUser, async (req, res) => {
    const platform = platformParam(req);
    if (!(await disconnect(deps, accountOf(req).id, platform))) {
      throw new HttpError(404, "not_connected", `${platform} is not connected`);
    }
    res.json({ message: `${deps.platforms[platform].displayName} disconnected` });
  });

  return r;
}

/** The contract of these routes (server/http/contract.ts). */
export const connectionsApi: ApiRoute[] = [
  {
    method: "get", path: "/api/platform-connections", tag: "connections", auth: "session", summary: "The user's platform connections (never a token)",
    responses: { 200: { description: "Connections", schema: z.array(connectionSchema) } },
  },
  {
    method: "get", path: "/api/oauth-status", tag: "connections", auth: "session", summary: "Token status per connection",
    responses: { 200: { description: "Status", schema: z.strictObject({ connections: z.array(oauthStatusRowSchema) }) } },
  },
  {
    method: "post", path: "/api/disconnect-platform", tag: "connections", auth: "session", summary: "Disconnect a platform (tokens revoked where possible)", body: disconnectBody, errors: [404],
    responses: { 200: { description: "Disconnected", schema: successOnly } },
  },
  {
    method: "delete", path: "/api/platform-connections/:platform", tag: "connections", auth: "session", summary: "Disconnect a platform", params: platformPathSchema, errors: [404],
    responses: { 200: { description: "Disconnected", schema: z.strictObject({ message: z.string() }) } },
  },
];
