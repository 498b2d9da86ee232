// quota_history: one row per change of a user's allocation or usage, written
// in the same transaction as the change itself.
import { quotaHistory } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";

export interface QuotaChange {
  userId: number;
  postId?: number | null;
  previousTotal: number;
  newTotal: number;
  previousRemaining: number;
  newRemaining: number;
  reason: string;
  at: Date;
}

export async function recordQuotaChange(db: DbOrTx, c: QuotaChange): Promise<void> {
  await db.insert(quotaHistory).values({
    userId: c.userId,
    postId: c.postId ?? null,
    previousTotal: c.previousTotal,
    newTotal: c.newTotal,
    previousRemaining: c.previousRemaining,
    newRemaining: c.newRemaining,
    reason: c.reason,
    createdAt: c.at,
  });
}
