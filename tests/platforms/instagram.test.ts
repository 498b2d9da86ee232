// Instagram against the sandbox: the Page's business account, the two-step
// publish, content rules, the 24-hour limit, and a lost answer.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { ContentRejectedError, PlatformError } from "../../server/platforms/errors.ts";
import { failure, harness, type Harness } from "./helpers.ts";

describe("Instagram adapter", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const ig = () => h.adapters.instagram;
  const image = () => ({ mediaUrl: `${h.sandbox.url}/_media/sample.jpg`, mediaType: "image/jpeg" });

  it("connects to the Page's instagram_business_account", async () => {
    const conn = await h.connect("instagram", "shop");
    const ids = await h.control("/identities/shop");
    assert.equal(conn.platformUserId, ids.pages[0].instagram.id);
    assert.equal(conn.platformUsername, "shop_ig");
    assert.deepEqual(conn.metadata, { igUserId: ids.pages[0].instagram.id, pageId: ids.pages[0].id, pageName: "shop Page", facebookUserId: ids.facebookUserId });
    assert.equal(conn.expiresAt, null);
    await ig().validate(conn);
  });

  it("names the problem when no Page has an Instagram professional account", async () => {
    await h.control("/pages", { user: "noig", pages: [{ name: "Plain page", instagram: false }] });
    const back = await h.authorize("instagram", { user: "noig" });
    const err = await failure(ig().shapeConnection(await ig().exchangeCode({ code: back.searchParams.get("code")! })));
    assert.ok(err instanceof PlatformError);
    assert.equal(err.code, "no_instagram_business_account");
    assert.match(err.message, /Business or Creator/);
    assert.equal(ig().classifyError(err).kind, "permanent");
  });

  it("publishes in two steps and lists the media", async () => {
    const conn = await h.connect("instagram");
    const since = h.clock.now();
    const { platformPostId } = await ig().publish(conn, { content: "Sourdough day #bread", ...image() });
    const calls = (await h.control("/calls")).calls.map((c: any) => c.endpoint);
    assert.deepEqual(calls.filter((c: string) => c.startsWith("instagram.")), ["instagram.media.create", "instagram.media_publish"]);
    const recent = await ig().listRecentPosts(conn, since);
    assert.deepEqual(recent.map((p) => [p.id, p.text]), [[platformPostId, "Sourdough day #bread"]]);
    await h.control("/analytics", { postId: platformPostId, reach: 9, impressions: 12, engagement: 3 });
    assert.deepEqual(await ig().fetchAnalytics!(conn, platformPostId), { reach: 9, impressions: 12, engagement: 3 });
  });

  it("refuses a post without an image, a long caption and 31 hashtags, by name, before any call", async () => {
    const conn = await h.connect("instagram");
    const noImage = await failure(ig().publish(conn, { content: "Just words" }));
    assert.ok(noImage instanceof ContentRejectedError);
    assert.deepEqual(noImage.problems.map((p) => p.code), ["instagram_media_required"]);
    assert.equal(ig().classifyError(noImage).kind, "permanent");
    const tags = Array.from({ length: 31 }, (_, i) => `#tag${i}`).join(" ");
    assert.deepEqual(ig().checkContent({ content: tags, ...image() }).map((p) => p.code), ["instagram_too_many_hashtags"]);
    assert.deepEqual(ig().checkContent({ content: tags.split(" ").slice(0, 30).join(" "), ...image() }), []);
    assert.deepEqual(ig().checkContent({ content: "x".repeat(2201), ...image() }).map((p) => p.code), ["instagram_caption_too_long"]);
    assert.equal((await h.control("/published?platform=instagram")).posts.length, 0);
  });

  it("hits the 24-hour publishing limit (code 9 / 2207042) as rate_limited", async () => {
    await h.control("/settings", { instagramDailyLimit: 2 }, "PUT");
    const conn = await h.connect("instagram");
    await ig().publish(conn, { content: "one", ...image() });
    await ig().publish(conn, { content: "two", ...image() });
    const c = ig().classifyError(await failure(ig().publish(conn, { content: "three", ...image() })));
    assert.deepEqual([c.kind, c.code], ["rate_limited", "daily_publish_limit"]);
    assert.ok(c.retryAt! > h.clock.now());
    h.clock.advance(24 * 3600_000 + 1000);
    await ig().publish(conn, { content: "three", ...image() });
  });

  it("reports a publish whose answer never comes as outcome_unknown, and the post exists", async () => {
    const conn = await h.connect("instagram");
    await h.control("/faults", { endpoint: "instagram.media_publish", mode: "drop" });
    const c = ig().classifyError(await failure(ig().publish(conn, { content: "lost answer", ...image() })));
    assert.equal(c.kind, "outcome_unknown");
    assert.equal((await h.control("/published?platform=instagram")).posts.length, 1);
    // A failure before the publish step is an ordinary error: nothing was posted.
    await h.control("/faults", { endpoint: "instagram.media.create", status: 500, body: { error: { message: "x", type: "OAuthException", code: 2, is_transient: true } } });
    assert.equal(ig().classifyError(await failure(ig().publish(conn, { content: "retry me", ...image() }))).kind, "transient");
    assert.equal((await h.control("/published?platform=instagram")).posts.length, 1);
  });
});
