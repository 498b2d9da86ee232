// What makes a start fast without changing what it does (issue 18): a new
// embedded folder starts from the committed snapshot of an initialised and
// migrated database, and a database whose migrations are current costs one
// statement at start instead of the migrator's work.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openDatabase } from "../../server/db/index.ts";
import { journalTags, readStamp, snapshotUnusable } from "../../server/db/embedded-snapshot.ts";
import { MIGRATIONS_FOLDER, migrationsApplied, runMigrations } from "../../server/db/migrate.ts";
import { createTestDatabase } from "../support/database.ts";
import { countStatements } from "../support/statements.ts";

const journalLength = journalTags(MIGRATIONS_FOLDER).length;

/** Counts the statements that reach the database's driver client (pg.Pool or PGlite) while fn runs. */

describe("fast start", () => {
  it("the snapshot is usable with the installed PGlite and this journal (else: npm run db:snapshot)", () => {
    assert.equal(snapshotUnusable(MIGRATIONS_FOLDER), undefined);
  });

  it("a new embedded folder starts from the snapshot: its database is the snapshot's, migrated, and it keeps its data", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "aiq-seed-")), "pglite");
    try {
      let database = await openDatabase({ embeddedDir: dir });
      try {
        const { rows } = await database.pool.query("select system_identifier::text as id from pg_control_system()");
        assert.equal(rows[0].id, readStamp()!.systemIdentifier, "seeded from the snapshot, not by initdb");
        await runMigrations(database);
        assert.ok(await migrationsApplied(database, journalLength));
        await database.pool.query("insert into users (uid, email, password_hash) values ('seed-uid', 'seed@example.com', 'x')");
      } finally {
        await database.close();
      }
      // Reopened: the folder holds a database now, which is opened as it is.
      database = await openDatabase({ embeddedDir: dir });
      try {
        const { rows } = await database.pool.query("select count(*)::int as n from users where email = 'seed@example.com'");
        assert.equal(rows[0].n, 1);
      } finally {
        await database.close();
      }
    } finally {
      rmSync(join(dir, ".."), { recursive: true, force: true });
    }
  });

  it("with every migration applied, start-up's migration step is one statement", async () => {
    const db = await createTestDatabase();
    const database = await openDatabase({ url: db.url, embeddedDir: "memory" });
    try {
      await runMigrations(database);
      assert.equal(await countStatements(database.db, () => runMigrations(database)), 1);
      assert.ok(await migrationsApplied(database, journalLength));
    } finally {
      await database.close();
      await db.drop();
    }
  });
});
