// The one place publishing gets a usable token. The connections domain owns
// refresh (token-manager.ts: getValidToken); this module adapts its answer to
// the pre-flight's vocabulary.
import type { Platform, PlatformConnection } from "../../shared/schema.ts";
import { ConnectionUnavailableError, getValidToken } from "../connections/token-manager.ts";
import type { Deps } from "../deps.ts";
import type { ConnectionCredentials } from "../platforms/types.ts";

export type TokenResult =
  | { ok: true; connection: PlatformConnection; credentials: ConnectionCredentials }
  | { ok: false; reason: "not_connected" | "needs_reconnect" | "temporarily_unavailable"; message: string; retryAt?: Date };

export async function tokenFor(deps: Deps, userId: number, platform: Platform): Promise<TokenResult> {
  try {
    const { connection, credentials } = await getValidToken(deps, userId, platform);
    return { ok: true, connection, credentials };
  } catch (err) {
    if (err instanceof ConnectionUnavailableError) {
      return { ok: false, reason: err.reason, message: err.message, ...(err.retryAt ? { retryAt: err.retryAt } : {}) };
    }
    throw err;
  }
}
