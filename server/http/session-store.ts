// The session store: connect-pg-simple's table and expiry, but its read also
// brings the session's user, so a request that needs both (nearly every API
// call) costs one statement instead of two. The user row rides from the
// store to requireUser on the request (loadedAccount); requireUser still
// checks it belongs to the session's userId at that moment, and reads the
// user itself when the session changed in between (login, regenerate).
import connectPgSimple from "connect-pg-simple";
import { sql } from "drizzle-orm";
import type { Request } from "express";
import session from "express-session";
import { sessions, users, type User } from "../../shared/schema.ts";
import type { Db, QueryPool } from "../db/index.ts";

const ACCOUNT = Symbol("account");
type Loaded = session.SessionData & { [ACCOUNT]?: User };

/** The user read with this request's session, when it is the session's user; undefined otherwise. */
export function loadedAccount(req: Request, userId: number): User | undefined {
  const user = (req as { [ACCOUNT]?: User })[ACCOUNT];
  return user?.id === userId ? user : undefined;
}

export function createSessionStore(options: ConstructorParameters<ReturnType<typeof connectPgSimple>>[0] & { pool: QueryPool }, db: Db) {
  const PgStore = connectPgSimple(session);
  // One prepared statement (named: PostgreSQL parses and plans it once per connection).
  // The expiry test is the store's own: expire >= now, in whole seconds rounded up.
  const read = db
    .select({ sess: sessions.sess, user: users })
    .from(sessions)
    .leftJoin(users, sql`${users.id} = (${sessions.sess} ->> 'userId')::int`)
    .where(sql`${sessions.sid} = ${sql.placeholder("sid")} and ${sessions.expire} >= to_timestamp(${sql.placeholder("now")})`)
    .prepare("session_with_user");

  class SessionWithUserStore extends PgStore {
    override get(sid: string, fn: (err: unknown, sess?: session.SessionData | null) => void): void {
      // The parent starts its pruning timer on its first read or write; a process that only reads starts it here.
      const parent = this as unknown as { pruneTimer?: unknown; closed?: boolean };
      if (!parent.pruneTimer && !parent.closed) this.pruneSessions();
      read.execute({ sid, now: Math.ceil(Date.now() / 1000) }).then(([row]) => {
        if (!row) return fn(null, null);
        let sess: Loaded;
        try {
          sess = (typeof row.sess === "string" ? JSON.parse(row.sess) : row.sess) as Loaded;
        } catch {
          // As the parent does: a row that is not a session is removed.
          return this.destroy(sid, (err) => fn(err, null));
        }
        // A symbol: express-session copies only the data's enumerable string keys into the
        // session (and so into what it stores and hashes); createSession moves it to the request.
        if (row.user) sess[ACCOUNT] = row.user;
        fn(null, sess);
      }, fn);
    }

    override createSession(req: Request, sess: session.SessionData): session.Session & session.SessionData {
      const user = (sess as Loaded)[ACCOUNT];
      delete (sess as Loaded)[ACCOUNT];
      (req as { [ACCOUNT]?: User })[ACCOUNT] = user;
      return super.createSession(req, sess);
    }
  }
  return new SessionWithUserStore(options);
}
