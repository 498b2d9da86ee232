// /metrics: Prometheus text from the database and the refresh counter, operator-only.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { postLogs, posts } from "../../shared/schema.ts";
import { connectPlatform } from "../support/connect.ts";
import { signedUpClient, startTestServer, type TestServer } from "../support/server.ts";

const OPS_TOKEN = "ops-token-for-tests-0123456789";

describe("/metrics", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { OPS_TOKEN } });
  });
  after(() => server.close());

  it("is refused without the operator token, even to a logged-in user", async () => {
    const { client } = await signedUpClient(server, "m");
    assert.equal((await client.get("/metrics")).status, 401);
    assert.equal((await client.get("/metrics", { authorization: "Bearer wrong-token-wrong-token" })).status, 403);
  });

  it("reports publishes, refreshes, connections and queue lag", async () => {
    const { client, user } = await signedUpClient(server, "m2");
    await connectPlatform(client, "x");
    const refresh = await client.post("/api/platform-connections/x/refresh", {});
    assert.equal(refresh.body.success, true, refresh.text);
    const now = server.clock.now();
    const [post] = await server.deps.db
      .insert(posts)
      .values({ userId: user.id, platform: "x", content: "due", status: "approved", nextAttemptAt: new Date(now.getTime() - 120_000) })
      .returning();
    await server.deps.db.insert(postLogs).values({ postId: post!.id, userId: user.id, platform: "x", attempt: 1, status: "published" });

    const r = await server.client().get("/metrics", { authorization: `Bearer ${OPS_TOKEN}` });
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /text\/plain/);
    assert.match(r.text, /^agencyiq_publish_attempts_total\{platform="x",outcome="published"\} 1$/m);
    assert.match(r.text, /^agencyiq_token_refreshes_total\{platform="x",outcome="refreshed"\} 1$/m);
    assert.match(r.text, /^agencyiq_connections\{platform="x",status="connected"\} 1$/m);
    assert.match(r.text, /^agencyiq_posts\{platform="x",status="approved"\} 1$/m);
    const lag = Number(/^agencyiq_publish_queue_lag_seconds (\S+)$/m.exec(r.text)?.[1]);
    assert.equal(lag, 120);
  });
});
