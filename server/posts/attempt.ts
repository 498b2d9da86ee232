// One claimed post, from pre-flight to a fenced completion. The platform is
// called here, outside any transaction; what happens next follows the
// adapter's error classification.
import type { PlatformConnection } from "../../shared/schema.ts";
import { isUniqueViolation } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { announceReconnect, markNeedsReconnect } from "../connections/token-state.ts";
import type { ErrorClassification, PostInput } from "../platforms/types.ts";
import { backoffMs, complete, pauseConnectionPosts, type AttemptLog } from "./complete.ts";
import { breakerAllows, recordHealthy, recordUnhealthy } from "./health.ts";
import { holdLease, type ClaimedPost } from "./lease.ts";
import { tellMayBeLive } from "./notices.ts";
import { holdForOperator } from "./operator.ts";
import { platformStateOf } from "./platform-state.ts";
import { firstLookAt, lookForPost, secondLookAt, sendsExhausted, settleDuplicate } from "./reconcile.ts";
import { tokenFor, type TokenResult } from "./tokens.ts";

export type AttemptOutcome =
  | { kind: "published"; platformPostId: string }
  | { kind: "retry"; code: string; message: string; at: Date }
  | { kind: "unknown"; code: string; message: string }
  | { kind: "paused"; code: string; message: string }
  | { kind: "failed"; check: string; code: string; message: string }
  | { kind: "lease_lost" };

type Phase = "reconcile" | "publish";

/** Where the attempt gets its token: the runner passes the batch it read for the whole claim. */
export type TokenSource = (post: ClaimedPost) => Promise<TokenResult>;

type Refusal = { check: string; code: string; message: string };

const postInput = (p: ClaimedPost): PostInput => ({ content: p.content, mediaUrl: p.mediaUrl, mediaUrls: p.mediaUrls, mediaType: p.mediaType });

function contentRefusal(deps: Deps, post: ClaimedPost): Refusal | undefined {
  const problems = deps.platforms[post.platform].checkContent(postInput(post));
  if (!problems.length) return undefined;
  return { check: "content", code: problems[0]!.code, message: problems.map((p) => p.message).join("; ") };
}

export interface AttemptOptions {
  /** Where the token comes from; tokenFor by default. */
  tokenOf?: TokenSource;
  /**
   * Called once the platform has answered (or failed to): the bounds on
   * concurrent platform calls can let the next call go while this one's
   * outcome is being written.
   */
  platformDone?: () => void;
}

export async function runAttempt(deps: Deps, post: ClaimedPost, options: AttemptOptions = {}): Promise<AttemptOutcome> {
  const tokenOf = options.tokenOf ?? ((p: ClaimedPost) => tokenFor(deps, p.userId, p.platform));
  const adapter = deps.platforms[post.platform];
  const now = () => deps.clock.now();
  const lost = { kind: "lease_lost" } as const;
  // An earlier attempt may have gone out: the platform is asked before anything
  // else happens to the post, a refusal by the checks included.
  const mayBeOut = post.previous === "unknown";
  const refusal = post.refused ?? contentRefusal(deps, post);
  if (refusal && !mayBeOut) return refuse(deps, post, refusal);

  const breaker = await breakerAllows(deps, post.platform);
  if (!breaker.ok) {
    const message = `${adapter.displayName} is failing; next try at ${breaker.retryAt.toISOString()}`;
    const done = await complete(deps, post, { status: post.previous, nextAttemptAt: breaker.retryAt, errorLog: `platform_health: ${message}`, notSent: true });
    return done ? { kind: "retry", code: "platform_unhealthy", message, at: breaker.retryAt } : lost;
  }

  const token = await tokenOf(post);
  if (!token.ok) {
    if (token.reason === "temporarily_unavailable") {
      // A refresh the platform failed to answer counts against its health like a failed publish.
      await recordUnhealthy(deps, post.platform, token.message);
      const at = token.retryAt ?? new Date(now().getTime() + backoffMs(deps, post.attemptCount));
      const done = await complete(deps, post, { status: post.previous, nextAttemptAt: at, errorLog: `token: ${token.message}`, notSent: true });
      return done ? { kind: "retry", code: token.reason, message: token.message, at } : lost;
    }
    await pauseConnectionPosts(deps, post, `token: ${token.message}`, { notSent: true });
    return { kind: "paused", code: token.reason, message: token.message };
  }

  if (!(await holdLease(deps, post))) return lost;
  const attempt = post.attemptCount;
  const t0 = Date.now();
  const log = (status: string, e?: ErrorClassification, n = attempt): AttemptLog => ({
    attempt: n,
    status,
    errorCode: e?.code ?? null,
    errorMessage: e?.message ?? null,
    durationMs: Date.now() - t0,
  });

  // Only the platform's calls are inside the try: a database error while recording
  // a success must never be mistaken for the platform refusing the post (the lease
  // then runs out and reconciliation finds the post).
  let phase: Phase = "publish";
  let sent: { platformPostId: string; how: "published" | "reconciled" } | undefined;
  let lookAgain = false;
  let exhausted = false;
  try {
    if (mayBeOut) {
      // reconcile.ts has the rules: found → published; one empty look → look again later; two → a re-send may go.
      phase = "reconcile";
      const look = await lookForPost(deps, post, token.credentials);
      if (look.kind === "found") sent = { platformPostId: look.platformPostId, how: "reconciled" };
      lookAgain = look.kind === "look_again";
      exhausted = look.kind === "not_there" && !refusal && sendsExhausted(deps, post);
      phase = "publish";
    }
    if (!sent && !refusal && !lookAgain && !exhausted) {
      const input = { ...postInput(post), state: platformStateOf(deps, post) };
      sent = { platformPostId: (await adapter.publish(token.credentials, input)).platformPostId, how: "published" };
    }
  } catch (err) {
    options.platformDone?.();
    return failed(deps, post, phase, adapter.classifyError(err), log, token.credentials, token.connection);
  }
  options.platformDone?.();
  if (lookAgain) {
    const message = `not on ${adapter.displayName} yet; looking once more before sending it again`;
    const ok = await complete(deps, post, { status: "unknown", nextAttemptAt: secondLookAt(deps), errorLog: `unknown: ${message}`, reconcileLooks: post.reconcileLooks + 1, log: log("not_found", undefined, attempt - 1), notSent: true });
    return ok ? { kind: "unknown", code: "not_found_yet", message } : lost;
  }
  if (exhausted) return giveUpMayBeLive(deps, post, attempt - 1, log);
  // Not on the platform, and the checks refuse it now: it fails without being sent.
  if (!sent) return refuse(deps, post, refusal!);
  await recordHealthy(deps, post.platform);
  // Found by reconciliation, this claim sent nothing: the attempt that made the post is the one counted.
  const reconciled = sent.how === "reconciled";
  let ok: boolean;
  try {
    ok = await complete(deps, post, {
      status: "published",
      platformPostId: sent.platformPostId,
      publishedAt: now(),
      errorLog: null,
      log: log(sent.how, undefined, reconciled ? attempt - 1 : attempt),
      notSent: reconciled,
    });
  } catch (err) {
    // Reconciliation matched a platform post another of ours took meanwhile (two same-text
    // posts at once): it is not this one's. Look again shortly rather than wait out the lease.
    if (!reconciled || !isUniqueViolation(err, "posts_platform_post_key")) throw err;
    const message = "the post found on the platform belongs to another of your posts; looking again";
    const at = secondLookAt(deps);
    ok = await complete(deps, post, { status: "unknown", nextAttemptAt: at, errorLog: `unknown: ${message}`, notSent: true });
    return ok ? { kind: "unknown", code: "reconcile_conflict", message } : lost;
  }
  if (ok) deps.log.info({ postId: post.id, platform: post.platform, attempt, how: sent.how }, "Post published");
  return ok ? { kind: "published", platformPostId: sent.platformPostId } : lost;
}

/**
 * Every send ended without an answer and the platform does not show the post:
 * it fails, but one of those sends may be live (listings can miss it), so the
 * quota stays spent, the reason says so and the user is told.
 */
async function giveUpMayBeLive(deps: Deps, post: ClaimedPost, sends: number, log: (status: string, e?: ErrorClassification, n?: number) => AttemptLog): Promise<AttemptOutcome> {
  const name = deps.platforms[post.platform].displayName;
  const message = `${name} never answered ${sends} attempts to publish this post and does not show it; it may be live all the same — check your ${name} account before posting it again`;
  const ok = await complete(deps, post, { status: "failed", errorLog: `publish: ${message}`, log: { ...log("failed", undefined, sends), errorCode: "outcome_unknown", errorMessage: message }, notSent: true });
  if (!ok) return { kind: "lease_lost" };
  await tellMayBeLive(deps, post, message);
  return { kind: "failed", check: "publish", code: "may_be_live", message };
}

/** A check refused the post (quota, cycle, content): it fails with the reason and gives its quota back; nothing was sent. */
async function refuse(deps: Deps, post: ClaimedPost, r: Refusal): Promise<AttemptOutcome> {
  const ok = await complete(deps, post, {
    status: "failed",
    errorLog: `${r.check}: ${r.message}`,
    log: { attempt: post.attemptCount - 1, status: "refused", errorCode: r.code, errorMessage: r.message },
    releaseQuota: true,
    notSent: true,
  });
  return ok ? { kind: "failed", check: r.check, code: r.code, message: r.message } : { kind: "lease_lost" };
}

async function failed(
  deps: Deps,
  post: ClaimedPost,
  phase: Phase,
  e: ErrorClassification,
  log: (status: string, e?: ErrorClassification, attempt?: number) => AttemptLog,
  credentials: Parameters<typeof lookForPost>[2],
  connection: PlatformConnection,
): Promise<AttemptOutcome> {
  const now = deps.clock.now();
  const { maxAttempts } = deps.config.publishing;
  const lost = { kind: "lease_lost" } as const;
  const attempt = post.attemptCount;
  // Only the platform's list was asked: not an attempt at publishing, so it does not count towards the maximum.
  const notSent = phase === "reconcile";
  const entry = (status: string) => log(status, e, notSent ? attempt - 1 : attempt);
  // Until reconciliation has said "not there", the post stays unknown whatever happens.
  const waiting = phase === "reconcile" ? "unknown" : "approved";
  const retryAt = (at: Date, status: string, errorLog: string) =>
    complete(deps, post, { status: waiting, nextAttemptAt: at, errorLog, log: entry(status), notSent }).then((ok) =>
      ok ? ({ kind: "retry", code: e.code, message: e.message, at } as const) : lost,
    );
  deps.log.warn({ postId: post.id, platform: post.platform, attempt, phase, kind: e.kind, code: e.code }, "Publish attempt failed");
  // The platform refuses this app itself: paused for everyone, the post waits (operator.ts).
  if (e.operator) return holdForOperator(deps, post, e, waiting, log("operator_paused", e, attempt - 1));
  switch (e.kind) {
    case "outcome_unknown": {
      await recordUnhealthy(deps, post.platform, e);
      // Settled by reconciliation after a pause, never by a blind re-send.
      const ok = await complete(deps, post, { status: "unknown", nextAttemptAt: firstLookAt(deps, e.untilDeadlineMs), errorLog: `unknown: ${e.message}`, log: entry("unknown"), notSent });
      return ok ? { kind: "unknown", code: e.code, message: e.message } : lost;
    }
    case "transient": {
      await recordUnhealthy(deps, post.platform, e);
      if (attempt >= maxAttempts && phase === "publish") {
        const ok = await complete(deps, post, { status: "failed", errorLog: `publish: ${e.message} (gave up after ${attempt} attempts)`, log: entry("failed"), releaseQuota: true });
        return ok ? { kind: "failed", check: "publish", code: e.code, message: e.message } : lost;
      }
      return retryAt(new Date(now.getTime() + backoffMs(deps, attempt)), "retry", `retry: ${e.message}`);
    }
    case "rate_limited": {
      await recordHealthy(deps, post.platform, e);
      const at = e.retryAt && e.retryAt > now ? e.retryAt : new Date(now.getTime() + backoffMs(deps, attempt));
      return retryAt(at, "rate_limited", `rate_limited: ${e.message}`);
    }
    case "auth_revoked": {
      await recordHealthy(deps, post.platform, e);
      // The connections domain records the verdict — unless the connection no longer holds
      // the refused token (reconnected or refreshed meanwhile): then its new access is tried.
      if (!(await markNeedsReconnect(deps.db, connection.id, e.message, now, connection.accessToken))) {
        return retryAt(new Date(now.getTime() + backoffMs(deps, 1)), "retry", `retry: ${e.message}; the connection was renewed since, trying its new access`);
      }
      const reason = `token: ${deps.platforms[post.platform].displayName} access was revoked or expired; reconnect to resume (${e.code})`;
      await pauseConnectionPosts(deps, post, reason, { log: entry("paused"), notSent });
      // Told once per connection.
      await announceReconnect(deps, connection, e.message);
      return { kind: "paused", code: e.code, message: reason };
    }
    case "permanent": {
      await recordHealthy(deps, post.platform, e);
      if (phase === "reconcile") {
        // The list call was refused: the post may be out there, so it must not fail (and free its quota) blindly.
        const at = new Date(now.getTime() + backoffMs(deps, attempt));
        const ok = await complete(deps, post, { status: "unknown", nextAttemptAt: at, errorLog: `unknown: cannot list recent posts: ${e.message}`, log: entry("unknown"), notSent });
        return ok ? { kind: "unknown", code: e.code, message: e.message } : lost;
      }
      if (e.duplicate) {
        // "Already posted" proves the text is live: an earlier attempt whose answer we lost, most often.
        const verdict = await settleDuplicate(deps, post, credentials, e.duplicateOf);
        if (verdict.kind === "ours") {
          const { platformPostId } = verdict;
          const note = platformPostId ? null : `published: ${deps.platforms[post.platform].displayName} refused it as a duplicate of a live post, whose id it did not give`;
          const ok = await complete(deps, post, { status: "published", ...(platformPostId ? { platformPostId } : {}), publishedAt: now, errorLog: note, log: entry("duplicate") });
          return ok ? { kind: "published", platformPostId: platformPostId ?? "" } : lost;
        }
        const message = `a duplicate: the same text is already live as your post ${verdict.postId}`;
        const ok = await complete(deps, post, { status: "failed", errorLog: `publish: ${message}`, log: entry("failed"), releaseQuota: true });
        return ok ? { kind: "failed", check: "publish", code: "duplicate", message } : lost;
      }
      const ok = await complete(deps, post, { status: "failed", errorLog: `publish: ${e.message}`, log: entry("failed"), releaseQuota: true });
      return ok ? { kind: "failed", check: "publish", code: e.code, message: e.message } : lost;
    }
  }
}
