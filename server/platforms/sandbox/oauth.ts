// Consent pages and token endpoints for the four OAuth providers (Meta serves
// Facebook and Instagram), each with its own rules from PLATFORMS.md.
import { createHash } from "node:crypto";
import express, { type Request, type Router } from "express";
import { escapeHtml, Fail, graphFail, handle, oauthFail, params, basicAuth, type Reply } from "./kit.ts";
import type { App, Family, SandboxState } from "./state.ts";

const NAME: Record<Family, string> = { meta: "facebook", linkedin: "linkedin", x: "x", google: "youtube" };
const TITLE: Record<Family, string> = { meta: "Facebook", linkedin: "LinkedIn", x: "X", google: "Google" };
const AUTHORIZE_PATH: Record<Family, string> = {
  meta: "/facebook/:version/dialog/oauth",
  linkedin: "/linkedin/oauth/v2/authorization",
  x: "/x/i/oauth2/authorize",
  google: "/google/o/oauth2/v2/auth",
};
const FORWARDED = ["client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method", "access_type", "prompt", "include_granted_scopes", "auth_type"];

const errorPage = (title: string, message: string): Fail =>
  new Fail({ status: 400, html: `<!doctype html><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>` });

interface AuthorizeRequest {
  app: App;
  redirectUri: string;
  scopes: string[];
  p: Record<string, string>;
}

function redirectWith(uri: string, values: Record<string, string | undefined>): Reply {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(values)) if (v !== undefined) u.searchParams.set(k, v);
  return { redirect: u.toString() };
}

/** Client and redirect URI are checked before anything is redirected: never to an unregistered URI. */
function checkAuthorize(s: SandboxState, family: Family, p: Record<string, string>): AuthorizeRequest {
  const app = s.app(family, p.client_id);
  if (!app) throw errorPage("Invalid client", "The client_id is not a registered application.");
  if (!p.redirect_uri || !app.redirectUris.includes(p.redirect_uri)) {
    throw errorPage("Invalid redirect_uri", "The redirect_uri does not exactly match a redirect URI registered for this application.");
  }
  const back = (error: string, description: string) => new Fail(redirectWith(p.redirect_uri!, { error, error_description: description, state: p.state }));
  if (p.response_type !== "code") throw back("unsupported_response_type", "response_type must be code");
  const scopes = (p.scope ?? "").split(family === "meta" ? /[ ,]+/ : / +/).filter(Boolean);
  if (scopes.length === 0) throw back("invalid_scope", "scope is required");
  if (family === "x") {
    if (!p.state) throw back("invalid_request", "state is required");
    if (p.state.length > 500) throw back("invalid_request", "state must be at most 500 characters");
    if (!p.code_challenge || p.code_challenge_method !== "S256") throw back("invalid_request", "PKCE code_challenge with code_challenge_method=S256 is required");
  }
  if (family === "google" && p.code_challenge && !["S256", "plain"].includes(p.code_challenge_method ?? "plain")) {
    throw back("invalid_request", "code_challenge_method must be S256 or plain");
  }
  return { app, redirectUri: p.redirect_uri, scopes, p };
}

function consentPage(family: Family, a: AuthorizeRequest): Reply {
  const hidden = FORWARDED.filter((k) => a.p[k] !== undefined)
    .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(a.p[k]!)}">`)
    .join("");
  const scopes = a.scopes.map((x) => `<li><code>${escapeHtml(x)}</code></li>`).join("");
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${TITLE[family]} sandbox: authorize ${escapeHtml(a.app.name)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto}button{font-size:1rem;margin-right:1rem}</style></head>
<body><p>${TITLE[family]} (sandbox)</p><h1>${escapeHtml(a.app.name)} wants to access your ${TITLE[family]} account</h1>
<p>It asks for:</p><ul>${scopes}</ul>
<form method="post">${hidden}
<label>Sandbox account <input name="user" value="sandbox-user" pattern="[A-Za-z0-9_.\\-]{1,40}" required></label>
<p><button type="submit" name="decision" value="allow">Allow</button><button type="submit" name="decision" value="deny">Deny</button></p>
</form></body></html>`;
  // No script at all; the form may post here and be redirected to the app.
  const csp = `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${new URL(a.redirectUri).origin}; frame-ancestors 'none'`;
  return { html, headers: { "content-security-policy": csp, "cache-control": "no-store" } };
}

function decide(s: SandboxState, family: Family, a: AuthorizeRequest): Reply {
  const { p } = a;
  if (p.decision !== "allow") {
    const extra = family === "meta" ? { error_code: "200", error_reason: "user_denied" } : {};
    return redirectWith(a.redirectUri, { error: "access_denied", ...extra, error_description: "The user denied the request", state: p.state });
  }
  const user = p.user ?? "sandbox-user";
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(user)) throw errorPage("Invalid account", "Sandbox account names are 1–40 letters, digits, _ . or -.");
  const code = s.secret(family === "google" ? "4/0A" : "");
  s.codes.set(code, {
    family,
    clientId: a.app.clientId,
    redirectUri: a.redirectUri,
    scopes: family === "meta" ? metaGrant(s, user, a.scopes, p) : a.scopes,
    user,
    expiresAt: s.now() + s.settings.codeTtl[family] * 1000,
    ...(p.code_challenge ? { challenge: p.code_challenge, challengeMethod: p.code_challenge_method ?? "plain" } : {}),
    offline: family !== "google" || p.access_type === "offline",
    used: false,
  });
  return redirectWith(a.redirectUri, { code, state: p.state });
}

/**
 * Facebook Login: the user may decline permissions (form field `declined`);
 * a declined permission is not asked again — prompt=consent changes nothing —
 * unless the app sends auth_type=rerequest.
 */
function metaGrant(s: SandboxState, user: string, asked: string[], p: Record<string, string>): string[] {
  const declinedNow = new Set((p.declined ?? "").split(/[ ,]+/).filter(Boolean));
  const before = s.metaDeclined.get(user) ?? new Set<string>();
  const askedAgain = p.auth_type === "rerequest";
  const granted = asked.filter((x) => !declinedNow.has(x) && (askedAgain || !before.has(x)));
  const still = new Set([...before].filter((x) => !granted.includes(x)));
  for (const x of declinedNow) still.add(x);
  s.metaDeclined.set(user, still);
  return granted;
}

export function authorizeRoutes(s: SandboxState): Router {
  const r = express.Router();
  for (const family of Object.keys(AUTHORIZE_PATH) as Family[]) {
    const name = `${NAME[family]}.authorize`;
    r.get(AUTHORIZE_PATH[family], handle(s, name, (req) => consentPage(family, checkAuthorize(s, family, params(req)))));
    r.post(AUTHORIZE_PATH[family], handle(s, `${name}.decide`, (req) => decide(s, family, checkAuthorize(s, family, params(req)))));
  }
  return r;
}

function pkceMatches(verifier: string | undefined, challenge: string, method: string): boolean {
  if (!verifier) return false;
  const computed = method === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
  return computed === challenge;
}

/** Checks a code for a family: returns it (marked used) or a reason. */
function takeCode(s: SandboxState, family: Family, p: Record<string, string>, clientId: string) {
  const code = p.code ? s.codes.get(p.code) : undefined;
  if (!code || code.family !== family || code.clientId !== clientId) return { problem: "invalid" as const };
  if (code.used) return { problem: "used" as const };
  // A code is single use even when the attempt fails.
  code.used = true;
  if (code.expiresAt <= s.now()) return { problem: "expired" as const };
  if (code.redirectUri !== p.redirect_uri) return { problem: "redirect" as const };
  if (code.challenge && !pkceMatches(p.code_verifier, code.challenge, code.challengeMethod ?? "plain")) return { problem: "pkce" as const };
  return { code };
}

function clientFrom(req: Request, p: Record<string, string>, mode: "body" | "basic" | "either") {
  const basic = basicAuth(req);
  if (mode === "basic") return basic ? { id: basic.user, secret: basic.password } : undefined;
  if (mode === "either" && basic) return { id: basic.user, secret: basic.password };
  return p.client_id && p.client_secret ? { id: p.client_id, secret: p.client_secret } : undefined;
}

export function tokenRoutes(s: SandboxState): Router {
  const r = express.Router();

  // Meta: code → short-lived user token; fb_exchange_token → 60-day user token. No refresh tokens.
  const meta = handle(s, "facebook.token", (req) => {
    const p = params(req);
    const app = s.app("meta", p.client_id);
    if (!app || app.clientSecret !== p.client_secret) throw graphFail(1, "Error validating client secret.");
    if (p.grant_type === "fb_exchange_token") {
      const st = s.tokenState("meta", p.fb_exchange_token);
      if (!st.token || st.problem || !["user", "long_user"].includes(st.token.kind)) {
        throw graphFail(190, "Error validating access token: the token is invalid or has expired", { subcode: st.problem === "expired" ? 463 : undefined });
      }
      const t = s.issueToken({ family: "meta", kind: "long_user", user: st.token.user, clientId: app.clientId, scopes: st.token.scopes, expiresAt: s.now() + s.settings.accessTtl.metaLong * 1000 }, "EAAL");
      return { json: { access_token: t.value, token_type: "bearer", expires_in: s.settings.accessTtl.metaLong } };
    }
    const c = takeCode(s, "meta", p, app.clientId);
    if (c.problem === "redirect") throw graphFail(100, "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request", { subcode: 36008 });
    if (c.problem === "used") throw graphFail(100, "This authorization code has been used.", { subcode: 36009 });
    if (c.problem === "expired") throw graphFail(100, "This authorization code has expired.", { subcode: 36007 });
    if (!c.code) throw graphFail(100, "Invalid verification code format.", { subcode: 36010 });
    const t = s.issueToken({ family: "meta", kind: "user", user: c.code.user, clientId: app.clientId, scopes: c.code.scopes, expiresAt: s.now() + s.settings.accessTtl.metaShort * 1000 }, "EAAS");
    return { json: { access_token: t.value, token_type: "bearer", expires_in: s.settings.accessTtl.metaShort } };
  });
  r.get("/graph/:version/oauth/access_token", meta);
  r.post("/graph/:version/oauth/access_token", meta);

  // The three standard OAuth 2 token endpoints, with each provider's differences.
  const standard = (family: "linkedin" | "x" | "google", auth: "body" | "basic" | "either") =>
    handle(s, `${NAME[family]}.token`, (req) => {
      const p = params(req);
      const client = clientFrom(req, p, auth);
      const app = client && s.app(family, client.id);
      if (!app || app.clientSecret !== client!.secret) {
        throw family === "x" ? oauthFail(401, "unauthorized_client", "Missing valid authorization header") : oauthFail(401, "invalid_client", "Client authentication failed");
      }
      if (p.grant_type === "authorization_code") return exchange(family, app, p);
      if (p.grant_type === "refresh_token") return refresh(family, app, p);
      throw oauthFail(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token");
    });

  function exchange(family: "linkedin" | "x" | "google", app: App, p: Record<string, string>): Reply {
    if (family === "x" && !p.code_verifier) throw oauthFail(400, "invalid_request", "Missing required parameter [code_verifier].");
    const c = takeCode(s, family, p, app.clientId);
    if (!c.code) {
      if (family === "x") throw oauthFail(400, "invalid_request", "Value passed for the authorization code was invalid.");
      if (c.problem === "redirect") throw oauthFail(400, family === "google" ? "redirect_uri_mismatch" : "invalid_redirect_uri", "redirect_uri does not match the authorization request");
      throw oauthFail(400, "invalid_grant", c.problem === "pkce" ? "Invalid code verifier." : "The provided authorization grant is invalid, expired, or revoked");
    }
    const code = c.code;
    const withRefresh = family === "linkedin" ? s.settings.linkedinRefreshTokens : family === "x" ? code.scopes.includes("offline.access") : code.offline;
    const refreshTtl = family === "linkedin" ? s.settings.linkedinRefreshTtl : null;
    const rt = withRefresh
      ? s.issueRefresh({ family, user: code.user, clientId: app.clientId, scopes: code.scopes, expiresAt: refreshTtl ? s.now() + refreshTtl * 1000 : null }, family === "google" ? "1//0g" : "")
      : undefined;
    return { json: tokenBody(family, app, code.user, code.scopes, rt?.value, rt) };
  }

  function refresh(family: "linkedin" | "x" | "google", app: App, p: Record<string, string>): Reply {
    const old = p.refresh_token ? s.refreshTokens.get(p.refresh_token) : undefined;
    if (!old || old.family !== family || old.clientId !== app.clientId || old.dead || (old.expiresAt !== null && old.expiresAt <= s.now())) {
      if (family === "x") throw oauthFail(400, "invalid_request", "Value passed for the token was invalid.");
      if (family === "google") throw oauthFail(400, "invalid_grant", "Token has been expired or revoked.");
      throw oauthFail(400, "invalid_grant", "The provided authorization grant is invalid, expired, or revoked");
    }
    if (family === "x") {
      // Single use: the old refresh token dies now.
      old.dead = true;
      const next = s.issueRefresh({ family, user: old.user, clientId: app.clientId, scopes: old.scopes, expiresAt: null }, "");
      return { json: tokenBody(family, app, old.user, old.scopes, next.value, next) };
    }
    // LinkedIn returns the same refresh token with what is left of its fixed life; Google omits it.
    return { json: tokenBody(family, app, old.user, old.scopes, family === "linkedin" ? old.value : undefined, old) };
  }

  function tokenBody(family: "linkedin" | "x" | "google", app: App, user: string, scopes: string[], refreshValue: string | undefined, rt: { value: string; expiresAt: number | null } | undefined) {
    const life = s.settings.accessTtl[family];
    const t = s.issueToken(
      { family, kind: "access", user, clientId: app.clientId, scopes, expiresAt: s.now() + life * 1000, ...(family === "google" && rt ? { refresh: rt.value } : {}) },
      family === "google" ? "ya29." : family === "linkedin" ? "AQV" : "",
    );
    const scope = scopes.join(family === "linkedin" ? "," : " ");
    if (family === "linkedin") {
      return {
        access_token: t.value,
        expires_in: life,
        ...(refreshValue && rt?.expiresAt ? { refresh_token: refreshValue, refresh_token_expires_in: Math.floor((rt.expiresAt - s.now()) / 1000) } : {}),
        scope,
      };
    }
    if (family === "x") return { token_type: "bearer", expires_in: life, access_token: t.value, scope, ...(refreshValue ? { refresh_token: refreshValue } : {}) };
    return { access_token: t.value, expires_in: life, scope, token_type: "Bearer", ...(refreshValue ? { refresh_token: refreshValue } : {}) };
  }

  r.post("/linkedin/oauth/v2/accessToken", standard("linkedin", "body"));
  r.post("/x-api/2/oauth2/token", standard("x", "basic"));
  r.post("/google-oauth2/token", standard("google", "either"));

  // Revocation.
  const revokeValue = (value: string | undefined) => {
    const t = value ? s.tokens.get(value) : undefined;
    if (t) t.revoked = true;
    const rt = value ? s.refreshTokens.get(value) : undefined;
    if (rt) rt.dead = true;
    return Boolean(t || rt);
  };
  r.post("/linkedin/oauth/v2/revoke", handle(s, "linkedin.revoke", (req) => {
    const p = params(req);
    const app = s.app("linkedin", p.client_id);
    if (!app || app.clientSecret !== p.client_secret) throw oauthFail(401, "invalid_client", "Client authentication failed");
    revokeValue(p.token);
    return { status: 200 };
  }));
  r.post("/x-api/2/oauth2/revoke", handle(s, "x.revoke", (req) => {
    const b = basicAuth(req);
    const app = b && s.app("x", b.user);
    if (!app || app.clientSecret !== b!.password) throw oauthFail(401, "unauthorized_client", "Missing valid authorization header");
    revokeValue(params(req).token);
    return { json: { revoked: true } };
  }));
  r.post("/google-oauth2/revoke", handle(s, "youtube.revoke", (req) => {
    if (!revokeValue(params(req).token)) throw oauthFail(400, "invalid_token", "Token expired or revoked");
    return { json: {} };
  }));
  r.get("/google-oauth2/tokeninfo", handle(s, "youtube.tokeninfo", (req) => {
    const st = s.tokenState("google", params(req).access_token);
    if (!st.token || st.problem) throw oauthFail(400, "invalid_token", "Invalid Value");
    const t = st.token;
    return { json: { azp: t.clientId, aud: t.clientId, scope: t.scopes.join(" "), exp: String(Math.floor(t.expiresAt! / 1000)), expires_in: String(Math.floor((t.expiresAt! - s.now()) / 1000)), access_type: t.refresh ? "offline" : "online" } };
  }));
  return r;
}
