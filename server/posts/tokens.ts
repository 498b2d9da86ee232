// The one place publishing gets a usable token. The connections domain owns
// refresh (token-manager.ts: getValidToken); this module adapts its answer to
// the pre-flight's vocabulary.
import type { Platform, PlatformConnection } from "../../shared/schema.ts";
import { ConnectionUnavailableError, connectionKey, getValidToken, getValidTokens, type ValidToken } from "../connections/token-manager.ts";
import type { Deps } from "../deps.ts";
import type { ConnectionCredentials } from "../platforms/types.ts";

export type TokenResult =
  | { ok: true; connection: PlatformConnection; credentials: ConnectionCredentials }
  | { ok: false; reason: "not_connected" | "needs_reconnect" | "temporarily_unavailable"; message: string; retryAt?: Date };

function toResult(answer: ValidToken | ConnectionUnavailableError): TokenResult {
  if (answer instanceof ConnectionUnavailableError) {
    return { ok: false, reason: answer.reason, message: answer.message, ...(answer.retryAt ? { retryAt: answer.retryAt } : {}) };
  }
  return { ok: true, connection: answer.connection, credentials: answer.credentials };
}

export async function tokenFor(deps: Deps, userId: number, platform: Platform): Promise<TokenResult> {
  try {
    return toResult(await getValidToken(deps, userId, platform));
  } catch (err) {
    if (err instanceof ConnectionUnavailableError) return toResult(err);
    throw err;
  }
}

/**
 * The tokens of a claimed batch, read with one query when first asked for;
 * each post gets what tokenFor would have answered. The rows are read after
 * the claim, so a token is at most as old as the batch's wait for a slot.
 */
export function batchTokens(deps: Deps, keys: Array<{ userId: number; platform: Platform }>): (key: { userId: number; platform: Platform }) => Promise<TokenResult> {
  let all: Promise<Map<string, ValidToken | ConnectionUnavailableError>> | undefined;
  return async (key) => {
    all ??= getValidTokens(deps, keys);
    const answer = (await all).get(connectionKey(key));
    return answer ? toResult(answer) : tokenFor(deps, key.userId, key.platform);
  };
}
