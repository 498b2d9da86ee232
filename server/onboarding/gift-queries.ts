import { and, eq } from "drizzle-orm";
import { giftCertificateActionLog, giftCertificates, type GiftCertificate, type PlanName } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";

export async function insertCertificates(
  db: DbOrTx,
  rows: { codeHash: string; codeHint: string; plan: PlanName; createdFor: string | null; createdAt: Date }[],
): Promise<void> {
  await db.insert(giftCertificates).values(rows);
}

/**
 * The redemption itself: one conditional UPDATE. Of any number of parallel
 * callers exactly one gets the row back; the others wait for its transaction
 * and then find `is_used` true. Must run in the transaction that grants the plan.
 */
export async function markUsed(tx: DbOrTx, codeHash: string, now: Date, userId: number | null): Promise<GiftCertificate | undefined> {
  const [row] = await tx
    .update(giftCertificates)
    .set({ isUsed: true, redeemedAt: now, redeemedBy: userId })
    .where(and(eq(giftCertificates.codeHash, codeHash), eq(giftCertificates.isUsed, false)))
    .returning();
  return row;
}

export async function setRedeemedBy(tx: DbOrTx, id: number, userId: number): Promise<void> {
  await tx.update(giftCertificates).set({ redeemedBy: userId }).where(eq(giftCertificates.id, id));
}

export async function findCertificateByHash(db: DbOrTx, codeHash: string): Promise<GiftCertificate | undefined> {
  const [row] = await db.select().from(giftCertificates).where(eq(giftCertificates.codeHash, codeHash));
  return row;
}

export interface ActionLogEntry {
  certificateId: number | null;
  codeHint: string | null;
  userId: number | null;
  action: string;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  at: Date;
}

export async function logAction(db: DbOrTx, e: ActionLogEntry): Promise<void> {
  await db.insert(giftCertificateActionLog).values({
    certificateId: e.certificateId,
    codeHint: e.codeHint,
    userId: e.userId,
    action: e.action,
    outcome: e.outcome,
    ip: e.ip,
    userAgent: e.userAgent?.slice(0, 512) ?? null,
    createdAt: e.at,
  });
}
