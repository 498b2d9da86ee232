// Opens the database behind one Drizzle type: node-postgres when DATABASE_URL
// is set, embedded PGlite otherwise. No query knows which one it runs on.
import { PGlite } from "@electric-sql/pglite";
import { lockEmbeddedFolder } from "./embedded-lock.ts";
import { seedFromSnapshot } from "./embedded-snapshot.ts";
import { MIGRATIONS_FOLDER } from "./migrate.ts";
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
  /**
   * LISTENs on a channel: `onPayload` gets every NOTIFY payload (committed
   * transactions only, from any process on PostgreSQL). Resolves to a stop function.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const CHANNEL_NAME = /^[a-z_][a-z0-9_]*$/;

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
  const listeners = new Set<() => Promise<void>>();
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
    listen: (channel, onPayload) => listenPostgres(url, channel, onPayload, listeners),
    async close() {
      await Promise.all([...listeners].map((stop) => stop()));
      await pool.end();
    },
  };
}

/**
 * A LISTEN needs its own long-lived connection (a pooled one would be handed
 * to other queries). A lost connection is re-established after a second;
 * notifications sent meanwhile are missed, so `onPayload("")` tells the
 * listener to resynchronise whatever it tracks.
 */
async function listenPostgres(url: string, channel: string, onPayload: (payload: string) => void, listeners: Set<() => Promise<void>>): Promise<() => Promise<void>> {
  if (!CHANNEL_NAME.test(channel)) throw new TypeError(`bad channel name ${channel}`);
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const open = async (reconnect: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on("notification", (n) => n.channel === channel && onPayload(n.payload ?? ""));
    c.on("error", () => {
      c.end().catch(() => {});
      if (client === c) reopenLater();
    });
    client = c;
    await c.connect();
    await c.query(`listen ${channel}`);
    if (reconnect) onPayload("");
  };
  const reopenLater = () => {
    clearTimeout(retry);
    if (!stopped) retry = setTimeout(() => open(true).catch(reopenLater), 1000);
  };
  await open(false);
  const stop = async () => {
    stopped = true;
    clearTimeout(retry);
    listeners.delete(stop);
    await client?.end().catch(() => {});
  };
  listeners.add(stop);
  return stop;
}

async function openEmbedded(dir: string): Promise<Database> {
  const unlock = dir === "memory" ? () => {} : lockEmbeddedFolder(dir);
  let client: PGlite;
  try {
    // A new folder starts from the snapshot (embedded-snapshot.ts); under the lock, so only one process seeds it.
    if (dir !== "memory") seedFromSnapshot(dir, MIGRATIONS_FOLDER);
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
    // PGlite delivers NOTIFY to listeners of the same instance (one process by construction).
    async listen(channel, onPayload) {
      if (!CHANNEL_NAME.test(channel)) throw new TypeError(`bad channel name ${channel}`);
      const unlisten = await client.listen(channel, onPayload);
      return async () => {
        if (!client.closed) await unlisten();
      };
    },
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
