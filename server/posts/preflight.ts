// Pre-flight for "publish now": every check a post must pass before it is
// sent, in order, each refusal naming its check. The runner applies the same
// checks to every claimed post (attempt.ts, lease.ts); this one answers the
// user synchronously before anything is claimed.
import type { Post, User } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { HttpError } from "../http/errors.ts";
import { userLabel } from "../log.ts";
import { checkCanPost } from "../quota/check.ts";
import { readHealth } from "./health.ts";
import { tokenFor } from "./tokens.ts";

export type PreflightCheck = "token" | "platform_health" | "content" | "quota" | "cycle";

/** The refusal: HTTP status, the check's name and the reason. */
export function preflightError(status: number, check: PreflightCheck, code: string, message: string, extra: Record<string, unknown> = {}, details?: unknown) {
  return new HttpError(status, code, message, { success: false, check, ...extra }, details);
}

/** What pre-flight looks at: a stored post, or one not yet created (no id). */
export type PreflightPost = Pick<Post, "platform" | "content" | "mediaUrl" | "mediaUrls" | "mediaType" | "subscriptionCycle"> & { id?: number };

export async function preflight(deps: Deps, user: User, post: PreflightPost): Promise<void> {
  const now = deps.clock.now();
  const adapter = deps.platforms[post.platform];

  const token = await tokenFor(deps, user.id, post.platform);
  if (!token.ok) {
    const retry = token.retryAt ? { retryAt: token.retryAt.toISOString() } : {};
    throw preflightError(409, "token", token.reason, token.message, { requiresReconnection: token.reason !== "temporarily_unavailable", ...retry });
  }

  const health = (await readHealth(deps)).find((h) => h.platform === post.platform)!;
  if (!health.healthy) {
    const at = health.retryAt?.toISOString() ?? null;
    const why = health.operatorCode
      ? `${adapter.displayName} is paused for every user by a problem on our side (${health.operatorCode}); it resumes by itself once fixed, posts wait meanwhile`
      : `${adapter.displayName} is failing right now; publishing resumes after ${at}`;
    throw preflightError(409, "platform_health", "platform_unhealthy", why, { retryAt: at, ...(health.operatorCode ? { operatorCode: health.operatorCode } : {}) });
  }

  const problems = adapter.checkContent({ content: post.content, mediaUrl: post.mediaUrl, mediaUrls: post.mediaUrls, mediaType: post.mediaType });
  if (problems.length) {
    throw preflightError(422, "content", problems[0]!.code, problems.map((p) => p.message).join("; "), {}, problems);
  }

  const quota = await checkCanPost(deps, user, now, { postCycleStart: post.subscriptionCycle });
  if (!quota.ok) {
    if (quota.reason === "cycle_ended") throw preflightError(409, "cycle", quota.reason, quota.message);
    throw preflightError(quota.reason === "quota_exhausted" ? 429 : 409, "quota", quota.reason, quota.message, { quotaExceeded: quota.reason === "quota_exhausted" });
  }
  deps.log.info({ userId: user.id, postId: post.id, platform: post.platform }, `Post validated ${userLabel(user.phone, user.id)} for ${post.platform}`);
}
