// The publishing timers: the runner (every RUNNER_INTERVAL_SECONDS) and the
// analytics fetch (every ANALYTICS_INTERVAL_MINUTES).
import type { Deps } from "../deps.ts";
import type { Job } from "../jobs/index.ts";
import { refreshAnalytics } from "./analytics.ts";
import { publishRunner } from "./runner.ts";

/** node-cron expression for "every n seconds" (n ≥ 60 rounds to whole minutes). */
export function everySeconds(n: number): string {
  if (n < 60) return `*/${Math.max(1, n)} * * * * *`;
  const minutes = Math.max(1, Math.round(n / 60));
  return minutes === 1 ? "* * * * *" : `*/${minutes} * * * *`;
}

export function postJobs(deps: Deps): Job[] {
  const m = deps.config.jobs.analyticsMinutes;
  return [
    { name: "publish-runner", schedule: everySeconds(deps.config.jobs.runnerSeconds), run: (d) => publishRunner(d).tick() },
    { name: "post-analytics", schedule: m < 60 ? `*/${m} * * * *` : `0 */${Math.max(1, Math.round(m / 60))} * * *`, run: (d) => refreshAnalytics(d) },
  ];
}
