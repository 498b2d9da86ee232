// Helpers for the token manager and connection check tests: users connected
// through the real browser flow against the mounted sandbox, the sandbox's
// control API (settings, faults, revocation, call counts), and the stored row.
import { and, eq } from "drizzle-orm";
import { platformConnections, type Platform, type PlatformConnection } from "../../shared/schema.ts";
import { credentialsOf } from "../../server/connections/service.ts";
import { connectPlatform } from "../support/connect.ts";
import { signedUpClient, type TestServer } from "../support/server.ts";

/** The sandbox's endpoint name for each platform's OAuth token endpoint (exchange and refresh). */
export const TOKEN_ENDPOINT: Record<Platform, string> = {
  facebook: "facebook.token",
  instagram: "facebook.token",
  linkedin: "linkedin.token",
  x: "x.token",
  youtube: "youtube.token",
};

/** Sandbox fault control on a server's mounted sandbox (or any sandbox base URL). */
export async function control(base: TestServer | string, path: string, body?: unknown, method?: string): Promise<any> {
  const url = `${typeof base === "string" ? base : `${base.url}/sandbox`}/_control${path}`;
  const m = method ?? (body === undefined ? "GET" : "POST");
  const res = await fetch(url, {
    method: m,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 400) throw new Error(`sandbox control ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** How many calls reached one sandbox endpoint so far. */
export async function callCount(base: TestServer | string, endpoint: string): Promise<number> {
  const r = await control(base, `/calls?endpoint=${encodeURIComponent(endpoint)}`);
  return r.calls.length as number;
}

export async function setTtl(base: TestServer | string, settings: Record<string, unknown>): Promise<void> {
  await control(base, "/settings", settings, "PUT");
}

let seq = 0;
/** A new user with the given platforms connected through consent → callback; each gets its own sandbox account. */
export async function connectedUser(server: TestServer, platforms: Platform[], tag = "tok") {
  const signed = await signedUpClient(server, tag);
  seq += 1;
  const account = `${tag}-${process.pid}-${seq}`;
  for (const p of platforms) await connectPlatform(signed.client, p, account);
  return { ...signed, account };
}

export async function activeRow(server: TestServer, userId: number, platform: Platform): Promise<PlatformConnection> {
  const [row] = await server.deps.db
    .select()
    .from(platformConnections)
    .where(and(eq(platformConnections.userId, userId), eq(platformConnections.platform, platform), eq(platformConnections.isActive, true)));
  if (!row) throw new Error(`no active ${platform} connection for user ${userId}`);
  return row;
}

/** The decrypted tokens of the stored row (tests only). */
export async function storedTokens(server: TestServer, userId: number, platform: Platform) {
  return credentialsOf(server.deps, await activeRow(server, userId, platform));
}

/** Whether the platform accepts the stored access token as it is, with no refresh on the way. */
export async function storedTokenWorks(server: TestServer, userId: number, platform: Platform): Promise<boolean> {
  try {
    await server.deps.platforms[platform].validate(await storedTokens(server, userId, platform));
    return true;
  } catch {
    return false;
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
