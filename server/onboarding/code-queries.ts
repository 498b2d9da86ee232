// verification_codes rows. "Active" = not consumed and not yet expired; only
// the newest active code of a phone can be checked (a new send supersedes).
import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import { verificationCodes, type VerificationCode } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";

/** Expires the phone's earlier codes and stores the new one, in one transaction (the caller's). */
export async function replaceActiveCode(
  tx: DbOrTx,
  v: { phone: string; purpose: string; codeHash: string; now: Date; expiresAt: Date },
): Promise<number> {
  await tx
    .update(verificationCodes)
    .set({ expiresAt: v.now })
    .where(and(eq(verificationCodes.phone, v.phone), isNull(verificationCodes.consumedAt), gt(verificationCodes.expiresAt, v.now)));
  const [row] = await tx
    .insert(verificationCodes)
    .values({ phone: v.phone, purpose: v.purpose, codeHash: v.codeHash, expiresAt: v.expiresAt, createdAt: v.now })
    .returning({ id: verificationCodes.id });
  return row!.id;
}

/** Ends a code whose SMS could not be sent, so it can never be checked. */
export async function expireCode(db: DbOrTx, id: number, now: Date): Promise<void> {
  await db.update(verificationCodes).set({ expiresAt: now }).where(eq(verificationCodes.id, id));
}

export async function newestActiveCode(db: DbOrTx, phone: string, now: Date): Promise<VerificationCode | undefined> {
  const [row] = await db
    .select()
    .from(verificationCodes)
    .where(and(eq(verificationCodes.phone, phone), isNull(verificationCodes.consumedAt), gt(verificationCodes.expiresAt, now)))
    .orderBy(desc(verificationCodes.id))
    .limit(1);
  return row;
}

/**
 * One check of a code, as one conditional UPDATE: it counts the attempt and,
 * when the hash matches, consumes the code — only while the code is unused,
 * unexpired and under its attempt limit. Parallel checks cannot exceed the
 * limit or consume a code twice. Undefined when the code was not checkable.
 */
export async function checkAttempt(
  db: DbOrTx,
  v: { id: number; codeHash: string; now: Date; maxChecks: number },
): Promise<{ matched: boolean } | undefined> {
  const hit = sql`${verificationCodes.codeHash} = ${v.codeHash}`;
  const [row] = await db
    .update(verificationCodes)
    .set({
      attempts: sql`${verificationCodes.attempts} + 1`,
      consumedAt: sql`case when ${hit} then ${v.now.toISOString()}::timestamptz else null end`,
      verifiedAt: sql`case when ${hit} then ${v.now.toISOString()}::timestamptz else null end`,
    })
    .where(
      and(
        eq(verificationCodes.id, v.id),
        isNull(verificationCodes.consumedAt),
        gt(verificationCodes.expiresAt, v.now),
        sql`${verificationCodes.attempts} < ${v.maxChecks}`,
      ),
    )
    .returning({ consumedAt: verificationCodes.consumedAt });
  return row ? { matched: row.consumedAt !== null } : undefined;
}
