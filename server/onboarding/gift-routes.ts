// POST /api/gift-certificates: the operator's way to make gift certificates
// while the server runs (the CLI, `npm run gift -- create`, opens the database
// itself, which the embedded database allows one process at a time). Bearer
// OPS_TOKEN only (404 when it is unset). Like the CLI, it shows the codes once:
// only their hashes are stored, and they are never logged.
import { Router } from "express";
import { z } from "zod";
import { PLAN_NAMES } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import type { ApiRoute } from "../http/openapi.ts";
import { requireOpsToken } from "../http/ops-auth.ts";
import { parseBody } from "../http/validate.ts";
import { createCertificates } from "./gift-service.ts";

// One answer stays small; the CLI makes bigger batches.
const createBody = z.strictObject({
  plan: z.enum(PLAN_NAMES),
  for: z.string().trim().min(1, "is required: who the certificates are for").max(200),
  count: z.number().int().min(1).max(100).default(1),
});
const createAnswer = z.strictObject({ plan: z.enum(PLAN_NAMES), createdFor: z.string(), codes: z.array(z.string()) });

export function giftRoutes(deps: Deps): Router {
  const r = Router();
  r.post("/api/gift-certificates", requireOpsToken(deps), async (req, res) => {
    const body = parseBody(createBody, req);
    const codes = await createCertificates(deps.db, { plan: body.plan, createdFor: body.for, count: body.count, now: deps.clock.now() });
    deps.log.info({ plan: body.plan, count: codes.length }, "Gift certificates created");
    res.setHeader("Cache-Control", "no-store");
    res.status(201).json({ plan: body.plan, createdFor: body.for, codes });
  });
  return r;
}

/** The contract of this route (server/http/contract.ts). */
export const giftApi: ApiRoute[] = [
  {
    method: "post", path: "/api/gift-certificates", tag: "operator", auth: "operator", summary: "Create gift certificates (codes shown once)", body: createBody,
    description: "The same as `npm run gift -- create`, usable while the server runs. 404 when OPS_TOKEN is unset.",
    responses: { 201: { description: "The new codes; only their hashes are stored", schema: createAnswer } },
  },
];
