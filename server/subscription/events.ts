// "A user's subscription changed": a PostgreSQL NOTIFY on one channel with the
// user id as payload. Sent inside the transaction that changes the plan, so it
// goes out only if that commits — to every process LISTENing (stream.ts), on
// real PostgreSQL and on the embedded database alike.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db/index.ts";

export const SUBSCRIPTION_CHANNEL = "subscription_changed";

/** Call from the transaction that grants, changes or ends a plan. */
export async function announceSubscriptionChange(tx: DbOrTx, userId: number): Promise<void> {
  await tx.execute(sql`select pg_notify(${SUBSCRIPTION_CHANNEL}, ${String(userId)})`);
}
