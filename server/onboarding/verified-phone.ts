import { and, eq, gte, isNotNull } from "drizzle-orm";
import { verificationCodes } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";

/** True when a code for this phone was verified at or after `since` (signup's precondition). */
export async function hasVerifiedPhoneSince(db: DbOrTx, phone: string, since: Date): Promise<boolean> {
  const [row] = await db
    .select({ id: verificationCodes.id })
    .from(verificationCodes)
    .where(and(eq(verificationCodes.phone, phone), isNotNull(verificationCodes.verifiedAt), gte(verificationCodes.verifiedAt, since)))
    .limit(1);
  return row !== undefined;
}
