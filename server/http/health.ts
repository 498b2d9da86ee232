import { Router } from "express";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Deps } from "../deps.ts";
import { MIGRATIONS_FOLDER, migrationsApplied } from "../db/migrate.ts";
import { z } from "zod";
import type { ApiRoute } from "./openapi.ts";

const expectedMigrations = (
  JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as { entries: unknown[] }
).entries.length;

export function healthRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get("/readyz", async (_req, res) => {
    try {
      const ready = await migrationsApplied(deps.database, expectedMigrations);
      res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "migrations_pending" });
    } catch {
      res.status(503).json({ status: "database_unavailable" });
    }
  });
  return r;
}

/** The contract of these routes (server/http/contract.ts). */
export const healthApi: ApiRoute[] = [
  { method: "get", path: "/healthz", tag: "operator", summary: "Liveness: the process answers", responses: { 200: { description: "Alive", schema: z.strictObject({ status: z.literal("ok") }) } } },
  {
    method: "get", path: "/readyz", tag: "operator", summary: "Readiness: the database answers and every migration is applied",
    responses: {
      200: { description: "Ready", schema: z.strictObject({ status: z.literal("ready") }) },
      503: { description: "Not ready", schema: z.strictObject({ status: z.enum(["migrations_pending", "database_unavailable"]) }) },
    },
  },
];
