// API shapes of a connection, built field by field: no token can leak.
import type { PlatformConnection } from "../../shared/schema.ts";

export function oauthStatusOf(row: PlatformConnection, now: Date, refreshMarginMs: number) {
  const expired = row.expiresAt !== null && row.expiresAt.getTime() <= now.getTime();
  const usable = row.isActive && (row.status === "connected" || row.status === "refreshing");
  return {
    platform: row.platform,
    isValid: usable && !expired,
    needsRefresh: usable && row.expiresAt !== null && row.expiresAt.getTime() - now.getTime() <= refreshMarginMs,
    error: row.status === "needs_reconnect" ? (row.lastError ?? "Reconnect needed") : null,
    expiresAt: row.expiresAt,
  };
}

export function formatConnection(row: PlatformConnection, now: Date, refreshMarginMs: number) {
  return {
    id: row.id,
    platform: row.platform,
    platformUsername: row.platformUsername,
    isActive: row.isActive,
    connectedAt: row.connectedAt,
    expiresAt: row.expiresAt,
    oauthStatus: oauthStatusOf(row, now, refreshMarginMs),
    status: row.isActive ? row.status : "disconnected",
  };
}

export function formatOauthStatus(row: PlatformConnection, now: Date, refreshMarginMs: number) {
  return {
    platform: row.platform,
    isActive: row.isActive,
    hasRefreshToken: row.refreshToken !== null,
    expiresAt: row.expiresAt,
    needsRefresh: oauthStatusOf(row, now, refreshMarginMs).needsRefresh,
  };
}
