// The browser OAuth connect flow over HTTP against the sandbox: every
// platform's full flow and every way it must fail without storing anything.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { and, eq } from "drizzle-orm";
import { PLATFORMS, platformConnections, posts, type Platform } from "../../shared/schema.ts";
import { callback, connectPlatform, consent } from "../support/connect.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";

const SCOPES: Record<Platform, string[]> = {
  // (platforms) insights and Business-Manager Page roles need their own permissions (PLATFORMS.md).
  facebook: ["public_profile", "pages_show_list", "pages_manage_posts", "pages_read_engagement", "read_insights", "business_management"],
  instagram: ["instagram_basic", "instagram_content_publish", "pages_show_list", "pages_read_engagement", "instagram_manage_insights", "business_management", "ads_read"],
  linkedin: ["openid", "profile", "email", "w_member_social"],
  x: ["tweet.read", "tweet.write", "users.read", "offline.access", "media.write"],
  youtube: ["https://www.googleapis.com/auth/youtube", "openid", "email", "profile"],
};

describe("OAuth connect", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const rowsOf = (userId: number) => server.deps.db.select().from(platformConnections).where(eq(platformConnections.userId, userId));
  const sandbox = (path: string, body?: unknown) =>
    body === undefined ? server.client().get(`/sandbox/_control${path}`) : server.client().post(`/sandbox/_control${path}`, body);

  it("logs OAuth configured for each enabled platform at start-up", () => {
    for (const p of PLATFORMS) assert.ok(server.logs.some((l) => l.msg === `OAuth configured ${p}`), p);
  });

  for (const platform of PLATFORMS) {
    it(`${platform}: consent → callback → one active connection, tokens encrypted, none in any response`, async () => {
      const { client, user } = await signedUpClient(server, platform);
      const step = await consent(client, platform, { user: `acct-${platform}` });

      // The authorize request: our redirect URI, the documented scopes, state, PKCE where taken.
      const q = step.authorizeUrl.searchParams;
      assert.equal(q.get("redirect_uri"), `${server.url}/auth/${platform}/callback`);
      assert.deepEqual(q.get("scope")!.split(/[ ,]+/).sort(), [...SCOPES[platform]].sort());
      // Facebook re-asks declined permissions only with auth_type=rerequest (it ignores prompt=consent).
      if (platform === "facebook" || platform === "instagram") assert.equal(q.get("auth_type"), "rerequest");
      assert.ok((q.get("state") ?? "").length >= 22, "state carries at least 128 bits");
      if (platform === "x" || platform === "youtube") {
        assert.equal(q.get("code_challenge_method"), "S256");
        assert.match(q.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
      }
      if (platform === "youtube") {
        assert.equal(q.get("access_type"), "offline");
        assert.equal(q.get("prompt"), "consent");
      }

      const outcome = await callback(client, step);
      assert.equal(outcome.status, 200);
      assert.match(outcome.text, /"oauth_success"/);
      assert.ok(outcome.text.includes(`postMessage(message, ${JSON.stringify(server.url)})`), "posts to our own origin only");
      assert.equal(outcome.headers.get("referrer-policy"), "no-referrer");
      assert.match(outcome.headers.get("content-security-policy") ?? "", /default-src 'none'; script-src 'nonce-/);
      assert.doesNotMatch(outcome.text, /<script[^>]+src=|<link|<img/, "loads nothing from elsewhere");

      const rows = await rowsOf(user.id);
      assert.equal(rows.length, 1);
      const row = rows[0]!;
      assert.equal(row.isActive, true);
      assert.equal(row.status, "connected");
      const tokens = server.deps.vault.openConnection(row);
      assert.ok(tokens.accessToken.length > 10);
      assert.ok(!row.accessToken.includes(tokens.accessToken), "stored as ciphertext");
      assert.notEqual(row.nextCheckAt, null);

      const list = await client.get("/api/platform-connections");
      assert.equal(list.status, 200);
      const c = list.body.find((x: any) => x.platform === platform);
      assert.deepEqual(Object.keys(c).sort(), ["connectedAt", "expiresAt", "id", "isActive", "oauthStatus", "platform", "platformUsername", "status"]);
      assert.equal(c.status, "connected");
      assert.equal(c.oauthStatus.isValid, true);
      const status = await client.get("/api/oauth-status");
      assert.deepEqual(Object.keys(status.body.connections[0]).sort(), ["expiresAt", "hasRefreshToken", "isActive", "needsRefresh", "platform"]);
      for (const text of [list.text, status.text, outcome.text, server.rawLog()]) {
        assert.ok(!text.includes(tokens.accessToken), "no access token in responses or logs");
        if (tokens.refreshToken) assert.ok(!text.includes(tokens.refreshToken), "no refresh token in responses or logs");
      }
      assert.equal((await client.get("/api/user-status")).body.hasConnections, true);
    });
  }

  it("twitter is an alias of x", async () => {
    const { client, user } = await signedUpClient(server, "alias");
    const step = await consent(client, "twitter");
    assert.equal(step.authorizeUrl.searchParams.get("redirect_uri"), `${server.url}/auth/x/callback`);
    assert.match((await callback(client, step)).text, /"oauth_success"/);
    assert.equal((await rowsOf(user.id))[0]!.platform, "x");
  });

  it("every attempt gets a fresh PKCE verifier and state", async () => {
    const { client } = await signedUpClient(server, "pkce");
    const first = new URL((await client.get("/auth/x")).headers.get("location")!, server.url).searchParams;
    const second = new URL((await client.get("/auth/x")).headers.get("location")!, server.url).searchParams;
    assert.notEqual(first.get("code_challenge"), second.get("code_challenge"));
    assert.notEqual(first.get("state"), second.get("state"));
  });

  it("no open redirect: a return path in the query is ignored", async () => {
    const { client } = await signedUpClient(server, "openredir");
    const step = await consent(client, "x", { query: "?mode=redirect&returnTo=https%3A%2F%2Fevil.example&redirect=%2F%2Fevil.example" });
    const r = await callback(client, step);
    assert.equal(r.headers.get("location"), "/connect?connected=x");
  });

  it("the redirect URI comes from PUBLIC_URL, never from the Host header", async () => {
    const { client } = await signedUpClient(server, "host");
    const r = await client.get("/auth/linkedin", { host: "evil.example" });
    const redirectUri = new URL(r.headers.get("location")!, server.url).searchParams.get("redirect_uri");
    assert.equal(redirectUri, `${server.url}/auth/linkedin/callback`);
  });

  it("a denied consent stores nothing and ends in the failure outcome with a logged cause", async () => {
    const { client, user } = await signedUpClient(server, "deny");
    const step = await consent(client, "linkedin", { decision: "deny" });
    const r = await callback(client, step);
    assert.match(r.text, /"oauth_failure"/);
    assert.match(r.text, /reason=access_denied/);
    assert.equal((await rowsOf(user.id)).length, 0);
    assert.ok(server.logs.some((l) => l.msg === "OAuth failed linkedin: access_denied" && l.userId === user.id));
  });

  it("a platform failure while shaping the connection ends in the failure outcome, not a 500", async () => {
    const { client, user } = await signedUpClient(server, "shapefail");
    await sandbox("/faults", { endpoint: "linkedin.userinfo", times: 1, status: 503 });
    const r = await callback(client, await consent(client, "linkedin"));
    assert.equal(r.status, 200);
    assert.match(r.text, /"oauth_failure"/);
    assert.equal((await rowsOf(user.id)).length, 0);
    assert.ok(server.logs.some((l) => l.msg.startsWith("OAuth failed linkedin:") && l.userId === user.id));
  });

  it("a missing state stores nothing", async () => {
    const { client, user } = await signedUpClient(server, "nostate");
    const step = await consent(client, "youtube");
    step.callbackUrl.searchParams.delete("state");
    const r = await callback(client, step);
    assert.match(r.text, /"oauth_failure"/);
    assert.equal((await rowsOf(user.id)).length, 0);
  });

  it("a replayed callback (state already used) stores nothing more", async () => {
    const { client, user } = await signedUpClient(server, "replay");
    const step = await consent(client, "x");
    assert.match((await callback(client, step)).text, /"oauth_success"/);
    const again = await callback(client, step);
    assert.match(again.text, /"oauth_failure"/);
    assert.match(again.text, /reason=state_invalid/);
    assert.equal((await rowsOf(user.id)).length, 1);
  });

  it("two callbacks racing with one state: exactly one passes (state is used up atomically)", async () => {
    const { client, user } = await signedUpClient(server, "race");
    const step = await consent(client, "linkedin");
    const replies = await Promise.all([callback(client, step), callback(client, step), callback(client, step)]);
    assert.equal(replies.filter((r) => r.text.includes('"oauth_success"')).length, 1);
    assert.equal(replies.filter((r) => /reason=state_invalid/.test(r.text)).length, 2);
    assert.equal((await rowsOf(user.id)).length, 1);
  });

  it("a state older than 10 minutes is refused", async () => {
    const { client, user } = await signedUpClient(server, "oldstate");
    const step = await consent(client, "linkedin");
    server.clock.advance(11 * 60 * 1000);
    const r = await callback(client, step);
    assert.match(r.text, /reason=state_invalid/);
    assert.equal((await rowsOf(user.id)).length, 0);
  });

  it("a state from another session is refused (the code is not attached to the wrong user)", async () => {
    const victim = await signedUpClient(server, "victim");
    const attacker = await signedUpClient(server, "attacker");
    const step = await consent(attacker.client, "linkedin", { user: "attacker-account" });
    const r = await callback(victim.client, step);
    assert.match(r.text, /"oauth_failure"/);
    assert.equal((await rowsOf(victim.user.id)).length, 0);
    assert.equal((await rowsOf(attacker.user.id)).length, 0);
  });

  it("mix-up: a callback on another platform's path is refused", async () => {
    const { client, user } = await signedUpClient(server, "mixup");
    const step = await consent(client, "x");
    // Start a LinkedIn flow too, so LinkedIn has a state of its own in the session.
    await client.get("/auth/linkedin");
    const r = await callback(client, step, "/auth/linkedin/callback");
    assert.match(r.text, /"oauth_failure"/);
    assert.equal((await rowsOf(user.id)).length, 0);
    // The X state was not consumed by the wrong path… but a code only works where it was issued.
    assert.match((await callback(client, step)).text, /"oauth_success"/);
  });

  it("an expired X code (30 s) stores nothing", async () => {
    const { client, user } = await signedUpClient(server, "expired");
    const step = await consent(client, "x");
    server.clock.advance(31_000);
    const r = await callback(client, step);
    assert.match(r.text, /"oauth_failure"/);
    assert.match(r.text, /reason=code_rejected/);
    assert.equal((await rowsOf(user.id)).length, 0);
  });

  it("connecting needs a logged-in user", async () => {
    const r = await server.client().get("/auth/x");
    assert.equal(r.status, 200);
    assert.match(r.text, /"oauth_failure"/);
    assert.match(r.text, /login_required/);
  });

  it("without a popup (mode=redirect) the callback redirects to /connect", async () => {
    const { client } = await signedUpClient(server, "redir");
    const ok = await callback(client, await consent(client, "linkedin", { query: "?mode=redirect" }));
    assert.equal(ok.status, 302);
    assert.equal(ok.headers.get("location"), "/connect?connected=linkedin");
    const denied = await callback(client, await consent(client, "x", { query: "?mode=redirect", decision: "deny" }));
    assert.equal(denied.status, 302);
    assert.equal(denied.headers.get("location"), "/connect?error=x&reason=access_denied");
  });

  it("reconnecting replaces the active connection without a duplicate and resumes paused posts", async () => {
    const { client, user } = await signedUpClient(server, "reconnect");
    await connectPlatform(client, "x");
    const [paused] = await server.deps.db.insert(posts).values({ userId: user.id, platform: "x", content: "waiting", status: "paused" }).returning();
    const step = await consent(client, "x", { query: "?force_reauth=true" });
    assert.equal(step.authorizeUrl.searchParams.get("prompt"), "consent");
    assert.match((await callback(client, step)).text, /"oauth_success"/);
    const rows = await rowsOf(user.id);
    assert.equal(rows.length, 2);
    assert.equal(rows.filter((r) => r.isActive).length, 1);
    assert.equal((await client.get("/api/platform-connections")).body.length, 1);
    const [resumed] = await server.deps.db.select().from(posts).where(eq(posts.id, paused!.id));
    assert.equal(resumed!.status, "approved");
  });

  it("two users connecting the same platform at once stay separate", async () => {
    const a = await signedUpClient(server, "par-a");
    const b = await signedUpClient(server, "par-b");
    const [sa, sb] = await Promise.all([consent(a.client, "x", { user: "alice" }), consent(b.client, "x", { user: "bob" })]);
    const [ra, rb] = await Promise.all([callback(a.client, sa), callback(b.client, sb)]);
    assert.match(ra.text, /"oauth_success"/);
    assert.match(rb.text, /"oauth_success"/);
    const [rowA] = await rowsOf(a.user.id);
    const [rowB] = await rowsOf(b.user.id);
    assert.notEqual(rowA!.platformUserId, rowB!.platformUserId);
    assert.equal((await a.client.get("/api/platform-connections")).body[0].platformUsername, rowA!.platformUsername);
  });

  it("Facebook with several Pages lets the user choose; Instagram without a business account fails clearly", async () => {
    await sandbox("/pages", { user: "multi-page", pages: [{ name: "Bakery" }, { name: "Cafe" }] });
    const { client, user } = await signedUpClient(server, "pages");
    const r = await callback(client, await consent(client, "facebook", { user: "multi-page" }));
    assert.equal(r.status, 302);
    assert.equal(r.headers.get("location"), "/connect?choose=facebook");
    assert.equal((await rowsOf(user.id)).length, 0, "nothing stored before the choice");
    const pages = await client.get("/api/connections/facebook/pages");
    assert.deepEqual(pages.body.pages.map((p: any) => p.name).sort(), ["Bakery", "Cafe"]);
    assert.ok(!pages.text.includes("token"));
    const page = await client.get("/connect");
    assert.match(page.text, /Choose the Facebook Page/);
    const cafe = pages.body.pages.find((p: any) => p.name === "Cafe");
    const chosen = await client.post("/api/connections/facebook/choose-page", { pageId: cafe.id });
    assert.equal(chosen.status, 200);
    const [row] = await rowsOf(user.id);
    assert.equal(row!.platformUserId, cafe.id);
    assert.equal((await client.post("/api/connections/facebook/choose-page", { pageId: cafe.id })).status, 404, "choice is single use");

    await sandbox("/pages", { user: "no-ig", pages: [{ name: "Plain Page" }] });
    const ig = await signedUpClient(server, "noig");
    const fail = await callback(ig.client, await consent(ig.client, "instagram", { user: "no-ig" }));
    assert.match(fail.text, /"oauth_failure"/);
    assert.match(fail.text, /reason=[a-z_]*business/);
    assert.equal((await rowsOf(ig.user.id)).length, 0);
  });

  it("disconnect revokes at the platform where it can and deactivates; another user's call changes nothing", async () => {
    const { client, user } = await signedUpClient(server, "disc");
    await connectPlatform(client, "x");
    await connectPlatform(client, "linkedin");
    const other = await signedUpClient(server, "disc-other");
    assert.equal((await other.client.post("/api/disconnect-platform", { platform: "x" })).status, 404);
    assert.equal((await rowsOf(user.id)).filter((r) => r.isActive).length, 2);

    const before = (await sandbox("/calls?endpoint=x.revoke")).body.calls.length;
    const r = await client.post("/api/disconnect-platform", { platform: "twitter" });
    assert.deepEqual(r.body, { success: true });
    assert.ok((await sandbox("/calls?endpoint=x.revoke")).body.calls.length > before, "revoked at X");
    const d = await client.delete("/api/platform-connections/linkedin");
    assert.equal(d.status, 200);
    assert.equal(typeof d.body.message, "string");
    const list = (await client.get("/api/platform-connections")).body;
    assert.deepEqual(list.map((c: any) => c.status).sort(), ["disconnected", "disconnected"]);
    assert.equal((await client.post("/api/disconnect-platform", { platform: "myspace" })).status, 400);
  });

  it("the /connect page lists the five platforms with their status and buttons", async () => {
    const { client } = await signedUpClient(server, "page");
    await connectPlatform(client, "youtube");
    const r = await client.get("/connect?connected=youtube");
    assert.equal(r.status, 200);
    for (const p of PLATFORMS) assert.match(r.text, new RegExp(`id="platform-${p}"`));
    assert.match(r.text, /id="platform-youtube" data-status="connected"/);
    assert.match(r.text, /id="platform-x" data-status="disconnected"/);
    assert.match(r.text, /Reconnect/);
    assert.match(r.headers.get("content-security-policy") ?? "", /script-src 'nonce-/);
    const anonymous = await server.client().get("/connect?error=%3Cscript%3E");
    assert.match(anonymous.text, /Log in/);
    assert.ok(!anonymous.text.includes("<script>"), "query values are never echoed");
  });
});
