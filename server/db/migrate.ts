// Applies database/migrations under a PostgreSQL advisory lock, so two
// processes starting together on one empty database migrate it once.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { Database } from "./index.ts";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../database/migrations", import.meta.url));
// Any constant both processes agree on; "agencyiq" in ASCII.
const MIGRATION_LOCK_KEY = 0x61676e63;

export async function runMigrations(database: Database): Promise<void> {
  if (await journalApplied(database)) return;
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

// The newest migration's timestamp in the journal: the migrator applies every migration newer than
// the newest one recorded (drizzle-orm's migrators compare created_at with the journal's `when`).
const lastWhen = (
  JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as { entries: Array<{ when: number }> }
).entries.at(-1)?.when;

/**
 * One statement instead of the migrator's (which reads and hashes every file
 * and takes a lock): when the newest migration recorded is the journal's
 * newest, the migrator would apply nothing. A database never migrated fails
 * the read (no such table) and goes through the migrator.
 */
async function journalApplied(database: Database): Promise<boolean> {
  if (lastWhen === undefined) return false;
  try {
    const { rows } = await database.pool.query("select max(created_at)::text as last from drizzle.__drizzle_migrations");
    return rows[0]?.last === String(lastWhen);
  } catch {
    return false;
  }
}

/** True when every migration in the folder is recorded as applied (for /readyz). */
export async function migrationsApplied(database: Database, expected: number): Promise<boolean> {
  const { rows } = await database.pool.query(
    "select count(*)::int as n from drizzle.__drizzle_migrations",
  );
  return rows[0]?.n >= expected;
}
