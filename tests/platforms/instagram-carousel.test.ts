// Instagram carousels against the sandbox: children (is_carousel_item, no
// caption), the CAROUSEL container naming them, ONE post counted once; every
// container kept on the post so a retry reuses it; containers waited for in
// bounds; expired ones made again; the rules checked before any call; the
// other platforms refusing a list by name.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { PlatformStateStore } from "../../server/platforms/types.ts";
import { failure, harness, memoryState, type Harness } from "./helpers.ts";


describe("Instagram carousels", () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => h.close());
  beforeEach(async () => {
    await h.control("/reset", {});
    await h.control("/settings", { igImageProcessingMs: 0, igVideoProcessingMs: 0, igCarouselProcessingMs: 0 }, "PUT");
  });
  const ig = () => h.adapters.instagram;
  const media = (...names: string[]) => names.map((n) => `${h.sandbox.url}/_media/${n}`);
  const calls = async (endpoint: string) => (await h.control(`/calls?endpoint=${endpoint}`)).calls.length;
  const published = async () => (await h.control("/published?platform=instagram")).posts;
  const carousel = (content: string, items: string[], state?: PlatformStateStore) => ({ content, mediaUrl: items[0], mediaUrls: items, ...(state ? { state } : {}) });

  it("publishes three images as ONE post with three children, counted once against the 24-hour limit", async () => {
    await h.control("/settings", { instagramDailyLimit: 2 }, "PUT");
    const conn = await h.connect("instagram", "album");
    const since = h.clock.now();
    const items = media("a.jpg", "b.jpg", "c.jpg");
    const { platformPostId } = await ig().publish(conn, carousel("Three loaves #bread", items));
    assert.equal(await calls("instagram.carousel_item.create"), 3);
    assert.equal(await calls("instagram.carousel.create"), 1);
    assert.equal(await calls("instagram.media.create"), 0, "no single-media container");
    assert.equal(await calls("instagram.media_publish"), 1);
    const [post] = await published();
    assert.deepEqual([post.id, post.text, post.mediaType, post.children], [platformPostId, "Three loaves #bread", "CAROUSEL_ALBUM", items]);
    // Reconciliation finds it by its caption, as any post.
    assert.deepEqual((await ig().listRecentPosts(conn, since)).map((p) => [p.id, p.text]), [[platformPostId, "Three loaves #bread"]]);
    // One of two daily posts used: one more goes out, the third is refused.
    await ig().publish(conn, { content: "Single", mediaUrl: items[0] });
    const limited = ig().classifyError(await failure(ig().publish(conn, carousel("Another album", items))));
    assert.equal(limited.code, "daily_publish_limit");
  });

  it("mixes images and videos: a video child is media_type=VIDEO", async () => {
    const conn = await h.connect("instagram", "mixed");
    const items = media("a.jpg", "clip.mp4", "b.mov");
    await ig().publish(conn, carousel("Kitchen tour", items));
    assert.deepEqual((await published())[0].children, items);
  });

  it("a retry after a failed or lost answer reuses the children: Meta does not download them again", async () => {
    const conn = await h.connect("instagram", "retry");
    const state = memoryState();
    const post = carousel("Reused children", media("a.jpg", "b.jpg", "c.jpg"), state);
    await h.control("/faults", { endpoint: "instagram.carousel.create", status: 500, body: { error: { message: "x", type: "OAuthException", code: 2, is_transient: true } } });
    assert.equal(ig().classifyError(await failure(ig().publish(conn, post))).kind, "transient");
    assert.equal(Object.keys(state.value.carouselChildren as object).length, 3, "the children are kept as soon as they exist");
    // The carousel container is made, its answer lost: the retry makes another (a container alone is harmless).
    await h.control("/faults", { endpoint: "instagram.carousel.create", mode: "drop" });
    assert.equal(ig().classifyError(await failure(ig().publish(conn, post))).kind, "outcome_unknown");
    const { platformPostId } = await ig().publish(conn, post);
    assert.equal(await calls("instagram.carousel_item.create"), 3, "children made once");
    assert.equal(await calls("instagram.carousel.create"), 3);
    assert.deepEqual((await published()).map((p: { id: string }) => p.id), [platformPostId]);
    // A publish whose answer was lost: the kept containers say PUBLISHED, never published twice.
    const again = ig().classifyError(await failure(ig().publish(conn, post)));
    assert.deepEqual([again.kind, again.code], ["outcome_unknown", "container_published"]);
    assert.equal((await published()).length, 1);
  });

  it("waits for an unfinished carousel container instead of publishing it early (9007), in bounds and resumably", async () => {
    const conn = await h.connect("instagram", "slow");
    await h.control("/settings", { igCarouselProcessingMs: 500 }, "PUT");
    const state = memoryState();
    const post = carousel("Slow album", media("a.jpg", "b.jpg"), state);
    let id: string | undefined;
    for (let i = 0; i < 10 && !id; i++) {
      try {
        id = (await ig().publish(conn, post)).platformPostId;
      } catch (err) {
        assert.equal(ig().classifyError(err).code, "media_processing");
      }
    }
    assert.ok(id);
    assert.equal(await calls("instagram.carousel.create"), 1, "one carousel container, waited for");
    assert.equal(await calls("instagram.media_publish"), 1, "never published before FINISHED");
    assert.ok((await calls("graph.node")) >= 3, "each container's status was asked");
  });

  it("an expired child (24 hours) is made again by the next attempt", async () => {
    const conn = await h.connect("instagram", "expired");
    const state = memoryState();
    const post = carousel("Old children", media("a.jpg", "b.jpg"), state);
    await h.control("/faults", { endpoint: "instagram.carousel.create", status: 500, body: { error: { message: "x", type: "OAuthException", code: 2, is_transient: true } } });
    await failure(ig().publish(conn, post));
    h.clock.advance(25 * 3600_000);
    const expired = ig().classifyError(await failure(ig().publish(conn, post)));
    assert.deepEqual([expired.kind, expired.code], ["transient", "container_expired"]);
    await ig().publish(conn, post);
    assert.equal(await calls("instagram.carousel_item.create"), 4, "both children made again");
    assert.equal((await published()).length, 1);
  });

  it("the sandbox answers as Graph: child count, unfinished child or parent, a child published alone", async () => {
    const conn = await h.connect("instagram", "graph");
    const api = `${h.sandbox.url}/graph/${h.config.platforms.versions.graph}/${conn.platformUserId}`;
    const post = async (path: string, form: Record<string, string>) => {
      const r = await fetch(`${api}/${path}`, { method: "POST", headers: { authorization: `Bearer ${conn.accessToken}` }, body: new URLSearchParams(form) });
      return { status: r.status, body: (await r.json()) as any };
    };
    const child = async () => (await post("media", { image_url: media("a.jpg")[0]!, is_carousel_item: "true" })).body.id as string;
    const sub = (r: { body: any }) => [r.body.error?.code, r.body.error?.error_subcode];
    const one = await child();
    assert.deepEqual(sub(await post("media", { media_type: "CAROUSEL", children: one, caption: "x" })), [100, 2207028]);
    const eleven = await Promise.all(Array.from({ length: 11 }, child));
    assert.deepEqual(sub(await post("media", { media_type: "CAROUSEL", children: eleven.join(","), caption: "x" })), [100, 2207028]);
    assert.deepEqual(sub(await post("media_publish", { creation_id: one })), [100, 2207089]);
    await h.control("/settings", { igVideoProcessingMs: 60_000, igCarouselProcessingMs: 60_000 }, "PUT");
    const unfinished = (await post("media", { video_url: media("clip.mp4")[0]!, media_type: "VIDEO", is_carousel_item: "true" })).body.id;
    assert.deepEqual(sub(await post("media", { media_type: "CAROUSEL", children: `${one},${unfinished}`, caption: "x" })), [9007, 2207027]);
    const parent = await post("media", { media_type: "CAROUSEL", children: eleven.slice(0, 2).join(","), caption: "x" });
    assert.equal(parent.status, 200);
    assert.deepEqual(sub(await post("media_publish", { creation_id: parent.body.id })), [9007, 2207027]);
  });

  it("checks the rules before any call: at most 10 items, each JPEG or MP4/MOV", async () => {
    const codes = (items: string[]) => ig().checkContent(carousel("Rules", items)).map((p) => p.code);
    assert.deepEqual(codes(media(...Array.from({ length: 10 }, (_, i) => `${i}.jpg`))), []);
    assert.deepEqual(codes(media(...Array.from({ length: 11 }, (_, i) => `${i}.jpg`))), ["instagram_carousel_too_many"]);
    const png = ig().checkContent(carousel("Rules", media("a.jpg", "b.png")));
    assert.deepEqual(png.map((p) => [p.code, p.message]), [["instagram_image_format", "Item 2: Instagram takes images as JPEG, not PNG"]]);
    assert.deepEqual(codes(media("a.jpg", "b.webm")), ["instagram_video_format"]);
    // A list of one is a single post.
    assert.deepEqual(codes(media("a.jpg")), []);
    const conn = await h.connect("instagram", "rules");
    await failure(ig().publish(conn, carousel("Refused", media("a.jpg", "b.png"))));
    assert.equal(await calls("instagram.carousel_item.create"), 0);
  });

  it("X takes up to 4 images in one post (one upload each), a GIF or video alone", async () => {
    const conn = await h.connect("x", "album");
    const jpg = (n: number) => Array.from({ length: n }, (_, i) => `${h.sandbox.url}/_media/sample.jpg?n=${i}`);
    const { platformPostId } = await h.adapters.x.publish(conn, { content: "Four loaves", mediaUrl: jpg(4)[0], mediaUrls: jpg(4) });
    const [post] = (await h.control("/published?platform=x")).posts;
    assert.deepEqual([post.id, post.mediaIds.length], [platformPostId, 4]);
    assert.equal(await calls("x.media.upload"), 4);
    const codes = (items: string[]) => h.adapters.x.checkContent({ content: "Rules", mediaUrl: items[0], mediaUrls: items }).map((p) => p.code);
    assert.deepEqual(codes(jpg(5)), ["x_too_many_images"]);
    assert.deepEqual(codes([...jpg(1), `${h.sandbox.url}/_media/fun.gif`]), ["x_gif_alone"]);
    assert.deepEqual(codes([...jpg(1), `${h.sandbox.url}/_media/sample.mp4`]), ["x_video_alone"]);
    assert.deepEqual(codes([...jpg(1), `${h.sandbox.url}/_media/a.bmp`]), ["x_image_format"]);
  });

  it("Facebook, LinkedIn and YouTube refuse several media by name, and take a list of one", () => {
    const two = media("a.jpg", "b.jpg");
    for (const p of ["facebook", "linkedin", "youtube"] as const) {
      const problems = h.adapters[p].checkContent({ content: "Two", mediaUrl: two[0], mediaUrls: two });
      assert.ok(problems.some((x) => x.code === `${p}_single_media_only` && x.actual === 2), `${p}: ${JSON.stringify(problems)}`);
    }
    assert.deepEqual(h.adapters.facebook.checkContent({ content: "One", mediaUrl: two[0], mediaUrls: [two[0]!] }), []);
  });
});
