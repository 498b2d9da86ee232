// E-mails sent at most once per (user, kind, dedupe key), across processes and
// ticks: a row in email_notifications (unique user/kind/dedupe_key) is
// inserted first with ON CONFLICT DO NOTHING and only the caller whose insert
// went in sends. If the send then fails, the row is deleted again so a later
// run can retry: a rare duplicate (the mail server accepted the message but
// the call still failed) is preferred to a user who is never told. A crash
// between insert and send loses that one e-mail (at most once).
import { sql } from "drizzle-orm";
import { rowsOf, type DbOrTx } from "../db/index.ts";
import { safeError } from "../http/errors.ts";
import type { Log } from "../log.ts";
import type { EmailMessage, Mailer } from "./email.ts";

export interface OnceDeps {
  db: DbOrTx;
  log: Log;
  mailer: Mailer;
}

export interface OnceEmail {
  userId: number;
  kind: string;
  /** Names what the e-mail is about (a cycle, a connection…): one e-mail per key. */
  dedupeKey: string;
  at: Date;
  message: EmailMessage;
  /** The warning logged when the send fails (the slot is freed for a later run). */
  failureNote: string;
}

export type OnceOutcome = "sent" | "already_sent" | "failed";

/** Claims the once-only slot, sends, and gives the slot back when the send fails. */
export async function sendEmailOnce(deps: OnceDeps, e: OnceEmail): Promise<OnceOutcome> {
  const [claimed] = rowsOf<{ id: number }>(
    await deps.db.execute(sql`
      insert into email_notifications (user_id, kind, dedupe_key, created_at)
      values (${e.userId}, ${e.kind}, ${e.dedupeKey}, ${e.at.toISOString()}::timestamptz)
      on conflict (user_id, kind, dedupe_key) do nothing
      returning id`),
  );
  if (!claimed) return "already_sent";
  try {
    await deps.mailer.send(e.message);
    return "sent";
  } catch (err) {
    await deps.db.execute(sql`delete from email_notifications where id = ${claimed.id}`);
    deps.log.warn({ error: safeError(err), userId: e.userId, kind: e.kind }, e.failureNote);
    return "failed";
  }
}
