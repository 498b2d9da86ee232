// "Is this connection working right now?" for the client's check buttons
// (/api/validate-tokens, /api/test-connection, the test publish of
// /connect-platforms) and the repair pass of "Enforce Publishing": each
// active connection goes through the connection check (refresh when due,
// otherwise a validate call), and the verdict says what the user must do.
import type { Platform, PlatformConnection } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { safeError, tooManyRequests } from "../http/errors.ts";
import { consume } from "../http/rate-limit.ts";
import { checkConnection } from "./connection-check.ts";
import { findActiveConnection, listConnections } from "./service.ts";

export interface ConnectionVerdict {
  platform: Platform;
  connected: boolean;
  valid: boolean;
  /** Only a new consent (the /connect popup) can fix it. */
  needsReconnection: boolean;
  /** The access was renewed during this check. */
  renewed: boolean;
  error?: string;
}

/** Every check calls the platform, so it shares GET /api/check-connection's per-user budget. */
export const CHECKS_PER_USER = { max: 30, windowMs: 10 * 60_000 };

export async function limitConnectionChecks(deps: Deps, userId: number): Promise<void> {
  if (!(await consume(deps.db, { bucket: `connection-check:user:${userId}`, ...CHECKS_PER_USER }, deps.clock.now()))) {
    throw tooManyRequests("Too many connection checks; try again in a few minutes", CHECKS_PER_USER.windowMs / 1000);
  }
}

/**
 * Checks the given platforms (default: every connected one). `validate`
 * forces a call to the platform even when the token was validated recently;
 * without it only what is due (a refresh near expiry, a day-old validation) runs.
 */
export async function verifyConnections(deps: Deps, userId: number, opts: { platforms?: Platform[]; validate: boolean }): Promise<ConnectionVerdict[]> {
  // A set: the client may name X twice (x and twitter).
  const platforms = new Set(opts.platforms ?? (await listConnections(deps, userId)).filter((r) => r.isActive).map((r) => r.platform));
  const verdicts: ConnectionVerdict[] = [];
  for (const platform of platforms) verdicts.push(await verifyOne(deps, userId, platform, opts.validate));
  return verdicts;
}

async function verifyOne(deps: Deps, userId: number, platform: Platform, validate: boolean): Promise<ConnectionVerdict> {
  const name = deps.platforms[platform].displayName;
  const base = { platform, connected: true, valid: false, needsReconnection: false, renewed: false };
  const row = await findActiveConnection(deps, userId, platform);
  if (!row) return { ...base, connected: false, needsReconnection: true, error: `${name} is not connected` };
  const reconnect = (r: PlatformConnection | undefined) => ({ ...base, needsReconnection: true, error: `${name} needs to be reconnected: ${r?.lastError ?? "the access was refused"}` });
  if (row.status === "needs_reconnect") return reconnect(row);
  let outcome;
  try {
    ({ outcome } = await checkConnection(deps, row, { forceValidate: validate }));
  } catch (err) {
    deps.log.error({ error: safeError(err), userId, platform }, "Connection verification failed");
    return { ...base, error: `${name} could not be checked right now` };
  }
  const after = await findActiveConnection(deps, userId, platform);
  if (outcome === "needs_reconnect" || after?.status === "needs_reconnect") return reconnect(after);
  if (outcome === "failed") return { ...base, error: `${name} could not be reached right now; it will be retried automatically` };
  if (!after) return { ...base, connected: false, needsReconnection: true, error: `${name} is not connected` };
  return { ...base, valid: true, renewed: outcome === "refreshed" };
}

export function summarizeVerdicts(verdicts: ConnectionVerdict[]) {
  const valid = verdicts.filter((v) => v.valid).length;
  return { checked: verdicts.length, valid, invalid: verdicts.length - valid, needsReconnection: verdicts.filter((v) => v.needsReconnection).map((v) => v.platform) };
}
