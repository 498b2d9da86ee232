// Re-encrypts every token under the current key version, in batches, each
// row locked while it is rewritten so a concurrent refresh cannot interleave.
import { and, asc, eq, gt, ne } from "drizzle-orm";
import { platformConnections } from "../../shared/schema.ts";
import type { Db } from "../db/index.ts";
import type { TokenVault } from "./vault.ts";

export async function rotateTokenKey(db: Db, vault: TokenVault, batchSize = 200): Promise<number> {
  let rotated = 0;
  let lastId = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(platformConnections)
        .where(and(gt(platformConnections.id, lastId), ne(platformConnections.tokenKeyVersion, vault.currentVersion)))
        .orderBy(asc(platformConnections.id))
        .limit(batchSize)
        .for("update");
      for (const row of rows) {
        const tokens = vault.openConnection(row);
        await tx
          .update(platformConnections)
          .set(vault.sealConnection(row, tokens))
          .where(eq(platformConnections.id, row.id));
        lastId = row.id;
      }
      return rows.length;
    });
    rotated += n;
    if (n < batchSize) return rotated;
  }
}
