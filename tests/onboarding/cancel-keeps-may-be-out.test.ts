// Cancellation removes only posts that have not reached a platform and cannot
// have: a post sent before whose outcome was never settled (paused, back to
// draft or waiting for a retry) may be live, so it is kept like `unknown`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { posts, type PostStatus } from "../../shared/schema.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";

describe("cancellation keeps posts that may be out", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("deletes never-sent and failed posts; keeps sent-before, in-flight and published ones", async () => {
    const { client, user } = await signedUpClient(server, "cancelmbo");
    const seed: Array<[PostStatus, number]> = [
      ["draft", 0],
      ["approved", 0],
      ["paused", 0],
      ["failed", 3],
      ["draft", 1],
      ["approved", 2],
      ["paused", 1],
      ["unknown", 1],
      ["publishing", 1],
      ["published", 1],
    ];
    for (const [status, attemptCount] of seed) {
      await server.deps.db.insert(posts).values({ userId: user.id, platform: "x", content: `${status} after ${attemptCount} attempts`, status, attemptCount });
    }
    await server.deps.database.pool.query("update users set subscription_active = true, subscription_plan = 'growth' where id = $1", [user.id]);

    const r = await client.post("/api/cancel-subscription", {});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.summary.postsDeleted, 4);
    const left = (await server.deps.database.pool.query("select content from posts where user_id = $1", [user.id])).rows.map((p) => p.content);
    assert.deepEqual(left.sort(), [
      "approved after 2 attempts",
      "draft after 1 attempts",
      "paused after 1 attempts",
      "published after 1 attempts",
      "publishing after 1 attempts",
      "unknown after 1 attempts",
    ]);
  });
});
