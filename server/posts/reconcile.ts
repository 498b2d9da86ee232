// An attempt whose outcome is unknown (timeout, lost answer, a process that
// died holding the lease) is settled by asking the platform, never by a blind
// re-send. The rules, in one place:
//
// 1. Not too early. A platform can carry out a request after we gave up on
//    it. The first look comes no sooner than the request's own deadline plus
//    the settle margin (PUBLISH_RECONCILE_DELAY_MS − PLATFORM_HTTP_TIMEOUT_MS,
//    at least half the timeout: server/config.ts refuses less at start-up).
// 2. Twice. A post not found on the first look is looked for once more after
//    PUBLISH_RECONCILE_SECOND_LOOK_MS; only a second "not there" allows a
//    re-send (posts.reconcile_looks counts the empty looks since the send).
// 3. The platform's word. Where the platform refuses a duplicate (X, Graph,
//    LinkedIn), that refusal proves the text is live: the post is published,
//    never failed. LinkedIn members cannot be listed at all: their re-send is
//    the look, and LinkedIn's duplicate answer names the live post.
// 4. Not for ever. After PUBLISH_MAX_ATTEMPTS sends whose outcome stayed
//    unknown the post fails with a reason saying it may be live, and the
//    user is told (notices.ts).
import { sql } from "drizzle-orm";
import { rowsOf } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { sameText } from "../platforms/text.ts";
import type { ConnectionCredentials, RecentPost } from "../platforms/types.ts";
import type { ClaimedPost } from "./lease.ts";

/** Clock skew between us and the platform we tolerate when listing. */
const SKEW_MS = 5 * 60 * 1000;

/** Rule 1: when an abandoned request (that could run `untilDeadlineMs` longer) may be looked for. */
export function firstLookAt(deps: Deps, untilDeadlineMs = 0): Date {
  return new Date(deps.clock.now().getTime() + untilDeadlineMs + deps.config.publishing.reconcileSettleMs);
}

/** Rule 2: the second look after an empty first one. */
export function secondLookAt(deps: Deps): Date {
  return new Date(deps.clock.now().getTime() + deps.config.publishing.reconcileSecondLookMs);
}

export type Look =
  | { kind: "found"; platformPostId: string }
  /** Not there, and this was the first empty look: look once more before anything is sent. */
  | { kind: "look_again" }
  /** Not there twice, or the platform cannot list this account: a re-send may go (its duplicate answer is the proof). */
  | { kind: "not_there" };

/** Looks for an unknown post on the platform. Throws what the adapter throws. */
export async function lookForPost(deps: Deps, post: ClaimedPost, credentials: ConnectionCredentials): Promise<Look> {
  if (deps.platforms[post.platform].canListPosts?.(credentials) === false) return { kind: "not_there" };
  const { free } = await matchingPosts(deps, post, credentials);
  if (free) return { kind: "found", platformPostId: free };
  return post.reconcileLooks >= 1 ? { kind: "not_there" } : { kind: "look_again" };
}

/** Rule 4: the sends made so far (this claim counted one more) reached the cap. */
export const sendsExhausted = (deps: Deps, post: ClaimedPost) => post.attemptCount - 1 >= deps.config.publishing.maxAttempts;

/**
 * Our post among the account's recent posts: `free` is the oldest match no
 * other post of the user owns; `ownedBy` names one of the user's posts that
 * already owns a match (two of their posts with the same text).
 */
export async function matchingPosts(deps: Deps, post: ClaimedPost, credentials: ConnectionCredentials): Promise<{ free: string | null; ownedBy: number | null }> {
  const since = new Date((post.lastAttemptAt ?? post.createdAt).getTime() - SKEW_MS);
  const recent = await deps.platforms[post.platform].listRecentPosts(credentials, since);
  const candidates = recent.filter((r: RecentPost) => sameText(r.text, post.content) && r.createdAt.getTime() >= since.getTime());
  if (!candidates.length) return { free: null, ownedBy: null };
  const owners = await ownersOf(deps, post, candidates.map((c) => c.id));
  // Oldest first: the earliest unclaimed match is the one our first lost attempt made.
  const free = candidates.filter((c) => !owners.has(c.id)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return { free: free[0]?.id ?? null, ownedBy: owners.size ? [...owners.values()][0]! : null };
}

/** Platform post ids another of the user's posts already owns, with that post's id. */
export async function ownersOf(deps: Deps, post: ClaimedPost, platformPostIds: string[]): Promise<Map<string, number>> {
  if (!platformPostIds.length) return new Map();
  const rows = rowsOf<{ id: number; platform_post_id: string }>(
    await deps.db.execute(sql`
      select id, platform_post_id from posts
      where user_id = ${post.userId} and platform = ${post.platform} and id <> ${post.id}
        and platform_post_id in (${sql.join(platformPostIds.map((id) => sql`${id}`), sql`, `)})`),
  );
  return new Map(rows.map((r) => [r.platform_post_id, r.id]));
}

export type DuplicateVerdict =
  | { kind: "ours"; platformPostId: string | null }
  /** The live twin is another of the user's posts: this one really is a duplicate. */
  | { kind: "twin"; postId: number };

/**
 * Rule 3: the platform refused the text as a duplicate, so it is live. The
 * live post's id comes from the answer (LinkedIn) or the listing (X, Graph);
 * when neither gives one we still trust the platform and keep no id.
 */
export async function settleDuplicate(deps: Deps, post: ClaimedPost, credentials: ConnectionCredentials, duplicateOf: string | undefined): Promise<DuplicateVerdict> {
  if (duplicateOf) {
    const owner = (await ownersOf(deps, post, [duplicateOf])).get(duplicateOf);
    return owner ? { kind: "twin", postId: owner } : { kind: "ours", platformPostId: duplicateOf };
  }
  const canList = deps.platforms[post.platform].canListPosts?.(credentials) !== false;
  const match = canList ? await matchingPosts(deps, post, credentials).catch(() => ({ free: null, ownedBy: null })) : { free: null, ownedBy: null };
  if (match.free) return { kind: "ours", platformPostId: match.free };
  if (match.ownedBy) return { kind: "twin", postId: match.ownedBy };
  return { kind: "ours", platformPostId: null };
}
