// One claimed post, from pre-flight to a fenced completion. The platform is
// called here, outside any transaction; what happens next follows the
// adapter's error classification.
import type { PlatformConnection } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { announceReconnect, markNeedsReconnect } from "../connections/token-state.ts";
import type { ErrorClassification, PostInput } from "../platforms/types.ts";
import { backoffMs, complete, pauseConnectionPosts, type AttemptLog } from "./complete.ts";
import { breakerAllows, recordHealthy, recordUnhealthy } from "./health.ts";
import { startAttempt, type ClaimedPost } from "./lease.ts";
import { findPublished } from "./reconcile.ts";
import { tokenFor } from "./tokens.ts";

export type AttemptOutcome =
  | { kind: "published"; platformPostId: string }
  | { kind: "retry"; code: string; message: string; at: Date }
  | { kind: "unknown"; code: string; message: string }
  | { kind: "paused"; code: string; message: string }
  | { kind: "failed"; check: string; code: string; message: string }
  | { kind: "lease_lost" };

type Phase = "reconcile" | "publish";

const postInput = (p: ClaimedPost): PostInput => ({ content: p.content, mediaUrl: p.mediaUrl, mediaType: p.mediaType });

export async function runAttempt(deps: Deps, post: ClaimedPost): Promise<AttemptOutcome> {
  const adapter = deps.platforms[post.platform];
  const now = () => deps.clock.now();

  if (post.refused) {
    const r = post.refused;
    await complete(deps, post, { status: "failed", errorLog: `${r.check}: ${r.message}`, log: { attempt: post.attemptCount, status: "refused", errorCode: r.code, errorMessage: r.message }, releaseQuota: true });
    return { kind: "failed", check: r.check, code: r.code, message: r.message };
  }

  const problems = adapter.checkContent(postInput(post));
  if (problems.length) {
    const message = problems.map((p) => p.message).join("; ");
    await complete(deps, post, { status: "failed", errorLog: `content: ${message}`, log: { attempt: post.attemptCount, status: "refused", errorCode: problems[0]!.code, errorMessage: message }, releaseQuota: true });
    return { kind: "failed", check: "content", code: problems[0]!.code, message };
  }

  const breaker = await breakerAllows(deps, post.platform);
  if (!breaker.ok) {
    const message = `${adapter.displayName} is failing; next try at ${breaker.retryAt.toISOString()}`;
    // Not an attempt: nothing was sent, the count is untouched.
    const done = await complete(deps, post, { status: post.previous, nextAttemptAt: breaker.retryAt, errorLog: `platform_health: ${message}` });
    return done ? { kind: "retry", code: "platform_unhealthy", message, at: breaker.retryAt } : { kind: "lease_lost" };
  }

  const token = await tokenFor(deps, post.userId, post.platform);
  if (!token.ok) {
    if (token.reason === "temporarily_unavailable") {
      // A refresh the platform failed to answer counts against its health like a failed publish.
      await recordUnhealthy(deps, post.platform, token.message);
      const at = token.retryAt ?? new Date(now().getTime() + backoffMs(deps, post.attemptCount + 1));
      const done = await complete(deps, post, { status: post.previous, nextAttemptAt: at, errorLog: `token: ${token.message}` });
      return done ? { kind: "retry", code: token.reason, message: token.message, at } : { kind: "lease_lost" };
    }
    await pauseConnectionPosts(deps, post, `token: ${token.message}`);
    return { kind: "paused", code: token.reason, message: token.message };
  }

  const started = await startAttempt(deps, post);
  if (!started) return { kind: "lease_lost" };
  const attempt = started.attempt;
  const t0 = Date.now();
  const log = (status: string, e?: ErrorClassification): AttemptLog => ({
    attempt,
    status,
    errorCode: e?.code ?? null,
    errorMessage: e?.message ?? null,
    durationMs: Date.now() - t0,
  });

  // Only the platform's calls are inside the try: a database error while recording
  // a success must never be mistaken for the platform refusing the post (the lease
  // then runs out and reconciliation finds the post).
  let phase: Phase = "publish";
  let sent: { platformPostId: string; how: "published" | "reconciled" };
  try {
    // A previous attempt may have gone out: ask the platform before sending again.
    let found: string | null = null;
    if (post.previous === "unknown" && post.lastAttemptAt) {
      phase = "reconcile";
      found = await findPublished(deps, post, token.credentials);
      phase = "publish";
    }
    if (found) sent = { platformPostId: found, how: "reconciled" };
    else sent = { platformPostId: (await adapter.publish(token.credentials, postInput(post))).platformPostId, how: "published" };
  } catch (err) {
    return failed(deps, post, phase, adapter.classifyError(err), attempt, log, token.credentials, token.connection);
  }
  await recordHealthy(deps, post.platform);
  const ok = await complete(deps, post, { status: "published", platformPostId: sent.platformPostId, publishedAt: now(), errorLog: null, log: log(sent.how) });
  if (ok) deps.log.info({ postId: post.id, platform: post.platform, attempt, how: sent.how }, "Post published");
  return ok ? { kind: "published", platformPostId: sent.platformPostId } : { kind: "lease_lost" };
}

async function failed(
  deps: Deps,
  post: ClaimedPost,
  phase: Phase,
  e: ErrorClassification,
  attempt: number,
  log: (status: string, e?: ErrorClassification) => AttemptLog,
  credentials: Parameters<typeof findPublished>[2],
  connection: PlatformConnection,
): Promise<AttemptOutcome> {
  const now = deps.clock.now();
  const { maxAttempts, reconcileDelayMs } = deps.config.publishing;
  const lost = { kind: "lease_lost" } as const;
  // Until reconciliation has said "not there", the post stays unknown whatever happens.
  const waiting = phase === "reconcile" ? "unknown" : "approved";
  deps.log.warn({ postId: post.id, platform: post.platform, attempt, kind: e.kind, code: e.code }, "Publish attempt failed");
  switch (e.kind) {
    case "outcome_unknown": {
      await recordUnhealthy(deps, post.platform, e.message);
      // Settled by reconciliation after a pause, never by a blind re-send.
      const ok = await complete(deps, post, { status: "unknown", nextAttemptAt: new Date(now.getTime() + reconcileDelayMs), errorLog: `unknown: ${e.message}`, log: log("unknown", e) });
      return ok ? { kind: "unknown", code: e.code, message: e.message } : lost;
    }
    case "transient": {
      await recordUnhealthy(deps, post.platform, e.message);
      if (attempt >= maxAttempts && phase === "publish") {
        const ok = await complete(deps, post, { status: "failed", errorLog: `publish: ${e.message} (gave up after ${attempt} attempts)`, log: log("failed", e), releaseQuota: true });
        return ok ? { kind: "failed", check: "publish", code: e.code, message: e.message } : lost;
      }
      const at = new Date(now.getTime() + backoffMs(deps, attempt));
      const ok = await complete(deps, post, { status: waiting, nextAttemptAt: at, errorLog: `retry: ${e.message}`, log: log("retry", e) });
      return ok ? { kind: "retry", code: e.code, message: e.message, at } : lost;
    }
    case "rate_limited": {
      await recordHealthy(deps, post.platform);
      const at = e.retryAt && e.retryAt > now ? e.retryAt : new Date(now.getTime() + backoffMs(deps, attempt));
      const ok = await complete(deps, post, { status: waiting, nextAttemptAt: at, errorLog: `rate_limited: ${e.message}`, log: log("rate_limited", e) });
      return ok ? { kind: "retry", code: e.code, message: e.message, at } : lost;
    }
    case "auth_revoked": {
      await recordHealthy(deps, post.platform);
      const reason = `token: ${deps.platforms[post.platform].displayName} access was revoked or expired; reconnect to resume (${e.code})`;
      await pauseConnectionPosts(deps, post, reason, log("paused", e));
      // The connections domain records it and tells the user (once per connection).
      await markNeedsReconnect(deps.db, connection.id, e.message, now);
      await announceReconnect(deps, connection, e.message);
      return { kind: "paused", code: e.code, message: reason };
    }
    case "permanent": {
      await recordHealthy(deps, post.platform);
      if (phase === "reconcile") {
        // The list call was refused: the post may be out there, so it must not fail (and free its quota) blindly.
        const at = new Date(now.getTime() + backoffMs(deps, attempt));
        const ok = await complete(deps, post, { status: "unknown", nextAttemptAt: at, errorLog: `unknown: cannot list recent posts: ${e.message}`, log: log("unknown", e) });
        return ok ? { kind: "unknown", code: e.code, message: e.message } : lost;
      }
      if (e.duplicate) {
        // "Already posted": an earlier attempt whose answer we lost may be the reason.
        const found = await findPublished(deps, { ...post, lastAttemptAt: post.lastAttemptAt ?? post.createdAt }, credentials).catch(() => null);
        if (found) {
          const ok = await complete(deps, post, { status: "published", platformPostId: found, publishedAt: now, errorLog: null, log: log("reconciled", e) });
          return ok ? { kind: "published", platformPostId: found } : lost;
        }
      }
      const ok = await complete(deps, post, { status: "failed", errorLog: `publish: ${e.message}`, log: log("failed", e), releaseQuota: true });
      return ok ? { kind: "failed", check: "publish", code: e.code, message: e.message } : lost;
    }
  }
}
