// Post rules: create, edit, approve, delete. Only the owner reaches a post
// (another user's id is "not found"); a post that is going out, may have gone
// out (unknown) or has gone out is read-only.
//
// A post that may be out (mayBeOut: sent before, not definitively refused —
// e.g. paused after a lost answer) may already be live: approving it again in
// any way makes it `unknown`, so the runner reconciles it with the platform
// before any re-send; its text cannot change (reconciliation matches by
// text) and it cannot be deleted. It may be taken back to draft (it stops).
import { and, eq, sql } from "drizzle-orm";
import { posts, type Platform, type Post, type User } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { conflict, notFound } from "../http/errors.ts";
import { currentCycle } from "../quota/cycle.ts";
import { releaseReservation } from "../quota/ledger.ts";
import { deleteUnsent, deleteUnsentOfUser, findPost, insertPost, mayBeOut, mayBeOutSql, updateEditable, type PostSet } from "./queries.ts";

export interface NewPostInput {
  platform: Platform;
  content: string;
  scheduledFor?: Date;
  status?: "draft" | "approved";
  /** The post's media in order (none, one, or several: an Instagram carousel, X images). */
  media?: string[];
}

/** How a media list is stored: media_url is its first item (what single-media readers use), media_urls the list when there are several. */
export function storedMedia(media: readonly string[]): { mediaUrl: string | null; mediaUrls: string[] | null } {
  return { mediaUrl: media[0] ?? null, mediaUrls: media.length > 1 ? [...media] : null };
}

export interface PostChanges {
  content?: string;
  edited?: boolean;
  editedAt?: Date;
  scheduledFor?: Date | null;
  status?: "draft" | "approved";
}

/** What approving a new post sets: due at its time (or now), planned for the current cycle. */
function approval(deps: Deps, user: User, scheduledFor: Date | null | undefined) {
  const now = deps.clock.now();
  const cycle = currentCycle(user, now, deps.config);
  const due = scheduledFor && scheduledFor > now ? scheduledFor : now;
  return { status: "approved" as const, approvedAt: now, nextAttemptAt: due, subscriptionCycle: cycle?.start ?? null, errorLog: null };
}

/**
 * Approving an existing post. Decided by the row as the update finds it (not
 * as read earlier): a post that may be out becomes `unknown` (reconciled
 * before any re-send); a failed post starts its retries afresh; other counts
 * are kept (they mark posts that were sent).
 */
function reapproval(deps: Deps, user: User, scheduledFor: Date | null | undefined): PostSet {
  return {
    ...approval(deps, user, scheduledFor),
    status: sql`case when ${mayBeOutSql} then 'unknown'::post_status else 'approved'::post_status end`,
    attemptCount: sql`case when ${posts.status} = 'failed' then 0 else ${posts.attemptCount} end`,
    updatedAt: deps.clock.now(),
  };
}

export async function createPost(deps: Deps, user: User, input: NewPostInput): Promise<Post> {
  const now = deps.clock.now();
  return insertPost(deps.db, {
    userId: user.id,
    platform: input.platform,
    content: input.content,
    ...storedMedia(input.media ?? []),
    scheduledFor: input.scheduledFor ?? null,
    createdAt: now,
    updatedAt: now,
    ...(input.status === "approved" ? approval(deps, user, input.scheduledFor) : { status: "draft" as const }),
  });
}

/** Why a post could not be changed or deleted: 404, or a 409 naming the reason. */
async function readOnlyReason(deps: Deps, user: User, id: number): Promise<never> {
  const post = await findPost(deps.db, user.id, id);
  if (!post) throw notFound("Post not found");
  if (post.status === "published") throw conflict("post_published", "Published posts cannot be changed");
  if (post.status === "publishing" || post.status === "unknown") {
    throw conflict("post_in_progress", "This post is being published or checked with the platform; try again in a moment");
  }
  if (mayBeOut(post)) {
    const name = deps.platforms[post.platform].displayName;
    throw conflict(
      "post_may_be_published",
      `This post may already be on ${name}: the answer to an earlier attempt never arrived. Its text cannot be changed and it cannot be deleted; approve it to have it checked with ${name} (it is sent again only if it is not there)`,
    );
  }
  throw conflict("post_changed", "This post changed meanwhile; reload it and try again");
}

export async function updatePost(deps: Deps, user: User, id: number, c: PostChanges): Promise<Post> {
  const now = deps.clock.now();
  const current = await findPost(deps.db, user.id, id);
  if (!current) throw notFound("Post not found");
  let set: PostSet = { updatedAt: now };
  // A new text is refused (in the update's WHERE) for a post that may be out.
  const newText = c.content !== undefined && c.content !== current.content;
  if (newText) {
    set.content = c.content;
    set.edited = true;
    set.editedAt = c.editedAt ?? now;
  }
  if (c.edited !== undefined) set.edited = c.edited;
  if (c.editedAt !== undefined) set.editedAt = c.editedAt;
  if (c.scheduledFor !== undefined) set.scheduledFor = c.scheduledFor;
  const scheduled = c.scheduledFor !== undefined ? c.scheduledFor : current.scheduledFor;
  if (c.status === "approved" || (c.status === undefined && current.status === "approved" && c.scheduledFor !== undefined)) {
    set = { ...set, ...reapproval(deps, user, scheduled) };
  } else if (c.status === "draft") {
    set = { ...set, status: "draft", nextAttemptAt: null, approvedAt: null };
  }
  const row = await updateEditable(deps.db, user.id, id, set, { unsentOnly: newText });
  if (!row) return readOnlyReason(deps, user, id);
  if (row.status === "draft" && row.quotaReserved) await giveQuotaBack(deps, row);
  return row;
}

export async function approvePost(deps: Deps, user: User, id: number): Promise<Post> {
  const current = await findPost(deps.db, user.id, id);
  if (!current) throw notFound("Post not found");
  const row = await updateEditable(deps.db, user.id, id, reapproval(deps, user, current.scheduledFor));
  return row ?? readOnlyReason(deps, user, id);
}

export async function deletePost(deps: Deps, user: User, id: number): Promise<void> {
  const now = deps.clock.now();
  const deleted = await deps.db.transaction(async (tx) => {
    const row = await deleteUnsent(tx, user.id, id);
    if (row?.quotaReserved) await releaseReservation(tx, user.id, id, now, "post_deleted");
    return row;
  });
  if (!deleted) await readOnlyReason(deps, user, id);
}

/**
 * Cancellation: deletes the user's posts that have not reached a platform and
 * cannot have. Posts being published, being checked (unknown), that may be out
 * or are published stay. Returns how many were deleted.
 */
export async function removeUnsentPostsOfUser(db: DbOrTx, userId: number): Promise<number> {
  return deleteUnsentOfUser(db, userId);
}

/** A post taken back to draft after a reservation (e.g. retries pending) frees its quota. */
async function giveQuotaBack(deps: Deps, post: Post): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(posts)
      .set({ quotaReserved: false })
      .where(and(eq(posts.id, post.id), eq(posts.quotaReserved, true), eq(posts.status, "draft")))
      .returning({ id: posts.id });
    if (row) await releaseReservation(tx, post.userId, post.id, deps.clock.now(), "post_unapproved");
  });
}

/** Makes a post due now (POST /api/post): approved for the current cycle, whatever its schedule. */
export async function makeDueNow(deps: Deps, user: User, post: Post): Promise<Post> {
  const row = await updateEditable(deps.db, user.id, post.id, reapproval(deps, user, null));
  return row ?? readOnlyReason(deps, user, post.id);
}

/**
 * POST /api/direct-publish: every approved post of the user planned for the
 * current cycle becomes due now. Returns how many approved posts there are.
 */
export async function makeAllDue(deps: Deps, user: User): Promise<number> {
  const now = deps.clock.now();
  await deps.db
    .update(posts)
    .set({ nextAttemptAt: now, updatedAt: now })
    .where(and(eq(posts.userId, user.id), eq(posts.status, "approved"), sql`${posts.nextAttemptAt} > ${now.toISOString()}::timestamptz`));
  const [row] = await deps.db
    .select({ n: sql<number>`count(*)::int` })
    .from(posts)
    .where(and(eq(posts.userId, user.id), eq(posts.status, "approved")));
  return row?.n ?? 0;
}
