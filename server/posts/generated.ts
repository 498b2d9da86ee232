// Generated drafts (the content domain's month of posts), stored here so the
// posts table has one owner. A regeneration replaces only drafts that were
// generated and that nobody touched: never approved, published or may-be-out
// posts (mayBeOut), never a draft the user edited or wrote.
import { and, eq, isNotNull, not, sql } from "drizzle-orm";
import { posts, type Platform } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { mayBeOutSql } from "./queries.ts";

export interface GeneratedDraft {
  platform: Platform;
  content: string;
  scheduledFor: Date;
  mediaUrl: string | null;
  mediaType: string | null;
  generatedBy: "builtin" | "model";
  strategicTheme: string;
  businessCanvasPhase: string;
  engagementOptimisation: string | null;
  localEvent: string | null;
}

const INSERT_BATCH = 10;

const replaceable = (userId: number) =>
  and(eq(posts.userId, userId), eq(posts.status, "draft"), isNotNull(posts.generatedBy), eq(posts.edited, false), not(mayBeOutSql));

/**
 * Posts that will use the allocation besides a new generation: approved or
 * waiting posts without a reservation yet, and drafts a regeneration keeps.
 */
export async function countPlannedPosts(deps: Deps, userId: number): Promise<number> {
  const [row] = await deps.db
    .select({ n: sql<number>`count(*)::int` })
    .from(posts)
    .where(
      and(
        eq(posts.userId, userId),
        sql`(
          (${posts.status} in ('approved', 'unknown', 'paused') and not ${posts.quotaReserved})
          or (${posts.status} = 'draft' and not (${posts.generatedBy} is not null and not ${posts.edited} and not ${mayBeOutSql}))
        )`,
      ),
    );
  return row?.n ?? 0;
}

/** In one transaction (serialised per user): drops the replaceable drafts, stores the new ones. */
export async function replaceGeneratedDrafts(deps: Deps, userId: number, drafts: GeneratedDraft[]): Promise<{ replaced: number; saved: number }> {
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`posts:generated:${userId}`}))`);
    const gone = await tx.delete(posts).where(replaceable(userId)).returning({ id: posts.id });
    let saved = 0;
    // In small batches: the embedded database's wire protocol fails on a statement with thousands of parameters.
    for (let i = 0; i < drafts.length; i += INSERT_BATCH) {
      const batch = drafts.slice(i, i + INSERT_BATCH).map((d) => ({ ...d, userId, status: "draft" as const, createdAt: now, updatedAt: now }));
      saved += (await tx.insert(posts).values(batch).returning({ id: posts.id })).length;
    }
    return { replaced: gone.length, saved };
  });
}
