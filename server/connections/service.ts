// Connection rules: store the one active connection per user and platform
// (tokens through the vault), list, disconnect.
import { and, desc, eq, sql } from "drizzle-orm";
import { platformConnections, type Platform, type PlatformConnection } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import type { ConnectionCredentials, NewConnection } from "../platforms/types.ts";

const DAY = 24 * 60 * 60 * 1000;

/** When the connection check should first look at a new or refreshed connection. */
export function firstCheckAt(expiresAt: Date | null, now: Date, refreshMarginMs: number): Date {
  if (!expiresAt) return new Date(now.getTime() + DAY);
  // At least daily, also for 60-day tokens: the check validates them and warns before a deadline nobody can extend.
  return new Date(Math.min(now.getTime() + DAY, Math.max(now.getTime(), expiresAt.getTime() - refreshMarginMs)));
}

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
        nextCheckAt: firstCheckAt(conn.expiresAt, now, deps.config.tokens.refreshMarginMs),
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
 * Revokes at the platform where it has a revoke call (best effort: a platform
 * that is down must not keep the user connected here), then deactivates.
 * Returns false when there was no active connection.
 */
export async function disconnect(deps: Deps, userId: number, platform: Platform): Promise<boolean> {
  const row = await findActiveConnection(deps, userId, platform);
  if (!row) return false;
  const adapter = deps.platforms[platform];
  if (adapter.revoke) {
    try {
      await adapter.revoke(credentialsOf(deps, row));
    } catch (err) {
      deps.log.warn({ userId, platform, error: adapter.classifyError(err).code }, "Revoke at platform failed; disconnecting anyway");
    }
  }
  await deps.db
    .update(platformConnections)
    .set({ isActive: false, status: "disconnected", updatedAt: deps.clock.now() })
    .where(and(eq(platformConnections.id, row.id), eq(platformConnections.isActive, true)));
  deps.log.info({ userId, platform }, `Disconnected ${platform}`);
  return true;
}

/** Disconnects every active connection of a user (cancellation); returns how many. */
export async function disconnectAll(deps: Deps, userId: number): Promise<number> {
  const rows = await deps.db
    .select({ platform: platformConnections.platform })
    .from(platformConnections)
    .where(and(eq(platformConnections.userId, userId), eq(platformConnections.isActive, true)));
  let n = 0;
  for (const r of rows) if (await disconnect(deps, userId, r.platform)) n++;
  return n;
}
