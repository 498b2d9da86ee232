// GET /api/queensland-events: a bare array of the next 30 days' events, as the
// schedule page's calendar reads it (CLIENT.md §5). Public data: no login needed.
import { Router } from "express";
import type { Deps } from "../deps.ts";
import { z } from "zod";
import type { ApiRoute } from "../http/openapi.ts";
import { localDate, queenslandEvents } from "./queensland.ts";

export const EVENT_DAYS = 30;

export function eventRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/api/queensland-events", (_req, res) => {
    res.json(queenslandEvents(localDate(deps.clock.now(), "Australia/Brisbane"), EVENT_DAYS));
  });
  return r;
}

/** The contract of this route (server/http/contract.ts). */
export const eventsApi: ApiRoute[] = [
  {
    method: "get", path: "/api/queensland-events", tag: "content", summary: "The next 30 days' Queensland events (public)",
    responses: {
      200: {
        description: "Events by local date",
        schema: z.array(z.strictObject({ date: z.string(), name: z.string(), type: z.enum(["public_holiday", "observance", "business"]), impact: z.enum(["high", "medium", "low"]) })),
      },
    },
  },
];
