// A post's media list over HTTP: mediaUrls stored and returned in order,
// mediaUrl staying its first item (what the React client reads); both given
// is a 400 naming both; editing keeps the list; publish now sends a carousel
// to Instagram through the runner (claim → attempt → adapter) as one post; the
// other platforms and Instagram's rules refuse by name before anything is
// stored.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { posts } from "../../shared/schema.ts";
import { publishRunner } from "../../server/posts/runner.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { FAST_PUBLISHING, publisher } from "./helpers.ts";

describe("media list (mediaUrls)", () => {
  let server: TestServer;
  let sandbox: string;
  before(async () => {
    server = await startTestServer({ env: FAST_PUBLISHING });
    sandbox = `${server.url}/sandbox`;
  });
  after(() => server.close());
  const media = (...names: string[]) => names.map((n) => `${sandbox}/_media/${n}`);
  const calls = async (endpoint: string) => ((await (await fetch(`${sandbox}/_control/calls?endpoint=${endpoint}`)).json()) as { calls: unknown[] }).calls.length;
  const settings = (body: unknown) => fetch(`${sandbox}/_control/settings`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const published = async () => ((await (await fetch(`${sandbox}/_control/published?platform=instagram`)).json()) as { posts: any[] }).posts;

  it("stores the list in order, mediaUrl its first item; editing the text keeps it", async () => {
    const u = await publisher(server, [], "list1");
    const items = media("a.jpg", "b.jpg", "c.jpg");
    const created = await u.client.post("/api/posts", { platform: "instagram", content: "Three loaves", mediaUrls: items });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual([created.body.mediaUrl, created.body.mediaUrls], [items[0], items]);
    const edited = await u.client.put(`/api/posts/${created.body.id}`, { content: "Three loaves, warm", status: "approved" });
    assert.equal(edited.status, 200, edited.text);
    assert.deepEqual([edited.body.mediaUrl, edited.body.mediaUrls], [items[0], items]);
    const listed = (await u.client.get("/api/posts")).body.find((p: { id: number }) => p.id === created.body.id);
    assert.deepEqual(listed.mediaUrls, items);
    // One media (the React client's mediaUrl, or a list of one) and none read the same way.
    const single = await u.client.post("/api/posts", { platform: "facebook", content: "One", mediaUrl: items[0] });
    assert.deepEqual([single.body.mediaUrl, single.body.mediaUrls], [items[0], [items[0]]]);
    const listOfOne = await u.client.post("/api/posts", { platform: "facebook", content: "One too", mediaUrls: [items[1]] });
    assert.deepEqual([listOfOne.body.mediaUrl, listOfOne.body.mediaUrls], [items[1], [items[1]]]);
    const none = await u.client.post("/api/posts", { platform: "facebook", content: "None" });
    assert.deepEqual([none.body.mediaUrl, none.body.mediaUrls], [null, []]);
  });

  it("refuses mediaUrl and mediaUrls together, an empty list and a bad item, naming the field", async () => {
    const u = await publisher(server, [], "list2");
    const both = await u.client.post("/api/posts", { platform: "instagram", content: "x", mediaUrl: media("a.jpg")[0], mediaUrls: media("b.jpg", "c.jpg") });
    assert.equal(both.status, 400);
    assert.deepEqual(both.body.details.map((d: { path: string }) => d.path), ["mediaUrl", "mediaUrls"]);
    assert.match(both.body.error, /mediaUrl.*mediaUrls.*not both/);
    const bothNow = await u.client.post("/api/post", { platform: "instagram", content: "x", mediaUrl: media("a.jpg")[0], mediaUrls: media("b.jpg", "c.jpg") });
    assert.equal(bothNow.status, 400);
    const empty = await u.client.post("/api/posts", { platform: "instagram", content: "x", mediaUrls: [] });
    assert.deepEqual([empty.status, empty.body.details[0].path], [400, "mediaUrls"]);
    const bad = await u.client.post("/api/posts", { platform: "instagram", content: "x", mediaUrls: [media("a.jpg")[0], "ftp://cdn.example.com/b.jpg"] });
    assert.deepEqual([bad.status, bad.body.details[0].path], [400, "mediaUrls.1"]);
    assert.equal((await u.client.get("/api/posts")).body.length, 0);
  });

  it("publish now: a carousel goes out as ONE Instagram post with every item; the client's single mediaUrl still works", async () => {
    const u = await publisher(server, ["instagram"], "list3");
    const items = media("a.jpg", "clip.mp4", "c.jpg");
    // The sandbox processes a video child in two minutes by default; this test counts posts, not processing.
    await settings({ igVideoProcessingMs: 0 });
    const r = await u.client.post("/api/post", { platform: "instagram", content: "Album day", mediaUrls: items });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.post.mediaUrls, items);
    const out = (await published()).filter((p) => p.text === "Album day");
    assert.deepEqual(out.map((p) => [p.id, p.mediaType, p.children]), [[r.body.platformPostId, "CAROUSEL_ALBUM", items]]);
    // A saved carousel draft, published by id.
    const draft = (await u.client.post("/api/posts", { platform: "instagram", content: "Saved album", mediaUrls: media("d.jpg", "e.jpg") })).body;
    const byId = await u.client.post("/api/post", { postId: draft.id });
    assert.equal(byId.status, 200, byId.text);
    assert.equal((await published()).find((p) => p.text === "Saved album")?.children.length, 2);
    // The React client sends one mediaUrl: a single-image post, as before.
    const single = await u.client.post("/api/post", { platform: "instagram", content: "Just one", mediaUrl: items[0] });
    assert.equal(single.status, 200, single.text);
    const one = (await published()).find((p) => p.text === "Just one");
    assert.deepEqual([one.mediaUrl, one.mediaType, one.children], [items[0], undefined, undefined]);
  });

  it("pre-flight refuses by name before anything is stored: several media on Facebook, 11 items or a PNG item on Instagram", async () => {
    const u = await publisher(server, ["instagram", "facebook"], "list4");
    const fb = await u.client.post("/api/post", { platform: "facebook", content: "Two", mediaUrls: media("a.jpg", "b.jpg") });
    assert.deepEqual([fb.status, fb.body.check, fb.body.code], [422, "content", "facebook_single_media_only"]);
    const eleven = await u.client.post("/api/post", { platform: "instagram", content: "Many", mediaUrls: media(...Array.from({ length: 11 }, (_, i) => `${i}.jpg`)) });
    assert.deepEqual([eleven.status, eleven.body.code], [422, "instagram_carousel_too_many"]);
    const png = await u.client.post("/api/post", { platform: "instagram", content: "Png", mediaUrls: media("a.jpg", "b.png") });
    assert.deepEqual([png.status, png.body.code], [422, "instagram_image_format"]);
    assert.match(png.body.error, /Item 2/);
    assert.equal((await u.client.get("/api/posts")).body.length, 0);
    assert.equal((await published()).filter((p) => ["Two", "Many", "Png"].includes(p.text)).length, 0);
  });

  it("through the runner and the database: a carousel whose video is still processing keeps its children; the retry publishes without making them again", async () => {
    const u = await publisher(server, ["instagram"], "list5");
    await settings({ igVideoProcessingMs: 120_000 });
    const items = media("a.jpg", "reel.mp4");
    const draft = (await u.client.post("/api/posts", { platform: "instagram", content: "Album with a clip", mediaUrls: items, status: "approved" })).body;
    const before = await calls("instagram.carousel_item.create");
    const first = await publishRunner(server.deps).drain({ postIds: [draft.id] });
    assert.equal(first.retried, 1, JSON.stringify(first.errors));
    const [waiting] = await server.deps.db.select().from(posts).where(eq(posts.id, draft.id));
    assert.equal(Object.keys((waiting!.platformState as { carouselChildren?: object }).carouselChildren ?? {}).length, 2, "both children kept on the post");
    server.clock.advance(3 * 60_000);
    const second = await publishRunner(server.deps).drain({ postIds: [draft.id] });
    assert.equal(second.published, 1, JSON.stringify(second.errors));
    assert.equal((await calls("instagram.carousel_item.create")) - before, 2, "Meta fetched each item once");
    assert.deepEqual((await published()).filter((p) => p.text === "Album with a clip").map((p) => p.children), [items]);
  });
});
