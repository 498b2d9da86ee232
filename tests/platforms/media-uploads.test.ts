// Media on X and LinkedIn goes through their upload APIs and the post names
// it; a post with media never goes out as text only; media URLs are fetched
// only through the guarded fetcher.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { failure, harness, type Harness } from "./helpers.ts";

describe("media uploads: X and LinkedIn", () => {
  let h: Harness;
  before(async () => {
    h = await harness({ timeoutMs: 3000 });
  });
  after(async () => h.close());
  beforeEach(async () => h.control("/reset", {}));
  const image = () => ({ mediaUrl: `${h.sandbox.url}/_media/sample.jpg`, mediaType: "image/jpeg" });
  const calls = async (endpoint: string) => (await h.control(`/calls?endpoint=${endpoint}`)).calls.length;
  const published = async (platform: string) => (await h.control(`/published?platform=${platform}`)).posts;

  it("X: the image is uploaded (media.write), then the post names its media id", async () => {
    const conn = await h.connect("x", "ximg");
    const { platformPostId } = await h.adapters.x.publish(conn, { content: "Look at this loaf", ...image() });
    assert.equal(await calls("x.media.upload"), 1);
    const [post] = await published("x");
    assert.equal(post.id, platformPostId);
    assert.equal(post.mediaIds?.length, 1, "the post carries the image");
    assert.deepEqual(h.adapters.x.checkContent({ content: "clip", mediaUrl: `${h.sandbox.url}/_media/sample.mp4`, mediaType: "video" }).map((p) => p.code), [], "video goes through the chunked upload (x-video.test.ts)");
  });

  it("LinkedIn: an image through the Images API, a video through the Videos API in parts, each named by the post", async () => {
    const conn = await h.connect("linkedin", "limedia");
    await h.adapters.linkedin.publish(conn, { content: "Our new shop front", ...image() });
    const size = 4 * 1024 * 1024 + 5000;
    await h.adapters.linkedin.publish(conn, { content: "A tour", mediaUrl: `${h.sandbox.url}/_media/sized.mp4?bytes=${size}`, mediaType: "video/mp4" });
    const posts = await published("linkedin");
    assert.deepEqual(posts.map((p: any) => p.mediaIds?.[0]?.replace(/[0-9]+$/, "")), ["urn:li:image:C", "urn:li:video:D"]);
    assert.equal(await calls("linkedin.media.upload"), 3, "one image PUT, two video parts");
    assert.equal(await calls("linkedin.videos.finalize"), 1);
  });

  it("media that cannot be fetched stops the post: it never goes out as text only, and the error is neutral", async () => {
    const conn = await h.connect("linkedin", "linoimg");
    const xconn = await h.connect("x", "xnoimg");
    for (const [adapter, c] of [[h.adapters.linkedin, conn], [h.adapters.x, xconn]] as const) {
      const err = await failure(adapter.publish(c, { content: "Has a picture", mediaUrl: `${h.sandbox.url}/_control/published`, mediaType: "image/jpeg" }));
      const k = adapter.classifyError(err);
      assert.deepEqual([k.code, k.notPlatform, k.message], ["media_unavailable", true, "The media could not be downloaded"]);
    }
    assert.equal((await published("linkedin")).length + (await published("x")).length, 0);
  });

  it("names the media formats each platform refuses, before any call", () => {
    const a = h.adapters;
    const codes = (p: typeof a.x, mediaUrl: string, mediaType?: string) => p.checkContent({ content: "Caption", title: "T", mediaUrl, ...(mediaType ? { mediaType } : {}) }).map((x) => x.code);
    assert.deepEqual(codes(a.instagram, "https://cdn.example.com/a.png"), ["instagram_image_format"]);
    assert.deepEqual(codes(a.instagram, "https://cdn.example.com/a", "image/jpeg"), []);
    assert.deepEqual(codes(a.instagram, "https://cdn.example.com/a.webm"), ["instagram_video_format"]);
    assert.deepEqual(codes(a.linkedin, "https://cdn.example.com/a.webp"), ["linkedin_image_format"]);
    assert.deepEqual(codes(a.linkedin, "https://cdn.example.com/a.mov"), ["linkedin_video_format"]);
    assert.deepEqual(codes(a.x, "https://cdn.example.com/a.mp4"), []);
    assert.deepEqual(codes(a.x, "https://cdn.example.com/a.webm"), ["x_video_format"]);
    assert.deepEqual(codes(a.x, "https://cdn.example.com/a.webp"), []);
    assert.deepEqual(codes(a.youtube, "https://cdn.example.com/a.mkv"), []);
    assert.deepEqual(codes(a.facebook, "https://cdn.example.com/a.png"), []);
  });
});
