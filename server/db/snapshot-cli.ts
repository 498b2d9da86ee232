// `npm run db:snapshot`: remakes database/pglite-initdb.tar.gz (and its stamp),
// the freshly initialised and migrated PGlite data folder new embedded
// databases start from (embedded-snapshot.ts). Needed after upgrading
// @electric-sql/pglite (until then new embedded databases run initdb: slower,
// same result); worth it after adding migrations (they otherwise run at a
// first start on top of the snapshot).
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { writeFileSync } from "node:fs";
import { installedPgliteVersion, journalTags, SNAPSHOT_FILE, SNAPSHOT_STAMP, type SnapshotStamp } from "./embedded-snapshot.ts";
import { MIGRATIONS_FOLDER } from "./migrate.ts";

const client = new PGlite();
await client.waitReady;
// The migrator itself, not runMigrations: a new database would be seeded from the old snapshot.
await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
const { rows } = await client.query<{ id: string }>("select system_identifier::text as id from pg_control_system()");
// Everything initdb wrote flushed to the data files: the write-ahead log then holds nothing to replay.
await client.query("checkpoint");
const dump = await client.dumpDataDir("gzip");
await client.close();
writeFileSync(SNAPSHOT_FILE, Buffer.from(await dump.arrayBuffer()));
const stamp: SnapshotStamp = { pglite: installedPgliteVersion(), systemIdentifier: rows[0]!.id, migrations: journalTags(MIGRATIONS_FOLDER) };
writeFileSync(SNAPSHOT_STAMP, `${JSON.stringify(stamp, null, 2)}\n`);
console.log(`wrote ${SNAPSHOT_FILE} (${dump.size} bytes) for PGlite ${stamp.pglite}`);
