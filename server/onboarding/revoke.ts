// Revoking a cancelled user's tokens at the platforms, after the database has
// already deactivated the connections (never inside that transaction: no
// transaction is held open across a platform call). Best effort: a platform
// that is down, or has no revoke endpoint (Facebook, Instagram), leaves the
// token to expire on its own, and our copy is no longer used either way.
import type { PlatformConnection } from "../../shared/schema.ts";
import { TokenVault } from "../connections/vault.ts";
import type { Deps } from "../deps.ts";
import { createPlatformAdapters } from "../platforms/registry.ts";

export type RevokableConnection = Pick<
  PlatformConnection,
  "id" | "userId" | "platform" | "platformUserId" | "accessToken" | "refreshToken" | "expiresAt" | "refreshTokenExpiresAt" | "metadata"
>;

export interface RevocationReport {
  revoked: number;
  unsupported: number;
  failed: number;
}

export async function revokeAtPlatforms(deps: Deps, connections: RevokableConnection[]): Promise<RevocationReport> {
  const report: RevocationReport = { revoked: 0, unsupported: 0, failed: 0 };
  if (!connections.length) return report;
  const adapters = createPlatformAdapters(deps, { timeoutMs: 10_000 });
  const vault = new TokenVault(deps.config.tokens);
  await Promise.all(
    connections.map(async (c) => {
      const adapter = adapters[c.platform];
      if (!adapter.revoke) {
        report.unsupported += 1;
        return;
      }
      try {
        const row = { userId: c.userId, platform: c.platform };
        await adapter.revoke({
          platformUserId: c.platformUserId,
          accessToken: vault.open(c.accessToken, row, "access_token"),
          refreshToken: c.refreshToken ? vault.open(c.refreshToken, row, "refresh_token") : null,
          expiresAt: c.expiresAt,
          refreshTokenExpiresAt: c.refreshTokenExpiresAt,
          metadata: (c.metadata ?? {}) as Record<string, unknown>,
        });
        report.revoked += 1;
      } catch (err) {
        report.failed += 1;
        // The error's message only: it never carries a token (adapters name endpoints, not URLs).
        deps.log.warn({ connectionId: c.id, platform: c.platform, error: (err as Error).message }, "Revoking a token at the platform failed");
      }
    }),
  );
  return report;
}
