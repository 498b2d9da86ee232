// API shapes of a connection, built field by field: no token can leak.
import { z } from "zod";
import { CONNECTION_STATUSES, PLATFORMS, type PlatformConnection } from "../../shared/schema.ts";
import { isoDate } from "../http/openapi.ts";

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

/** The contracts of the formatters above (OpenAPI, server/http/contract.ts). */
export const oauthStatusSchema = z.strictObject({
  platform: z.enum(PLATFORMS),
  isValid: z.boolean(),
  needsRefresh: z.boolean(),
  error: z.string().nullable(),
  expiresAt: isoDate.nullable(),
});
export const connectionSchema = z.strictObject({
  id: z.number().int(),
  platform: z.enum(PLATFORMS),
  platformUsername: z.string().nullable(),
  isActive: z.boolean(),
  connectedAt: isoDate,
  expiresAt: isoDate.nullable(),
  oauthStatus: oauthStatusSchema,
  status: z.enum(CONNECTION_STATUSES),
});
export const oauthStatusRowSchema = z.strictObject({
  platform: z.enum(PLATFORMS),
  isActive: z.boolean(),
  hasRefreshToken: z.boolean(),
  expiresAt: isoDate.nullable(),
  needsRefresh: z.boolean(),
});
