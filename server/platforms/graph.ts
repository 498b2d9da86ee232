// What Facebook and Instagram share: the Graph API's error codes, the
// long-lived token exchange, and the Pages a user manages.
import type { ReplyHeaders } from "./http.ts";
import { credentialsOf, type AdapterContext } from "./base.ts";
import { classifyCommon, PlatformError, PlatformHttpError } from "./errors.ts";
import type { ConnectionCredentials, ErrorClassification, NewConnection, OAuthTokens, ShapeContext, ShapeResult } from "./types.ts";

export const META_SPEC = {
  scopeSeparator: ",",
  pkce: false,
  clientAuth: "body" as const,
  // Facebook ignores prompt=consent: only auth_type=rerequest asks again for permissions the user declined,
  // so a reconnect for a missing permission can fix it (on a first connect it changes nothing).
  authorizationParams: { auth_type: "rerequest" },
};

const AUTH_SUBCODES: Record<number, string> = {
  458: "app_removed",
  460: "password_changed",
  463: "token_expired",
  467: "token_invalid",
  492: "page_role_removed",
};
// 341 (application limit reached) and 368 (temporarily blocked): wait, then retry.
const RATE_CODES = new Set([4, 17, 32, 341, 368, 613, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009]);
const HOUR = 60 * 60 * 1000;
/** Instagram: "create a new container and try again". */
export const NEW_CONTAINER_SUBCODES = new Set([2207001, 2207003, 2207032, 2207053]);
/** Instagram: the container is still being processed (publishing too early). */
export const NOT_READY = { code: 9007, subcode: 2207027 };

/** Whether a Graph error asks for a fresh Instagram container (the old one must not be reused). */
export function needsNewContainer(err: unknown): boolean {
  if (!(err instanceof PlatformHttpError)) return false;
  const e = (err.body as any)?.error;
  const code = Number(e?.code);
  return code === -1 || code === -2 || NEW_CONTAINER_SUBCODES.has(Number(e?.error_subcode));
}

/**
 * Code 10 and 200–299 are permission errors, and only some are the user's
 * grant: a permission the user declined or that we did not ask for is fixed
 * by a reconnect (auth_type=rerequest); an app that lacks App Review access
 * is the operator's problem; a missing Page role is the user's to fix in
 * Business Manager — reconnecting fixes neither, so neither is auth_revoked.
 */
function classifyPermission(message: string, base: { status: number; message: string }): ErrorClassification {
  if (/application does not have (the capability|permission)|app review|advanced access/i.test(message)) {
    return { ...base, kind: "transient", code: "app_permission", operator: true };
  }
  if (/hasn't authorized|has not authorized|requires [\w, ]*permission|missing permission|permission.*(declined|not granted)/i.test(message)) {
    return { ...base, kind: "auth_revoked", code: "permission_missing" };
  }
  return { ...base, kind: "permanent", code: "permission_denied", message: `${base.message} (check your role on the Page, e.g. in Business Manager)` };
}

export function classifyGraph(err: unknown, now: Date): ErrorClassification {
  if (!(err instanceof PlatformHttpError)) return classifyCommon(err, now);
  const e = (err.body as any)?.error;
  const code = Number(e?.code);
  const sub = Number(e?.error_subcode);
  const base = { status: err.status, message: err.message };
  if (!Number.isFinite(code)) return classifyCommon(err, now);
  // debug_token is called with our app token (id|secret): a 190 there is our secret refused, not the
  // user's token (an invalid user token answers 200 with is_valid false) — never a reason to reconnect.
  if (err.endpoint === "debug_token" && code === 190) {
    return { ...base, kind: "transient", code: "invalid_client", message: `${err.platform}: Meta refused our app credentials (FACEBOOK_APP_ID / FACEBOOK_APP_SECRET)`, operator: true };
  }
  if (code === 190 || code === 102) return { ...base, kind: "auth_revoked", code: AUTH_SUBCODES[sub] ?? "token_invalid" };
  if (code === 10 || (code >= 200 && code < 300)) return classifyPermission(String(e?.message ?? ""), base);
  // Instagram's spam restriction shares code 4 with the rate limit but is not one: retrying hourly changes nothing.
  if (code === 4 && sub === 2207051) {
    return { ...base, kind: "permanent", code: "instagram_restricted", message: "Instagram restricted this account's activity to protect its community; publishing is refused until the restriction ends" };
  }
  if (code === NOT_READY.code && sub === NOT_READY.subcode) return { ...base, kind: "transient", code: "media_not_ready" };
  if (code === -1 || code === -2 || NEW_CONTAINER_SUBCODES.has(sub)) return { ...base, kind: "transient", code: `graph_${code}${sub ? `_${sub}` : ""}` };
  if (RATE_CODES.has(code)) return { ...base, kind: "rate_limited", code: "rate_limited", retryAt: graphRetryAt(err.headers, now) };
  // Instagram's 24-hour publishing limit: wait for the rolling window to free a slot.
  if (code === 9 && sub === 2207042) return { ...base, kind: "rate_limited", code: "daily_publish_limit", retryAt: new Date(now.getTime() + HOUR) };
  if (code === 506) return { ...base, kind: "permanent", code: "duplicate", duplicate: true };
  if (code === 1 || code === 2 || e?.is_transient === true) return { ...base, kind: "transient", code: `graph_${code}` };
  return { ...base, kind: "permanent", code: `graph_${code}` };
}

/** X-Business-Use-Case-Usage / X-App-Usage tell how long until access returns; an hour otherwise. */
function graphRetryAt(headers: ReplyHeaders, now: Date): Date {
  const buc = headers.get("x-business-use-case-usage");
  if (buc) {
    try {
      const usage = Object.values(JSON.parse(buc) as Record<string, Array<{ estimated_time_to_regain_access?: number }>>).flat();
      const minutes = Math.max(0, ...usage.map((u) => Number(u.estimated_time_to_regain_access ?? 0)));
      if (minutes > 0) return new Date(now.getTime() + minutes * 60 * 1000);
    } catch {
      // An unreadable header falls back to the rolling hour.
    }
  }
  return new Date(now.getTime() + HOUR);
}

export interface GraphPage {
  id: string;
  name: string;
  accessToken: string;
  instagram?: { id: string; username: string | null };
}

/** Short-lived user token → 60-day user token → the Pages it manages, each with a Page token that does not expire. */
export async function pagesOf(ctx: AdapterContext, tokens: OAuthTokens): Promise<{ userId: string; pages: GraphPage[]; scopes: string[] }> {
  const c = credentialsOf(ctx);
  const long = await ctx.http.request("token_exchange", ctx.urls.token, {
    query: { grant_type: "fb_exchange_token", client_id: c.clientId, client_secret: c.clientSecret, fb_exchange_token: tokens.accessToken },
  });
  const userToken = String(long.body.access_token);
  const me = await ctx.http.request("me", `${ctx.urls.api}/me`, { query: { fields: "id,name" }, bearer: userToken });
  const accounts = await ctx.http.request("accounts", `${ctx.urls.api}/me/accounts`, {
    query: { fields: "id,name,access_token,instagram_business_account{id,username}", limit: 100 },
    bearer: userToken,
  });
  const pages: GraphPage[] = (accounts.body.data ?? []).map((p: any) => ({
    id: String(p.id),
    name: String(p.name ?? ""),
    accessToken: String(p.access_token),
    ...(p.instagram_business_account?.id
      ? { instagram: { id: String(p.instagram_business_account.id), username: p.instagram_business_account.username ?? null } }
      : {}),
  }));
  return { userId: String(me.body.id), pages, scopes: tokens.scope ?? [] };
}

/** One candidate → a connection; several → the list to choose from; ctx.pageId picks one. */
export function chooseFrom(
  ctx: AdapterContext,
  candidates: Array<{ id: string; name: string; connection: NewConnection }>,
  shape: ShapeContext | undefined,
): ShapeResult {
  if (shape?.pageId) {
    const chosen = candidates.find((c) => c.id === shape.pageId);
    if (!chosen) throw new PlatformError(ctx.platform, "page_not_found", "permanent", "The chosen Page is not one this account manages");
    return { kind: "connection", connection: chosen.connection };
  }
  if (candidates.length === 1) return { kind: "connection", connection: candidates[0]!.connection };
  return { kind: "choose", choices: candidates };
}

export function reconnectRequired(ctx: AdapterContext): never {
  throw new PlatformError(
    ctx.platform,
    "reconnect_required",
    "auth_revoked",
    `${ctx.platform === "instagram" ? "Instagram" : "Facebook"} tokens cannot be refreshed: reconnect the account`,
  );
}

/** debug_token with the app token: the cheap validity check Meta offers. */
export async function debugToken(ctx: AdapterContext, conn: ConnectionCredentials) {
  const c = credentialsOf(ctx);
  const r = await ctx.http.request("debug_token", `${ctx.urls.api}/debug_token`, {
    query: { input_token: conn.accessToken },
    bearer: `${c.clientId}|${c.clientSecret}`,
  });
  const d = r.body?.data ?? {};
  if (d.is_valid !== true) {
    const sub = Number(d.error?.subcode);
    throw new PlatformError(ctx.platform, AUTH_SUBCODES[sub] ?? "token_invalid", "auth_revoked", `${ctx.platform}: the token is no longer valid`);
  }
  const exp = Number(d.expires_at ?? 0);
  return { expiresAt: exp > 0 ? new Date(exp * 1000) : null, scopes: Array.isArray(d.scopes) ? d.scopes.map(String) : [] };
}

/** A metric's value; an object value (reactions by type) is summed. */
export function insightValue(body: any, ...names: string[]): number {
  for (const n of names) {
    const m = (body?.data ?? []).find((x: any) => x.name === n);
    const raw = m?.values?.[0]?.value;
    const v = raw !== null && typeof raw === "object" ? Object.values(raw).reduce((a: number, x) => a + (Number(x) || 0), 0) : Number(raw);
    if (Number.isFinite(v)) return v;
  }
  return 0;
}

