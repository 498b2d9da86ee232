// Connection rules: store the one active connection per user and platform
// (tokens through the vault), list, disconnect.
import { and, desc, eq, sql } from "drizzle-orm";
import { platformConnections, type Platform, type PlatformConnection } from "../../shared/schema.ts";
import type { DbOrTx } from "../db/index.ts";
import type { Deps } from "../deps.ts";
import { nextCheckAt } from "./token-state.ts";
import type { ConnectionCredentials, NewConnection } from "../platforms/types.ts";

/**
 * Replaces the user's active connection for this platform with a new one, in
 * one transaction serialised per (user, platform), so a reconnect never leaves
 * two active rows and two users never touch each other's rows.
 */
export async function saveConnection(deps: Deps, userId: number, platform: Platform, conn: NewConnection): Promise<PlatformConnection> {
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`connection:${userId}:${platform}`}))`);
    await tx
      .update(platformConnections)
      .set({ isActive: false, status: "disconnected", updatedAt: now })
      .where(and(eq(platformConnections.userId, userId), eq(platformConnections.platform, platform), eq(platformConnections.isActive, true)));
    const [row] = await tx
      .insert(platformConnections)
      .values({
        userId,
        platform,
        platformUserId: conn.platformUserId,
        platformUsername: conn.platformUsername,
        ...deps.vault.sealConnection({ userId, platform }, conn),
        expiresAt: conn.expiresAt,
        refreshTokenExpiresAt: conn.refreshTokenExpiresAt,
        scopes: conn.scopes,
        metadata: conn.metadata,
        status: "connected",
        isActive: true,
        lastRefreshedAt: now,
        lastValidatedAt: now,
        nextCheckAt: nextCheckAt(conn, now, deps.config.tokens.refreshMarginMs),
        connectedAt: now,
        updatedAt: now,
      })
      .returning();
    return row!;
  });
}

/** The latest connection per platform the user ever connected (active first). */
export async function listConnections(deps: Deps, userId: number): Promise<PlatformConnection[]> {
  const rows = await deps.db
    .select()
    .from(platformConnections)
    .where(eq(platformConnections.userId, userId))
    .orderBy(desc(platformConnections.isActive), desc(platformConnections.connectedAt), desc(platformConnections.id));
  const seen = new Set<Platform>();
  return rows.filter((r) => (seen.has(r.platform) ? false : (seen.add(r.platform), true)));
}

export async function findActiveConnection(deps: Deps, userId: number, platform: Platform): Promise<PlatformConnection | undefined> {
  const [row] = await deps.db
    .select()
    .from(platformConnections)
    .where(and(eq(platformConnections.userId, userId), eq(platformConnections.platform, platform), eq(platformConnections.isActive, true)));
  return row;
}

/** Decrypted credentials for an adapter call; never leaves the server. */
export function credentialsOf(deps: Deps, row: PlatformConnection): ConnectionCredentials {
  const tokens = deps.vault.openConnection(row);
  return {
    platformUserId: row.platformUserId,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: row.expiresAt,
    refreshTokenExpiresAt: row.refreshTokenExpiresAt,
    metadata: row.metadata as Record<string, unknown>,
  };
}

/**
 * Deactivates the user's active connections (one platform, or all), inside the
 * caller's transaction when it passes one. Returns the rows so the caller can
 * revoke at the platforms after its commit.
 */
export async function deactivateConnections(db: DbOrTx, userId: number, now: Date, platform?: Platform): Promise<PlatformConnection[]> {
  return db
    .update(platformConnections)
    .set({ isActive: false, status: "disconnected", updatedAt: now })
    .where(
      and(
        eq(platformConnections.userId, userId),
        eq(platformConnections.isActive, true),
        platform ? eq(platformConnections.platform, platform) : undefined,
      ),
    )
    .returning();
}

export interface RevocationReport {
  revoked: number;
  unsupported: number;
  failed: number;
}

/**
 * Revokes tokens at the platforms that have a revoke call, after the database
 * no longer uses them (never inside a transaction: no transaction is held open
 * across a platform call). Best effort: a platform that is down, or has no
 * revoke endpoint (Facebook, Instagram), leaves the token to expire on its own.
 */
export async function revokeAtPlatforms(deps: Deps, rows: PlatformConnection[]): Promise<RevocationReport> {
  const report: RevocationReport = { revoked: 0, unsupported: 0, failed: 0 };
  await Promise.all(
    rows.map(async (row) => {
      const adapter = deps.platforms[row.platform];
      if (!adapter.revoke) return void (report.unsupported += 1);
      try {
        await adapter.revoke(credentialsOf(deps, row));
        report.revoked += 1;
      } catch (err) {
        report.failed += 1;
        deps.log.warn({ connectionId: row.id, platform: row.platform, error: adapter.classifyError(err).code }, "Revoking a token at the platform failed");
      }
    }),
  );
  return report;
}

/** Disconnects one platform: deactivate, then revoke. False when it was not connected. */
export async function disconnect(deps: Deps, userId: number, platform: Platform): Promise<boolean> {
  const rows = await deactivateConnections(deps.db, userId, deps.clock.now(), platform);
  if (!rows.length) return false;
  await revokeAtPlatforms(deps, rows);
  deps.log.info({ userId, platform }, `Disconnected ${platform}`);
  return true;
}
