// GET /metrics through prom-client. Three kinds of numbers:
// - this process's: prom-client's default process metrics, token refreshes and
//   runner attempts counted as they happen (per process, as Prometheus expects of
//   counters scraped from each instance);
// - this app's: the HTTP request duration histogram by method, route and status;
// - the database's: publishing, connection and queue-lag families read from
//   PostgreSQL at scrape time, so every process reports the same truth.
// Operator-only: Bearer OPS_TOKEN, or open in development when no OPS_TOKEN is set.
import { Router, type RequestHandler } from "express";
import { sql } from "drizzle-orm";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Platform } from "../../shared/schema.ts";
import { rowsOf } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { requireOpsToken } from "../http/ops-auth.ts";
import type { ApiRoute } from "../http/openapi.ts";

const processRegistry = new Registry();
collectDefaultMetrics({ register: processRegistry });

export type RefreshOutcome = "refreshed" | "failed" | "needs_reconnect";
const refreshes = new Counter({
  name: "agencyiq_token_refreshes_total",
  help: "Token refresh attempts by this process, by platform and outcome.",
  labelNames: ["platform", "outcome"] as const,
  registers: [processRegistry],
});
const runnerAttempts = new Counter({
  name: "agencyiq_runner_attempts_total",
  help: "Publish attempts finished by this process's runner, by platform and outcome (published, failed, retry, unknown, paused, crashed).",
  labelNames: ["platform", "outcome"] as const,
  registers: [processRegistry],
});

/** Called by the token manager after each refresh attempt's outcome is stored. */
export function countRefresh(platform: Platform, outcome: RefreshOutcome): void {
  refreshes.inc({ platform, outcome });
}

/** Called by the publishing runner for each attempt it finishes. */
export function countRunnerAttempt(platform: Platform, outcome: string): void {
  runnerAttempts.inc({ platform, outcome });
}

const analyticsFailures = new Counter({
  name: "agencyiq_analytics_failures_total",
  help: "Analytics fetches a platform refused, by this process, by platform and error code.",
  labelNames: ["platform", "code"] as const,
  registers: [processRegistry],
});

/** Called when a platform refuses a post's figures (retired metric, missing insights permission…). */
export function countAnalyticsFailure(platform: Platform, code: string): void {
  analyticsFailures.inc({ platform, code });
}

type Row = { platform: string; key: string; n: number };

/** The families read from PostgreSQL at scrape time, registered in this app's registry. */
function databaseFamilies(deps: Deps, registers: Registry[]): void {
  const grouped = async (query: ReturnType<typeof sql>): Promise<Row[]> => rowsOf(await deps.db.execute(query));
  new Counter({
    name: "agencyiq_publish_attempts_total",
    help: "Publish attempts recorded in post_logs, by platform and outcome.",
    labelNames: ["platform", "outcome"] as const,
    registers,
    async collect() {
      const rows = await grouped(sql`select platform::text, status as key, count(*)::int as n from post_logs group by 1, 2 order by 1, 2`);
      this.reset();
      for (const r of rows) this.inc({ platform: r.platform, outcome: r.key }, r.n);
    },
  });
  // Counts by platform and status, set afresh at each scrape (a label set that vanished is dropped).
  const byPlatformAndStatus = (name: string, help: string, query: ReturnType<typeof sql>) =>
    new Gauge({
      name,
      help,
      labelNames: ["platform", "status"] as const,
      registers,
      async collect() {
        const rows = await grouped(query);
        this.reset();
        for (const r of rows) this.set({ platform: r.platform, status: r.key }, r.n);
      },
    });
  byPlatformAndStatus("agencyiq_posts", "Posts by platform and status.", sql`select platform::text, status::text as key, count(*)::int as n from posts group by 1, 2 order by 1, 2`);
  byPlatformAndStatus(
    "agencyiq_connections",
    "Active platform connections by platform and status.",
    sql`select platform::text, status::text as key, count(*)::int as n from platform_connections where is_active group by 1, 2 order by 1, 2`,
  );
  new Gauge({
    name: "agencyiq_publish_queue_lag_seconds",
    help: "How overdue the oldest due approved post is.",
    registers,
    async collect() {
      // Queue lag: how late the most overdue approved post is (0 when nothing is due).
      const now = deps.clock.now();
      const [lag] = rowsOf<{ oldest: Date | string | null }>(
        await deps.db.execute(sql`select min(next_attempt_at) as oldest from posts where status = 'approved' and next_attempt_at <= ${now}`),
      );
      const oldest = lag?.oldest ? new Date(lag.oldest).getTime() : undefined;
      this.set(oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest) / 1000));
    },
  });
  new Gauge({
    name: "agencyiq_platform_paused",
    help: "1 while a platform's breaker is not closed; reason operator:<code> (paused for everyone) or failures.",
    labelNames: ["platform", "reason"] as const,
    registers,
    async collect() {
      const breakers = rowsOf<{ platform: string; state: string; operator_code: string | null }>(
        await deps.db.execute(sql`select platform::text, state, operator_code from platform_health order by 1`),
      );
      this.reset();
      for (const b of breakers.filter((x) => x.state !== "closed")) {
        this.set({ platform: b.platform, reason: b.operator_code ? `operator:${b.operator_code}` : "failures" }, 1);
      }
    },
  });
}

/**
 * The route a request matched, as declared (`/api/posts/:id`), so the label set stays small;
 * anything no route answered (404s, static files) is one label.
 */
function routeLabel(req: Parameters<RequestHandler>[0]): string {
  const path = req.route?.path;
  return typeof path === "string" ? `${req.baseUrl}${path}` : "unmatched";
}

export function metricsRoutes(deps: Deps): Router {
  const appRegistry = new Registry();
  databaseFamilies(deps, [appRegistry]);
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP requests by method, matched route and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [appRegistry],
  });

  const r = Router();
  // Every request that reaches this router (all but the health probes mounted before it).
  r.use((req, res, next) => {
    const end = duration.startTimer();
    res.once("finish", () => end({ method: req.method, route: routeLabel(req), status_code: String(res.statusCode) }));
    next();
  });
  const open = !deps.config.production && !deps.config.opsToken;
  const guard: RequestHandler = open ? (_req, _res, next) => next() : requireOpsToken(deps);
  r.get("/metrics", guard, async (_req, res) => {
    const merged = Registry.merge([processRegistry, appRegistry]);
    res.type(merged.contentType).send(await merged.metrics());
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
