import { eq } from "drizzle-orm";
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
