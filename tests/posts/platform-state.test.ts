// What a platform leaves on a post between attempts, through the runner and
// the database: a Reel still processing keeps its Instagram container, and
// the retry publishes that container without a new upload; a YouTube upload
// forced private says so on the post.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eq, sql } from "drizzle-orm";
import { rowsOf } from "../../server/db/index.ts";
import { posts } from "../../shared/schema.ts";
import { publishRunner } from "../../server/posts/runner.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { approvedPosts, FAST_PUBLISHING, publisher } from "./helpers.ts";

describe("platform state on posts", () => {
  let server: TestServer;
  let sandbox: string;
  before(async () => {
    server = await startTestServer({ env: FAST_PUBLISHING });
    sandbox = `${server.url}/sandbox`;
  });
  after(() => server.close());
  const calls = async (endpoint: string) => ((await (await fetch(`${sandbox}/_control/calls?endpoint=${endpoint}`)).json()) as { calls: unknown[] }).calls.length;

  it("a Reel still processing waits with its container kept; the retry publishes the same container", async () => {
    const u = await publisher(server, ["instagram"], "reels");
    const [id] = await approvedPosts(server.deps, sandbox, [{ userId: u.userId, platform: "instagram", count: 1, tag: "reel" }]);
    await server.deps.db.update(posts).set({ mediaUrl: `${sandbox}/_media/sample.mp4`, mediaType: "video/mp4" }).where(eq(posts.id, id!));
    const first = await publishRunner(server.deps).drain({ postIds: [id!] });
    assert.equal(first.retried, 1, JSON.stringify(first.errors));
    const [waiting] = await server.deps.db.select().from(posts).where(eq(posts.id, id!));
    assert.equal(waiting!.status, "approved");
    assert.match(waiting!.errorLog ?? "", /still processing/);
    const container = (waiting!.platformState as { containerId?: string }).containerId;
    assert.ok(container);
    // The Reel's wait is its own media's, not Instagram's trouble: the breaker counted nothing.
    const [health] = rowsOf<{ consecutive_failures: number }>(await server.deps.db.execute(sql`select consecutive_failures from platform_health where platform = 'instagram'`));
    assert.equal(health?.consecutive_failures ?? 0, 0, "no breaker failure for a media still processing");

    // Minutes later (the sandbox clock is the server's), processing is done.
    server.clock.advance(3 * 60_000);
    const second = await publishRunner(server.deps).drain({ postIds: [id!] });
    assert.equal(second.published, 1, JSON.stringify(second.errors));
    assert.equal(await calls("instagram.media.create"), 1, "Meta fetched the video once");
  });

  it("a YouTube upload forced private shows visibility and a notice on the post", async () => {
    const u = await publisher(server, ["youtube"], "private");
    const r = await u.client.post("/api/post", { platform: "youtube", content: "Behind the counter", mediaUrl: `${sandbox}/_media/sample.mp4` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.post.visibility, "private");
    assert.match(r.body.post.platformNotice, /audit/);
  });
});
