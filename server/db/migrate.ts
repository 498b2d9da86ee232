// Applies database/migrations under a PostgreSQL advisory lock, so two
// processes starting together on one empty database migrate it once.
import { fileURLToPath } from "node:url";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { Database } from "./index.ts";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../database/migrations", import.meta.url));
// Any constant both processes agree on; "agencyiq" in ASCII.
const MIGRATION_LOCK_KEY = 0x61676e63;

export async function runMigrations(database: Database): Promise<void> {
  await database.withConnection(async (db, query) => {
    await query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      const migrate = database.kind === "postgres" ? migratePg : migratePglite;
      await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  });
}

/** True when every migration in the folder is recorded as applied (for /readyz). */
export async function migrationsApplied(database: Database, expected: number): Promise<boolean> {
  const { rows } = await database.pool.query(
    "select count(*)::int as n from drizzle.__drizzle_migrations",
  );
  return rows[0]?.n >= expected;
}
