// Post rows, always scoped to their owner: another user's id finds nothing.
import { and, desc, eq, sql } from "drizzle-orm";
import { posts, type NewPost, type Post } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";

export const ownPost = (userId: number, id: number) => and(eq(posts.id, id), eq(posts.userId, userId));

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

/** Changes a post the runner is not holding and that has not gone out; undefined otherwise. */
export async function updateEditable(db: DbOrTx, userId: number, id: number, set: Partial<NewPost>): Promise<Post | undefined> {
  const [row] = await db
    .update(posts)
    .set(set)
    .where(and(ownPost(userId, id), sql`${posts.status} not in ('publishing', 'published', 'unknown')`))
    .returning();
  return row;
}
