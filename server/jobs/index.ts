// Registers every in-process timer with node-cron and stops them. Each job is
// safe to run in several processes at once: coordination is in PostgreSQL.
import cron, { type ScheduledTask } from "node-cron";
import { ConfigError } from "../config.ts";
import type { Deps } from "../deps.ts";
import { safeError } from "../http/errors.ts";
import { pruneHits } from "../http/rate-limit.ts";
import { pruneOauthStates } from "../connections/state-store.ts";
import { pruneStripeEvents } from "../billing/events.ts";
import { quotaJobs } from "../quota/jobs.ts";
import { postJobs } from "../posts/jobs.ts";
import { connectionCheckJobs } from "../connections/connection-check.ts";

export interface Job {
  name: string;
  /** A cron expression (node-cron: optional seconds field first). */
  schedule: string;
  timezone?: string;
  run(deps: Deps): Promise<unknown>;
}

/** Every timer of the product; domains add theirs here. JOB_SCHEDULES may override a job's schedule by name. */
export function allJobs(deps: Deps): Job[] {
  const jobs: Job[] = [
    { name: "prune-rate-limits", schedule: "17 * * * *", run: (d) => pruneHits(d.db, d.clock.now()) },
    { name: "prune-oauth-states", schedule: "23 * * * *", run: (d) => pruneOauthStates(d.db, d.clock.now()) },
    { name: "prune-stripe-events", schedule: "41 3 * * *", run: (d) => pruneStripeEvents(d.db, d.clock.now()) },
    ...quotaJobs(deps),
    ...postJobs(deps),
    ...connectionCheckJobs(deps),
  ];
  const overrides = deps.config.jobs.scheduleOverrides;
  const unknown = Object.keys(overrides).filter((name) => !jobs.some((j) => j.name === name));
  if (unknown.length) throw new ConfigError(`Invalid configuration:\n  - JOB_SCHEDULES: no job named ${unknown.join(", ")} (jobs: ${jobs.map((j) => j.name).join(", ")})`);
  return jobs.map((j) => (overrides[j.name] ? { ...j, schedule: overrides[j.name]! } : j));
}

export interface RunningJobs {
  stop(): Promise<void>;
}

export function startJobs(deps: Deps, jobs: Job[]): RunningJobs {
  const inFlight = new Set<Promise<unknown>>();
  const tasks: ScheduledTask[] = jobs.map((job) =>
    cron.schedule(
      job.schedule,
      async () => {
        const p = job.run(deps).catch((err) => deps.log.error({ error: safeError(err), job: job.name }, "Job failed"));
        inFlight.add(p);
        await p.finally(() => inFlight.delete(p));
      },
      { name: job.name, timezone: job.timezone, noOverlap: true },
    ),
  );
  return {
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
      await Promise.allSettled([...inFlight]);
    },
  };
}
