// passport-oauth2's state store, in PostgreSQL instead of the session blob.
// The session blob is written back whole at the end of every request, so two
// requests in flight (a double callback, a page refresh saving the session)
// could each see or restore a state: "single use" would not hold. Here use is
// one DELETE … RETURNING, bound to the session, the user and the platform.
import { createHash, randomBytes } from "node:crypto";
import type { Request } from "express";
import { and, eq, gt, lt } from "drizzle-orm";
import { oauthStates, type Platform } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";
import type { Deps } from "../deps.ts";

const STATE_TTL_MS = 10 * 60 * 1000;
const INVALID = { message: "Unable to verify authorization request state." };

const sessionHash = (req: Request) => createHash("sha256").update(req.sessionID ?? "").digest("hex");

type Stored = (err: Error | null, handle?: string) => void;
type Loaded = (err: Error | null, ok?: string | boolean, info?: unknown) => void;

export class PgStateStore {
  constructor(
    private readonly deps: Deps,
    private readonly platform: Platform,
  ) {}

  // Arity 5 matters: passport-oauth2 passes the PKCE verifier (undefined without PKCE).
  store(req: Request, verifier: string | undefined, _state: unknown, _meta: unknown, callback: Stored): void {
    const userId = req.session?.userId;
    if (!userId) return callback(new Error("OAuth connect needs a logged-in session"));
    const handle = randomBytes(32).toString("base64url");
    const now = this.deps.clock.now();
    this.deps.db
      .insert(oauthStates)
      .values({ handle, sessionHash: sessionHash(req), userId, platform: this.platform, codeVerifier: verifier ?? null, expiresAt: new Date(now.getTime() + STATE_TTL_MS) })
      .then(() => callback(null, handle), (err) => callback(err));
  }

  verify(req: Request, providedState: unknown, callback: Loaded): void {
    const userId = req.session?.userId;
    if (typeof providedState !== "string" || !providedState || !userId) return callback(null, false, INVALID);
    const now = this.deps.clock.now();
    this.deps.db
      .delete(oauthStates)
      .where(
        and(
          eq(oauthStates.handle, providedState),
          eq(oauthStates.sessionHash, sessionHash(req)),
          eq(oauthStates.userId, userId),
          eq(oauthStates.platform, this.platform),
          gt(oauthStates.expiresAt, now),
        ),
      )
      .returning({ codeVerifier: oauthStates.codeVerifier })
      .then(
        ([row]) => (row ? callback(null, row.codeVerifier ?? true) : callback(null, false, INVALID)),
        (err) => callback(err),
      );
  }
}

/** Drops states of flows never finished (a timer). */
export async function pruneOauthStates(db: DbOrTx, now: Date): Promise<void> {
  await db.delete(oauthStates).where(lt(oauthStates.expiresAt, now));
}

