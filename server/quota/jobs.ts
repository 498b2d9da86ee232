// The quota timers. Cycle close runs hourly (not just daily) so an ended
// cycle is rolled within the hour even when nobody touches the ledger; every
// use of the ledger also closes it lazily. Cycle notify runs once a day at
// CYCLE_NOTIFY_CRON in CYCLE_NOTIFY_TZ (default 09:00 Australia/Brisbane).
import type { Deps } from "../deps.ts";
import type { Job } from "../jobs/index.ts";
import { closeDueCycles } from "./close.ts";
import { runCycleNotify } from "./notify.ts";

export function quotaJobs(deps: Deps): Job[] {
  return [
    { name: "cycle-close", schedule: "3 * * * *", run: (d) => closeDueCycles(d, d.clock.now()) },
    {
      name: "cycle-notify",
      schedule: deps.config.cycle.notifyCron,
      timezone: deps.config.cycle.notifyTimezone,
      run: (d) => runCycleNotify(d, d.clock.now()),
    },
  ];
}
