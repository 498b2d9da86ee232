// Cycle notify: once a day (CYCLE_NOTIFY_CRON in CYCLE_NOTIFY_TZ), every user
// whose cycle ends within the next 24 hours gets one email inviting them to
// approve or edit the next cycle's schedule.
//
// Exactly one email per user per cycle across processes and ticks, through
// sendEmailOnce (notify/once.ts) with a dedupe key naming the cycle; a failed
// send frees the slot so a later tick or POST /api/cycle-notify retries.
import { sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import { rowsOf, type Db } from "../db/index.ts";
import { userLabel, type Log } from "../log.ts";
import type { Mailer } from "../notify/email.ts";
import { sendEmailOnce } from "../notify/once.ts";
import { cycleAt, cycleLengthMs, type Cycle } from "./cycle.ts";

export const CYCLE_NOTIFY_KIND = "cycle_notify";
const WINDOW_MS = 24 * 60 * 60 * 1000;

export interface NotifyDeps {
  db: Db;
  config: Pick<Config, "cycle" | "publicUrl">;
  log: Log;
  mailer: Mailer;
}

export interface NotifyResult {
  /** Users whose cycle ends within the next day. */
  due: number;
  sent: number;
  /** Already notified for this cycle (by this or another process). */
  alreadySent: number;
  failed: number;
}

interface Candidate {
  id: number;
  email: string;
  phone: string | null;
  subscription_start: Date | string;
}

/** Active users whose current cycle ends in (now, now + 24h]. */
async function dueUsers(deps: NotifyDeps, now: Date): Promise<{ user: Candidate; cycle: Cycle }[]> {
  const lengthMs = cycleLengthMs(deps.config);
  const nowIso = now.toISOString();
  const lengthS = lengthMs / 1000;
  // The SQL narrows by the same arithmetic as cycleAt; the JS check below is the authority.
  const rows = rowsOf<Candidate>(
    await deps.db.execute(sql`
      select id, email, phone, subscription_start from users
      where subscription_active and subscription_start is not null and subscription_start <= ${nowIso}::timestamptz
        and extract(epoch from subscription_start)
            + (floor((extract(epoch from ${nowIso}::timestamptz) - extract(epoch from subscription_start)) / ${lengthS}) + 1) * ${lengthS}
            - extract(epoch from ${nowIso}::timestamptz) <= ${WINDOW_MS / 1000 + 1}
      order by id`),
  );
  return rows
    .map((user) => ({ user, cycle: cycleAt(new Date(user.subscription_start), now, lengthMs) }))
    .filter(({ cycle }) => cycle.end.getTime() - now.getTime() <= WINDOW_MS && cycle.end.getTime() > now.getTime());
}

function message(deps: NotifyDeps, cycle: Cycle) {
  const when = new Intl.DateTimeFormat("en-AU", {
    dateStyle: "full",
    timeStyle: "short",
    timeZone: deps.config.cycle.notifyTimezone,
  }).format(cycle.end);
  return {
    subject: "Your next AgencyIQ cycle starts tomorrow — review your schedule",
    text:
      `Your current ${deps.config.cycle.days}-day posting cycle ends on ${when}.\n\n` +
      `Please approve or edit the posts scheduled for your next cycle:\n${deps.config.publicUrl}/schedule\n\n` +
      `— AgencyIQ`,
  };
}

export async function runCycleNotify(deps: NotifyDeps, now: Date): Promise<NotifyResult> {
  const due = await dueUsers(deps, now);
  const result: NotifyResult = { due: due.length, sent: 0, alreadySent: 0, failed: 0 };
  for (const { user, cycle } of due) {
    const outcome = await sendEmailOnce(deps, {
      userId: user.id,
      kind: CYCLE_NOTIFY_KIND,
      dedupeKey: `cycle:${cycle.start.toISOString()}`,
      at: now,
      message: { to: user.email, ...message(deps, cycle) },
      failureNote: "Cycle notify email failed; will retry on the next run",
    });
    if (outcome === "already_sent") result.alreadySent += 1;
    else if (outcome === "failed") result.failed += 1;
    else {
      result.sent += 1;
      deps.log.info({ userId: user.id, cycleEnd: cycle.end }, `Cycle notify ${userLabel(user.phone, user.id)}`);
    }
  }
  return result;
}
