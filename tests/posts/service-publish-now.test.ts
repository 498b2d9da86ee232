// POST /api/post with a new post: a refused pre-flight leaves nothing behind,
// an accepted one is stored before anything is sent; a post deleted while it
// was being published answers 404, never a 500.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../server/db/index.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";
import { control, FAST_PUBLISHING, mediaFor, publisher, sandboxPublished } from "./helpers.ts";

describe("publish now", () => {
  let server: TestServer;
  let sandbox: string;
  before(async () => {
    server = await startTestServer({ env: { ...FAST_PUBLISHING, PLAN_STARTER_POSTS: "1" } });
    sandbox = `${server.url}/sandbox`;
  });
  after(() => server.close());

  const postsOf = async (userId: number) =>
    rowsOf<{ id: number; status: string }>(await server.deps.db.execute(sql`select id, status::text from posts where user_id = ${userId}`));

  it("a new post refused by pre-flight (token, content, health, quota) is not stored", async () => {
    const u = await publisher(server, ["x"], "pfn1", "starter");
    const token = await u.client.post("/api/post", { platform: "youtube", content: "A video", mediaUrl: mediaFor(sandbox, "youtube") });
    assert.equal(token.status, 409, token.text);
    assert.equal(token.body.check, "token");
    const content = await u.client.post("/api/post", { platform: "x", content: "a".repeat(300) });
    assert.equal(content.status, 422, content.text);
    assert.equal(content.body.check, "content");
    await server.deps.db.execute(sql`
      insert into platform_health (platform, state, consecutive_failures, last_error, opened_at, retry_at)
      values ('x', 'open', 5, 'HTTP 503', now(), ${new Date(server.clock.now().getTime() + 60_000).toISOString()}::timestamptz)`);
    const health = await u.client.post("/api/post", { platform: "x", content: "While X is down" });
    assert.equal(health.status, 409, health.text);
    assert.equal(health.body.check, "platform_health");
    await server.deps.db.execute(sql`delete from platform_health where platform = 'x'`);
    assert.deepEqual(await postsOf(u.userId), [], "nothing left behind");

    // Accepted: stored and published; the next one is over the quota of 1 and leaves nothing.
    const first = await u.client.post("/api/post", { platform: "x", content: "The one post of this cycle" });
    assert.equal(first.status, 200, first.text);
    const over = await u.client.post("/api/post", { platform: "x", content: "One too many" });
    assert.equal(over.status, 429, over.text);
    assert.equal(over.body.check, "quota");
    assert.deepEqual((await postsOf(u.userId)).map((p) => p.status), ["published"]);

    // No plan and no connection: refused, nothing stored.
    const noPlan = await signedUpClient(server, "pfnnoplan");
    const refused = await noPlan.client.post("/api/post", { platform: "x", content: "No plan yet" });
    assert.equal(refused.status, 409, refused.text);
    assert.deepEqual(await postsOf(noPlan.user.id), []);
  });

  it("a post deleted while it is being published answers 404, not 500", async () => {
    const u = await publisher(server, ["linkedin"], "pfn2");
    // The platform takes its time, so the post is still out at LinkedIn when it disappears here.
    await control(sandbox, "/latency", { endpoint: "linkedin.posts.create", ms: 1500 });
    try {
      const pending = u.client.post("/api/post", { platform: "linkedin", content: "Deleted while on its way" });
      const until = Date.now() + 10_000;
      for (;;) {
        const rows = rowsOf<{ id: number }>(
          await server.deps.db.execute(sql`select id from posts where user_id = ${u.userId} and status = 'publishing' and attempt_count > 0`),
        );
        if (rows.length) {
          // E.g. the account was deleted meanwhile (the rows go with it).
          await server.deps.db.execute(sql`delete from posts where id = ${rows[0]!.id}`);
          break;
        }
        assert.ok(Date.now() < until, "the post never reached the platform call");
        await new Promise((r) => setTimeout(r, 20));
      }
      const r = await pending;
      assert.equal(r.status, 404, r.text);
      assert.equal(r.body.success, false);
      assert.equal(r.body.code, "not_found");
      assert.ok(!server.logs.some((l) => l.level >= 50), "no error logged");
    } finally {
      await fetch(`${sandbox}/_control/faults`, { method: "DELETE" });
    }
    // The platform did receive it; nothing of ours is left to claim it.
    assert.equal((await sandboxPublished(sandbox)).filter((p) => p.text === "Deleted while on its way").length, 1);
    assert.deepEqual(await postsOf(u.userId), []);
  });
});
