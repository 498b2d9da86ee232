// Posts that may be out: sent at least once (an earlier attempt's answer was
// lost) and not definitively refused. Taking one back to draft and approving
// it again must not re-send it blindly (it comes back `unknown` and is
// reconciled), its text cannot change and it cannot be deleted; a failed post
// stays editable and starts its retries afresh.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { connectPlatform } from "../support/connect.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { approvedPosts, control, FAST_PUBLISHING, publisher, sandboxPublished } from "./helpers.ts";

describe("posts that may already be out", () => {
  let server: TestServer;
  let sandbox: string;
  before(async () => {
    server = await startTestServer({ env: FAST_PUBLISHING });
    sandbox = `${server.url}/sandbox`;
  });
  after(() => server.close());

  const onSandbox = async (text: string) => (await sandboxPublished(sandbox)).filter((p) => p.text === text);

  it("a paused post whose answer was lost: draft, then re-approved, comes back unknown and is published exactly once", async () => {
    const u = await publisher(server, ["linkedin"], "mbo1");
    const text = "Answer lost, then the token was revoked";
    // The first attempt reaches LinkedIn but its answer never comes back.
    await control(sandbox, "/faults", { endpoint: "linkedin.posts.create", times: 1, mode: "drop" });
    const sent = await u.client.post("/api/post", { platform: "linkedin", content: text });
    assert.equal(sent.status, 202, sent.text);
    assert.equal(sent.body.post.status, "unknown");
    const id = sent.body.post.id as number;
    assert.equal((await onSandbox(text)).length, 1, "it is live on the platform");

    // Before it is reconciled the user revokes our access: the post pauses.
    await control(sandbox, "/revoke", { platform: "linkedin", user: "mbo1" });
    server.clock.advance(3_000); // past the lost request's deadline and the settle margin
    await u.client.post("/api/auto-post", {});
    const paused = (await u.client.get("/api/posts")).body.find((p: { id: number }) => p.id === id);
    assert.equal(paused.status, "paused", JSON.stringify(paused));
    assert.ok(paused.attemptCount > 0);

    // Taking it back to draft is allowed: it just stops.
    const draft = await u.client.put(`/api/posts/${id}`, { status: "draft" });
    assert.equal(draft.status, 200, draft.text);
    assert.equal(draft.body.status, "draft");

    // Its text cannot change (reconciliation matches by text) and it cannot be deleted (it may be live).
    const edit = await u.client.put(`/api/posts/${id}`, { content: "A different text" });
    assert.equal(edit.status, 409, edit.text);
    assert.equal(edit.body.code, "post_may_be_published");
    assert.match(edit.body.message, /may already be on LinkedIn/);
    const editAndApprove = await u.client.put(`/api/posts/${id}`, { content: "A different text", status: "approved" });
    assert.equal(editAndApprove.status, 409, editAndApprove.text);
    assert.equal(editAndApprove.body.code, "post_may_be_published");
    const del = await u.client.delete(`/api/posts/${id}`);
    assert.equal(del.status, 409, del.text);
    assert.equal(del.body.code, "post_may_be_published");
    const kept = (await u.client.get("/api/posts")).body.find((p: { id: number }) => p.id === id);
    assert.equal(kept.content, text);
    assert.equal(kept.status, "draft");
    // Unchanged text and metadata are not a change of text.
    const same = await u.client.put(`/api/posts/${id}`, { content: text, edited: false });
    assert.equal(same.status, 200, same.text);

    // Re-approval: unknown, never approved (approved would be re-sent without reconciliation).
    const approved = await u.client.post("/api/approve-post", { postId: id });
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.body.post.status, "unknown");

    // Reconnected: the runner reconciles it and finds the copy the first attempt left.
    await connectPlatform(u.client, "linkedin", "mbo1");
    server.clock.advance(1000);
    await u.client.post("/api/auto-post", {});
    const done = (await u.client.get("/api/posts")).body.find((p: { id: number }) => p.id === id);
    assert.equal(done.status, "published", JSON.stringify(done));
    const out = await onSandbox(text);
    assert.equal(out.length, 1, "published exactly once");
    assert.equal(out[0]!.id, done.platformPostId);
  });

  it("PUT status approved and publish-now of a post that may be out also reconcile: the copy already out is found, none is added", async () => {
    const u = await publisher(server, ["x"], "mbo2");
    const [viaPut, viaPublishNow] = await approvedPosts(server.deps, sandbox, [{ userId: u.userId, platform: "x", count: 2, tag: "mbo2" }]);
    // Each was sent once (it is on X) but the answer was lost, then it paused.
    const { tokenFor } = await import("../../server/posts/tokens.ts");
    const token = await tokenFor(server.deps, u.userId, "x");
    assert.ok(token.ok);
    const live = new Map<number, string>();
    for (const id of [viaPut!, viaPublishNow!]) {
      const [row] = (await server.deps.db.execute(sql`select content from posts where id = ${id}`) as unknown as { rows: Array<{ content: string }> }).rows;
      live.set(id, (await server.deps.platforms.x.publish(token.credentials, { content: row!.content })).platformPostId);
    }
    await server.deps.db.execute(sql`
      update posts set status = 'paused', attempt_count = 1, last_attempt_at = ${server.clock.now().toISOString()}::timestamptz,
        error_log = 'token: reconnect', next_attempt_at = null
      where id in (${viaPut!}, ${viaPublishNow!})`);
    server.clock.advance(1000);

    // PUT: draft, then approved → unknown, with the count that marks it as sent kept.
    assert.equal((await u.client.put(`/api/posts/${viaPut}`, { status: "draft" })).body.status, "draft");
    const put = await u.client.put(`/api/posts/${viaPut}`, { status: "approved" });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.status, "unknown");
    assert.equal(put.body.attemptCount, 1);

    // Publish now of the paused one: made due as unknown, so it is reconciled, not re-sent.
    const now = await u.client.post("/api/post", { postId: viaPublishNow });
    assert.equal(now.status, 200, now.text);
    assert.equal(now.body.platformPostId, live.get(viaPublishNow!));

    await u.client.post("/api/auto-post", {});
    const list = (await u.client.get("/api/posts")).body as Array<{ id: number; status: string; content: string; platformPostId: string }>;
    for (const id of [viaPut!, viaPublishNow!]) {
      const p = list.find((x) => x.id === id)!;
      assert.equal(p.status, "published", JSON.stringify(p));
      assert.equal(p.platformPostId, live.get(id), "the copy the lost attempt made");
      assert.equal((await onSandbox(p.content)).length, 1, "never sent twice");
    }
  });

  it("an approved post waiting for its retry keeps its text; a schedule change makes it unknown", async () => {
    const u = await publisher(server, ["facebook"], "mbo3");
    const [id] = await approvedPosts(server.deps, sandbox, [{ userId: u.userId, platform: "facebook", count: 1, tag: "mbo3" }]);
    await server.deps.db.execute(sql`update posts set attempt_count = 1, next_attempt_at = ${new Date(server.clock.now().getTime() + 60_000).toISOString()}::timestamptz where id = ${id!}`);
    const edit = await u.client.put(`/api/posts/${id}`, { content: "New text while a retry is pending" });
    assert.equal(edit.status, 409, edit.text);
    assert.equal(edit.body.code, "post_may_be_published");
    const later = new Date(server.clock.now().getTime() + 3_600_000).toISOString();
    const moved = await u.client.put(`/api/posts/${id}`, { scheduledFor: later });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.status, "unknown");
    assert.equal(moved.body.nextAttemptAt, later);
    // Unknown is being settled by the runner: read-only until it is.
    const del = await u.client.delete(`/api/posts/${id}`);
    assert.equal(del.status, 409);
    assert.equal(del.body.code, "post_in_progress");
  });

  it("a failed post (refused for good) stays editable and deletable; re-approval starts its retries afresh", async () => {
    const u = await publisher(server, ["x"], "mbo4");
    await control(sandbox, "/faults", { endpoint: "x.tweets.create", times: 1, status: 403, body: { title: "Forbidden", detail: "Not allowed", type: "about:blank", status: 403 } });
    const r = await u.client.post("/api/post", { platform: "x", content: "Refused by X for good" });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.body.post.status, "failed");
    assert.equal(r.body.post.attemptCount, 1);
    const id = r.body.post.id as number;

    const edit = await u.client.put(`/api/posts/${id}`, { content: "Refused by X for good, reworded" });
    assert.equal(edit.status, 200, edit.text);
    assert.equal(edit.body.edited, true);
    const approved = await u.client.post("/api/approve-post", { postId: id });
    assert.equal(approved.body.post.status, "approved");
    assert.equal(approved.body.post.attemptCount, 0);
    const del = await u.client.delete(`/api/posts/${id}`);
    assert.equal(del.status, 200, del.text);
    assert.equal((await u.client.get("/api/posts")).body.length, 0);
  });
});
