// Drives the browser OAuth flow over HTTP against the mounted sandbox, step by
// step, so tests can also tamper with a step (replay, swap platform, deny).
import type { Platform } from "../../shared/schema.ts";
import type { Client, Reply } from "./client.ts";

export interface ConsentStep {
  /** The platform's authorize URL our server redirected to. */
  authorizeUrl: URL;
  /** Our callback URL the platform redirected back to (with code/state or error). */
  callbackUrl: URL;
}

function location(r: Reply): string {
  const l = r.headers.get("location");
  if (r.status !== 302 || !l) throw new Error(`expected a redirect, got ${r.status}: ${r.text.slice(0, 300)}`);
  return l;
}

/** GET /auth/<platform> → the platform's consent page → Allow/Deny → the callback URL (not yet visited). */
export async function consent(
  client: Client,
  platform: Platform | "twitter",
  opts: { user?: string; decision?: "allow" | "deny"; query?: string } = {},
): Promise<ConsentStep> {
  const start = await client.get(`/auth/${platform}${opts.query ?? ""}`);
  const authorizeUrl = new URL(location(start), client.baseUrl);
  const page = await client.get(authorizeUrl.pathname + authorizeUrl.search);
  if (page.status !== 200) throw new Error(`consent page ${page.status}: ${page.text.slice(0, 300)}`);
  const fields = new URLSearchParams();
  for (const m of page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.set(m[1]!, m[2]!.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">"));
  }
  fields.set("user", opts.user ?? "sandbox-user");
  fields.set("decision", opts.decision ?? "allow");
  const decided = await client.request("POST", authorizeUrl.pathname, fields.toString(), {
    "content-type": "application/x-www-form-urlencoded",
  });
  return { authorizeUrl, callbackUrl: new URL(location(decided), client.baseUrl) };
}

/** Visits the callback with the client's session. */
export function callback(client: Client, step: ConsentStep, path = step.callbackUrl.pathname): Promise<Reply> {
  return client.get(path + step.callbackUrl.search);
}

/** The whole flow; throws unless the outcome page says oauth_success. */
export async function connectPlatform(client: Client, platform: Platform, user = "sandbox-user"): Promise<void> {
  const step = await consent(client, platform, { user });
  const r = await callback(client, step);
  if (r.status !== 200 || !r.text.includes('"oauth_success"')) {
    throw new Error(`connect ${platform} failed: ${r.status} ${r.headers.get("location") ?? ""} ${r.text.slice(0, 300)}`);
  }
}
