import { and, eq, isNull } from "drizzle-orm";
import { users, type NewUser, type User } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";

export async function findUserById(db: DbOrTx, id: number): Promise<User | undefined> {
  const [u] = await db.select().from(users).where(eq(users.id, id));
  return u;
}

export async function findUserByEmail(db: DbOrTx, email: string): Promise<User | undefined> {
  const [u] = await db.select().from(users).where(eq(users.email, email.toLowerCase()));
  return u;
}

export async function findUserByPhone(db: DbOrTx, phone: string): Promise<User | undefined> {
  const [u] = await db.select().from(users).where(eq(users.phone, phone));
  return u;
}

/** Inserts a user; undefined when the email or phone is already taken (unique indexes decide, not a pre-check). */
export async function insertUser(db: DbOrTx, values: NewUser): Promise<User | undefined> {
  const [u] = await db.insert(users).values(values).onConflictDoNothing().returning();
  return u;
}

/**
 * A verified claim of `phone` takes it from an account that never proved it
 * held the number (README "The React client"): that account's phone becomes
 * null. Returns the account that lost it, if any. Run it in the transaction
 * that gives the number to the claimant.
 */
export async function releaseUnverifiedPhone(db: DbOrTx, phone: string, now: Date): Promise<User | undefined> {
  const [u] = await db
    .update(users)
    .set({ phone: null, updatedAt: now })
    .where(and(eq(users.phone, phone), isNull(users.phoneVerifiedAt)))
    .returning();
  return u;
}

/** The logged-in user proved (a code) the number it already has. */
export async function markPhoneVerified(db: DbOrTx, userId: number, phone: string, now: Date): Promise<void> {
  await db.update(users).set({ phoneVerifiedAt: now, updatedAt: now }).where(and(eq(users.id, userId), eq(users.phone, phone)));
}
