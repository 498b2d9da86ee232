// Each test file gets its own database: a fresh PostgreSQL database when
// TEST_DATABASE_URL or DATABASE_URL is set, a throwaway embedded one otherwise.
import { randomBytes } from "node:crypto";
import pg from "pg";

export const realPostgresUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
export const onRealPostgres = Boolean(realPostgresUrl);

/** Reason string for tests that need several connections or processes. */
export const needsRealPostgres = onRealPostgres
  ? false
  : "needs real PostgreSQL (several processes / row locks between connections); skipped on the embedded database — set DATABASE_URL to run it";

export interface TestDatabase {
  /** undefined: use the embedded database in memory. */
  url?: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (!realPostgresUrl) return { url: undefined, drop: async () => {} };
  const name = `aiq_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: realPostgresUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(realPostgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: realPostgresUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
