// Input PostgreSQL refuses (NUL and control characters in text, dates outside
// its range) and OAuth answers on the start path are 400s naming the field at
// the edge — they used to be 500s (issue 19, item 5).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import type { Client } from "../support/client.ts";

const fields = (body: any) => [...new Set((body.details as { path: string }[]).map((d) => d.path))];

describe("input the database would refuse is refused at the edge", () => {
  let server: TestServer;
  let client: Client;
  let postId: number;
  before(async () => {
    server = await startTestServer();
    ({ client } = await signedUpClient(server, "edge"));
    const r = await client.post("/api/posts", { platform: "x", content: "a draft" });
    assert.equal(r.status, 201);
    postId = r.body.id;
  });
  after(() => server.close());

  const posts = async () => (await server.deps.database.pool.query("select content, scheduled_for from posts")).rows;

  for (const [name, text] of [
    ["a NUL character", "hello\u0000world"],
    ["a control character", "bell\u0007"],
    ["a lone surrogate", "broken \ud800 text"],
  ] as const) {
    it(`${name} in post text is a 400 on every route that takes it`, async () => {
      const created = await client.post("/api/posts", { platform: "x", content: text });
      assert.equal(created.status, 400, created.text);
      assert.deepEqual(fields(created.body), ["content"]);
      const updated = await client.put(`/api/posts/${postId}`, { content: text });
      assert.equal(updated.status, 400, updated.text);
      assert.deepEqual(fields(updated.body), ["content"]);
      const published = await client.post("/api/post", { platform: "x", content: text });
      assert.equal(published.status, 400, published.text);
      assert.deepEqual((await posts()).map((p) => p.content), ["a draft"]);
    });
  }

  it("tabs and line breaks are still text", async () => {
    const r = await client.put(`/api/posts/${postId}`, { content: "line one\n\tline two\r\n" });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.content, "line one\n\tline two");
  });

  it("a NUL in a media URL is a 400", async () => {
    const r = await client.post("/api/posts", { platform: "youtube", content: "v", mediaUrl: "https://example.com/a\u0000.mp4" });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(fields(r.body), ["mediaUrl"]);
  });

  for (const date of ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "1900-01-01T00:00:00Z", "+275760-09-13T00:00:00Z"]) {
    it(`the date ${date} is a 400 naming scheduledFor / editedAt`, async () => {
      const created = await client.post("/api/posts", { platform: "x", content: "dated", scheduledFor: date });
      assert.equal(created.status, 400, created.text);
      assert.deepEqual(fields(created.body), ["scheduledFor"]);
      const edited = await client.put(`/api/posts/${postId}`, { editedAt: date });
      assert.equal(edited.status, 400, edited.text);
      assert.deepEqual(fields(edited.body), ["editedAt"]);
      const scheduled = await client.put(`/api/posts/${postId}`, { scheduledFor: date });
      assert.equal(scheduled.status, 400, scheduled.text);
    });
  }

  it("dates at the edges of the range PostgreSQL stores are kept exactly", async () => {
    const r = await client.put(`/api/posts/${postId}`, { scheduledFor: "9999-12-31T09:59:59+10:00" });
    assert.equal(r.status, 200, r.text);
    const [row] = await posts();
    assert.equal(new Date(row.scheduled_for).toISOString(), "9999-12-30T23:59:59.000Z");
  });

  for (const query of ["error=server_error", "error=temporarily_unavailable&error_description=x", "code=abc&state=def"]) {
    it(`GET /auth/x?${query} for a logged-in user is a 400, not a 500 or a token exchange`, async () => {
      const r = await client.get(`/auth/x?${query}`);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.code, "invalid_request");
    });
  }

  it("the callback still turns a platform error into the failure page", async () => {
    const r = await client.get("/auth/x/callback?error=server_error");
    assert.equal(r.status, 200);
    assert.match(r.text, /could not be connected \(platform_error\)/);
  });

  it("nothing answered 500", () => {
    assert.ok(!server.logs.some((l) => l.msg === "Unhandled error"), JSON.stringify(server.logs.filter((l) => l.msg === "Unhandled error")));
  });
});
