// The token manager: hands out an access token that is good for the next few
// minutes, refreshing it when needed — one refresh per connection at a time
// across every process. Nango's credentials/refresh.ts is the model (single
// flight, lock, re-read); its Redis lock is a PostgreSQL row lock here:
//   1. in-process single flight (one promise per connection per server);
//   2. SELECT … FOR UPDATE on the row (other processes wait here);
//   3. re-read: if another process stored a new token meanwhile, use it;
//   4. call the platform, store access token, rotated refresh token and expiry
//      in the same transaction, commit.
// The lock is bounded: waiters give up after lock_timeout and PostgreSQL ends a
// session that sits in the transaction longer than the platform call's timeout.
// On the embedded database (one process by construction, and a transaction
// there blocks every other query) the single flight is the lock: no
// transaction is held across the platform call.
import { and, eq, inArray, sql } from "drizzle-orm";
import { platformConnections, type Platform, type PlatformConnection } from "../../shared/schema.ts";
import type { DbOrTx, Tx } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { safeError } from "../http/errors.ts";
import { TokenDecryptionError } from "./vault.ts";
import { countRefresh } from "../ops/metrics.ts";
import type { ConnectionCredentials, ErrorClassification } from "../platforms/types.ts";
import { pauseForOperator } from "../posts/operator.ts";
import { credentialsOf, findActiveConnection } from "./service.ts";
import { announceReconnect, markNeedsReconnect, nextCheckAt, noticeRecheckAt, phoneOf, recordFailure } from "./token-state.ts";

export type UnavailableReason = "not_connected" | "needs_reconnect" | "temporarily_unavailable";

/** The caller cannot get a working token; `reason` says what the user (or a retry) can do. */
export class ConnectionUnavailableError extends Error {
  override readonly name = "ConnectionUnavailableError";
  constructor(
    readonly platform: Platform,
    readonly reason: UnavailableReason,
    message: string,
    readonly retryAt?: Date,
  ) {
    super(message);
  }
}

export interface ValidToken {
  connection: PlatformConnection;
  credentials: ConnectionCredentials;
}

const FRESH_MS = 5 * 60_000;

/**
 * Good for the next few minutes: more than 5 minutes left, or more than half
 * its life for platforms (or sandbox settings) that issue shorter tokens —
 * otherwise every call would refresh.
 */
export function isFresh(row: Pick<PlatformConnection, "expiresAt" | "lastRefreshedAt">, now: Date): boolean {
  if (!row.expiresAt) return true;
  const left = row.expiresAt.getTime() - now.getTime();
  const life = row.lastRefreshedAt ? row.expiresAt.getTime() - row.lastRefreshedAt.getTime() : 2 * FRESH_MS;
  return left > Math.min(FRESH_MS, life / 2);
}

const expired = (row: PlatformConnection, now: Date) => row.expiresAt !== null && row.expiresAt.getTime() <= now.getTime();

export type RefreshResult =
  /** This call refreshed the tokens. */
  | { kind: "refreshed"; connection: PlatformConnection }
  /** Nothing to do, or another process refreshed first: the row as it is now. */
  | { kind: "current"; connection: PlatformConnection }
  | { kind: "needs_reconnect"; connection: PlatformConnection; message: string }
  /** A transient failure, recorded with back-off; the old token may still work (stillValid). */
  | { kind: "failed"; connection: PlatformConnection; message: string; retryAt: Date; stillValid: boolean }
  /** Disconnected meanwhile. */
  | { kind: "gone" };

export interface RefreshOptions {
  /** The access-token ciphertext the caller saw: a different one under the lock means someone refreshed. */
  seenAccessToken?: string;
  /** The failure count the caller saw: a higher one under the lock means someone just failed; do not hammer the platform. */
  seenFailureCount?: number;
  /** Refresh even if the token is not due (the refresh endpoint). */
  force?: boolean;
  /** Whether the row, re-read under the lock, still needs a refresh. */
  due?: (row: PlatformConnection, now: Date) => boolean;
}

// One flight per connection per server (Deps is per server: several servers in one test process keep separate maps).
const flights = new WeakMap<Deps, Map<number, Promise<RefreshResult>>>();

/** Refreshes one connection under its row lock; concurrent callers in this process share the flight. */
export function refreshConnection(deps: Deps, connectionId: number, options: RefreshOptions = {}): Promise<RefreshResult> {
  let mine = flights.get(deps);
  if (!mine) flights.set(deps, (mine = new Map()));
  const running = mine.get(connectionId);
  if (running) return running;
  const flight = refreshLocked(deps, connectionId, options).finally(() => mine.delete(connectionId));
  mine.set(connectionId, flight);
  return flight;
}

/** lock_timeout for waiters, and a session limit so a stuck holder cannot keep the lock past the platform timeout. */
async function boundLock(deps: Deps, tx: Tx): Promise<void> {
  const ms = deps.config.platforms.timeoutMs + 5_000;
  await tx.execute(sql`select set_config('lock_timeout', ${`${ms}ms`}, true)`);
  if (deps.database.kind === "postgres") {
    await tx.execute(sql`select set_config('idle_in_transaction_session_timeout', ${`${ms}ms`}, true)`);
  }
}

type Locked = RefreshResult & { announce?: string; operator?: ErrorClassification };

/** PostgreSQL: one transaction holding the row lock. Embedded: no transaction (see the header). */
function underLock(deps: Deps, fn: (tx: DbOrTx) => Promise<Locked>): Promise<Locked> {
  if (!deps.database.supportsConcurrentConnections) return fn(deps.db);
  return deps.db.transaction(async (tx) => {
    await boundLock(deps, tx);
    return fn(tx);
  });
}

async function refreshLocked(deps: Deps, id: number, o: RefreshOptions): Promise<RefreshResult> {
  let result: Locked;
  try {
    result = await underLock(deps, async (tx) => {
      const select = tx.select().from(platformConnections).where(and(eq(platformConnections.id, id), eq(platformConnections.isActive, true)));
      const [row] = deps.database.supportsConcurrentConnections ? await select.for("update") : await select;
      if (!row) return { kind: "gone" } as const;
      const now = deps.clock.now();
      if (row.status === "needs_reconnect") return { kind: "needs_reconnect", connection: row, message: row.lastError ?? "Reconnect needed" } as const;
      const someoneRefreshed = o.seenAccessToken !== undefined && row.accessToken !== o.seenAccessToken;
      if (someoneRefreshed && !expired(row, now)) return { kind: "current", connection: row } as const;
      if (!o.force && !someoneRefreshed && o.due && !o.due(row, now)) return { kind: "current", connection: row } as const;
      const someoneFailed = o.seenFailureCount !== undefined && row.failureCount > o.seenFailureCount && row.nextCheckAt !== null && row.nextCheckAt > now;
      if (someoneFailed) {
        const message = row.lastError ?? "The platform did not answer";
        return { kind: "failed", connection: row, message, retryAt: row.nextCheckAt!, stillValid: !expired(row, now) } as const;
      }
      return refreshRow(deps, tx, row, now);
    });
  } catch (err) {
    // lock_timeout, a lost database connection, a token the vault cannot open: nothing was stored; try again later.
    const row = await deps.db.select().from(platformConnections).where(eq(platformConnections.id, id));
    if (!row[0]) return { kind: "gone" };
    deps.log.warn({ error: safeError(err), connectionId: id }, "Token refresh did not complete");
    const now = deps.clock.now();
    return { kind: "failed", connection: row[0], message: "The connection could not be renewed right now", retryAt: new Date(now.getTime() + 30_000), stillValid: !expired(row[0], now) };
  }
  // After the commit: what others may see is stored before anyone is told.
  if (result.kind === "refreshed" || result.kind === "failed" || (result.kind === "needs_reconnect" && result.announce)) {
    countRefresh(result.connection.platform, result.kind);
  }
  if (result.kind === "refreshed") {
    const c = result.connection;
    deps.log.info({ userId: c.userId, platform: c.platform, expiresAt: c.expiresAt }, `Token refreshed ${await phoneOf(deps.db, c.userId)} for ${c.platform}`);
  }
  if (result.kind === "needs_reconnect" && result.announce) {
    // The verdict is stored; telling the user must not turn it into an error for the caller.
    await announceReconnect(deps, result.connection, result.announce).catch((err) =>
      deps.log.error({ error: safeError(err), connectionId: id }, "Reconnect notice failed"),
    );
  }
  // Our app's credentials refused (invalid_client): the platform pauses for everyone; no user is told to reconnect.
  if (result.kind === "failed" && result.operator) await pauseForOperator(deps, result.connection.platform, result.operator);
  if (result.kind === "failed") {
    deps.log.warn({ userId: result.connection.userId, platform: result.connection.platform, error: result.message, retryAt: result.retryAt }, "Token refresh failed; will retry");
  }
  const { announce: _a, operator: _o, ...plain } = result as Locked;
  return plain as RefreshResult;
}

/** Under the row lock: refresh through the adapter and store everything it returned, or record why not. */
async function refreshRow(deps: Deps, tx: DbOrTx, row: PlatformConnection, now: Date): Promise<Locked> {
  const adapter = deps.platforms[row.platform];
  const reconnect = async (message: string): Promise<Locked> => {
    await markNeedsReconnect(tx, row.id, message, now);
    return { kind: "needs_reconnect", connection: { ...row, status: "needs_reconnect", lastError: message, nextCheckAt: noticeRecheckAt(now) }, message, announce: message };
  };
  if (row.refreshToken && row.refreshTokenExpiresAt && row.refreshTokenExpiresAt.getTime() <= now.getTime()) {
    return reconnect(`${adapter.displayName} allows renewing a connection only for a fixed time, which has ended`);
  }
  if (!row.refreshToken) {
    // Nothing can renew it: use it while it lasts, then the user must reconnect.
    if (expired(row, now)) return reconnect(`The ${adapter.displayName} access has expired and ${adapter.displayName} gives no way to renew it`);
    return { kind: "current", connection: row };
  }
  let tokens;
  try {
    tokens = await adapter.refresh(credentialsOf(deps, row));
  } catch (err) {
    const c = adapter.classifyError(err);
    if (c.kind === "auth_revoked") return reconnect(`${adapter.displayName} refused to renew the access (${c.code})`);
    const message = `${c.code}: ${c.message}`;
    const retryAt = await recordFailure(tx, row, message, now, c.retryAt);
    return { kind: "failed", connection: { ...row, failureCount: row.failureCount + 1, lastError: message, nextCheckAt: retryAt }, message, retryAt, stillValid: !expired(row, now), ...(c.operator ? { operator: c } : {}) };
  }
  const stored = { refreshToken: tokens.refreshToken ?? null, expiresAt: tokens.expiresAt, refreshTokenExpiresAt: tokens.refreshTokenExpiresAt };
  const [updated] = await tx
    .update(platformConnections)
    .set({
      // The adapter returns a complete set (a kept refresh token included); never drop a refresh token we had.
      ...deps.vault.sealConnection(row, { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken ?? credentialsOf(deps, row).refreshToken }),
      expiresAt: tokens.expiresAt,
      refreshTokenExpiresAt: tokens.refreshTokenExpiresAt ?? row.refreshTokenExpiresAt,
      ...(tokens.scopes ? { scopes: tokens.scopes } : {}),
      status: "connected",
      lastRefreshedAt: now,
      // A renewed grant is as good a proof as a validation call.
      lastValidatedAt: now,
      failureCount: 0,
      lastError: null,
      nextCheckAt: nextCheckAt({ ...stored, refreshToken: stored.refreshToken ?? row.refreshToken }, now, deps.config.tokens.refreshMarginMs),
      updatedAt: now,
    })
    .where(and(eq(platformConnections.id, row.id), eq(platformConnections.isActive, true)))
    .returning();
  // Only possible without the row lock (embedded): the user reconnected meanwhile.
  if (!updated) return { kind: "gone" };
  return { kind: "refreshed", connection: updated };
}

function unavailable(deps: Deps, r: RefreshResult, platform: Platform): ConnectionUnavailableError {
  const name = deps.platforms[platform].displayName;
  if (r.kind === "gone") return new ConnectionUnavailableError(platform, "not_connected", `${name} is not connected`);
  if (r.kind === "needs_reconnect") return new ConnectionUnavailableError(platform, "needs_reconnect", `${name} needs to be reconnected: ${r.message}`);
  if (r.kind === "failed") return new ConnectionUnavailableError(platform, "temporarily_unavailable", `${name} could not renew the access right now: ${r.message}`, r.retryAt);
  return new ConnectionUnavailableError(platform, "temporarily_unavailable", `${name} access is not usable right now`);
}

/**
 * A token good for at least the next few minutes, for the user's active
 * connection. Throws ConnectionUnavailableError: not_connected,
 * needs_reconnect (the user must act), temporarily_unavailable (retryAt).
 */
export async function getValidToken(deps: Deps, userId: number, platform: Platform): Promise<ValidToken> {
  return settle(deps, userId, platform, () => findActiveConnection(deps, userId, platform));
}

export interface ConnectionKey {
  userId: number;
  platform: Platform;
}

/**
 * getValidToken for many connections at once (the publishing runner's
 * batch): one query reads every row; only rows that are not fresh go on to a
 * refresh. Each answer is a token or the ConnectionUnavailableError that
 * getValidToken would have thrown, keyed "userId:platform".
 */
export async function getValidTokens(deps: Deps, keys: ConnectionKey[]): Promise<Map<string, ValidToken | ConnectionUnavailableError>> {
  const out = new Map<string, ValidToken | ConnectionUnavailableError>();
  if (!keys.length) return out;
  const rows = await deps.db
    .select()
    .from(platformConnections)
    .where(
      and(
        eq(platformConnections.isActive, true),
        inArray(platformConnections.userId, [...new Set(keys.map((k) => k.userId))]),
        inArray(platformConnections.platform, [...new Set(keys.map((k) => k.platform))]),
      ),
    );
  const byKey = new Map(rows.map((r) => [connectionKey(r), r]));
  await Promise.all(
    keys.map(async (k) => {
      const key = connectionKey(k);
      if (out.has(key)) return;
      out.set(key, await settle(deps, k.userId, k.platform, async () => byKey.get(key)).catch((err: unknown) => {
        if (err instanceof ConnectionUnavailableError) return err;
        throw err;
      }));
    }),
  );
  return out;
}

export const connectionKey = (k: ConnectionKey) => `${k.userId}:${k.platform}`;

/** From the connection row (read by `load`) to a usable token, or why not. */
async function settle(deps: Deps, userId: number, platform: Platform, load: () => Promise<PlatformConnection | undefined>): Promise<ValidToken> {
  try {
    return await validToken(deps, platform, await load());
  } catch (err) {
    if (!(err instanceof TokenDecryptionError)) throw err;
    // A stored token the vault cannot open is an operator problem (a key missing
    // from TOKEN_ENCRYPTION_PREVIOUS_KEYS after a rotation), not the user's:
    // nobody is told to reconnect; callers retry later and the log says why.
    deps.log.error({ userId, platform, error: err.message }, "Stored token cannot be decrypted: check the token encryption keys");
    throw new ConnectionUnavailableError(platform, "temporarily_unavailable", "The stored credentials cannot be read right now", new Date(deps.clock.now().getTime() + 15 * 60 * 1000));
  }
}

async function validToken(deps: Deps, platform: Platform, row: PlatformConnection | undefined): Promise<ValidToken> {
  if (!row) throw unavailable(deps, { kind: "gone" }, platform);
  if (row.status === "needs_reconnect") throw unavailable(deps, { kind: "needs_reconnect", connection: row, message: row.lastError ?? "Reconnect needed" }, platform);
  if (isFresh(row, deps.clock.now())) return { connection: row, credentials: credentialsOf(deps, row) };

  const r = await refreshConnection(deps, row.id, { seenAccessToken: row.accessToken, seenFailureCount: row.failureCount, due: (x, now) => !isFresh(x, now) });
  if (r.kind === "refreshed" || r.kind === "current") {
    if (expired(r.connection, deps.clock.now())) throw unavailable(deps, { kind: "needs_reconnect", connection: r.connection, message: "expired" }, platform);
    return { connection: r.connection, credentials: credentialsOf(deps, r.connection) };
  }
  // A transient failure while the old token still works: use it; the check retries the refresh.
  if (r.kind === "failed" && r.stillValid) return { connection: r.connection, credentials: credentialsOf(deps, r.connection) };
  throw unavailable(deps, r, platform);
}
