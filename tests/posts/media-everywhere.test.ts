// Issue 14's "a post with media publishes on every platform that takes it",
// end to end: each kind of media each platform takes goes through
// POST /api/post (pre-flight, the runner, the adapter) to the sandbox, and
// the post the sandbox holds carries that media — never the text alone.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Platform } from "../../shared/schema.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { FAST_PUBLISHING, publisher, type Publisher } from "./helpers.ts";

interface SandboxPost {
  id: string;
  platform: Platform;
  text: string;
  mediaUrl?: string;
  mediaIds?: string[];
  mediaType?: string;
  children?: string[];
}

describe("media on every platform that takes it", () => {
  let server: TestServer;
  let sandbox: string;
  let user: Publisher;
  before(async () => {
    server = await startTestServer({ env: FAST_PUBLISHING });
    sandbox = `${server.url}/sandbox`;
    // Processing that is done by the time the adapter asks: this test is about what is sent, not the waits.
    const r = await fetch(`${sandbox}/_control/settings`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ igImageProcessingMs: 0, igVideoProcessingMs: 0, igCarouselProcessingMs: 0, xVideoProcessingMs: 0 }),
    });
    assert.equal(r.status, 200, await r.text());
    user = await publisher(server, ["facebook", "instagram", "linkedin", "x", "youtube"], "everywhere");
  });
  after(() => server.close());

  // The sandbox serves one sample image; a query makes each URL a different item.
  const image = (item = "") => `${sandbox}/_media/sample.jpg${item && `?item=${item}`}`;
  const video = () => `${sandbox}/_media/sample.mp4`;

  /** Publishes now and returns the one post the sandbox holds for this text. */
  async function publishNow(platform: Platform, content: string, media: { mediaUrl?: string; mediaUrls?: string[] }): Promise<SandboxPost> {
    const r = await user.client.post("/api/post", { platform, content, ...media });
    assert.equal(r.status, 200, `${platform} ${content}: ${r.text}`);
    const held = ((await (await fetch(`${sandbox}/_control/published?platform=${platform}`)).json()) as { posts: SandboxPost[] }).posts.filter((p) => p.text === content);
    assert.equal(held.length, 1, `${platform} holds "${content}" once`);
    // Facebook's video too: the Page post's id, not the video's (what listing and post insights use).
    assert.equal(held[0]!.id, r.body.platformPostId);
    return held[0]!;
  }

  it("Facebook: an image (photos) and a video (videos), each with its media", async () => {
    assert.equal((await publishNow("facebook", "Fresh bread, photo", { mediaUrl: image() })).mediaUrl, image());
    assert.equal((await publishNow("facebook", "Fresh bread, film", { mediaUrl: video() })).mediaUrl, video());
  });

  it("Instagram: an image, a Reel and a carousel", async () => {
    assert.equal((await publishNow("instagram", "Crust close-up", { mediaUrl: image() })).mediaUrl, image());
    assert.equal((await publishNow("instagram", "Kneading, a Reel", { mediaUrl: video() })).mediaUrl, video());
    const carousel = await publishNow("instagram", "Morning bake, three ways", { mediaUrls: [image("a"), video(), image("c")] });
    assert.equal(carousel.mediaType, "CAROUSEL_ALBUM");
    assert.equal(carousel.children?.length, 3);
  });

  it("LinkedIn: an image and a video, each named by its uploaded URN", async () => {
    const withImage = await publishNow("linkedin", "Our new oven", { mediaUrl: image() });
    assert.match(withImage.mediaIds?.[0] ?? "", /^urn:li:image:/);
    const withVideo = await publishNow("linkedin", "Our new oven, running", { mediaUrl: video() });
    assert.match(withVideo.mediaIds?.[0] ?? "", /^urn:li:video:/);
  });

  it("X: images (up to 4) and a video, each by media id", async () => {
    assert.equal((await publishNow("x", "One loaf", { mediaUrl: image() })).mediaIds?.length, 1);
    assert.equal((await publishNow("x", "Four loaves", { mediaUrls: ["a", "b", "c", "d"].map((i) => image(i)) })).mediaIds?.length, 4);
    assert.equal((await publishNow("x", "A loaf, filmed", { mediaUrl: video() })).mediaIds?.length, 1);
  });

  it("YouTube: a video", async () => {
    const uploaded = await publishNow("youtube", "How we bake sourdough\nFrom starter to loaf.", { mediaUrl: video() });
    assert.ok(uploaded.id);
  });
});
