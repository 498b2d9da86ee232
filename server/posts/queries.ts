// Post rows, always scoped to their owner: another user's id finds nothing.
import { and, desc, eq, not, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import { posts, type NewPost, type Post } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";

export const ownPost = (userId: number, id: number) => and(eq(posts.id, id), eq(posts.userId, userId));

/** What an update may set: values, or SQL computed from the row as it is when the update runs. */
export type PostSet = PgUpdateSetSource<typeof posts>;

/**
 * A post that may already be live on its platform: sent at least once (an
 * earlier attempt's answer may have been lost) and not definitively refused.
 * Until reconciliation has settled it, it is never sent blindly again, its
 * text (which reconciliation matches by) never changes and it is never deleted.
 */
export const mayBeOut = (p: Pick<Post, "attemptCount" | "status">) => p.attemptCount > 0 && p.status !== "failed";
export const mayBeOutSql = sql`(${posts.attemptCount} > 0 and ${posts.status} <> 'failed')`;

/** Posts the runner is holding, may be settling with the platform, or that are out: read-only. */
const changeable = sql`${posts.status} not in ('publishing', 'published', 'unknown')`;

export async function listPosts(db: DbOrTx, userId: number): Promise<Post[]> {
  return db.select().from(posts).where(eq(posts.userId, userId)).orderBy(desc(posts.createdAt), desc(posts.id));
}

export async function findPost(db: DbOrTx, userId: number, id: number): Promise<Post | undefined> {
  const [row] = await db.select().from(posts).where(ownPost(userId, id));
  return row;
}

export async function insertPost(db: DbOrTx, values: NewPost): Promise<Post> {
  const [row] = await db.insert(posts).values(values).returning();
  return row!;
}

/**
 * Changes a post the runner is not holding and that has not gone out;
 * undefined otherwise. `unsentOnly` also refuses a post that may be out
 * (for changes of its text or media).
 */
export async function updateEditable(db: DbOrTx, userId: number, id: number, set: PostSet, opts: { unsentOnly?: boolean } = {}): Promise<Post | undefined> {
  const [row] = await db
    .update(posts)
    .set(set)
    .where(and(ownPost(userId, id), changeable, opts.unsentOnly ? not(mayBeOutSql) : undefined))
    .returning();
  return row;
}

/** Deletes a post that has not gone out and cannot have; undefined when there is no such post. */
export async function deleteUnsent(db: DbOrTx, userId: number, id: number): Promise<{ id: number; quotaReserved: boolean } | undefined> {
  const [row] = await db
    .delete(posts)
    .where(and(ownPost(userId, id), changeable, not(mayBeOutSql)))
    .returning({ id: posts.id, quotaReserved: posts.quotaReserved });
  return row;
}

/**
 * Deletes every post of the user that has not reached a platform and cannot
 * have (cancellation). Kept: `publishing` and `unknown` (the runner must still
 * settle them), posts that may be out (see mayBeOut), and `published` (history).
 * Returns how many were deleted.
 */
export async function deleteUnsentOfUser(db: DbOrTx, userId: number): Promise<number> {
  const rows = await db
    .delete(posts)
    .where(and(eq(posts.userId, userId), changeable, not(mayBeOutSql)))
    .returning({ id: posts.id });
  return rows.length;
}
