// How an attempt ends. Every write is fenced on the lease (id, lease_id,
// status = 'publishing'): a process whose lease ran out — and whose post
// another process has since taken over — changes nothing. Each attempt that
// reached the platform leaves one post_logs row (never a token).
import { sql } from "drizzle-orm";
import type { PostStatus } from "../../shared/schema.ts";
import { rowsOf, type DbOrTx } from "../db/index.ts";
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
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** Applies the outcome; false when the lease was lost (nothing changed). */
export async function complete(deps: Deps, post: ClaimedPost, c: Completion): Promise<boolean> {
  const now = deps.clock.now();
  const write = async (db: DbOrTx) => {
    const published = c.status === "published";
    const log = c.log;
    const rows = rowsOf<{ id: number }>(
      await db.execute(sql`
        with done as (
          update posts set status = ${c.status}, lease_id = null, lease_expires_at = null,
            next_attempt_at = ${iso(c.nextAttemptAt ?? null)}::timestamptz,
            error_log = ${c.errorLog ?? null},
            published_at = coalesce(${iso(c.publishedAt ?? null)}::timestamptz, published_at),
            platform_post_id = coalesce(${c.platformPostId ?? null}, platform_post_id),
            quota_reserved = case when ${c.releaseQuota === true} then false else quota_reserved end,
            updated_at = ${iso(now)}::timestamptz
          where id = ${post.id} and lease_id = ${post.leaseId} and status = 'publishing'
          returning id, user_id, platform
        ), logged as (
          insert into post_logs (post_id, user_id, platform, attempt, status, error_code, error_message, duration_ms, created_at)
          select id, user_id, platform, ${log?.attempt ?? 0}, ${log?.status ?? ""}, ${log?.errorCode ?? null},
                 ${log?.errorMessage?.slice(0, 1000) ?? null}, ${log?.durationMs ?? null}, ${iso(now)}::timestamptz
          from done where ${log !== undefined}
          returning post_id
        ), initial as (
          insert into post_analytics (post_id, user_id, platform, reach, engagement, impressions, created_at)
          select id, user_id, platform, 0, 0, 0, ${iso(now)}::timestamptz from done where ${published}
          on conflict (post_id) do nothing
          returning post_id
        )
        select id from done`),
    );
    return rows.length === 1;
  };
  if (!c.releaseQuota) return write(deps.db);
  return deps.db.transaction(async (tx) => {
    const ok = await write(tx);
    if (ok) await releaseReservation(tx, post.userId, post.id, now, c.log?.errorCode ?? "failed");
    return ok;
  });
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
export async function pauseConnectionPosts(deps: Deps, post: ClaimedPost, reason: string, log?: AttemptLog): Promise<number> {
  await complete(deps, post, { status: "paused", errorLog: reason, log });
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
 * The runner's sweep: paused posts whose connection has been saved or
 * repaired since they paused (active, status connected) resume.
 */
export async function resumeReconnected(deps: Deps): Promise<number> {
  const now = deps.clock.now().toISOString();
  const rows = rowsOf(
    await deps.db.execute(sql`
      update posts p set status = case when p.attempt_count > 0 then 'unknown'::post_status else 'approved'::post_status end,
        next_attempt_at = ${now}::timestamptz, error_log = null, updated_at = ${now}::timestamptz
      where p.status = 'paused' and exists (
        select 1 from platform_connections c
        where c.user_id = p.user_id and c.platform = p.platform and c.is_active and c.status = 'connected'
          and c.updated_at >= p.updated_at)
      returning p.id`),
  );
  return rows.length;
}
