// GET /metrics: Prometheus text. Publishing and connection numbers are read
// from PostgreSQL at scrape time, so every process reports the same truth;
// token refreshes are counted in-process (per process, as Prometheus expects
// of a counter scraped from each instance). Operator-only: Bearer OPS_TOKEN,
// or open in development when no OPS_TOKEN is set.
import { Router, type RequestHandler } from "express";
import { sql } from "drizzle-orm";
import type { Platform } from "../../shared/schema.ts";
import { rowsOf } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { requireOpsToken } from "../http/ops-auth.ts";
import type { ApiRoute } from "../http/openapi.ts";

export type RefreshOutcome = "refreshed" | "failed" | "needs_reconnect";
const refreshes = new Map<string, number>();

/** Called by the token manager after each refresh attempt's outcome is stored. */
export function countRefresh(platform: Platform, outcome: RefreshOutcome): void {
  const key = `${platform}\u0000${outcome}`;
  refreshes.set(key, (refreshes.get(key) ?? 0) + 1);
}

const label = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));

function family(name: string, type: "counter" | "gauge", help: string, samples: Array<[Record<string, string>, number]>): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(",");
    lines.push(`${name}${l ? `{${l}}` : ""} ${value}`);
  }
  return lines.join("\n");
}

async function grouped(deps: Deps, query: ReturnType<typeof sql>): Promise<Array<{ platform: string; key: string; n: number }>> {
  return rowsOf(await deps.db.execute(query));
}

export async function renderMetrics(deps: Deps): Promise<string> {
  const now = deps.clock.now();
  const attempts = await grouped(deps, sql`select platform::text, status as key, count(*)::int as n from post_logs group by 1, 2 order by 1, 2`);
  const posts = await grouped(deps, sql`select platform::text, status::text as key, count(*)::int as n from posts group by 1, 2 order by 1, 2`);
  const connections = await grouped(
    deps,
    sql`select platform::text, status::text as key, count(*)::int as n from platform_connections where is_active group by 1, 2 order by 1, 2`,
  );
  // Queue lag: how late the most overdue approved post is (0 when nothing is due).
  const [lag] = rowsOf<{ oldest: Date | string | null }>(
    await deps.db.execute(sql`select min(next_attempt_at) as oldest from posts where status = 'approved' and next_attempt_at <= ${now}`),
  );
  const oldest = lag?.oldest ? new Date(lag.oldest).getTime() : undefined;
  return (
    [
      family("agencyiq_publish_attempts_total", "counter", "Publish attempts recorded in post_logs, by platform and outcome.",
        attempts.map((r) => [{ platform: r.platform, outcome: r.key }, r.n])),
      family("agencyiq_posts", "gauge", "Posts by platform and status.", posts.map((r) => [{ platform: r.platform, status: r.key }, r.n])),
      family("agencyiq_connections", "gauge", "Active platform connections by platform and status.",
        connections.map((r) => [{ platform: r.platform, status: r.key }, r.n])),
      family("agencyiq_token_refreshes_total", "counter", "Token refresh attempts by this process, by platform and outcome.",
        [...refreshes].map(([k, n]) => {
          const [platform, outcome] = k.split("\u0000");
          return [{ platform: platform!, outcome: outcome! }, n];
        })),
      family("agencyiq_publish_queue_lag_seconds", "gauge", "How overdue the oldest due approved post is.",
        [[{}, oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest) / 1000)]]),
    ].join("\n") + "\n"
  );
}

export function metricsRoutes(deps: Deps): Router {
  const r = Router();
  const open = !deps.config.production && !deps.config.opsToken;
  const guard: RequestHandler = open ? (_req, _res, next) => next() : requireOpsToken(deps);
  r.get("/metrics", guard, async (_req, res) => {
    res.type("text/plain; version=0.0.4").send(await renderMetrics(deps));
  });
  return r;
}

/** The contract of this route (server/http/contract.ts). */
export const metricsApi: ApiRoute[] = [
  {
    method: "get", path: "/metrics", tag: "operator", auth: "operator", summary: "Prometheus metrics",
    description: "Open in development when OPS_TOKEN is unset; otherwise Bearer OPS_TOKEN.",
    responses: { 200: { description: "Prometheus text exposition", contentType: "text/plain" } },
  },
];
