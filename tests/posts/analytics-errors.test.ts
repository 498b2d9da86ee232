// Analytics a platform refuses are visible, not only logged: the post says
// why its figures are missing (analyticsError) and /metrics counts the
// refusals; the next successful fetch clears the message.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { refreshAnalytics } from "../../server/posts/analytics.ts";
import { publishRunner } from "../../server/posts/runner.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { approvedPosts, control, FAST_PUBLISHING, publisher } from "./helpers.ts";

describe("analytics failures", () => {
  let server: TestServer;
  let sandbox: string;
  before(async () => {
    server = await startTestServer({ env: FAST_PUBLISHING });
    sandbox = `${server.url}/sandbox`;
  });
  after(() => server.close());

  it("a refused insights call shows on the post and in /metrics, and clears once figures arrive", async () => {
    const u = await publisher(server, ["facebook"], "stats1");
    const [id] = await approvedPosts(server.deps, sandbox, [{ userId: u.userId, platform: "facebook", count: 1, tag: "stats" }]);
    assert.equal((await publishRunner(server.deps).drain({ postIds: [id!] })).published, 1);
    await control(sandbox, "/faults", {
      endpoint: "facebook.insights",
      status: 400,
      body: { error: { message: "(#100) The value must be a valid insights metric", type: "OAuthException", code: 100, fbtrace_id: "t" } },
    });
    const r = await refreshAnalytics(server.deps);
    assert.equal(r.failed, 1);
    const post = (await u.client.get("/api/posts")).body.find((p: { id: number }) => p.id === id);
    assert.match(post.analyticsError, /Facebook did not give this post's figures \(graph_100\)/);
    const metrics = await fetch(`${server.url}/metrics`).then((res) => res.text());
    assert.match(metrics, /agencyiq_analytics_failures_total\{platform="facebook",code="graph_100"\} 1/);

    await control(sandbox, "/analytics", { postId: post.platformPostId, reach: 9, impressions: 11, engagement: 2 });
    server.clock.advance(61 * 60_000);
    assert.equal((await refreshAnalytics(server.deps)).updated, 1);
    const after = (await u.client.get("/api/posts")).body.find((p: { id: number }) => p.id === id);
    assert.equal(after.analyticsError, null);
    assert.deepEqual(after.analytics, { reach: 9, engagement: 2, impressions: 11 });
  });
});
