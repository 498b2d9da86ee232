// Post rules: create, edit, approve, delete. Only the owner reaches a post
// (another user's id is "not found"); a post that is going out, may have gone
// out (unknown) or has gone out is read-only.
import { and, eq, sql } from "drizzle-orm";
import { posts, type NewPost, type Platform, type Post, type User } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { conflict, notFound } from "../http/errors.ts";
import { currentCycle } from "../quota/cycle.ts";
import { releaseReservation } from "../quota/ledger.ts";
import { findPost, insertPost, ownPost, updateEditable } from "./queries.ts";

export interface NewPostInput {
  platform: Platform;
  content: string;
  scheduledFor?: Date;
  status?: "draft" | "approved";
  mediaUrl?: string;
}

export interface PostChanges {
  content?: string;
  edited?: boolean;
  editedAt?: Date;
  scheduledFor?: Date | null;
  status?: "draft" | "approved";
}

/** What approving sets: due at its time (or now), planned for the current cycle. */
function approval(deps: Deps, user: User, scheduledFor: Date | null | undefined, current?: Post): Partial<NewPost> {
  const now = deps.clock.now();
  const cycle = currentCycle(user, now, deps.config);
  const due = scheduledFor && scheduledFor > now ? scheduledFor : now;
  // A paused post that was sent before may be out there: it is reconciled (unknown) before any re-send.
  const status = current?.status === "paused" && current.attemptCount > 0 ? "unknown" : "approved";
  return {
    status,
    approvedAt: now,
    nextAttemptAt: due,
    subscriptionCycle: cycle?.start ?? null,
    errorLog: null,
    // A failed post starts its retries afresh; other counts are kept (they mark posts that were sent).
    ...(current?.status === "failed" ? { attemptCount: 0 } : {}),
  };
}

export async function createPost(deps: Deps, user: User, input: NewPostInput): Promise<Post> {
  const now = deps.clock.now();
  return insertPost(deps.db, {
    userId: user.id,
    platform: input.platform,
    content: input.content,
    mediaUrl: input.mediaUrl ?? null,
    scheduledFor: input.scheduledFor ?? null,
    createdAt: now,
    updatedAt: now,
    ...(input.status === "approved" ? approval(deps, user, input.scheduledFor) : { status: "draft" as const }),
  });
}

async function readOnlyReason(deps: Deps, user: User, id: number): Promise<never> {
  const post = await findPost(deps.db, user.id, id);
  if (!post) throw notFound("Post not found");
  if (post.status === "published") throw conflict("post_published", "Published posts cannot be changed");
  throw conflict("post_in_progress", "This post is being published or checked with the platform; try again in a moment");
}

export async function updatePost(deps: Deps, user: User, id: number, c: PostChanges): Promise<Post> {
  const now = deps.clock.now();
  const current = await findPost(deps.db, user.id, id);
  if (!current) throw notFound("Post not found");
  const set: Partial<NewPost> = { updatedAt: now };
  if (c.content !== undefined && c.content !== current.content) {
    set.content = c.content;
    set.edited = true;
    set.editedAt = c.editedAt ?? now;
  }
  if (c.edited !== undefined) set.edited = c.edited;
  if (c.editedAt !== undefined) set.editedAt = c.editedAt;
  if (c.scheduledFor !== undefined) set.scheduledFor = c.scheduledFor;
  const scheduled = c.scheduledFor !== undefined ? c.scheduledFor : current.scheduledFor;
  if (c.status === "approved" || (c.status === undefined && current.status === "approved" && c.scheduledFor !== undefined)) {
    Object.assign(set, approval(deps, user, scheduled, current));
  } else if (c.status === "draft") {
    Object.assign(set, { status: "draft", nextAttemptAt: null, approvedAt: null });
  }
  const row = await updateEditable(deps.db, user.id, id, set);
  if (!row) return readOnlyReason(deps, user, id);
  if (row.status === "draft" && row.quotaReserved) await giveQuotaBack(deps, row);
  return row;
}

export async function approvePost(deps: Deps, user: User, id: number): Promise<Post> {
  const current = await findPost(deps.db, user.id, id);
  if (!current) throw notFound("Post not found");
  const row = await updateEditable(deps.db, user.id, id, { ...approval(deps, user, current.scheduledFor, current), updatedAt: deps.clock.now() });
  return row ?? readOnlyReason(deps, user, id);
}

export async function deletePost(deps: Deps, user: User, id: number): Promise<void> {
  const now = deps.clock.now();
  const deleted = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(posts)
      .where(and(ownPost(user.id, id), sql`${posts.status} not in ('publishing', 'published', 'unknown')`))
      .returning({ id: posts.id, quotaReserved: posts.quotaReserved });
    if (row?.quotaReserved) await releaseReservation(tx, user.id, id, now, "post_deleted");
    return row;
  });
  if (!deleted) await readOnlyReason(deps, user, id);
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
  const row = await updateEditable(deps.db, user.id, post.id, { ...approval(deps, user, null, post), updatedAt: deps.clock.now() });
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
