// Limits that must hold across processes, counted in PostgreSQL over a sliding
// window. The advisory transaction lock on the bucket makes "count, then
// record" atomic, so parallel requests cannot all see the same count.
import { and, eq, gt, lt, sql } from "drizzle-orm";
import { rateLimitHits } from "../../shared/schema.ts";
import type { Db, DbOrTx } from "../db/index.ts";

export interface Limit {
  bucket: string;
  max: number;
  windowMs: number;
}

async function lockBucket(tx: DbOrTx, bucket: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${bucket}))`);
}

async function countHits(tx: DbOrTx, bucket: string, since: Date): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(rateLimitHits)
    .where(and(eq(rateLimitHits.bucket, bucket), gt(rateLimitHits.at, since)));
  return row?.n ?? 0;
}

/** Records one hit if the bucket is under its limit; false when the limit is reached. */
export async function consume(db: Db, limit: Limit, now: Date): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockBucket(tx, limit.bucket);
    const n = await countHits(tx, limit.bucket, new Date(now.getTime() - limit.windowMs));
    if (n >= limit.max) return false;
    await tx.insert(rateLimitHits).values({ bucket: limit.bucket, at: now });
    return true;
  });
}

/** Records a hit unconditionally (e.g. a failed login). */
export async function recordHit(db: DbOrTx, bucket: string, now: Date): Promise<void> {
  await db.insert(rateLimitHits).values({ bucket, at: now });
}

/** True when the bucket has reached its limit within the window. */
export async function isLimited(db: DbOrTx, limit: Limit, now: Date): Promise<boolean> {
  return (await countHits(db, limit.bucket, new Date(now.getTime() - limit.windowMs))) >= limit.max;
}

/** Gives one hit back (an attempt counted up front that turned out fine). */
export async function releaseHit(db: DbOrTx, bucket: string): Promise<void> {
  await db.execute(
    sql`delete from rate_limit_hits where id = (select id from rate_limit_hits where bucket = ${bucket} order by at desc, id desc limit 1)`,
  );
}

export async function clearBucket(db: DbOrTx, bucket: string): Promise<void> {
  await db.delete(rateLimitHits).where(eq(rateLimitHits.bucket, bucket));
}

/** Drops hits older than any window we use (a day), run by a timer. */
export async function pruneHits(db: DbOrTx, now: Date): Promise<void> {
  await db.delete(rateLimitHits).where(lt(rateLimitHits.at, new Date(now.getTime() - 25 * 60 * 60 * 1000)));
}
