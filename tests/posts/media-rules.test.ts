// The pre-flight names a media format the platform refuses (422, check
// "content", the rule's code) before anything is stored or sent.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../support/server.ts";
import { FAST_PUBLISHING, publisher } from "./helpers.ts";

describe("media rules in the pre-flight", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: FAST_PUBLISHING });
  });
  after(() => server.close());

  it("Instagram refuses a PNG by name, LinkedIn a WebP; nothing is created", async () => {
    const u = await publisher(server, ["instagram", "linkedin"], "formats");
    const ig = await u.client.post("/api/post", { platform: "instagram", content: "Fresh", mediaUrl: "https://cdn.example.com/loaf.png" });
    assert.equal(ig.status, 422);
    assert.deepEqual([ig.body.check, ig.body.code], ["content", "instagram_image_format"]);
    assert.match(ig.body.error, /JPEG/);
    const li = await u.client.post("/api/post", { platform: "linkedin", content: "Fresh", mediaUrl: "https://cdn.example.com/loaf.webp" });
    assert.deepEqual([li.status, li.body.code], [422, "linkedin_image_format"]);
    assert.equal((await u.client.get("/api/posts")).body.length, 0);
  });
});
