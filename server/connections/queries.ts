import { and, eq, sql } from "drizzle-orm";
import { platformConnections } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";

export async function countActiveConnections(db: DbOrTx, userId: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(platformConnections)
    .where(and(eq(platformConnections.userId, userId), eq(platformConnections.isActive, true)));
  return row?.n ?? 0;
}
