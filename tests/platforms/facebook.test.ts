// Facebook Pages against the sandbox: long-lived user token → Page token,
// choosing among several Pages, feed posts, debug_token, and every Graph
// error row of PLATFORMS.md produced by the sandbox.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { PlatformError } from "../../server/platforms/errors.ts";
import { failure, harness, type Harness } from "./helpers.ts";

const graphError = (code: number, subcode?: number) => ({
  error: { message: `sandbox error ${code}`, type: "OAuthException", code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: "A1" },
});

describe("Facebook adapter", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const fb = () => h.adapters.facebook;

  it("exchanges for the 60-day user token and stores the Page token, which does not expire", async () => {
    const conn = await h.connect("facebook", "baker");
    const ids = await h.control("/identities/baker");
    assert.equal(conn.platformUserId, ids.pages[0].id);
    assert.equal(conn.platformUsername, "baker Page");
    assert.equal(conn.expiresAt, null);
    assert.equal(conn.refreshToken, null);
    assert.deepEqual(conn.metadata, { pageId: ids.pages[0].id, pageName: "baker Page", facebookUserId: ids.facebookUserId });
    const calls = (await h.control("/calls")).calls.map((c: any) => c.endpoint);
    assert.deepEqual(calls.filter((c: string) => c === "facebook.token").length, 2, "code exchange, then fb_exchange_token");
    // Months later the Page token still works: it came from the long-lived user token.
    h.clock.advance(100 * 86_400_000);
    const v = await fb().validate(conn);
    assert.equal(v.expiresAt, null);
    assert.ok(v.scopes!.includes("pages_manage_posts"));
  });

  it("returns the Pages to choose from when the user manages several, and honours the choice", async () => {
    await h.control("/pages", { user: "multi", pages: [{ name: "Cafe" }, { name: "Bakery" }] });
    const back = await h.authorize("facebook", { user: "multi" });
    const tokens = await fb().exchangeCode({ code: back.searchParams.get("code")! });
    const shaped = await fb().shapeConnection(tokens);
    assert.equal(shaped.kind, "choose");
    if (shaped.kind !== "choose") return;
    assert.deepEqual(shaped.choices.map((c) => c.name), ["Cafe", "Bakery"]);
    const bakery = shaped.choices[1]!;
    assert.equal(bakery.connection.platformUserId, bakery.id);
    await fb().publish(bakery.connection, { content: "Hello from the bakery" });
    const published = (await h.control("/published?platform=facebook")).posts;
    assert.equal(published[0].account, bakery.id);

    const back2 = await h.authorize("facebook", { user: "multi" });
    const chosen = await fb().shapeConnection(await fb().exchangeCode({ code: back2.searchParams.get("code")! }), { pageId: bakery.id });
    assert.equal(chosen.kind, "connection");
    await h.control("/pages", { user: "nopage", pages: [] });
    const back3 = await h.authorize("facebook", { user: "nopage" });
    const none = await failure(fb().shapeConnection(await fb().exchangeCode({ code: back3.searchParams.get("code")! })));
    assert.ok(none instanceof PlatformError && none.code === "no_facebook_page");
  });

  it("publishes to the Page feed, lists recent posts, reads insights, refuses a duplicate (506)", async () => {
    const conn = await h.connect("facebook");
    const since = h.clock.now();
    const first = await fb().publish(conn, { content: "Open Sunday 8–12" });
    assert.match(first.platformPostId, new RegExp(`^${conn.platformUserId}_\\d+$`));
    const photo = await fb().publish(conn, { content: "New loaf", mediaUrl: `${h.sandbox.url}/_media/sample.jpg`, mediaType: "image" });
    const recent = await fb().listRecentPosts(conn, since);
    assert.deepEqual(recent.map((p) => p.text).sort(), ["New loaf", "Open Sunday 8–12"]);
    assert.ok(recent.some((p) => p.id === photo.platformPostId));
    const dup = fb().classifyError(await failure(fb().publish(conn, { content: "New loaf", mediaUrl: `${h.sandbox.url}/_media/sample.jpg`, mediaType: "image" })));
    assert.deepEqual([dup.kind, dup.code, dup.duplicate], ["permanent", "duplicate", true]);
    await h.control("/analytics", { postId: first.platformPostId, reach: 40, impressions: 55, engagement: 7 });
    assert.deepEqual(await fb().fetchAnalytics!(conn, first.platformPostId), { reach: 40, impressions: 55, engagement: 7 });
  });

  it("cannot refresh: a definite reconnect", async () => {
    const conn = await h.connect("facebook");
    const c = fb().classifyError(await failure(fb().refresh(conn)));
    assert.deepEqual([c.kind, c.code], ["auth_revoked", "reconnect_required"]);
  });

  it("classifies every Graph error row", async () => {
    const conn = await h.connect("facebook", "errs");
    const publishError = async (status: number, body: unknown, headers: Record<string, string> = {}) => {
      await h.control("/faults", { endpoint: "facebook.publish", status, body, headers });
      return fb().classifyError(await failure(fb().publish(conn, { content: `post ${Math.random()}` })));
    };
    for (const sub of [458, 460, 463, 467, 492]) {
      const c = await publishError(400, graphError(190, sub));
      assert.equal(c.kind, "auth_revoked", `190/${sub}`);
    }
    assert.equal((await publishError(400, graphError(190, 463))).code, "token_expired");
    const now = h.clock.now().getTime();
    for (const code of [4, 17, 32, 613, 80001, 80002]) {
      const c = await publishError(400, graphError(code));
      assert.equal(c.kind, "rate_limited", `code ${code}`);
      assert.equal(c.retryAt!.getTime(), now + 3600_000, "an hour when the headers do not say");
    }
    const buc = JSON.stringify({ "1": [{ type: "pages", call_count: 100, estimated_time_to_regain_access: 7 }] });
    assert.equal((await publishError(400, graphError(32), { "x-business-use-case-usage": buc })).retryAt!.getTime(), now + 7 * 60_000);
    const dup = await publishError(400, graphError(506));
    assert.equal(dup.duplicate, true);
    assert.equal((await publishError(500, graphError(2))).kind, "transient");
    assert.equal((await publishError(400, graphError(100))).kind, "permanent");

    // The same rows produced by the sandbox's own behaviour, not a canned body.
    await h.control("/rate-limit", { platform: "facebook", user: "errs", seconds: 600 });
    const limited = fb().classifyError(await failure(fb().publish(conn, { content: "limited" })));
    assert.equal(limited.kind, "rate_limited");
    assert.equal(limited.retryAt!.getTime(), now + 600_000);
    await h.control("/rate-limit", { platform: "facebook", user: "errs", seconds: 0 });
    await h.control("/revoke", { platform: "facebook", user: "errs" });
    const revoked = fb().classifyError(await failure(fb().publish(conn, { content: "after revoke" })));
    assert.deepEqual([revoked.kind, revoked.code], ["auth_revoked", "password_changed"]);
    const invalid = fb().classifyError(await failure(fb().validate(conn)));
    assert.equal(invalid.kind, "auth_revoked");
  });

  it("says which variables enable it when live mode has no credentials", async () => {
    const { loadConfig } = await import("../../server/config.ts");
    const { createPlatformAdapters } = await import("../../server/platforms/registry.ts");
    const config = loadConfig({ NODE_ENV: "test", PLATFORM_MODE: "live", X_CLIENT_ID: "id", X_CLIENT_SECRET: "secret", DATA_DIR: h.config.dataDir, SESSION_SECRET: "s".repeat(40), TOKEN_ENCRYPTION_KEY: "00".repeat(32) });
    const adapters = createPlatformAdapters({ config, clock: h.clock });
    assert.equal(adapters.facebook.enabled, false);
    assert.match(adapters.facebook.disabledReason!, /FACEBOOK_APP_ID and FACEBOOK_APP_SECRET/);
    assert.throws(() => adapters.facebook.oauth(), /FACEBOOK_APP_ID/);
    assert.equal(adapters.x.enabled, true);
    assert.equal(adapters.x.oauth().authorizationURL, "https://x.com/i/oauth2/authorize");
    assert.equal(adapters.x.oauth().tokenURL, "https://api.x.com/2/oauth2/token");
  });
});
