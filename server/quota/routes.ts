// Quota HTTP: the usage endpoints for the logged-in user, and the operator's
// POST /api/cycle-notify. Rules live in usage.ts / notify.ts.
import { Router } from "express";
import { z } from "zod";
import { accountOf, requireUser } from "../auth/middleware.ts";
import type { Deps } from "../deps.ts";
import { parseBody } from "../http/validate.ts";
import { runCycleNotify } from "./notify.ts";
import { requireOpsToken } from "../http/ops-auth.ts";
import { analytics, analyticsSchema, quotaStatus, quotaStatusSchema, subscriptionUsage, usageSchema } from "./usage.ts";
import type { ApiRoute } from "../http/openapi.ts";
import { yearlyAnalytics } from "./yearly.ts";

const emptyBody = z.strictObject({});

export function quotaRoutes(deps: Deps): Router {
  const r = Router();
  const mustBeUser = requireUser(deps);
  const mustBeOperator = requireOpsToken(deps);

  r.get("/api/subscription-usage", mustBeUser, async (req, res) => {
    res.json(await subscriptionUsage(deps, accountOf(req), deps.clock.now()));
  });
  r.get("/api/quota-status", mustBeUser, async (req, res) => {
    res.json(await quotaStatus(deps, accountOf(req), deps.clock.now()));
  });
  r.get("/api/yearly-analytics", mustBeUser, async (req, res) => {
    res.json(await yearlyAnalytics(deps, accountOf(req), deps.clock.now()));
  });
  r.get("/api/analytics", mustBeUser, async (req, res) => {
    res.json(await analytics(deps, accountOf(req), deps.clock.now()));
  });

  r.post("/api/cycle-notify", mustBeOperator, async (req, res) => {
    parseBody(emptyBody, req);
    const result = await runCycleNotify(deps, deps.clock.now());
    res.json({ due: result.due, sent: result.sent, alreadySent: result.alreadySent, failed: result.failed });
  });
  return r;
}

/** The contract of these routes (server/http/contract.ts). */
export const quotaApi: ApiRoute[] = [
  { method: "get", path: "/api/subscription-usage", tag: "quota", auth: "session", summary: "The current cycle's allocation and use", responses: { 200: { description: "Usage", schema: usageSchema } } },
  { method: "get", path: "/api/quota-status", tag: "quota", auth: "session", summary: "Whether the user may post now", responses: { 200: { description: "Quota", schema: quotaStatusSchema } } },
  {
    method: "get", path: "/api/yearly-analytics", tag: "quota", auth: "session", summary: "This year's totals against the plan's yearly targets, and a projection",
    responses: { 200: { description: "Year to date", schema: z.looseObject({ yearToDate: z.looseObject({ totalPosts: z.number() }), yearEndProjection: z.looseObject({ posts: z.number() }) }) } },
  },
  { method: "get", path: "/api/analytics", tag: "quota", auth: "session", summary: "Reach and engagement of published posts", responses: { 200: { description: "Totals and per platform", schema: analyticsSchema } } },
  {
    method: "post", path: "/api/cycle-notify", tag: "operator", auth: "operator", summary: "Send the cycle-ending e-mails now", body: emptyBody,
    description: "404 when OPS_TOKEN is unset.",
    responses: {
      200: { description: "What was sent", schema: z.strictObject({ due: z.number().int(), sent: z.number().int(), alreadySent: z.number().int(), failed: z.number().int() }) },
    },
  },
];
