// The sandbox's OAuth behaviour (consent page, exact redirect URIs, single-use
// and short-lived codes, client authentication, PKCE), fault control, and the
// sandbox mounted at /sandbox inside the real server.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import { createPlatformAdapters } from "../../server/platforms/registry.ts";
import { SANDBOX_CREDENTIALS } from "../../server/platforms/endpoints.ts";
import { startTestServer } from "../support/server.ts";
import { failure, harness, type Harness } from "./helpers.ts";

describe("platform sandbox", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));

  it("shows a script-free consent page naming the app and the scopes", async () => {
    const o = h.adapters.linkedin.oauth();
    const q = new URLSearchParams({ client_id: o.clientID, redirect_uri: o.callbackURL, response_type: "code", scope: o.scope.join(" "), state: "s1" });
    const res = await fetch(`${o.authorizationURL}?${q}`);
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(html, /AgencyIQ \(sandbox\)/);
    for (const scope of o.scope) assert.ok(html.includes(`<code>${scope}</code>`), scope);
    assert.match(html, /value="allow">Allow/);
    assert.match(html, /value="deny">Deny/);
    assert.doesNotMatch(html, /<script/i);
    assert.match(res.headers.get("content-security-policy")!, /default-src 'none'/);
  });

  it("Allow returns the state untouched; Deny returns access_denied", async () => {
    const state = "a b/c+d=é&x";
    const allow = await h.authorize("x", { state, verifier: "v".repeat(50) });
    assert.equal(allow.origin + allow.pathname, `${h.config.publicUrl}/auth/x/callback`);
    assert.equal(allow.searchParams.get("state"), state);
    assert.ok(allow.searchParams.get("code"));
    const deny = await h.authorize("youtube", { state, decision: "deny" });
    assert.equal(deny.searchParams.get("error"), "access_denied");
    assert.equal(deny.searchParams.get("state"), state);
    assert.equal(deny.searchParams.get("code"), null);
  });

  it("never redirects to a redirect URI that is not registered exactly", async () => {
    const o = h.adapters.facebook.oauth();
    for (const uri of [`${o.callbackURL}/`, `${o.callbackURL}?x=1`, "https://evil.example/auth/facebook/callback", o.callbackURL.replace("127.0.0.1", "localhost")]) {
      const q = new URLSearchParams({ client_id: o.clientID, redirect_uri: uri, response_type: "code", scope: "public_profile", state: "s" });
      const res = await fetch(`${o.authorizationURL}?${q}`, { redirect: "manual" });
      assert.equal(res.status, 400, uri);
      assert.equal(res.headers.get("location"), null);
      assert.match(await res.text(), /redirect_uri/);
    }
    const q = new URLSearchParams({ client_id: "someone-else", redirect_uri: o.callbackURL, response_type: "code", scope: "public_profile" });
    assert.equal((await fetch(`${o.authorizationURL}?${q}`)).status, 400);
  });

  it("serves another product URL once told (PUT /_control/app): its redirect URIs move, a bad URL is named", async () => {
    const o = h.adapters.facebook.oauth();
    const moved = "http://127.0.0.1:1/";
    const authorize = (uri: string) =>
      fetch(`${o.authorizationURL}?${new URLSearchParams({ client_id: o.clientID, redirect_uri: uri, response_type: "code", scope: "public_profile", state: "s" })}`, { redirect: "manual" });
    const bad = await fetch(`${h.sandbox.url}/_control/app`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ appUrl: "not a url" }) });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /appUrl/);
    const put = await fetch(`${h.sandbox.url}/_control/app`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ appUrl: moved }) });
    assert.equal(put.status, 200);
    try {
      assert.equal((await authorize(o.callbackURL)).status, 400, "the old redirect URI is no longer registered");
      assert.equal((await authorize("http://127.0.0.1:1/auth/facebook/callback")).status, 200, "the new one is");
    } finally {
      const back = await fetch(`${h.sandbox.url}/_control/app`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ appUrl: h.config.publicUrl }) });
      assert.equal(back.status, 200);
    }
  });

  it("X requires PKCE S256 and a state at the authorize step", async () => {
    const o = h.adapters.x.oauth();
    const q = new URLSearchParams({ client_id: o.clientID, redirect_uri: o.callbackURL, response_type: "code", scope: "tweet.read", state: "s" });
    const res = await fetch(`${o.authorizationURL}?${q}`, { redirect: "manual" });
    assert.equal(res.status, 302);
    assert.equal(new URL(res.headers.get("location")!).searchParams.get("error"), "invalid_request");
  });

  it("codes are single use, bound to the redirect URI, and X's live 30 seconds", async () => {
    const v = "v".repeat(43);
    const code = (await h.authorize("x", { verifier: v })).searchParams.get("code")!;
    await h.adapters.x.exchangeCode({ code, codeVerifier: v });
    const again = await failure(h.adapters.x.exchangeCode({ code, codeVerifier: v }));
    assert.equal((again as any).status, 400);

    const late = (await h.authorize("x", { verifier: v })).searchParams.get("code")!;
    h.clock.advance(31_000);
    assert.equal(((await failure(h.adapters.x.exchangeCode({ code: late, codeVerifier: v }))) as any).status, 400);
    const inTime = (await h.authorize("x", { verifier: v })).searchParams.get("code")!;
    h.clock.advance(29_000);
    await h.adapters.x.exchangeCode({ code: inTime, codeVerifier: v });

    // Google codes live longer; a different redirect_uri is refused.
    const g = (await h.authorize("youtube", { verifier: v })).searchParams.get("code")!;
    const res = await fetch(h.config.platforms.urls.youtube.token, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code: g, redirect_uri: "http://127.0.0.1:5999/other", client_id: SANDBOX_CREDENTIALS.youtube.clientId, client_secret: SANDBOX_CREDENTIALS.youtube.clientSecret, code_verifier: v }),
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error, "redirect_uri_mismatch");
  });

  it("checks client credentials where each platform expects them", async () => {
    const v = "v".repeat(43);
    const code = (await h.authorize("x", { verifier: v })).searchParams.get("code")!;
    // X is a confidential client: credentials in the body instead of HTTP Basic are refused.
    const body = await fetch(h.config.platforms.urls.x.token, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: h.adapters.x.oauth().callbackURL, code_verifier: v, client_id: SANDBOX_CREDENTIALS.x.clientId, client_secret: SANDBOX_CREDENTIALS.x.clientSecret }),
    });
    assert.equal(body.status, 401);
    const li = (await h.authorize("linkedin")).searchParams.get("code")!;
    const wrong = await fetch(h.config.platforms.urls.linkedin.token, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code: li, redirect_uri: h.adapters.linkedin.oauth().callbackURL, client_id: SANDBOX_CREDENTIALS.linkedin.clientId, client_secret: "wrong" }),
    });
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).error, "invalid_client");
  });

  it("fault control: next N calls fail, latency is added, bad control input is a 400 naming the field", async () => {
    const conn = await h.connect("x");
    await h.control("/faults", { endpoint: "x.*", times: 2, status: 502, body: { title: "Bad Gateway" } });
    assert.equal(((await failure(h.adapters.x.validate(conn))) as any).status, 502);
    assert.equal(((await failure(h.adapters.x.validate(conn))) as any).status, 502);
    await h.adapters.x.validate(conn);
    await h.control("/latency", { endpoint: "x.users.me", ms: 300 });
    const t0 = Date.now();
    await h.adapters.x.validate(conn);
    assert.ok(Date.now() - t0 >= 290);
    const res = await fetch(`${h.sandbox.url}/_control/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ endpoint: "x.*", times: 0 }) });
    assert.equal(res.status, 400);
    assert.match((await res.json()).message, /times/);
  });

  it("is mounted at /sandbox in the real server in sandbox mode, and the whole connect works through it", async () => {
    const server = await startTestServer({ env: { PLATFORM_MODE: "sandbox" } });
    try {
      const { config } = server.deps;
      assert.equal(config.platforms.urls.x.token, `${server.url}/sandbox/x-api/2/oauth2/token`);
      const adapters = createPlatformAdapters({ config, clock: server.clock });
      const o = adapters.x.oauth();
      const verifier = "m".repeat(43);
      const q = new URLSearchParams({
        client_id: o.clientID, redirect_uri: o.callbackURL, response_type: "code", scope: o.scope.join(" "), state: "st",
        code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256",
      });
      const page = await fetch(`${o.authorizationURL}?${q}`);
      assert.equal(page.status, 200);
      // The browser posts the form from our own origin.
      const form = new URLSearchParams(q);
      form.set("decision", "allow");
      const res = await fetch(`${o.authorizationURL}?${q}`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", origin: config.publicOrigin }, body: form });
      assert.equal(res.status, 302);
      const code = new URL(res.headers.get("location")!).searchParams.get("code")!;
      const shaped = await adapters.x.shapeConnection(await adapters.x.exchangeCode({ code, codeVerifier: verifier }));
      assert.equal(shaped.kind, "connection");
      if (shaped.kind === "connection") await adapters.x.publish(shaped.connection, { content: "mounted sandbox works" });
      const published = await (await fetch(`${server.url}/sandbox/_control/published`)).json();
      assert.equal(published.posts.length, 1);
    } finally {
      await server.close();
    }
  });

  it("is not mounted in live mode", async () => {
    const server = await startTestServer({ env: { PLATFORM_MODE: "live", X_CLIENT_ID: "id", X_CLIENT_SECRET: "secret" } });
    try {
      assert.equal((await fetch(`${server.url}/sandbox/_control/published`)).status, 404);
      assert.equal(server.deps.config.platforms.urls.x.token, "https://api.x.com/2/oauth2/token");
      assert.match(server.deps.config.platforms.disabled.youtube!, /GOOGLE_CLIENT_ID/);
    } finally {
      await server.close();
    }
  });
});
