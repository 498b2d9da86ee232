// How an attempt ends. Every write is fenced on the lease (id, lease_id,
// status = 'publishing'): a process whose lease ran out — and whose post
// another process has since taken over — changes nothing. Each attempt that
// reached the platform leaves one post_logs row (never a token).
//
// Completions are written in batches: whatever finished while the previous
// batch was being written goes out in one statement (post, post_logs and
// post_analytics rows together), so the cost per post stays flat under load.
// A completion that gives quota back is written alone, in a transaction with
// the ledger.
import { sql } from "drizzle-orm";
import type { PostStatus } from "../../shared/schema.ts";
import { anyId, rowsOf, type DbOrTx } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { releaseReservation } from "../quota/ledger.ts";
import type { ClaimedPost } from "./lease.ts";

export interface AttemptLog {
  attempt: number;
  /** published, reconciled, retry, unknown, rate_limited, paused, failed, refused… */
  status: string;
  errorCode?: string | null;
  errorMessage?: string | null;
  durationMs?: number | null;
}

export interface Completion {
  status: Extract<PostStatus, "approved" | "unknown" | "published" | "failed" | "paused">;
  nextAttemptAt?: Date | null;
  errorLog?: string | null;
  platformPostId?: string;
  publishedAt?: Date;
  /** Written when the attempt reached the platform (or was refused by a check). */
  log?: AttemptLog;
  /** failed: give the quota back. */
  releaseQuota?: boolean;
  /** Empty reconciliation looks since the last send (reconcile.ts); every other completion resets it. */
  reconcileLooks?: number;
  /**
   * Nothing was sent (a check refused it, the breaker or the token held it
   * back, or only the platform's list was asked): the attempt the claim
   * counted is given back, with the time of the previous one.
   */
  notSent?: boolean;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** Applies the outcome; false when the lease was lost (nothing changed). */
export async function complete(deps: Deps, post: ClaimedPost, c: Completion): Promise<boolean> {
  if (!c.releaseQuota) return writer(deps).write(post, c);
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const ok = (await writeCompletions(tx, now, [{ post, c }])).has(post.id);
    if (ok) await releaseReservation(tx, post.userId, post.id, now, c.log?.errorCode ?? "failed");
    return ok;
  });
}

/** One statement for many completions; the ids whose lease still held. */
async function writeCompletions(db: DbOrTx, now: Date, items: Array<{ post: ClaimedPost; c: Completion }>): Promise<Set<number>> {
  const input = items.map(({ post, c }) => ({
    id: post.id,
    lease_id: post.leaseId,
    status: c.status,
    next_attempt_at: iso(c.nextAttemptAt),
    error_log: c.errorLog ?? null,
    published_at: iso(c.publishedAt),
    platform_post_id: c.platformPostId ?? null,
    release_quota: c.releaseQuota === true,
    not_sent: c.notSent === true,
    reconcile_looks: c.reconcileLooks ?? 0,
    previous_attempt_at: iso(post.lastAttemptAt),
    log_attempt: c.log?.attempt ?? null,
    log_status: c.log?.status ?? null,
    log_code: c.log?.errorCode ?? null,
    log_message: c.log?.errorMessage?.slice(0, 1000) ?? null,
    log_duration: c.log?.durationMs ?? null,
  }));
  const at = now.toISOString();
  const rows = rowsOf<{ id: number }>(
    await db.execute(sql`
      with input as (
        select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as i(
          id int, lease_id text, status text, next_attempt_at timestamptz, error_log text, published_at timestamptz,
          platform_post_id text, release_quota boolean, not_sent boolean, reconcile_looks int, previous_attempt_at timestamptz,
          log_attempt int, log_status text, log_code text, log_message text, log_duration int)
      ), done as (
        update posts p set status = i.status::post_status, lease_id = null, lease_expires_at = null,
          next_attempt_at = i.next_attempt_at,
          error_log = i.error_log,
          published_at = coalesce(i.published_at, p.published_at),
          platform_post_id = coalesce(i.platform_post_id, p.platform_post_id),
          quota_reserved = p.quota_reserved and not i.release_quota,
          reconcile_looks = i.reconcile_looks,
          attempt_count = case when i.not_sent then greatest(p.attempt_count - 1, 0) else p.attempt_count end,
          last_attempt_at = case when i.not_sent then i.previous_attempt_at else p.last_attempt_at end,
          updated_at = ${at}::timestamptz
        from input i
        where p.id = ${anyId(items.map((x) => x.post.id))} and p.id = i.id and p.lease_id = i.lease_id and p.status = 'publishing'
        returning p.id, p.user_id, p.platform, p.status
      ), logged as (
        insert into post_logs (post_id, user_id, platform, attempt, status, error_code, error_message, duration_ms, created_at)
        select d.id, d.user_id, d.platform, i.log_attempt, i.log_status, i.log_code, i.log_message, i.log_duration, ${at}::timestamptz
        from done d join input i on i.id = d.id where i.log_status is not null
        returning post_id
      ), initial as (
        insert into post_analytics (post_id, user_id, platform, reach, engagement, impressions, created_at)
        select id, user_id, platform, 0, 0, 0, ${at}::timestamptz from done where status = 'published'
        on conflict (post_id) do nothing
        returning post_id
      )
      select id from done`),
  );
  return new Set(rows.map((r) => r.id));
}

interface Pending {
  post: ClaimedPost;
  c: Completion;
  resolve(done: boolean): void;
  reject(err: unknown): void;
}

/** At most this many completions per statement. */
const MAX_BATCH = 200;

/**
 * Group commit for completions: one batch is written at a time; what arrives
 * meanwhile waits for the next. Each caller still learns whether its own
 * lease held, and a write that fails reaches its caller as before (the post
 * keeps its lease and is reconciled once the lease runs out).
 */
class CompletionWriter {
  private queue: Pending[] = [];
  private writing = false;

  constructor(private readonly deps: Deps) {}

  write(post: ClaimedPost, c: Completion): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ post, c, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        // After this turn of the event loop, so completions finishing together share a statement.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) await this.writeBatch(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.writing = false;
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    try {
      const done = await writeCompletions(this.deps.db, this.deps.clock.now(), batch);
      for (const p of batch) p.resolve(done.has(p.post.id));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // One row the database refuses (a platform post id another post owns) must not sink the rest.
      for (const p of batch) await this.writeBatch([p]);
    }
  }
}

const writers = new WeakMap<Deps, CompletionWriter>();

function writer(deps: Deps): CompletionWriter {
  let w = writers.get(deps);
  if (!w) writers.set(deps, (w = new CompletionWriter(deps)));
  return w;
}

/** Exponential backoff with full jitter: base·2^(attempt-1), capped, times a random factor in [0.5, 1]. */
export function backoffMs(deps: Deps, attempt: number): number {
  const { backoffBaseMs, backoffMaxMs } = deps.config.publishing;
  const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + Math.random() * 0.5));
}

/**
 * auth_revoked: every waiting post of this connection pauses with the reason
 * (the current one fenced on its lease); they resume after a reconnect.
 */
export async function pauseConnectionPosts(deps: Deps, post: ClaimedPost, reason: string, how: Pick<Completion, "log" | "notSent">): Promise<number> {
  await complete(deps, post, { status: "paused", errorLog: reason, ...how });
  const now = deps.clock.now().toISOString();
  const rows = rowsOf(
    await deps.db.execute(sql`
      update posts set status = 'paused', error_log = ${reason}, updated_at = ${now}::timestamptz
      where user_id = ${post.userId} and platform = ${post.platform} and status in ('approved', 'unknown')
      returning id`),
  );
  return rows.length + 1;
}

/**
 * Puts a connection's paused posts back in the queue (after a reconnect).
 * Posts that were ever sent come back as `unknown`, so they are reconciled
 * before any re-send. Call it when a connection becomes usable again.
 */
export async function resumePausedPosts(deps: Deps, userId: number, platform: string): Promise<number> {
  const now = deps.clock.now().toISOString();
  const rows = rowsOf(
    await deps.db.execute(sql`
      update posts set status = case when attempt_count > 0 then 'unknown'::post_status else 'approved'::post_status end,
        next_attempt_at = ${now}::timestamptz, error_log = null, updated_at = ${now}::timestamptz
      where user_id = ${userId} and platform = ${platform} and status = 'paused'
      returning id`),
  );
  return rows.length;
}

/**
 * The runner's sweep: paused posts whose connection is usable (active, status
 * connected) resume. A post is paused only after its connection was marked
 * needs_reconnect, so a usable one means a reconnect or repair came since —
 * even one that raced the pause and whose own resume ran first.
 */
export async function resumeReconnected(deps: Deps): Promise<number> {
  const now = deps.clock.now().toISOString();
  const rows = rowsOf(
    await deps.db.execute(sql`
      update posts p set status = case when p.attempt_count > 0 then 'unknown'::post_status else 'approved'::post_status end,
        next_attempt_at = ${now}::timestamptz, error_log = null, updated_at = ${now}::timestamptz
      where p.status = 'paused' and exists (
        select 1 from platform_connections c
        where c.user_id = p.user_id and c.platform = p.platform and c.is_active and c.status = 'connected')
      returning p.id`),
  );
  return rows.length;
}
