// Strategic content with the built-in writer (no model configured): the
// allocation cap, connected platforms only, each platform's rules, Brisbane
// posting times inside the cycle, the schedule page's fields, regeneration
// that never touches approved, edited, published or may-be-out posts, the
// refusals, and the whole journey to published posts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { xWeightedLength } from "../../server/platforms/text.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { clientBrandPurpose, jpegImage, pngImage, uploadLogo } from "../brand/helpers.ts";
import { FAST_PUBLISHING, givePlan } from "../posts/helpers.ts";
import { approveAndPublish, brandOwner, brisbaneTime, generate, postsOf } from "./helpers.ts";

const DAY = 86_400_000;

describe("strategic content, built-in writer", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { ...FAST_PUBLISHING, PLAN_PROFESSIONAL_POSTS: "52" } });
  });
  after(() => server.close());

  it("a starter plan with 3 posts left gets 3 drafts, on its connected platforms, at Brisbane times within 30 days", async () => {
    const { client, userId } = await brandOwner(server, ["facebook", "x"], "starter3", "starter");
    await server.deps.database.pool.query("update post_ledger set used_posts = 9 where user_id = $1", [userId]);
    assert.equal((await client.get("/api/quota-status")).body.remainingPosts, 3);
    const r = await generate(client);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.savedCount, 3);
    assert.equal(r.body.generator, "builtin");
    assert.deepEqual(r.body.platforms, ["facebook", "x"]);
    const drafts = await postsOf(client);
    assert.equal(drafts.length, 3);
    const now = server.clock.now().getTime();
    for (const p of drafts) {
      assert.equal(p.status, "draft");
      assert.ok(["facebook", "x"].includes(p.platform));
      const at = Date.parse(p.scheduledFor);
      assert.ok(at > now && at <= now + 30 * DAY, `${p.scheduledFor} within the next 30 days`);
      assert.ok(["09:00", "12:30", "18:00"].includes(brisbaneTime(p.scheduledFor)), brisbaneTime(p.scheduledFor));
      assert.equal(p.generatedBy, "builtin");
      assert.ok(p.strategicTheme && p.businessCanvasPhase);
      assert.ok(p.content.includes("Bayside Bakery") || p.content.includes("baysidebakery"), p.content);
    }
    assert.deepEqual(new Set(drafts.map((p) => p.platform)), new Set(["facebook", "x"]));
  });

  it("fits each platform's rules; YouTube is skipped; Instagram only with the logo as its image", async () => {
    const { client } = await brandOwner(server, ["facebook", "instagram", "linkedin", "x", "youtube"], "allfive");
    // A long brand purpose: X's 280 weighted characters must still hold, LinkedIn's escapes counted.
    const long = "Sourdough (naturally leavened) #bread & cakes [made by hand] with *care* ".repeat(8).slice(0, 590);
    await client.post("/api/brand-purpose", clientBrandPurpose({ productsServices: long, corePurpose: long, painPoints: long }));
    const first = await generate(client);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body.platforms, ["facebook", "linkedin", "x"]);
    assert.deepEqual(first.body.skipped.map((s: { platform: string }) => s.platform), ["instagram", "youtube"]);
    assert.equal(first.body.savedCount, 52);

    // Instagram takes JPEG images only: a PNG logo keeps it out, with the reason.
    assert.equal((await uploadLogo(client, pngImage())).status, 200);
    const png = await generate(client);
    assert.deepEqual(png.body.platforms, ["facebook", "linkedin", "x"]);
    assert.match(png.body.skipped.find((s: { platform: string }) => s.platform === "instagram").reason, /JPEG/);
    const up = await uploadLogo(client, jpegImage());
    assert.equal(up.status, 200);
    const second = await generate(client);
    assert.equal(second.body.savedCount, 52);
    assert.equal(second.body.replacedCount, 52, "the untouched drafts of the first run were replaced");
    assert.deepEqual(second.body.platforms, ["facebook", "instagram", "linkedin", "x"]);
    const drafts = await postsOf(client);
    assert.equal(drafts.length, 52);
    assert.ok(!drafts.some((p) => p.platform === "youtube"));
    for (const p of drafts) {
      const problems = server.deps.platforms[p.platform].checkContent({ content: p.content, mediaUrl: p.mediaUrl, mediaType: p.mediaUrl ? "image/jpeg" : null });
      assert.deepEqual(problems, [], `${p.platform}: ${p.content}`);
      if (p.platform === "x") assert.ok(xWeightedLength(p.content) <= 280);
      if (p.platform === "instagram") assert.equal(p.mediaUrl, up.body.logoUrl);
      else assert.equal(p.mediaUrl, null);
    }
    const texts = drafts.map((p) => `${p.platform}|${p.content}`);
    assert.equal(new Set(texts).size, texts.length, "no text twice on one platform");
  });

  it("regeneration replaces only untouched drafts: approved, edited, may-be-out and published posts stay", async () => {
    const { client, userId } = await brandOwner(server, ["facebook", "x"], "regen", "starter");
    assert.equal((await generate(client)).body.savedCount, 12);
    const first = (await postsOf(client)).sort((a, b) => a.id - b.id);
    const [approved, edited, mayBeOut, published] = first;
    assert.equal((await client.post("/api/approve-post", { postId: String(approved!.id) })).status, 200);
    assert.equal((await client.put(`/api/posts/${edited!.id}`, { content: "Our own words about Friday's sourdough" })).status, 200);
    const q = server.deps.database.pool;
    await q.query("update posts set attempt_count = 1 where id = $1", [mayBeOut!.id]);
    await q.query("update posts set status = 'published', published_at = now(), platform_post_id = 'x-1', quota_reserved = true where id = $1", [published!.id]);
    await q.query("update post_ledger set used_posts = 1 where user_id = $1", [userId]);

    const again = await generate(client);
    assert.equal(again.status, 200, again.text);
    // 11 left in the plan, minus the approved post and the two kept drafts.
    assert.equal(again.body.remainingPosts, 11);
    assert.equal(again.body.plannedPosts, 3);
    assert.equal(again.body.savedCount, 8);
    assert.equal(again.body.replacedCount, 8);
    const now = await postsOf(client);
    const byId = new Map(now.map((p) => [p.id, p]));
    assert.equal(byId.get(approved!.id)?.status, "approved");
    assert.equal(byId.get(edited!.id)?.content, "Our own words about Friday's sourdough");
    assert.equal(byId.get(mayBeOut!.id)?.content, mayBeOut!.content);
    assert.equal(byId.get(published!.id)?.status, "published");
    const replaced = first.slice(4).map((p) => p.id);
    assert.ok(replaced.every((id) => !byId.has(id)), "the untouched drafts are gone");
    assert.equal(now.length, 4 + 8);
  });

  it("refuses with a message when there is no brand purpose, no plan or no connected platform", async () => {
    const noPlan = await signedUpClient(server, "noplan");
    await noPlan.client.post("/api/brand-purpose", clientBrandPurpose());
    const r1 = await generate(noPlan.client);
    assert.equal(r1.status, 409);
    assert.equal(r1.body.code, "no_active_subscription");
    assert.ok(r1.body.message);

    const noBrand = await signedUpClient(server, "nobrand");
    await givePlan(server.deps, noBrand.user.id, "starter");
    const r2 = await generate(noBrand.client);
    assert.equal(r2.status, 409);
    assert.equal(r2.body.code, "brand_purpose_missing");

    await noBrand.client.post("/api/brand-purpose", clientBrandPurpose());
    const r3 = await generate(noBrand.client);
    assert.equal(r3.status, 409);
    assert.equal(r3.body.code, "no_connected_platforms");
    const youtubeOnly = await brandOwner(server, ["youtube"], "ytonly", "starter");
    const r4 = await generate(youtubeOnly.client);
    assert.equal(r4.status, 409);
    assert.match(r4.body.message, /YouTube posts need a video/);
    assert.equal((await postsOf(youtubeOnly.client)).length, 0);
    assert.equal((await server.client().post("/api/generate-strategic-content", {})).status, 401);
  });

  it("done when: brand purpose → generate → valid drafts → approve some → they publish", async () => {
    const { client } = await brandOwner(server, ["facebook", "linkedin"], "journey");
    const r = await generate(client);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.savedCount, 52);
    const drafts = await postsOf(client);
    await approveAndPublish(server, client, drafts);
  });
});

describe("strategic content, configured time zone and posting times", () => {
  let server: TestServer;
  before(async () => {
    // Sydney leaves daylight saving on 5 April 2026: the month's posts straddle two UTC offsets.
    server = await startTestServer({ env: { ...FAST_PUBLISHING, PLAN_STARTER_POSTS: "20", CONTENT_TIMEZONE: "Australia/Sydney", CONTENT_POST_TIMES: "07:15" } });
    server.clock.set(new Date("2026-03-25T00:00:00Z"));
  });
  after(() => server.close());

  it("schedules every post at the configured local time, daylight saving included", async () => {
    const { client } = await brandOwner(server, ["facebook"], "sydney", "starter");
    const r = await generate(client);
    assert.equal(r.body.savedCount, 20);
    const drafts = await postsOf(client);
    const local = (iso: string) => new Intl.DateTimeFormat("en-AU", { timeZone: "Australia/Sydney", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
    assert.deepEqual(new Set(drafts.map((p) => local(p.scheduledFor))), new Set(["07:15"]));
    const utcHours = new Set(drafts.map((p) => new Date(p.scheduledFor).getUTCHours()));
    assert.deepEqual(utcHours, new Set([20, 21]), "both offsets (+11 before, +10 after 5 April) are used");
    const days = drafts.map((p) => p.scheduledFor.slice(0, 10));
    assert.equal(new Set(days).size, 20, "one post a day on one platform with one posting time");
  });
});
