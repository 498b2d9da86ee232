// Brand purpose and logo rows, always by their owner.
import { eq } from "drizzle-orm";
import { brandLogos, brandPurposes, users, type BrandLogo, type BrandPurpose } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";
import type { BrandPurposeInput } from "./schemas.ts";

export async function findBrandPurpose(db: DbOrTx, userId: number): Promise<BrandPurpose | undefined> {
  const [row] = await db.select().from(brandPurposes).where(eq(brandPurposes.userId, userId));
  return row;
}

/** Upserts the whole form and marks the account's brand setup done, in one transaction. */
export async function saveBrandPurpose(db: DbOrTx, userId: number, input: BrandPurposeInput, now: Date): Promise<BrandPurpose> {
  return db.transaction(async (tx) => {
    const values = { ...input, userId, updatedAt: now };
    const [row] = await tx
      .insert(brandPurposes)
      .values({ ...values, createdAt: now })
      .onConflictDoUpdate({ target: brandPurposes.userId, set: values })
      .returning();
    await tx.update(users).set({ hasBrandSetup: true, updatedAt: now }).where(eq(users.id, userId));
    return row!;
  });
}

export async function findLogo(db: DbOrTx, userId: number): Promise<BrandLogo | undefined> {
  const [row] = await db.select().from(brandLogos).where(eq(brandLogos.userId, userId));
  return row;
}

/** Records the user's current logo; returns the file it replaced (to delete), if any. */
export async function saveLogo(db: DbOrTx, logo: Omit<BrandLogo, "updatedAt">, now: Date): Promise<string | undefined> {
  return db.transaction(async (tx) => {
    const [old] = await tx.select({ fileName: brandLogos.fileName }).from(brandLogos).where(eq(brandLogos.userId, logo.userId)).for("update");
    await tx
      .insert(brandLogos)
      .values({ ...logo, updatedAt: now })
      .onConflictDoUpdate({ target: brandLogos.userId, set: { fileName: logo.fileName, mimeType: logo.mimeType, bytes: logo.bytes, updatedAt: now } });
    return old && old.fileName !== logo.fileName ? old.fileName : undefined;
  });
}
