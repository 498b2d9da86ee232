// Quota HTTP: the usage endpoints for the logged-in user, and the operator's
// POST /api/cycle-notify. Rules live in usage.ts / notify.ts.
import { Router } from "express";
import { z } from "zod";
import { accountOf, requireUser } from "../auth/middleware.ts";
import type { Deps } from "../deps.ts";
import { parseBody } from "../http/validate.ts";
import { runCycleNotify } from "./notify.ts";
import { requireOpsToken } from "../http/ops-auth.ts";
import { analytics, quotaStatus, subscriptionUsage } from "./usage.ts";
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
