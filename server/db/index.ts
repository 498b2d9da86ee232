// Opens the database behind one Drizzle type: node-postgres when DATABASE_URL
// is set, embedded PGlite otherwise. No query knows which one it runs on.
import { PGlite } from "@electric-sql/pglite";
import { lockEmbeddedFolder } from "./embedded-lock.ts";
import { sql, type SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import * as schema from "../../shared/schema.ts";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle; every query helper accepts `Db | Tx` so callers choose the boundary. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type DbOrTx = Db | Tx;

/** The minimal pg-compatible surface connect-pg-simple needs. */
export interface QueryPool {
  query(text: string, params?: unknown[]): Promise<{ rows: any[] }>;
}

export interface Database {
  db: Db;
  kind: "postgres" | "embedded";
  /** Several processes can share it; tests that need row locks between connections check this. */
  supportsConcurrentConnections: boolean;
  pool: QueryPool;
  /** Runs fn on one dedicated connection (advisory locks are per connection). */
  withConnection<T>(fn: (db: Db, query: QueryPool["query"]) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url?: string;
  /** A folder for the embedded database, or "memory" for a throwaway one (tests). */
  embeddedDir: string;
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options.poolSize ?? 10) : openEmbedded(options.embeddedDir);
}

function openPostgres(url: string, max: number): Database {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client's error (server restart) must not crash the process; the next query reports it.
  pool.on("error", () => {});
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    supportsConcurrentConnections: true,
    pool,
    async withConnection(fn) {
      const client = await pool.connect();
      try {
        return await fn(drizzlePg(client, { schema }) as unknown as Db, (text, params) => client.query(text, params));
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openEmbedded(dir: string): Promise<Database> {
  const unlock = dir === "memory" ? () => {} : lockEmbeddedFolder(dir);
  let client: PGlite;
  try {
    client = dir === "memory" ? new PGlite() : new PGlite(dir);
    await client.waitReady;
  } catch (err) {
    unlock();
    throw err;
  }
  const query: QueryPool["query"] = async (text, params) => {
    // PGlite does not serialise plain objects itself (pg does): send them as JSON.
    const values = params?.map((p) => (p !== null && typeof p === "object" && !(p instanceof Date) ? JSON.stringify(p) : p));
    const result = await client.query(text, values);
    return { rows: result.rows as any[] };
  };
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: "embedded",
    supportsConcurrentConnections: false,
    pool: { query },
    withConnection: (fn) => fn(db, query),
    close: () => client.close().finally(unlock),
  };
}

/** Rows of a `db.execute(sql…)` result on either driver. */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/**
 * `= any(<ids>)` as one int[] parameter. Batched statements join a
 * jsonb_to_recordset input the planner guesses at 100 rows, which makes it
 * scan the whole table; naming the ids this way gives it an index scan.
 */
export function anyId(ids: readonly number[]): SQL {
  if (!ids.every(Number.isSafeInteger)) throw new TypeError("ids must be integers");
  return sql`any(${`{${ids.join(",")}}`}::int[])`;
}

/** PostgreSQL's unique_violation (of `constraint`, when named), on node-postgres or PGlite, wrapped by Drizzle or not. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  for (let e: any = err; e; e = e.cause) if (e.code === "23505") return constraint === undefined || e.constraint === constraint;
  return false;
}
