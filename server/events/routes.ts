// GET /api/queensland-events: a bare array of the next 30 days' events, as the
// schedule page's calendar reads it (CLIENT.md §5). Public data: no login needed.
import { Router } from "express";
import type { Deps } from "../deps.ts";
import { localDate, queenslandEvents } from "./queensland.ts";

export const EVENT_DAYS = 30;

export function eventRoutes(deps: Deps): Router {
  const r = Router();
  r.get("/api/queensland-events", (_req, res) => {
    res.json(queenslandEvents(localDate(deps.clock.now(), "Australia/Brisbane"), EVENT_DAYS));
  });
  return r;
}
